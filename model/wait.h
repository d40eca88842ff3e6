// Wait queues as in kernel/sched/wait.c and include/linux/wait.h (6.16+, no bookmarks).
#pragma once
#include <boost/intrusive/list.hpp>
#include <string_view>

#include "globals.h"
#include "uapi.h"

namespace model {

namespace bi = boost::intrusive;

// A call that sleeps returns kBlocked; its result arrives later through the task.
inline constexpr long kBlocked = -100000;

inline constexpr unsigned WQ_FLAG_EXCLUSIVE = 0x01;
inline constexpr unsigned WQ_FLAG_WOKEN = 0x02;
inline constexpr unsigned WQ_FLAG_PRIORITY = 0x10;

inline constexpr unsigned TASK_INTERRUPTIBLE = 0x1;
inline constexpr unsigned TASK_UNINTERRUPTIBLE = 0x2;
inline constexpr unsigned TASK_NORMAL = TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE;
inline constexpr int WF_SYNC = 0x10;

struct WaitQueueEntry;
// wait_queue_func_t; key is the poll mask passed to wake_up (0 stands for a NULL key).
using WaitFunc = int (*)(WaitQueueEntry* wq_entry, unsigned mode, int wake_flags, poll_t key);

using WaitHook = bi::list_member_hook<bi::link_mode<bi::auto_unlink>>;

struct WaitQueueEntry {
  unsigned flags = 0;
  void* priv = nullptr;  // wait_queue_entry.private: the task, or NULL for poll callbacks
  WaitFunc func = nullptr;
  WaitHook entry;        // list_empty(&entry) <=> !entry.is_linked()
  bool queued() const { return entry.is_linked(); }
  void del_init() { entry.unlink(); }  // list_del_init
};

using WaitList = bi::list<WaitQueueEntry, bi::member_hook<WaitQueueEntry, WaitHook, &WaitQueueEntry::entry>,
                          bi::constant_time_size<false>>;

struct WaitQueueHead {
  WaitQueueHead(Globals& g, std::string_view name, const void* owner = nullptr) : g(&g), name(name), owner(owner) {}
  WaitQueueHead(const WaitQueueHead&) = delete;
  WaitQueueHead& operator=(const WaitQueueHead&) = delete;
  ~WaitQueueHead() { head.clear(); }  // entries unlink themselves; nothing dangles

  Globals* g;
  std::string_view name;  // e.g. "rd_wait", "ep->wq": for explain output
  const void* owner;      // the object holding the queue (a file's private_data), for explain
  WaitList head;

  bool active() const { return !head.empty(); }  // waitqueue_active
};

// Insertion (include/linux/wait.h, kernel/sched/wait.c).
void add_wait_queue(WaitQueueHead& h, WaitQueueEntry& e);            // non-exclusive, head
void add_wait_queue_exclusive(WaitQueueHead& h, WaitQueueEntry& e);  // exclusive, tail
void __add_wait_queue(WaitQueueHead& h, WaitQueueEntry& e);          // head, after priority entries
void __add_wait_queue_exclusive(WaitQueueHead& h, WaitQueueEntry& e);  // exclusive, head (epoll_wait)
void __add_wait_queue_entry_tail(WaitQueueHead& h, WaitQueueEntry& e);
void remove_wait_queue(WaitQueueHead& h, WaitQueueEntry& e);

// __wake_up_common: walks the queue calling each entry's func; stops when a func returns
// < 0 or when nr_exclusive exclusive entries returned non-zero. Returns what is left.
int __wake_up_common(WaitQueueHead& h, unsigned mode, int nr_exclusive, int wake_flags, poll_t key);

// The wake_up variants the model's callers use. `rule` names the calling kernel function
// and why it wakes, for the observer; each reports the variant it stands for.
void wake_up(WaitQueueHead& h, Rule rule);                           // nr 1, NULL key
void wake_up_sync(WaitQueueHead& h, Rule rule);                      // nr 1, NULL key, WF_SYNC
void wake_up_all(WaitQueueHead& h, Rule rule);                       // nr 0
void wake_up_poll(WaitQueueHead& h, poll_t key, Rule rule);          // nr 1, key
void wake_up_locked_poll(WaitQueueHead& h, poll_t key, Rule rule);   // nr 1, key
void wake_up_interruptible(WaitQueueHead& h, Rule rule);
void wake_up_interruptible_all(WaitQueueHead& h, Rule rule);
void wake_up_interruptible_poll(WaitQueueHead& h, poll_t key, Rule rule);
void wake_up_interruptible_sync_poll(WaitQueueHead& h, poll_t key, Rule rule);
void wake_up_pollfree(WaitQueueHead& h, Rule rule);  // all, EPOLLHUP|POLLFREE

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
