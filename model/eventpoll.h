// fs/eventpoll.c, following mainline as of 6.18 (gregkh/linux 0229c2f26289); version
// differences are switches of KernelProfile.
#pragma once
#include <boost/intrusive/list.hpp>
#include <boost/intrusive/set.hpp>
#include <cstdint>
#include <vector>

#include "file.h"
#include "sched.h"
#include "wait.h"

namespace model {

struct Eventpoll;
struct Epitem;

// EP_PRIVATE_BITS, EPOLLINOUT_BITS, EPOLLEXCLUSIVE_OK_BITS
inline constexpr poll_t EP_PRIVATE_BITS = EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE;
inline constexpr poll_t EPOLLINOUT_BITS = EPOLLIN | EPOLLOUT;
inline constexpr poll_t EPOLLEXCLUSIVE_OK_BITS =
    EPOLLINOUT_BITS | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE;

// struct eppoll_entry: the hook of one epitem on one wait queue of its target. ep_insert
// makes one per poll_wait() the target's ->poll calls (a pipe end names one queue, a
// socket its sk_wq), and they live until the item is removed.
struct EppollEntry {
  EppollEntry* next = nullptr;     // the next hook of the same item (Epitem::pwqlist)
  Epitem* base = nullptr;          // the item this hook wakes
  WaitQueueEntry wait;             // on *whead; func = ep_poll_callback
  WaitQueueHead* whead = nullptr;  // the queue `wait` is on; NULL once a POLLFREE wake detached it
};

// struct epoll_filefd: the key of an epitem, (file, fd). Two descriptors of one file are
// two keys, so a dup can be registered besides the original.
struct EpollFilefd {
  File* file = nullptr;  // the watched file; a borrowed pointer (an epitem holds no reference)
  int fd = -1;           // the descriptor number given to EPOLL_CTL_ADD, even after it was closed
  uint64_t file_id = 0;  // file->id, the key's stand-in for the struct file address: kept
                         // here so that a tree walk compares without touching the file
};

using RbHook = bi::set_member_hook<>;
using ListHook = bi::list_member_hook<bi::link_mode<bi::auto_unlink>>;

// struct epitem: one registration (EPOLL_CTL_ADD of a file under an fd number in one
// epoll). It is at once the rb-tree node, the ready-list node and the node of its file's
// list of watchers, as in the kernel: no side maps.
struct Epitem {
  RbHook rbn;        // in ep->rbr for the item's whole life
  // Linked iff the item is on ep->rdllist or on the txlist of a scan (ep_is_linked): the
  // item is queued at most once, whatever number of wakeups hit it.
  ListHook rdllink;
  // The ovflist chain: ep_unactive() when the item is not chained (always, outside a
  // scan); during a scan, set when its callback chains it, to the item chained before it
  // (nullptr ends the chain). An item is chained at most once per scan.
  Epitem* next;
  EpollFilefd ffd;   // the key; never changes
  // Set by eventpoll_release_file when the watched file's last reference goes, before it
  // removes the item: ep_clear_and_put (the epoll closing meanwhile) then leaves the item
  // and the eventpoll's disposal to it.
  bool dying = false;
  EppollEntry* pwqlist = nullptr;  // the item's hooks on its target's wait queues
  Eventpoll* ep = nullptr;         // the epoll the item belongs to
  ListHook fllink;   // on ffd.file->f_ep->epitems (the file's watchers, newest first)
  // events: the interest mask ADD or MOD set, with EPOLLERR|EPOLLHUP always added; after
  // an EPOLLONESHOT delivery only EP_PRIVATE_BITS remain, which disarms the item until the
  // next MOD. data: what epoll_wait reports for it (the trace's label).
  EpollEvent event;
};

// EP_UNACTIVE_PTR
Epitem* ep_unactive();

struct EpiKeyLess {
  static std::pair<uint64_t, int> key(const Epitem& e) { return {e.ffd.file_id, e.ffd.fd}; }
  bool operator()(const Epitem& a, const Epitem& b) const { return key(a) < key(b); }
  bool operator()(const std::pair<uint64_t, int>& k, const Epitem& b) const { return k < key(b); }
  bool operator()(const Epitem& a, const std::pair<uint64_t, int>& k) const { return key(a) < k; }
};

// ep->rbr: every registration of an epoll, by key. ep_cmp_ffd orders by struct file
// address then fd; the model uses the file's serial id so that iteration order (the
// order of ep_loop_check's walk and of ep_clear_and_put) is reproducible.
using EpRbTree = bi::set<Epitem, bi::member_hook<Epitem, RbHook, &Epitem::rbn>, bi::compare<EpiKeyLess>>;
// A list of items through rdllink: ep->rdllist, or a scan's txlist. Oldest first.
using EpList = bi::list<Epitem, bi::member_hook<Epitem, ListHook, &Epitem::rdllink>, bi::constant_time_size<false>>;
// A file's watchers through fllink (an hlist in the kernel: attach_epitem adds at the head).
using FileEpList = bi::list<Epitem, bi::member_hook<Epitem, ListHook, &Epitem::fllink>, bi::constant_time_size<false>>;

// struct epitems_head: the epitems watching one file (file->f_ep). For a file that is not
// an epoll, attach_epitem allocates it with the first watcher and __ep_remove frees it with
// the last (unlist_file, if it is on tfile_check_list then); for an epoll file f_ep is
// that eventpoll's refs, which it owns.
struct EpitemsHead {
  FileEpList epitems;       // the watchers, newest first
  bool listed = false;      // on tfile_check_list (the kernel's head->next != NULL)
  bool owned_by_ep = false;  // this is an Eventpoll's refs: never freed with its last watcher
};

// struct eventpoll: one epoll instance, the private_data of its file.
struct Eventpoll {
  explicit Eventpoll(Globals& g);
  ~Eventpoll();
  Globals* g;
  // Tasks in epoll_wait. ep_poll adds each with __add_wait_queue_exclusive, that is
  // exclusive and at the head: a wake_up wakes the task that slept last (LIFO).
  WaitQueueHead wq;
  // Waiters on this epoll as a file (its ->poll): hooks of outer epolls and poll() tables,
  // woken through ep_poll_safewake with EPOLLIN.
  WaitQueueHead poll_wait;
  // The ready items, oldest first, each at most once (Epitem::rdllink). A scan steals the
  // whole list (ep_start_scan); while it runs, only the scanner adds to rdllist (the
  // level-triggered requeue) and callbacks chain onto ovflist instead.
  EpList rdllist;
  EpRbTree rbr;  // every registration (owns the epitems)
  // ovflist == ep_unactive() except during a scan: from ep_start_scan to ep_done_scan it
  // is the head of the chain of items whose callbacks ran meanwhile, newest first
  // (nullptr: none yet). ep_events_available counts a running scan as events available.
  Epitem* ovflist;
  File* file = nullptr;  // the epoll's own file (ep->file)
  // ep_loop_check's memo: the loop_check_gen of the last check that visited this epoll,
  // and (>= 6.17) the depth it found, valid while gen == Globals::loop_check_gen.
  uint64_t gen = 0;
  EpitemsHead refs;  // epitems of other epolls that watch this one (its file's f_ep)
  int loop_check_depth = 0;
  // One for the epoll's file and one per epitem: whichever of ep_clear_and_put (the file's
  // release) and eventpoll_release_file (a watched file's) drops the last frees it.
  long refcount = 1;
};

struct EventpollFile final : File {
  EventpollFile(Globals& g, Eventpoll* ep, int flags);
  Eventpoll* ep;
  poll_t poll(PollTable* pt) override;  // ep_eventpoll_poll
  void release() override;              // ep_eventpoll_release
  bool is_epoll() const override { return true; }
  std::string describe() const override { return "eventpoll"; }
  const void* private_data() const override { return ep; }
};

// Syscall bodies (the fd lookups happen in the Kernel facade which passes the table).
long do_epoll_create(Globals& g, FdTable& fdt, int flags);
long do_epoll_ctl(Globals& g, FdTable& fdt, int epfd, int op, int fd, const EpollEvent* event);
// SYSCALL_DEFINE4(epoll_wait) and SYSCALL_DEFINE6(epoll_pwait2) (no signal mask): checks,
// then ep_poll, which may sleep; the events go to t.events.
MaySleep sys_epoll_wait(Globals& g, FdTable& fdt, Task& t, int epfd, int maxevents, int timeout_ms);
MaySleep sys_epoll_pwait2(Globals& g, FdTable& fdt, Task& t, int epfd, int maxevents, const Timespec64* timeout);

// ep_send_events' requeue of a delivered level-triggered item (ep_requeue.cpp: a unit of
// its own, which the tests' model with a planted bug replaces).
void ep_requeue_level_triggered(Eventpoll* ep, Epitem& epi);

// eventpoll_release: called by __fput before f_op->release.
void eventpoll_release(File* file);

// Introspection for tests and the observer.
bool ep_is_linked(const Epitem& epi);
Eventpoll* eventpoll_of(File* f);  // nullptr if not an epoll file

}  // namespace model
