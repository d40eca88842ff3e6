// Wait queues as in kernel/sched/wait.c and include/linux/wait.h (6.16+, no bookmarks).
#pragma once
#include <boost/intrusive/list.hpp>
#include <string_view>

#include "globals.h"
#include "uapi.h"

namespace model {

namespace bi = boost::intrusive;

// What the Kernel facade returns for a call that sleeps; its result arrives later in the task.
inline constexpr long kBlocked = -100000;

// wait_queue_entry.flags: the only flag the modelled sites use. WQ_FLAG_WOKEN (wait_woken)
// and WQ_FLAG_PRIORITY (add_wait_queue_priority) belong to callers the model does not have.
inline constexpr unsigned WQ_FLAG_EXCLUSIVE = 0x01;

// Task states a wakeup may target (the mode of wake_up*). Every sleep of the model is
// TASK_INTERRUPTIBLE, so both modes used reach every sleeper.
inline constexpr unsigned TASK_INTERRUPTIBLE = 0x1;
inline constexpr unsigned TASK_UNINTERRUPTIBLE = 0x2;
inline constexpr unsigned TASK_NORMAL = TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE;
inline constexpr int WF_SYNC = 0x10;  // wake_flags: the waker is about to sleep (a hint only)

struct Task;
struct WaitQueueEntry;
// wait_queue_func_t; key is the poll mask passed to wake_up (0 stands for a NULL key). It
// returns what try_to_wake_up returned (1: woken, 0: it was not asleep); < 0 stops the walk.
using WaitFunc = int (*)(WaitQueueEntry* wq_entry, unsigned mode, int wake_flags, poll_t key);

using WaitHook = bi::list_member_hook<bi::link_mode<bi::auto_unlink>>;

// struct wait_queue_entry.
struct WaitQueueEntry {
  // WQ_FLAG_EXCLUSIVE: a wake_up stops after nr_exclusive exclusive entries were woken.
  // Read by __wake_up_common before func runs (func may change or free the entry).
  unsigned flags = 0;
  // .private: the sleeping task for entries of a waiting task (default_wake_function wakes
  // it), else what func needs (the eppoll_entry, the poll table entry, the unix_sock).
  void* priv = nullptr;
  WaitFunc func = nullptr;  // called by __wake_up_common; never null once queued
  // The link on its head's list. Unlinked <=> list_empty(&entry): the entry is on no queue.
  // An entry destroyed while queued unlinks itself (auto_unlink): a sleeping call that is
  // abandoned leaves nothing dangling.
  WaitHook entry;
  bool queued() const { return entry.is_linked(); }
  void del_init() { entry.unlink(); }  // list_del_init
};

using WaitList = bi::list<WaitQueueEntry, bi::member_hook<WaitQueueEntry, WaitHook, &WaitQueueEntry::entry>,
                          bi::constant_time_size<false>>;

// struct wait_queue_head.
struct WaitQueueHead {
  WaitQueueHead(Globals& g, std::string_view name, const void* owner = nullptr) : g(&g), name(name), owner(owner) {}
  WaitQueueHead(const WaitQueueHead&) = delete;
  WaitQueueHead& operator=(const WaitQueueHead&) = delete;
  ~WaitQueueHead() { head.clear(); }  // entries unlink themselves; nothing dangles

  Globals* g;             // for the observer: every wake_up is reported
  std::string_view name;  // e.g. "rd_wait", "ep->wq": for explain output
  const void* owner;      // the object holding the queue (a file's private_data), for explain
  // The entries in wake order: wake_up walks from the front. Non-exclusive waiters and
  // ep_poll's exclusive ones are inserted at the front, other exclusive ones at the back.
  WaitList head;

