// kernel/sched/wait.c: insertion order and __wake_up_common's stopping rule.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "model/sched.h"
#include "model/wait.h"

namespace {

using namespace model;

// A wait entry that records its calls and returns a fixed value.
struct Probe {
  WaitQueueEntry e;
  std::string name;
  int ret = 1;
  std::vector<std::string>* log = nullptr;
  static int func(WaitQueueEntry* w, unsigned, int, poll_t) {
    auto* p = static_cast<Probe*>(w->priv);
    p->log->push_back(p->name);
    return p->ret;
  }
  Probe(std::string n, std::vector<std::string>* l, int r = 1) : name(std::move(n)), ret(r), log(l) {
    e.priv = this;
    e.func = func;
  }
};

struct WaitTest : ::testing::Test {
  Globals g{KernelProfile{}};
  WaitQueueHead h{g, "test"};
  std::vector<std::string> log;
};

// add_wait_queue: non-exclusive entries go to the head, so the newest is called first.
TEST_F(WaitTest, NonExclusiveEntriesAreCalledNewestFirst) {
  Probe a("a", &log), b("b", &log), c("c", &log);
  add_wait_queue(h, a.e);
  add_wait_queue(h, b.e);
  add_wait_queue(h, c.e);
  wake_up(h, Rule::kNone);
  EXPECT_EQ(log, (std::vector<std::string>{"c", "b", "a"}));
}

// add_wait_queue_exclusive: tail insertion; wake_up (nr_exclusive 1) stops after the first
// exclusive entry whose function returns non-zero.
TEST_F(WaitTest, ExclusiveTailEntriesAreFifoAndOneIsWoken) {
  Probe a("a", &log), b("b", &log);
  add_wait_queue_exclusive(h, a.e);
  add_wait_queue_exclusive(h, b.e);
  wake_up(h, Rule::kNone);
  EXPECT_EQ(log, (std::vector<std::string>{"a"}));
}

// __wake_up_common: non-exclusive entries (at the head) are all called before the
// exclusive ones and never count against nr_exclusive.
TEST_F(WaitTest, NonExclusiveAllCalledThenOneExclusive) {
  Probe x1("x1", &log), x2("x2", &log), n1("n1", &log), n2("n2", &log);
  add_wait_queue_exclusive(h, x1.e);
  add_wait_queue(h, n1.e);
  add_wait_queue_exclusive(h, x2.e);
  add_wait_queue(h, n2.e);
  wake_up(h, Rule::kNone);
  EXPECT_EQ(log, (std::vector<std::string>{"n2", "n1", "x1"}));
}

// __wake_up_common: an exclusive entry returning 0 does not consume nr_exclusive (this is
// what makes EPOLLEXCLUSIVE wake "one or more").
TEST_F(WaitTest, ExclusiveEntryReturningZeroDoesNotStopTheWalk) {
  Probe x1("x1", &log, 0), x2("x2", &log, 0), x3("x3", &log, 1), x4("x4", &log, 1);
  for (Probe* p : {&x1, &x2, &x3, &x4}) add_wait_queue_exclusive(h, p->e);
  wake_up(h, Rule::kNone);
  EXPECT_EQ(log, (std::vector<std::string>{"x1", "x2", "x3"}));
}

// __wake_up_common: a negative return stops the walk at once.
TEST_F(WaitTest, NegativeReturnStopsTheWalk) {
  Probe a("a", &log, -1), b("b", &log);
  add_wait_queue(h, b.e);
  add_wait_queue(h, a.e);
  wake_up_interruptible_all(h, Rule::kNone);
  EXPECT_EQ(log, (std::vector<std::string>{"a"}));
}

// wake_up_interruptible_all (nr_exclusive 0): every exclusive entry is called.
TEST_F(WaitTest, WakeUpAllCallsEveryExclusiveEntry) {
  Probe a("a", &log), b("b", &log), c("c", &log);
  for (Probe* p : {&a, &b, &c}) add_wait_queue_exclusive(h, p->e);
  wake_up_interruptible_all(h, Rule::kNone);
  EXPECT_EQ(log, (std::vector<std::string>{"a", "b", "c"}));
}

// __add_wait_queue_exclusive (ep_poll's insertion): exclusive at the HEAD, hence LIFO.
TEST_F(WaitTest, HeadExclusiveInsertionIsLifo) {
  Probe a("a", &log), b("b", &log), c("c", &log);
  for (Probe* p : {&a, &b, &c}) __add_wait_queue_exclusive(h, p->e);
  wake_up(h, Rule::kNone);
  wake_up(h, Rule::kNone);  // all still queued (Probe does not remove itself): c again
  EXPECT_EQ(log, (std::vector<std::string>{"c", "c"}));
}

// __wake_up_common remembers the next entry, so a function may unlink its own entry.
TEST_F(WaitTest, EntryMayRemoveItselfDuringWake) {
  struct Self {
    WaitQueueEntry e;
    int calls = 0;
    static int func(WaitQueueEntry* w, unsigned, int, poll_t) {
      static_cast<Self*>(w->priv)->calls++;
      w->del_init();
      return 1;
    }
  } s1, s2;
  for (Self* s : {&s1, &s2}) {
    s->e.priv = s;
    s->e.func = Self::func;
    add_wait_queue(h, s->e);
  }
  wake_up(h, Rule::kNone);
  EXPECT_EQ(s1.calls + s2.calls, 2);
  EXPECT_FALSE(h.active());
}

// The key passed to wake_up_*_poll reaches the entry function; 0 stands for NULL.
TEST_F(WaitTest, KeyIsPassedToTheEntry) {
  struct K {
    WaitQueueEntry e;
    poll_t seen = 0xdead;
    static int func(WaitQueueEntry* w, unsigned, int, poll_t key) {
      static_cast<K*>(w->priv)->seen = key;
      return 1;
    }
  } k;
  k.e.priv = &k;
  k.e.func = K::func;
  add_wait_queue(h, k.e);
  wake_up_interruptible_sync_poll(h, EPOLLIN | EPOLLRDNORM, Rule::kNone);
  EXPECT_EQ(k.seen, EPOLLIN | EPOLLRDNORM);
  wake_up(h, Rule::kNone);
  EXPECT_EQ(k.seen, 0u);
}

// prepare_to_wait (kernel/sched/wait.c): non-exclusive at the head, queued once however
// often it is called; prepare_to_wait_exclusive: exclusive at the tail; finish_wait unlinks.
TEST_F(WaitTest, PrepareToWaitQueuesOnceAtTheRightEnd) {
  Scheduler sched(g);
  Task t1("t1", 1, sched), t2("t2", 2, sched);
  Probe first("first", &log);
  add_wait_queue(h, first.e);
  WaitQueueEntry a, b;
  init_wait(a, t1);
  init_wait(b, t2);
  prepare_to_wait_exclusive(h, b);
  prepare_to_wait(h, a);
  prepare_to_wait(h, a);
  EXPECT_EQ(&h.head.front(), &a);
  EXPECT_EQ(&h.head.back(), &b);
  EXPECT_EQ(std::distance(h.head.begin(), h.head.end()), 3);
  EXPECT_FALSE(a.flags & WQ_FLAG_EXCLUSIVE);
  EXPECT_TRUE(b.flags & WQ_FLAG_EXCLUSIVE);
  finish_wait(h, a);
  finish_wait(h, b);
  finish_wait(h, b);
  EXPECT_EQ(&h.head.front(), &first.e);
  EXPECT_EQ(std::distance(h.head.begin(), h.head.end()), 1);
}

// prepare_to_wait_event: with a signal pending the entry leaves the queue and the wait
// fails (-ERESTARTSYS, the model's -EINTR); otherwise it is queued by its exclusive flag.
TEST_F(WaitTest, PrepareToWaitEventHonoursSignals) {
  Scheduler sched(g);
  Task t("t", 1, sched);
  WaitQueueEntry e;
  init_wait(e, t);
  e.flags = WQ_FLAG_EXCLUSIVE;
  EXPECT_EQ(prepare_to_wait_event(h, e, t), 0);
  EXPECT_TRUE(e.queued());
  t.signal_pending = true;
  EXPECT_EQ(prepare_to_wait_event(h, e, t), -EINTR);
  EXPECT_FALSE(e.queued());
}

// autoremove_wake_function takes a woken waiter off the queue, so that the next wake_up
// reaches the next exclusive waiter; a waiter that was not asleep stays (and counts not).
TEST_F(WaitTest, AutoremoveSendsTheNextWakeupToTheNextWaiter) {
  Scheduler sched(g);
  Task t1("t1", 1, sched), t2("t2", 2, sched);
  WaitQueueEntry a, b;
  init_wait(a, t1);
  init_wait(b, t2);
  prepare_to_wait_exclusive(h, a);
  prepare_to_wait_exclusive(h, b);
  t1.state = t2.state = TaskState::kSleeping;  // as after schedule()
  wake_up(h, Rule::kNone);
  EXPECT_EQ(t1.state, TaskState::kRunnable);
  EXPECT_FALSE(a.queued());
  EXPECT_EQ(t2.state, TaskState::kSleeping);
  wake_up(h, Rule::kNone);
  EXPECT_EQ(t2.state, TaskState::kRunnable);
  EXPECT_FALSE(b.queued());
}

}  // namespace
