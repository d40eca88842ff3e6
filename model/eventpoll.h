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

// struct eppoll_entry: one per poll_wait() of the target's ->poll during ADD.
struct EppollEntry {
  EppollEntry* next = nullptr;
  Epitem* base = nullptr;
  WaitQueueEntry wait;
  WaitQueueHead* whead = nullptr;  // NULL once a POLLFREE wake detached it
};

struct EpollFilefd {
  File* file = nullptr;
  int fd = -1;
  uint64_t file_id = 0;  // file->id, the key's stand-in for the struct file address: kept
                         // here so that a tree walk compares without touching the file
};

using RbHook = bi::set_member_hook<>;
using ListHook = bi::list_member_hook<bi::link_mode<bi::auto_unlink>>;

// struct epitem: the rb-tree node, the ready-list node and the file's list node at once.
struct Epitem {
  RbHook rbn;
  ListHook rdllink;  // on ep->rdllist or a scan's txlist; unlinked = !ep_is_linked
  Epitem* next;      // ovflist chain; ep_unactive() when not chained
  EpollFilefd ffd;
  bool dying = false;
  EppollEntry* pwqlist = nullptr;
  Eventpoll* ep = nullptr;
  ListHook fllink;   // on file->f_ep
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

// ep_cmp_ffd orders by struct file address then fd; the model uses the file's serial id so
// that iteration order is reproducible.
using EpRbTree = bi::set<Epitem, bi::member_hook<Epitem, RbHook, &Epitem::rbn>, bi::compare<EpiKeyLess>>;
using EpList = bi::list<Epitem, bi::member_hook<Epitem, ListHook, &Epitem::rdllink>, bi::constant_time_size<false>>;
using FileEpList = bi::list<Epitem, bi::member_hook<Epitem, ListHook, &Epitem::fllink>, bi::constant_time_size<false>>;

// struct epitems_head: the epitems watching one non-epoll file (file->f_ep); for an epoll
// file f_ep is that eventpoll's refs.
struct EpitemsHead {
  FileEpList epitems;     // hlist: attach_epitem adds at the head
  bool listed = false;    // on tfile_check_list (head->next != NULL)
  bool owned_by_ep = false;
};

struct Eventpoll {
  explicit Eventpoll(Globals& g);
  ~Eventpoll();
  Globals* g;
  WaitQueueHead wq;         // tasks in epoll_wait
  WaitQueueHead poll_wait;  // file->poll() waiters: outer epolls, poll()
  EpList rdllist;
  EpRbTree rbr;
  Epitem* ovflist;
  File* file = nullptr;
  uint64_t gen = 0;
  EpitemsHead refs;  // epitems of other epolls that watch this one
  int loop_check_depth = 0;
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

// eventpoll_release: called by __fput before f_op->release.
void eventpoll_release(File* file);

// Introspection for tests and the observer.
bool ep_is_linked(const Epitem& epi);
Eventpoll* eventpoll_of(File* f);  // nullptr if not an epoll file

}  // namespace model