  bool active() const { return !head.empty(); }  // waitqueue_active
};

// default_wake_function (kernel/sched/core.c): try_to_wake_up(entry's task).
int default_wake_function(WaitQueueEntry* wq_entry, unsigned mode, int wake_flags, poll_t key);
// autoremove_wake_function: default_wake_function, and the entry leaves the queue if the
// task was woken. This is why every wakeup of an exclusive queue reaches a task that is
// still asleep: the woken waiter is gone from the queue, so the next wake_up (nr_exclusive
// 1) goes to the next waiter instead of being spent on one that is already running.
int autoremove_wake_function(WaitQueueEntry* wq_entry, unsigned mode, int wake_flags, poll_t key);

// The wait helpers of kernel/sched/wait.c. The task's state (set_current_state) is the
// scheduler's: a task is asleep from the co_await of schedule() until it is woken.
// init_wait / DEFINE_WAIT: an entry of task t with autoremove_wake_function.
void init_wait(WaitQueueEntry& wq_entry, Task& t);
// init_wait_func / DEFINE_WAIT_FUNC: the same with another wake function.
void init_wait_func(WaitQueueEntry& wq_entry, Task& t, WaitFunc func);
// prepare_to_wait: non-exclusive, queued at the head unless already queued.
void prepare_to_wait(WaitQueueHead& wq_head, WaitQueueEntry& wq_entry);
// prepare_to_wait_exclusive: exclusive, queued at the tail unless already queued (the
// kernel's was_empty result has no user here).
void prepare_to_wait_exclusive(WaitQueueHead& wq_head, WaitQueueEntry& wq_entry);
// prepare_to_wait_event: with a signal pending the entry leaves the queue and the result is
// -ERESTARTSYS (the model's -EINTR: the trace's handlers do not restart calls); else it is
// queued as its WQ_FLAG_EXCLUSIVE says (tail or head) unless already queued, and 0.
long prepare_to_wait_event(WaitQueueHead& wq_head, WaitQueueEntry& wq_entry, Task& t);
// finish_wait: the entry leaves the queue if a wakeup has not already removed it.
void finish_wait(WaitQueueHead& wq_head, WaitQueueEntry& wq_entry);

// Insertion (include/linux/wait.h, kernel/sched/wait.c).
void add_wait_queue(WaitQueueHead& h, WaitQueueEntry& e);            // non-exclusive, head
void add_wait_queue_exclusive(WaitQueueHead& h, WaitQueueEntry& e);  // exclusive, tail
void __add_wait_queue(WaitQueueHead& h, WaitQueueEntry& e);          // head
void __add_wait_queue_exclusive(WaitQueueHead& h, WaitQueueEntry& e);  // exclusive, head (epoll_wait)
void __add_wait_queue_entry_tail(WaitQueueHead& h, WaitQueueEntry& e);
void remove_wait_queue(WaitQueueHead& h, WaitQueueEntry& e);
void __remove_wait_queue(WaitQueueHead& h, WaitQueueEntry& e);

// __wake_up_common: walks the queue calling each entry's func; stops when a func returns
// < 0 or when nr_exclusive exclusive entries returned non-zero. Returns what is left.
int __wake_up_common(WaitQueueHead& h, unsigned mode, int nr_exclusive, int wake_flags, poll_t key);

// The wake_up variants the model's callers use. `rule` names the calling kernel function
// and why it wakes, for the observer; each reports the variant it stands for.
void wake_up(WaitQueueHead& h, Rule rule);                           // nr 1, NULL key
void wake_up_sync(WaitQueueHead& h, Rule rule);                      // nr 1, NULL key, WF_SYNC
void wake_up_poll(WaitQueueHead& h, poll_t key, Rule rule);          // nr 1, key
void wake_up_locked_poll(WaitQueueHead& h, poll_t key, Rule rule);   // nr 1, key
void wake_up_interruptible_all(WaitQueueHead& h, Rule rule);  // nr 0
void wake_up_interruptible_poll(WaitQueueHead& h, poll_t key, Rule rule);
void wake_up_interruptible_sync_poll(WaitQueueHead& h, poll_t key, Rule rule);

// Poll tables (include/linux/poll.h): ->poll() calls poll_wait(), which hands the queue to
// the table's queue proc (ep_ptable_queue_proc, __pollwait) when there is one.
struct File;
struct PollTable;
using PollQueueProc = void (*)(File* file, WaitQueueHead* whead, PollTable* pt);
struct PollTable {
  PollQueueProc qproc = nullptr;
  poll_t key = ~poll_t{0};  // _key: the events the caller is interested in
};
inline void poll_wait(File* file, WaitQueueHead& whead, PollTable* pt) {
  if (pt && pt->qproc) pt->qproc(file, &whead, pt);
}

}  // namespace model
