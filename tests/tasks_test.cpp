// Tasks blocked in epoll_wait (fs/eventpoll.c ep_poll): LIFO wakeups, the LT chain of
// ep_done_scan, EPOLLEXCLUSIVE, timeouts and signals. The herd results were measured on
// Linux 6.18 with 4 real threads (REPORT h, i).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "model/observer.h"
#include "model_fixture.h"

namespace {

using namespace eo_test;
constexpr poll_t IN = EPOLLIN, ET = EPOLLET;

// Records which task received events, in the order the model delivered them.
struct DeliveryLog : Observer {
  std::vector<std::string> order;
  void on_event(const Event& e) override {
    if (e.kind == EventKind::kEventDelivered) order.push_back(e.task->name);
  }
};

struct Herd : ::testing::Test {
  ModelSys s;
  DeliveryLog log;
  void SetUp() override { s.k.set_observer(&log); }
  std::vector<std::string> returned(std::initializer_list<const char*> names) {
    std::vector<std::string> r;
    for (const char* n : names) {
      Task& t = s.t(n);
      if (!t.pending && t.completed) r.push_back(n);
    }
    return r;
  }
};

// ep_poll adds waiters with __add_wait_queue_exclusive (head): the last to block is woken
// first. ET: each write wakes exactly one waiter (REPORT h: t3, t2, t1, t0).
TEST_F(Herd, EdgeTriggeredWakesLastBlockedFirstOneAtATime) {
  const int ep = s.epoll(), e = s.eventfd();
  ASSERT_EQ(s.add(ep, e, IN | ET), 0);
  for (const char* n : {"t0", "t1", "t2", "t3"}) s.block_in_wait(n, ep);
  for (int i = 0; i < 4; ++i) ASSERT_EQ(s.efd_write(e, 1), 8);
  EXPECT_EQ(log.order, (std::vector<std::string>{"t3", "t2", "t1", "t0"}));
}

// ET, one write: only the last-blocked waiter returns (REPORT h, 20/20).
TEST_F(Herd, EdgeTriggeredOneWriteWakesOne) {
  const int ep = s.epoll(), e = s.eventfd();
  ASSERT_EQ(s.add(ep, e, IN | ET), 0);
  for (const char* n : {"t0", "t1", "t2", "t3"}) s.block_in_wait(n, ep);
  ASSERT_EQ(s.efd_write(e, 1), 8);
  EXPECT_EQ(returned({"t0", "t1", "t2", "t3"}), (std::vector<std::string>{"t3"}));
  EXPECT_EQ(s.t("t3").result, 1);
  EXPECT_EQ(s.t("t3").events, evs({{(uint64_t)e, IN}}));
}

// LT: the harvesting waiter requeues the item, so ep_done_scan wakes the next waiter, and
// so on: all 4 return from one write, last-blocked first (REPORT h, 20/20).
TEST_F(Herd, LevelTriggeredChainWakesAll) {
  const int ep = s.epoll(), e = s.eventfd();
  ASSERT_EQ(s.add(ep, e, IN), 0);
  for (const char* n : {"t0", "t1", "t2", "t3"}) s.block_in_wait(n, ep);
  ASSERT_EQ(s.efd_write(e, 1), 8);
  EXPECT_EQ(log.order, (std::vector<std::string>{"t3", "t2", "t1", "t0"}));
  EXPECT_EQ(returned({"t0", "t1", "t2", "t3"}).size(), 4u);
}

struct ExclusiveHerd : Herd {
  int e = -1;
  int eps[4] = {};
  void make(poll_t extra) {
    e = s.eventfd();
    for (int& ep : eps) {
      ep = s.epoll();
      ASSERT_EQ(s.add(ep, e, IN | extra), 0);
    }
  }
  bool queued(int ep) { return !s.wait(ep).empty(); }
};

// ep_ptable_queue_proc puts EPOLLEXCLUSIVE entries at the tail (FIFO); ep_poll_callback
// returns 1 when its epoll had a waiter, which stops __wake_up_common: only the
// first-registered epoll's waiter returns, nothing is queued elsewhere (REPORT i).
TEST_F(ExclusiveHerd, ExclusiveWakesFirstRegisteredOnly) {
  make(EPOLLEXCLUSIVE);
  const char* names[] = {"w0", "w1", "w2", "w3"};
  for (int i = 0; i < 4; ++i) s.block_in_wait(names[i], eps[i]);
  ASSERT_EQ(s.efd_write(e, 1), 8);
  EXPECT_EQ(returned({"w0", "w1", "w2", "w3"}), (std::vector<std::string>{"w0"}));
  for (int i = 1; i < 4; ++i) EXPECT_FALSE(queued(eps[i])) << i;
}

// Non-exclusive entries are all called: every epoll's waiter returns.
TEST_F(ExclusiveHerd, NonExclusiveWakesAll) {
  make(0);
  const char* names[] = {"w0", "w1", "w2", "w3"};
  for (int i = 0; i < 4; ++i) s.block_in_wait(names[i], eps[i]);
  ASSERT_EQ(s.efd_write(e, 1), 8);
  EXPECT_EQ(returned({"w0", "w1", "w2", "w3"}).size(), 4u);
}

// ep_poll_callback on an epoll without waiters still queues the item but returns 0, so the
// walk goes on: ep1's waiter returns and ep0 keeps the event (REPORT i).
TEST_F(ExclusiveHerd, ExclusiveSkipsEpollWithoutWaiterButQueuesThere) {
  make(EPOLLEXCLUSIVE);
  const char* names[] = {"w1", "w2", "w3"};
  for (int i = 1; i < 4; ++i) s.block_in_wait(names[i - 1], eps[i]);
  ASSERT_EQ(s.efd_write(e, 1), 8);
  EXPECT_EQ(returned({"w1", "w2", "w3"}), (std::vector<std::string>{"w1"}));
  EXPECT_TRUE(queued(eps[0]));
  EXPECT_FALSE(queued(eps[2]));
}

// sock_def_wakeup uses wake_up_interruptible_all (nr_exclusive 0): EPOLLEXCLUSIVE does not
// limit it, every exclusive epoll's waiter returns.
TEST_F(ExclusiveHerd, WakeUpAllIgnoresExclusive) {
  auto [a, b] = s.socketpair();
  const char* names[] = {"w0", "w1"};
  int ep[2];
  for (int i = 0; i < 2; ++i) {
    ep[i] = s.epoll();
    ASSERT_EQ(s.add(ep[i], a, IN | EPOLLEXCLUSIVE), 0);
    s.block_in_wait(names[i], ep[i]);
  }
  ASSERT_EQ(s.k.shutdown(s.main(), b, SHUT_WR_), 0);  // a gets RCV_SHUTDOWN + sk_state_change
  EXPECT_EQ(returned({"w0", "w1"}), (std::vector<std::string>{"w0", "w1"}));
}

// ep_insert: ADD of an fd that is already ready wakes one epoll_wait waiter.
TEST_F(Herd, AddOfReadyFdWakesWaiter) {
  const int ep = s.epoll(), e = s.eventfd(1);
  s.block_in_wait("t0", ep);
  ASSERT_EQ(s.add(ep, e, IN), 0);
  EXPECT_EQ(returned({"t0"}), (std::vector<std::string>{"t0"}));
}

// ep_poll: a positive timeout sleeps on an hrtimer; expiry returns 0.
TEST_F(Herd, TimeoutReturnsZero) {
  const int ep = s.epoll();
  s.block_in_wait("t0", ep, 1, 100);
  s.k.advance_ms(50);
  EXPECT_TRUE(s.t("t0").pending);
  s.k.advance_ms(60);
  EXPECT_FALSE(s.t("t0").pending);
  EXPECT_EQ(s.t("t0").result, 0);
}

// A trace may sleep up to INT64_MAX ms, twice: virtual time saturates (UBSan catches a
// wrap), and the timeout due on the way still fires first.
TEST_F(Herd, LongestSleepsSaturateTime) {
  const int ep = s.epoll();
  s.block_in_wait("t0", ep, 1, 100);
  s.k.advance_ms(INT64_MAX);
  EXPECT_FALSE(s.t("t0").pending);
  EXPECT_EQ(s.t("t0").result, 0);
  s.k.advance_ms(INT64_MAX);
  EXPECT_EQ(s.k.now_ns(), INT64_MAX);
}

// ep_poll: a signal with no events gives -EINTR.
TEST_F(Herd, SignalGivesEintr) {
  const int ep = s.epoll();
  s.block_in_wait("t0", ep);
  s.k.interrupt(s.t("t0"));
  EXPECT_EQ(s.t("t0").result, -EINTR);
}

// ep_poll_callback -> ep_poll_safewake: a waiter on an outer epoll is woken through the
// inner epoll's poll_wait queue.
TEST_F(Herd, NestedWaiterIsWoken) {
  auto [r, w] = s.pipe();
  const int inner = s.epoll(), outer = s.epoll();
  ASSERT_EQ(s.add(inner, r, IN), 0);
  ASSERT_EQ(s.add(outer, inner, IN), 0);
  s.block_in_wait("t0", outer);
  s.block_in_wait("t1", inner);
  ASSERT_EQ(s.write(w, 1), 1);
  EXPECT_EQ(s.t("t0").events, evs({{(uint64_t)inner, IN}}));
  EXPECT_EQ(s.t("t1").events, evs({{(uint64_t)r, IN}}));
}

// do_epoll_wait holds a reference to the epoll file: closing it does not wake the waiter.
TEST_F(Herd, ClosingEpollDoesNotWakeWaiter) {
  const int ep = s.epoll(), e = s.eventfd();
  ASSERT_EQ(s.add(ep, e, IN), 0);
  s.block_in_wait("t0", ep);
  ASSERT_EQ(s.close(ep), 0);
  EXPECT_TRUE(s.t("t0").pending);
  ASSERT_EQ(s.efd_write(e, 1), 8);  // still registered: the epoll lives on
  EXPECT_EQ(s.t("t0").result, 1);
}

// do_poll: a blocked poll() is woken by pollwake when the key matches.
TEST_F(Herd, BlockingPollIsWoken) {
  auto [r, w] = s.pipe();
  Task& t = s.t("t0");
  ASSERT_EQ(s.k.poll(t, {PollFd{r, static_cast<short>(EPOLLIN), 0}}, -1), kBlocked);
  ASSERT_EQ(s.write(w, 3), 3);
  EXPECT_EQ(t.result, 1);
  EXPECT_EQ(t.pollfds[0].revents, static_cast<short>(EPOLLIN));  // do_pollfd: masked by the events asked
}

// epoll_pwait2 (SYSCALL_DEFINE6 -> poll_select_set_timeout): an invalid timespec is EINVAL
// before anything else, even before a bad epfd or maxevents. Linux 6.18.44 answers
// {-1, 0}, {0, 1e9} and {0, -1} with EINVAL and {0, 0} or NULL with EBADF for epfd -1.
TEST_F(Herd, Pwait2InvalidTimespecIsEinvalFirst) {
  for (const Timespec64 bad : {Timespec64{-1, 0}, Timespec64{0, 1000000000}, Timespec64{0, -1}}) {
    EXPECT_EQ(s.k.epoll_pwait2(s.main(), -1, 0, &bad), -EINVAL) << bad.tv_sec << "," << bad.tv_nsec;
  }
  const Timespec64 zero{0, 0};
  EXPECT_EQ(s.k.epoll_pwait2(s.main(), -1, 4, &zero), -EBADF);
  EXPECT_EQ(s.k.epoll_pwait2(s.main(), -1, 4, nullptr), -EBADF);
  const Timespec64 longest{0, 999999999};
  const int ep = s.epoll();
  EXPECT_EQ(s.k.epoll_pwait2(s.main(), ep, 0, &longest), -EINVAL);  // valid: maxevents is the error
}

// {0, 0} does not wait; NULL waits for ever; ready events return at once with any timeout.
TEST_F(Herd, Pwait2ZeroAndNullTimeouts) {
  const int ep = s.epoll(), e = s.eventfd();
  ASSERT_EQ(s.add(ep, e, IN), 0);
  const Timespec64 zero{0, 0};
  EXPECT_EQ(s.k.epoll_pwait2(s.main(), ep, 4, &zero), 0);
  Task& t = s.t("t0");
  ASSERT_EQ(s.k.epoll_pwait2(t, ep, 4, nullptr), kBlocked);
  s.k.advance_ms(1000000);
  EXPECT_TRUE(t.pending);
  ASSERT_EQ(s.efd_write(e, 1), 8);
  EXPECT_FALSE(t.pending);
  EXPECT_EQ(t.result, 1);
  EXPECT_EQ(t.events, evs({{(uint64_t)e, IN}}));
  const Timespec64 most{INT64_MAX, 999999999};
  EXPECT_EQ(s.k.epoll_pwait2(s.main(), ep, 4, &most), 1);
}

// A relative timeout in nanoseconds: the call returns 0 when exactly that much virtual time
// has passed (ep_poll sleeps in schedule_hrtimeout_range until now + timeout).
TEST_F(Herd, Pwait2NanosecondTimeout) {
  const int ep = s.epoll();
  s.k.advance_ms(7);
  Task& t = s.t("t0");
  const Timespec64 rel{0, 1500000};  // 1.5 ms
  ASSERT_EQ(s.k.epoll_pwait2(t, ep, 1, &rel), kBlocked);
  s.k.advance_ms(1);
  EXPECT_TRUE(t.pending);
  EXPECT_TRUE(s.k.wait_out(t));
  EXPECT_EQ(t.result, 0);
  EXPECT_EQ(s.k.now_ns(), 8500000);
}

// The largest timespec saturates (timespec64_add_safe, then ktime_set at KTIME_MAX): the
// call sleeps "for ever" without overflowing the clock, and a signal still ends it.
TEST_F(Herd, Pwait2LargestTimeoutSaturates) {
  const int ep = s.epoll();
  s.k.advance_ms(5);
  Task& t = s.t("t0");
  const Timespec64 most{INT64_MAX, 999999999};
  ASSERT_EQ(s.k.epoll_pwait2(t, ep, 1, &most), kBlocked);
  s.k.advance_ms(INT64_MAX / 2000000);
  EXPECT_TRUE(t.pending);
  s.k.interrupt(t);
  EXPECT_EQ(t.result, -EINTR);
}

// A thundering herd of 10,000 waiters is reproducible: LT wakes them all, ET one.
TEST(HerdScale, TenThousandWaiters) {
  for (poll_t mode : {poll_t{0}, ET}) {
    ModelSys s;
    DeliveryLog log;
    s.k.set_observer(&log);
    const int ep = s.epoll(), e = s.eventfd();
    ASSERT_EQ(s.add(ep, e, IN | mode), 0);
    for (int i = 0; i < 10000; ++i) s.block_in_wait("t" + std::to_string(i), ep);
    ASSERT_EQ(s.efd_write(e, 1), 8);
    ASSERT_EQ(log.order.size(), mode ? 1u : 10000u);
    EXPECT_EQ(log.order.front(), "t9999");
    EXPECT_EQ(log.order.back(), mode ? "t9999" : "t0");
  }
}

}  // namespace
