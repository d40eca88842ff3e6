// The wait_event macros of include/linux/wait.h that the modelled files use, as
// coroutines: each sleeps in schedule() until `condition` holds or a signal comes.
#pragma once
#include "may_sleep.h"
#include "sched.h"
#include "wait.h"

namespace model {

// ___wait_event with TASK_INTERRUPTIBLE and cmd schedule(): the entry (autoremove, WQ_FLAG_EXCLUSIVE
// if exclusive) is queued again by prepare_to_wait_event after each wakeup. The condition is
// tested after queueing, so a wakeup between the test and schedule() cannot be lost; it is
// tested before the signal, so a waiter chosen by a wakeup consumes it even if signalled.
// 0 once the condition holds, -ERESTARTSYS (-EINTR) on a signal.
template <typename Condition>
MaySleep ___wait_event(Task& t, WaitQueueHead& wq_head, Condition condition, bool exclusive) {
  WaitQueueEntry wq_entry;
  init_wait(wq_entry, t);  // init_wait_entry
  wq_entry.flags = exclusive ? WQ_FLAG_EXCLUSIVE : 0;
  for (;;) {
    const long interrupted = prepare_to_wait_event(wq_head, wq_entry, t);
    if (condition()) break;
    if (interrupted) co_return interrupted;
    co_await schedule(t);
  }
  finish_wait(wq_head, wq_entry);
  co_return 0;
}

// wait_event_interruptible_exclusive: nothing to do if the condition already holds.
template <typename Condition>
MaySleep wait_event_interruptible_exclusive(Task& t, WaitQueueHead& wq_head, Condition condition) {
  if (condition()) co_return 0;
  co_return co_await ___wait_event(t, wq_head, condition, true);
}

// do_wait_intr_irq (kernel/sched/wait.c): queue at the tail once, then -ERESTARTSYS (-EINTR)
// if a signal is pending, else schedule() and 0.
MaySleep do_wait_intr_irq(Task& t, WaitQueueHead& wq, WaitQueueEntry& wait);

// wait_event_interruptible_locked_irq -> __wait_event_interruptible_locked(exclusive 0,
// do_wait_intr_irq): a non-exclusive autoremove entry, removed at the end.
template <typename Condition>
MaySleep wait_event_interruptible_locked_irq(Task& t, WaitQueueHead& wq, Condition condition) {
  if (condition()) co_return 0;
  WaitQueueEntry wait;
  init_wait(wait, t);  // DEFINE_WAIT
  long ret = 0;
  do {
    ret = co_await do_wait_intr_irq(t, wq, wait);
    if (ret) break;
  } while (!condition());
  __remove_wait_queue(wq, wait);
  co_return ret;
}

}  // namespace model
