// model/eventfd.cpp against fs/eventfd.c: poll mask, the EINVAL/EAGAIN rules of read and
// write, and the one wakeup per successful write (EPOLLIN) or read (EPOLLOUT). Expected
// values are measurements of Linux 6.18.44 (/tmp/probes/REPORT.md g, probe g_eventfd.c) or
// rules of fs/eventfd.c (Kingxukai/linux 0291023e7330) named in each test.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "model/eventfd.h"
#include "model/observer.h"
#include "model_fixture.h"

namespace {

using namespace model;
using eo_test::ModelSys;

constexpr uint64_t kMax = ~uint64_t{0};  // ULLONG_MAX

poll_t got(ModelSys& s, int ep) {
  poll_t m = 0;
  for (const EpollEvent& e : s.wait(ep)) m |= e.events;
  return m;
}

EventfdFile& ctx(ModelSys& s, int fd) { return dynamic_cast<EventfdFile&>(*s.k.fdtable().fget(fd)); }

// ---------------------------------------------------------------------------------------
// Masks and argument rules (REPORT g)

// eventfd_poll: count > 0 -> EPOLLIN; ULLONG_MAX - 1 > count -> EPOLLOUT (measured: REPORT.md g)
TEST(Eventfd, InitialMasks) {
  ModelSys s;
  EXPECT_EQ(s.mask(s.eventfd(0)), EPOLLOUT);            // 0x4
  EXPECT_EQ(s.mask(s.eventfd(5)), EPOLLIN | EPOLLOUT);  // 0x5
}

// eventfd_write: ULLONG_MAX - count > ucnt, else -EAGAIN (nonblocking); eventfd_poll drops
// EPOLLOUT at count ULLONG_MAX - 1 (measured: REPORT.md g)
TEST(Eventfd, WriteOfMaxMinusOneLeavesOnlyInThenAnyWriteIsEagain) {
  ModelSys s;
  const int fd = s.eventfd(0);
  EXPECT_EQ(s.efd_write(fd, kMax - 1), 8);
  EXPECT_EQ(s.mask(fd), EPOLLIN);  // 0x1
  EXPECT_EQ(s.efd_write(fd, 1), -EAGAIN);
  uint64_t v = 0;
  EXPECT_EQ(s.efd_read(fd, &v), 8);
  EXPECT_EQ(v, kMax - 1);
  EXPECT_EQ(s.mask(fd), EPOLLOUT);
}

// eventfd_write: a write that would reach ULLONG_MAX is -EAGAIN on a nonblocking eventfd
TEST(Eventfd, OverflowingWriteIsEagain) {
  ModelSys s;
  const int fd = s.eventfd(0);
  ASSERT_EQ(s.efd_write(fd, kMax - 15), 8);
  EXPECT_EQ(s.efd_write(fd, 0x20), -EAGAIN);
  EXPECT_EQ(ctx(s, fd).count, kMax - 15);
}

// eventfd_write: ucnt == ULLONG_MAX -> -EINVAL (measured: REPORT.md g)
TEST(Eventfd, WriteOfUllongMaxIsEinval) {
  ModelSys s;
  const int fd = s.eventfd(0);
  EXPECT_EQ(s.efd_write(fd, kMax), -EINVAL);
  EXPECT_EQ(ctx(s, fd).count, 0u);
}

// eventfd_write: count != sizeof(__u64) -> -EINVAL, shorter and longer (measured: REPORT.md g)
TEST(Eventfd, WriteOfLength4Or16IsEinval) {
  ModelSys s;
  const int fd = s.eventfd(0);
  const uint32_t four = 1;
  EXPECT_EQ(s.k.write(s.main(), fd, &four, sizeof four), -EINVAL);
  const uint64_t sixteen[2] = {1, 2};
  EXPECT_EQ(s.k.write(s.main(), fd, sixteen, sizeof sixteen), -EINVAL);
  EXPECT_EQ(ctx(s, fd).count, 0u);
}

// eventfd_read: iov_iter_count < 8 -> -EINVAL before the count is looked at; a longer buffer
// reads 8 (measured: REPORT.md g)
TEST(Eventfd, ReadLengthRules) {
  ModelSys s;
  const int e0 = s.eventfd(0);
  const int e5 = s.eventfd(5);
  uint32_t four = 0;
  EXPECT_EQ(s.k.read(s.main(), e5, &four, sizeof four), -EINVAL);
  EXPECT_EQ(s.k.read(s.main(), e0, &four, sizeof four), -EINVAL) << "EINVAL even when the counter is zero";
  uint64_t sixteen[2] = {0, 0};
  EXPECT_EQ(s.k.read(s.main(), e5, sixteen, sizeof sixteen), 8);
  EXPECT_EQ(sixteen[0], 5u);
  EXPECT_EQ(ctx(s, e5).count, 0u);
}

// eventfd_read: count == 0 and O_NONBLOCK -> -EAGAIN (measured: REPORT.md g)
TEST(Eventfd, ReadOfZeroCounterIsEagain) {
  ModelSys s;
  const int fd = s.eventfd(0);
  EXPECT_EQ(s.efd_read(fd), -EAGAIN);
}

// eventfd_ctx_do_read: EFD_SEMAPHORE reads 1 and decrements by 1 (measured: REPORT.md g)
TEST(Eventfd, SemaphoreModeReadsOneAtATime) {
  ModelSys s;
  const int fd = s.eventfd(3, EFD_NONBLOCK | EFD_SEMAPHORE);
  for (int i = 0; i < 3; ++i) {
    uint64_t v = 0;
    EXPECT_EQ(s.efd_read(fd, &v), 8);
    EXPECT_EQ(v, 1u);
  }
  EXPECT_EQ(s.efd_read(fd), -EAGAIN);
  EXPECT_EQ(s.mask(fd), EPOLLOUT);
}

// eventfd_ctx_do_read: without EFD_SEMAPHORE the whole count is read and reset
TEST(Eventfd, NormalModeReadsTheWholeCount) {
  ModelSys s;
  const int fd = s.eventfd(0);
  ASSERT_EQ(s.efd_write(fd, 2), 8);
  ASSERT_EQ(s.efd_write(fd, 3), 8);
  uint64_t v = 0;
  EXPECT_EQ(s.efd_read(fd, &v), 8);
  EXPECT_EQ(v, 5u);
  EXPECT_EQ(s.efd_read(fd), -EAGAIN);
}

// do_eventfd: flags & ~EFD_FLAGS_SET -> -EINVAL (measured: REPORT.md g)
TEST(Eventfd, BadFlagsAreEinval) {
  ModelSys s;
  EXPECT_EQ(s.k.eventfd2(s.main(), 0, 0x1234), -EINVAL);
  EXPECT_EQ(s.k.fdtable().open_count(), 0);
}

// ---------------------------------------------------------------------------------------
// Edge-triggered watchers (REPORT g)

// eventfd_write: wake_up_locked_poll(EPOLLIN) on every successful write, even of 0 (measured: REPORT.md g)
TEST(Eventfd, EtInFiresOnEveryWriteIncludingZero) {
  ModelSys s;
  const int fd = s.eventfd(0);
  const int ep = s.epoll();
  ASSERT_EQ(s.add(ep, fd, EPOLLIN | EPOLLET), 0);
  EXPECT_EQ(got(s, ep), 0u);
  ASSERT_EQ(s.efd_write(fd, 1), 8);
  EXPECT_EQ(got(s, ep), EPOLLIN);
  ASSERT_EQ(s.efd_write(fd, 1), 8);
  EXPECT_EQ(got(s, ep), EPOLLIN);
  ASSERT_EQ(s.efd_write(fd, 0), 8);
  EXPECT_EQ(got(s, ep), EPOLLIN);
  ASSERT_EQ(s.efd_read(fd), 8);
  EXPECT_EQ(got(s, ep), 0u) << "the read's EPOLLOUT key is filtered";
  ASSERT_EQ(s.efd_write(fd, 0), 8);
  EXPECT_EQ(got(s, ep), 0u) << "woken, but the count is 0: ->poll() has no EPOLLIN at harvest";
}

// eventfd_read: wake_up_locked_poll(EPOLLOUT) on every successful read only (measured: REPORT.md g)
TEST(Eventfd, EtOutFiresOnEverySuccessfulReadOnly) {
  ModelSys s;
  const int fd = s.eventfd(0);
  const int ep = s.epoll();
  ASSERT_EQ(s.add(ep, fd, EPOLLOUT | EPOLLET), 0);
  EXPECT_EQ(got(s, ep), EPOLLOUT);
  ASSERT_EQ(s.efd_write(fd, 3), 8);
  EXPECT_EQ(got(s, ep), 0u) << "the write's EPOLLIN key is filtered";
  ASSERT_EQ(s.efd_read(fd), 8);
  EXPECT_EQ(got(s, ep), EPOLLOUT);
  ASSERT_EQ(s.efd_read(fd), -EAGAIN);
  EXPECT_EQ(got(s, ep), 0u);
}

// eventfd_write: failed writes (EINVAL, EAGAIN) make no wakeup
TEST(Eventfd, FailedWritesDoNotFire) {
  ModelSys s;
  const int fd = s.eventfd(0);
  ASSERT_EQ(s.efd_write(fd, kMax - 1), 8);
  const int ep = s.epoll();
  ASSERT_EQ(s.add(ep, fd, EPOLLIN | EPOLLET), 0);
  EXPECT_EQ(got(s, ep), EPOLLIN);
  EXPECT_EQ(s.efd_write(fd, 1), -EAGAIN);
  EXPECT_EQ(got(s, ep), 0u);
  EXPECT_EQ(s.efd_write(fd, kMax), -EINVAL);
  EXPECT_EQ(got(s, ep), 0u);
}

// ---------------------------------------------------------------------------------------
// Blocking calls

// eventfd_read: wait_event_interruptible_locked_irq(ctx->wqh, ctx->count); the write's
// EPOLLIN wake ends the sleep
TEST(Eventfd, BlockingReadIsWokenByAWrite) {
  ModelSys s;
  const int fd = s.eventfd(0, 0);
  Task& t = s.t("t1");
  uint64_t v = 0;
  EXPECT_EQ(s.k.read(t, fd, &v, sizeof v), kBlocked);
  EXPECT_FALSE(t.completed);
  ASSERT_EQ(s.efd_write(fd, 7), 8);
  EXPECT_TRUE(t.completed);
  EXPECT_EQ(t.result, 8);
  EXPECT_EQ(t.value, 7u);
  EXPECT_EQ(ctx(s, fd).count, 0u);
}

// eventfd_write: a blocking write that would overflow sleeps until a read makes room
TEST(Eventfd, BlockingWriteIsWokenByARead) {
  ModelSys s;
  const int fd = s.eventfd(0, 0);
  ASSERT_EQ(s.efd_write(fd, kMax - 1), 8);
  Task& t = s.t("t1");
  const uint64_t one = 1;
  EXPECT_EQ(s.k.write(t, fd, &one, sizeof one), kBlocked);
  EXPECT_FALSE(t.completed);
  ASSERT_EQ(s.efd_read(fd), 8);
  EXPECT_TRUE(t.completed);
  EXPECT_EQ(t.result, 8);
  EXPECT_EQ(ctx(s, fd).count, 1u);
}

// ---------------------------------------------------------------------------------------
// The exact wakeups, seen through the observer

struct Recorder final : Observer {
  std::vector<Event> wakeups;
  void on_event(const Event& e) override {
    if (e.kind == EventKind::kWakeUp) wakeups.push_back(e);
  }
};

// eventfd_write / eventfd_read: wake_up_locked_poll(&ctx->wqh, EPOLLIN / EPOLLOUT), only if
// waitqueue_active
TEST(Eventfd, ObserverWriteWakesInAndReadWakesOutOnCtxWqh) {
  ModelSys s;
  const int fd = s.eventfd(0);
  Recorder rec;
  s.k.set_observer(&rec);
  ASSERT_EQ(s.efd_write(fd, 1), 8);
  EXPECT_TRUE(rec.wakeups.empty()) << "no waiter: waitqueue_active is false, no wake_up";

  s.k.set_observer(nullptr);
  const int ep = s.epoll();
  ASSERT_EQ(s.add(ep, fd, EPOLLIN | EPOLLOUT | EPOLLET), 0);
  s.k.set_observer(&rec);
  ASSERT_EQ(s.efd_write(fd, 0), 8);
  ASSERT_EQ(rec.wakeups.size(), 1u);
  EXPECT_EQ(rec.wakeups[0].site, "eventfd_write");
  EXPECT_EQ(rec.wakeups[0].detail, "wake_up_locked_poll");
  EXPECT_EQ(rec.wakeups[0].queue, &ctx(s, fd).wqh);
  EXPECT_EQ(rec.wakeups[0].key, EPOLLIN);

  rec.wakeups.clear();
  ASSERT_EQ(s.efd_read(fd), 8);
  ASSERT_EQ(rec.wakeups.size(), 1u);
  EXPECT_EQ(rec.wakeups[0].site, "eventfd_read");
  EXPECT_EQ(rec.wakeups[0].detail, "wake_up_locked_poll");
  EXPECT_EQ(rec.wakeups[0].queue, &ctx(s, fd).wqh);
  EXPECT_EQ(rec.wakeups[0].key, EPOLLOUT);

  rec.wakeups.clear();
  ASSERT_EQ(s.efd_read(fd), -EAGAIN);
  EXPECT_TRUE(rec.wakeups.empty());
  s.k.set_observer(nullptr);
}

}  // namespace
