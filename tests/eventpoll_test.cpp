// fs/eventpoll.c: registration, harvesting, ready-list order, nesting, close/dup.
// Expected values come from the kernel function named on each test, and where noted from
// measurements on Linux 6.18 (see traces/ for the real-kernel checks).
#include <gtest/gtest.h>

#include "model/eventpoll.h"
#include "model/pipe.h"
#include "model_fixture.h"

namespace {

using namespace eo_test;
constexpr poll_t IN = EPOLLIN, OUT = EPOLLOUT, ET = EPOLLET;

struct EventpollTest : ::testing::Test {
  ModelSys s;
};

// ep_send_events: a level-triggered item is requeued at the tail and reported again.
TEST_F(EventpollTest, LevelTriggeredReportsUntilDrained) {
  auto [r, w] = s.pipe();
  const int ep = s.epoll();
  ASSERT_EQ(s.add(ep, r, IN), 0);
  EXPECT_TRUE(s.wait(ep).empty());
  ASSERT_EQ(s.write(w, 10), 10);
  EXPECT_EQ(s.wait(ep), evs({{(uint64_t)r, IN}}));
  EXPECT_EQ(s.wait(ep), evs({{(uint64_t)r, IN}}));
  ASSERT_EQ(s.read(r, 10), 10);
  EXPECT_TRUE(s.wait(ep).empty());  // polled not ready: dropped from the list
}

// ep_send_events: an edge-triggered item leaves the list when delivered; only a new
// callback queues it again.
TEST_F(EventpollTest, EdgeTriggeredReportsOncePerWakeup) {
  auto [r, w] = s.pipe();
  const int ep = s.epoll();
  ASSERT_EQ(s.add(ep, r, IN | ET), 0);
  ASSERT_EQ(s.write(w, 10), 10);
  EXPECT_EQ(s.wait(ep), evs({{(uint64_t)r, IN}}));
  EXPECT_TRUE(s.wait(ep).empty());
}

// ep_insert: a target already ready at ADD is queued at once.
TEST_F(EventpollTest, ReadyAtAddIsQueued) {
  auto [r, w] = s.pipe();
  ASSERT_EQ(s.write(w, 1), 1);
  const int ep = s.epoll();
  ASSERT_EQ(s.add(ep, r, IN | ET), 0);
  EXPECT_EQ(s.wait(ep), evs({{(uint64_t)r, IN}}));
}

// ep_send_events: EPOLLONESHOT keeps only EP_PRIVATE_BITS after delivery; callbacks are
// then ignored (ep_poll_callback) until ep_modify re-arms, which re-polls and queues.
TEST_F(EventpollTest, OneshotDisablesUntilMod) {
  auto [r, w] = s.pipe();
  const int ep = s.epoll();
  ASSERT_EQ(s.add(ep, r, IN | EPOLLONESHOT), 0);
  ASSERT_EQ(s.write(w, 1), 1);
  EXPECT_EQ(s.wait(ep), evs({{(uint64_t)r, IN}}));
  ASSERT_EQ(s.write(w, 1), 1);
  EXPECT_TRUE(s.wait(ep).empty());
  ASSERT_EQ(s.mod(ep, r, IN | EPOLLONESHOT), 0);  // no DEL/ADD needed
  EXPECT_EQ(s.wait(ep), evs({{(uint64_t)r, IN}}));
}

// ep_modify: MOD of a ready item that is not queued queues it (ET re-arm without an edge).
TEST_F(EventpollTest, ModRearmsEdgeTriggered) {
  auto [r, w] = s.pipe();
  const int ep = s.epoll();
  ASSERT_EQ(s.add(ep, r, IN | ET), 0);
  ASSERT_EQ(s.write(w, 1), 1);
  EXPECT_EQ(s.wait(ep).size(), 1u);
  EXPECT_TRUE(s.wait(ep).empty());
  ASSERT_EQ(s.mod(ep, r, IN | ET), 0);
  EXPECT_EQ(s.wait(ep), evs({{(uint64_t)r, IN}}));
}

// ep_item_poll: revents = current ->poll() & armed events; ERR|HUP are always armed.
TEST_F(EventpollTest, HupAndErrAreReportedWithoutBeingRequested) {
  auto [r, w] = s.pipe();
  const int ep = s.epoll();
  ASSERT_EQ(s.add(ep, r, 0), 0);  // no events requested
  ASSERT_EQ(s.add(ep, w, 0), 0);
  ASSERT_EQ(s.close(w), 0);
  EXPECT_EQ(s.wait(ep), evs({{(uint64_t)r, EPOLLHUP}}));
}

// ep_send_events / ep_done_scan: with maxevents smaller than the ready count, the
// leftovers go back in front and delivered LT items to the tail: round robin.
TEST_F(EventpollTest, LevelTriggeredRoundRobinWithSmallMaxevents) {
  const int ep = s.epoll();
  int e[3];
  for (int& fd : e) {
    fd = s.eventfd(1);
    ASSERT_EQ(s.add(ep, fd, IN), 0);
  }
  EXPECT_EQ(s.wait(ep, 2), evs({{(uint64_t)e[0], IN}, {(uint64_t)e[1], IN}}));
  EXPECT_EQ(s.wait(ep, 2), evs({{(uint64_t)e[2], IN}, {(uint64_t)e[0], IN}}));
  EXPECT_EQ(s.wait(ep, 2), evs({{(uint64_t)e[1], IN}, {(uint64_t)e[2], IN}}));
}

// ep_poll_callback appends to rdllist: events come out in the order they were queued.
TEST_F(EventpollTest, EventsAreReportedInQueueOrder) {
  const int ep = s.epoll();
  const int a = s.eventfd(), b = s.eventfd(), c = s.eventfd();
  for (int fd : {a, b, c}) ASSERT_EQ(s.add(ep, fd, IN | ET), 0);
  for (int fd : {c, a, b}) ASSERT_EQ(s.efd_write(fd, 1), 8);
  EXPECT_EQ(s.wait(ep), evs({{(uint64_t)c, IN}, {(uint64_t)a, IN}, {(uint64_t)b, IN}}));
}

// __ep_remove: DEL drops a pending event and wakes nobody.
TEST_F(EventpollTest, DelDropsPendingEvent) {
  auto [r, w] = s.pipe();
  const int ep = s.epoll();
  ASSERT_EQ(s.add(ep, r, IN), 0);
  ASSERT_EQ(s.write(w, 1), 1);
  ASSERT_EQ(s.del(ep, r), 0);
  EXPECT_TRUE(s.wait(ep).empty());
  EXPECT_EQ(s.del(ep, r), -ENOENT);
}

// The rb-tree key is (file, fd): a dup'ed fd is a second registration of the same file,
// and the registration outlives close() while another reference exists (eventpoll_release
// runs only at __fput). DEL by the closed number is EBADF, by the dup ENOENT (measured on
// 6.18, REPORT m).
TEST_F(EventpollTest, DupKeepsRegistrationAliveAfterClose) {
  auto [r, w] = s.pipe();
  const int ep = s.epoll();
  ASSERT_EQ(s.add(ep, r, IN, 1004), 0);
  const int d = s.dup(r);
  ASSERT_EQ(s.close(r), 0);
  ASSERT_EQ(s.write(w, 1), 1);
  EXPECT_EQ(s.wait(ep), evs({{1004, IN}}));
  EXPECT_EQ(s.del(ep, r), -EBADF);
  EXPECT_EQ(s.del(ep, d), -ENOENT);
  EXPECT_EQ(s.mod(ep, d, IN), -ENOENT);
  ASSERT_EQ(s.close(d), 0);  // last reference: eventpoll_release removes it
  EXPECT_EQ(s.k.globals().live_epitems, 0);
  EXPECT_TRUE(s.wait(ep).empty());
}

// Same file under two fd numbers: two epitems, both fire.
TEST_F(EventpollTest, SameFileTwoFdsBothFire) {
  auto [r, w] = s.pipe();
  const int d = s.dup(r);
  const int ep = s.epoll();
  ASSERT_EQ(s.add(ep, r, IN | ET), 0);
  ASSERT_EQ(s.add(ep, d, IN | ET), 0);
  ASSERT_EQ(s.write(w, 1), 1);
  // Both callbacks append; the queue order follows the wait-queue walk (newest first).
  EXPECT_EQ(s.wait(ep), evs({{(uint64_t)d, IN}, {(uint64_t)r, IN}}));
}

// If the fd number is reused by another file, DEL by it finds nothing: ENOENT.
TEST_F(EventpollTest, ReusedNumberIsAnotherFile) {
  auto [r, w] = s.pipe();
  const int ep = s.epoll();
  ASSERT_EQ(s.add(ep, r, IN), 0);
  const int d = s.dup(r);
  ASSERT_EQ(s.close(r), 0);
  const int e = s.eventfd();
  ASSERT_EQ(e, r);  // lowest free number
  EXPECT_EQ(s.del(ep, e), -ENOENT);
  (void)d;
  (void)w;
}

// Closing the epoll fd frees every registration (ep_clear_and_put).
TEST_F(EventpollTest, ClosingEpollFreesItems) {
  auto [r, w] = s.pipe();
  const int ep = s.epoll();
  ASSERT_EQ(s.add(ep, r, IN), 0);
  ASSERT_EQ(s.add(ep, w, OUT), 0);
  EXPECT_EQ(s.k.globals().live_epitems, 2);
  ASSERT_EQ(s.close(ep), 0);
  EXPECT_EQ(s.k.globals().live_epitems, 0);
  EXPECT_EQ(s.k.globals().live_pwqs, 0);
  EXPECT_EQ(s.k.globals().user_epoll_watches, 0);
}

// ep_insert: percpu_counter_compare(epoll_watches, max_user_watches) >= 0 -> ENOSPC.
TEST(EventpollLimits, MaxUserWatchesGivesEnospc) {
  KernelProfile p;
  p.max_user_watches = 2;
  ModelSys s(p);
  const int ep = s.epoll();
  const int a = s.eventfd(), b = s.eventfd(), c = s.eventfd();
  EXPECT_EQ(s.add(ep, a, IN), 0);
  EXPECT_EQ(s.add(ep, b, IN), 0);
  EXPECT_EQ(s.add(ep, c, IN), -ENOSPC);
  EXPECT_EQ(s.del(ep, a), 0);
  EXPECT_EQ(s.add(ep, c, IN), 0);
}

// __ep_eventpoll_poll: an epoll is readable (EPOLLIN|EPOLLRDNORM) iff a queued item really
// polls ready; watching it from another epoll propagates readiness (ep_poll_safewake).
TEST_F(EventpollTest, NestedEpollPropagatesReadiness) {
  auto [r, w] = s.pipe();
  const int inner = s.epoll(), outer = s.epoll();
  ASSERT_EQ(s.add(inner, r, IN | ET), 0);
  ASSERT_EQ(s.add(outer, inner, IN | ET), 0);
  EXPECT_TRUE(s.wait(outer).empty());
  ASSERT_EQ(s.write(w, 1), 1);
  EXPECT_EQ(s.wait(outer), evs({{(uint64_t)inner, IN}}));
  // The outer harvest polled the inner epoll but consumed nothing there.
  EXPECT_EQ(s.wait(inner), evs({{(uint64_t)r, IN}}));
  EXPECT_EQ(s.poll1(inner, static_cast<short>(EPOLLIN)), 0);
}

// __ep_eventpoll_poll prunes queued items that no longer poll ready.
TEST_F(EventpollTest, PollingAnEpollPrunesStaleItems) {
  auto [r, w] = s.pipe();
  const int ep = s.epoll();
  ASSERT_EQ(s.add(ep, r, IN), 0);
  ASSERT_EQ(s.write(w, 1), 1);
  ASSERT_EQ(s.read(r, 1), 1);  // still queued, no longer ready
  auto* epoll = eventpoll_of(s.k.fdtable().fget(ep));
  EXPECT_FALSE(epoll->rdllist.empty());
  EXPECT_EQ(s.poll1(ep, static_cast<short>(EPOLLIN)), 0);
  EXPECT_TRUE(epoll->rdllist.empty());
}

// ep_loop_check: cycles are refused with ELOOP.
TEST_F(EventpollTest, CycleIsEloop) {
  const int e1 = s.epoll(), e2 = s.epoll(), e3 = s.epoll();
  ASSERT_EQ(s.add(e1, e2, IN), 0);
  EXPECT_EQ(s.add(e2, e1, IN), -ELOOP);
  ASSERT_EQ(s.add(e2, e3, IN), 0);
  EXPECT_EQ(s.add(e3, e1, IN), -ELOOP);
  EXPECT_EQ(s.add(e1, e1, IN), -EINVAL);  // into itself: do_epoll_ctl's f == tf check
}

// ep_loop_check (>= 6.17, with ep_get_upwards_depth_proc): at most EP_MAX_NESTS = 4
// epoll->epoll edges in any chain, whatever the build order (measured on 6.18, REPORT l).
TEST_F(EventpollTest, DepthLimitTopDownAndBottomUp) {
  int e[6];
  for (int& fd : e) fd = s.epoll();
  for (int i = 0; i < 4; ++i) ASSERT_EQ(s.add(e[i], e[i + 1], IN), 0) << i;  // top-down
  EXPECT_EQ(s.add(e[4], e[5], IN), -ELOOP);
  ModelSys b;
  int f[6];
  for (int& fd : f) fd = b.epoll();
  for (int i = 4; i > 0; --i) ASSERT_EQ(b.add(f[i - 1], f[i], IN), 0) << i;  // bottom-up
  EXPECT_EQ(b.add(f[4], f[5], IN), -ELOOP);
}

// Before 6.17 (ep_loop_check_proc without the upward walk, e.g. 6.12) a chain built
// top-down may grow past EP_MAX_NESTS; attaching a file at its bottom then fails in
// reverse_path_check with EINVAL.
TEST(EventpollLegacy, DeepTopDownChainThenFileGivesEinval) {
  ModelSys s(KernelProfile::for_version({6, 12, 0}));
  int e[6];
  for (int& fd : e) fd = s.epoll();
  for (int i = 0; i < 5; ++i) ASSERT_EQ(s.add(e[i], e[i + 1], IN), 0) << i;
  auto [r, w] = s.pipe();
  EXPECT_EQ(s.add(e[5], r, IN), -EINVAL);
  EXPECT_EQ(s.add(e[4], r, IN), 0);  // 5 epolls above the pipe: allowed
  (void)w;
}

// reverse_path_check: at most 500 paths of depth 1 from one file (path_limits[1]).
TEST(EventpollPaths, FiveHundredAndOnePathsOfDepthOneGiveEinval) {
  ModelSys s;
  auto [r, w] = s.pipe();
  const int a = s.epoll();
  ASSERT_EQ(s.add(a, r, IN), 0);
  for (int i = 0; i < 500; ++i) {
    const int top = s.epoll();
    ASSERT_EQ(s.add(top, a, IN), 0) << i;
  }
  const int top = s.epoll();
  EXPECT_EQ(s.add(top, a, IN), -EINVAL);
  (void)w;
}

// A file type whose ->poll has a side effect: it writes to a pipe, as if another CPU's
// callback arrived during a scan. Used to exercise ovflist.
struct SideEffectFile final : File {
  SideEffectFile(Globals& g, Kernel& k, int wfd) : File(g, FMODE_READ, 0), k(k), wfd(wfd) {}
  Kernel& k;
  int wfd;
  bool armed = false;
  WaitQueueHead q{*g, "side"};
  poll_t poll(PollTable* pt) override {
    poll_wait(this, q, pt);
    if (armed) {
      armed = false;
      char c = 'x';
      // A write during the harvest: its callback must chain on ovflist.
      auto* pf = static_cast<PipeFile*>(k.fdtable().fget(wfd));
      static_cast<void>(pf->write(k.task("other"), &c, 1));  // a pipe with room: returns at once
    }
    return EPOLLIN;
  }
  std::string describe() const override { return "side-effect"; }
};

// ep_poll_callback during a scan chains the item on ovflist; ep_done_scan re-inserts
// ovflist items at the front, before the LT items requeued during the scan.
TEST_F(EventpollTest, CallbackDuringScanGoesToOvflistThenFront) {
  auto [r, w] = s.pipe();
  auto* side = new SideEffectFile(s.k.globals(), s.k, w);
  const int sfd = s.k.fdtable().install(side);
  const int ep = s.epoll();
  ASSERT_EQ(s.add(ep, sfd, IN), 0);  // LT, always ready
  ASSERT_EQ(s.add(ep, r, IN | ET), 0);
  EXPECT_EQ(s.wait(ep), evs({{(uint64_t)sfd, IN}}));
  side->armed = true;
  EXPECT_EQ(s.wait(ep, 1), evs({{(uint64_t)sfd, IN}}));  // the write happens inside this scan
  auto* epoll = eventpoll_of(s.k.fdtable().fget(ep));
  EXPECT_EQ(epoll->ovflist, ep_unactive());
  EXPECT_EQ(s.wait(ep), evs({{(uint64_t)r, IN}, {(uint64_t)sfd, IN}}));
}

}  // namespace
