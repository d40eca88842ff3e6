// kernel/sched/wait.c and include/linux/wait.h, as of 6.16+ (no bookmarks).
#include "wait.h"

#include "sched.h"
#include "wait_event.h"

namespace model {

// __add_wait_queue: at the head (after WQ_FLAG_PRIORITY entries, which the model never has).
void __add_wait_queue(WaitQueueHead& h, WaitQueueEntry& e) { h.head.push_front(e); }

void __add_wait_queue_entry_tail(WaitQueueHead& h, WaitQueueEntry& e) { h.head.push_back(e); }

// add_wait_queue: clears WQ_FLAG_EXCLUSIVE, inserts at the head.
void add_wait_queue(WaitQueueHead& h, WaitQueueEntry& e) {
  e.flags &= ~WQ_FLAG_EXCLUSIVE;
  __add_wait_queue(h, e);
}

// add_wait_queue_exclusive: sets WQ_FLAG_EXCLUSIVE, inserts at the tail.
void add_wait_queue_exclusive(WaitQueueHead& h, WaitQueueEntry& e) {
  e.flags |= WQ_FLAG_EXCLUSIVE;
  __add_wait_queue_entry_tail(h, e);
}

// __add_wait_queue_exclusive: exclusive but at the head; what ep_poll uses, hence LIFO.
void __add_wait_queue_exclusive(WaitQueueHead& h, WaitQueueEntry& e) {
  e.flags |= WQ_FLAG_EXCLUSIVE;
  __add_wait_queue(h, e);
}

void remove_wait_queue(WaitQueueHead&, WaitQueueEntry& e) { e.del_init(); }
void __remove_wait_queue(WaitQueueHead&, WaitQueueEntry& e) { e.del_init(); }

int autoremove_wake_function(WaitQueueEntry* e, unsigned mode, int wake_flags, poll_t key) {
  const int ret = default_wake_function(e, mode, wake_flags, key);
  if (ret) e->del_init();
  return ret;
}

void init_wait(WaitQueueEntry& e, Task& t) { init_wait_func(e, t, autoremove_wake_function); }

void init_wait_func(WaitQueueEntry& e, Task& t, WaitFunc func) {
  e.flags = 0;
  e.priv = &t;
  e.func = func;
}

void prepare_to_wait(WaitQueueHead& h, WaitQueueEntry& e) {
  e.flags &= ~WQ_FLAG_EXCLUSIVE;
  if (!e.queued()) __add_wait_queue(h, e);
}

void prepare_to_wait_exclusive(WaitQueueHead& h, WaitQueueEntry& e) {
  e.flags |= WQ_FLAG_EXCLUSIVE;
  if (!e.queued()) __add_wait_queue_entry_tail(h, e);
}

long prepare_to_wait_event(WaitQueueHead& h, WaitQueueEntry& e, Task& t) {
  if (t.signal_pending) {  // signal_pending_state(TASK_INTERRUPTIBLE, current)
    e.del_init();
    return -EINTR;
  }
  if (!e.queued()) {
    if (e.flags & WQ_FLAG_EXCLUSIVE) __add_wait_queue_entry_tail(h, e);
    else __add_wait_queue(h, e);
  }
  return 0;
}

void finish_wait(WaitQueueHead&, WaitQueueEntry& e) {
  if (e.queued()) e.del_init();  // list_empty_careful
}

// __wake_up_common (kernel/sched/wait.c): the flags are read before calling func, the
// next entry is remembered so that func may unlink its own entry.
int __wake_up_common(WaitQueueHead& h, unsigned mode, int nr_exclusive, int wake_flags, poll_t key) {
  auto it = h.head.begin();
  while (it != h.head.end()) {
    auto next = std::next(it);
    WaitQueueEntry& curr = *it;
    const unsigned flags = curr.flags;
    const int ret = curr.func(&curr, mode, wake_flags, key);
    if (ret < 0) break;
    if (ret && (flags & WQ_FLAG_EXCLUSIVE) && !--nr_exclusive) break;
    it = next;
  }
  return nr_exclusive;
}

namespace {
void wake(WaitQueueHead& h, unsigned mode, int nr, int wake_flags, poll_t key, std::string_view variant,
          Rule rule) {
  h.g->emit({.kind = EventKind::kWakeUp, .rule = rule, .site = rule_info(rule).site, .detail = variant, .queue = &h,
             .key = key, .arg = h.active() ? 1 : 0});
  ++h.g->depth;
  __wake_up_common(h, mode, nr, wake_flags, key);
  --h.g->depth;
}
}  // namespace

void wake_up(WaitQueueHead& h, Rule rule) { wake(h, TASK_NORMAL, 1, 0, 0, "wake_up", rule); }
void wake_up_sync(WaitQueueHead& h, Rule rule) {
  wake(h, TASK_NORMAL, 1, WF_SYNC, 0, "wake_up_sync", rule);
}
void wake_up_poll(WaitQueueHead& h, poll_t key, Rule rule) {
  wake(h, TASK_NORMAL, 1, 0, key, "wake_up_poll", rule);
}
void wake_up_locked_poll(WaitQueueHead& h, poll_t key, Rule rule) {
  wake(h, TASK_NORMAL, 1, 0, key, "wake_up_locked_poll", rule);
}
void wake_up_interruptible_all(WaitQueueHead& h, Rule rule) {
  wake(h, TASK_INTERRUPTIBLE, 0, 0, 0, "wake_up_interruptible_all", rule);
}
void wake_up_interruptible_poll(WaitQueueHead& h, poll_t key, Rule rule) {
  wake(h, TASK_INTERRUPTIBLE, 1, 0, key, "wake_up_interruptible_poll", rule);
}
void wake_up_interruptible_sync_poll(WaitQueueHead& h, poll_t key, Rule rule) {
  wake(h, TASK_INTERRUPTIBLE, 1, WF_SYNC, key, "wake_up_interruptible_sync_poll", rule);
}

MaySleep do_wait_intr_irq(Task& t, WaitQueueHead& wq, WaitQueueEntry& wait) {
  if (!wait.queued()) __add_wait_queue_entry_tail(wq, wait);
  if (t.signal_pending) co_return -EINTR;
  co_await schedule(t);
  co_return 0;
}

}  // namespace model
