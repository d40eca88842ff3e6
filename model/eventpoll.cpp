// fs/eventpoll.c (mainline 6.18, gregkh/linux 0229c2f26289), re-expressed. Each function
// keeps the kernel's name; the serial model needs no locks, so ep->mtx, ep->lock and
// epnested_mutex have no counterpart.
#include "eventpoll.h"

#include <algorithm>
#include <cassert>

#include "select.h"
#include "time64.h"

namespace model {

namespace {
constexpr int PATH_ARR_SIZE = 5;
constexpr int path_limits[PATH_ARR_SIZE] = {1000, 500, 100, 50, 10};

// tfile_check_list and path_count: globals protected by epnested_mutex in the kernel.
struct PathCheckState {
  std::vector<EpitemsHead*> tfile_check_list;
  int path_count[PATH_ARR_SIZE] = {};
};
PathCheckState& path_state() {
  static thread_local PathCheckState s;
  return s;
}

Epitem ep_unactive_sentinel;

// An item entering (kReadyAdd) or leaving (kReadyDel) a ready list, by the rule that moved it.
void emit_ready(Globals& g, EventKind kind, Rule r, const Epitem& epi) {
  g.emit({.kind = kind, .rule = r, .site = rule_info(r).site, .detail = rule_info(r).text, .ep = epi.ep, .epi = &epi});
}
}  // namespace

Epitem* ep_unactive() { return &ep_unactive_sentinel; }

bool ep_is_linked(const Epitem& epi) { return epi.rdllink.is_linked(); }

Eventpoll* eventpoll_of(File* f) { return f && f->is_epoll() ? static_cast<EventpollFile*>(f)->ep : nullptr; }

Eventpoll::Eventpoll(Globals& g_) : g(&g_), wq(g_, "ep->wq", this), poll_wait(g_, "ep->poll_wait", this), ovflist(ep_unactive()) {
  refs.owned_by_ep = true;
}
Eventpoll::~Eventpoll() { assert(rbr.empty()); }

EventpollFile::EventpollFile(Globals& g_, Eventpoll* ep_, int flags) : File(g_, FMODE_READ | FMODE_WRITE, flags), ep(ep_) {
  ep->file = this;
}

namespace {

// ep_events_available: a running scan (ovflist active) counts as events available, so a
// caller does not sleep while another harvests; it scans what is left after it.
bool ep_events_available(const Eventpoll* ep) { return !ep->rdllist.empty() || ep->ovflist != ep_unactive(); }

// ep_poll_safewake (non-lockdep): wake the poll_wait queue with EPOLLIN.
void ep_poll_safewake(Eventpoll* ep, poll_t pollflags = 0) {
  wake_up_poll(ep->poll_wait, EPOLLIN | pollflags, Rule::kSafewake);
}

void ep_remove_wait_queue(EppollEntry* pwq) {
  if (pwq->whead) remove_wait_queue(*pwq->whead, pwq->wait);
}

// ep_unregister_pollwait
void ep_unregister_pollwait(Eventpoll* ep, Epitem* epi) {
  while (EppollEntry* pwq = epi->pwqlist) {
    epi->pwqlist = pwq->next;
    ep_remove_wait_queue(pwq);
    delete pwq;
    --ep->g->live_pwqs;
  }
}

// ep_start_scan: steal the ready list into txlist, start chaining callbacks on ovflist.
// Why (fs/eventpoll.c ep_start_scan, 6.18): the scanner walks txlist without ep->lock,
// since it polls files and copies events to user memory, both of which may sleep, while
// callbacks keep firing from any context under ep->lock alone. So txlist is the
// scanner's private list, and a callback that fires meanwhile must neither touch it nor
// rdllist (where the scanner requeues level-triggered items): it chains the item on
// ovflist, which ep_done_scan empties into rdllist. The serial model keeps the protocol,
// so that the order of the items after a scan is the kernel's.
void ep_start_scan(Eventpoll* ep, EpList& txlist) {
  txlist.splice(txlist.end(), ep->rdllist);
  ep->ovflist = nullptr;
}

// ep_done_scan (fs/eventpoll.c, 6.18): put back the items chained on ovflist during the
// scan (the chain is newest first, so inserting each at the head restores their order),
// except those still linked (on txlist: the splice below brings them back), then the
// txlist leftovers (not harvested: maxevents reached) in front of everything, so that the
// next call serves them first. rdllist ends as [leftovers][chained][LT requeued]. If
// anything is ready, wake one more epoll_wait waiter: the item just requeued or left may
// be for it, and the autoremoved waiter that scanned is gone from ep->wq.
void ep_done_scan(Eventpoll* ep, EpList& txlist) {
  Epitem* nepi = ep->ovflist;
  while (Epitem* epi = nepi) {
    nepi = epi->next;
    epi->next = ep_unactive();
    if (!ep_is_linked(*epi)) {
      ep->rdllist.push_front(*epi);
      emit_ready(*ep->g, EventKind::kReadyAdd, Rule::kDoneScanOvflist, *epi);
    }
  }
  ep->ovflist = ep_unactive();
  ep->rdllist.splice(ep->rdllist.begin(), txlist);
  if (!ep->rdllist.empty() && ep->wq.active()) wake_up(ep->wq, Rule::kDoneScanWake);
}

void ep_get(Eventpoll* ep) { ++ep->refcount; }

bool ep_refcount_dec_and_test(Eventpoll* ep) { return --ep->refcount == 0; }

void ep_free(Eventpoll* ep) { delete ep; }

// __ep_remove: unhook from the target's queues, the file's list, the tree and the ready list.
bool __ep_remove(Eventpoll* ep, Epitem* epi, bool force) {
  File* file = epi->ffd.file;
  ep_unregister_pollwait(ep, epi);
  if (epi->dying && !force) return false;

  EpitemsHead* head = file->f_ep;
  epi->fllink.unlink();
  if (head->epitems.empty()) {
    file->f_ep = nullptr;
    if (!head->owned_by_ep && !head->listed) delete head;  // else freed by unlist_file
  }
  ep->rbr.erase(ep->rbr.iterator_to(*epi));
  if (ep_is_linked(*epi)) {
    epi->rdllink.unlink();
    emit_ready(*ep->g, EventKind::kReadyDel, Rule::kRemoveQueued, *epi);
  }
  delete epi;
  --ep->g->live_epitems;
  --ep->g->user_epoll_watches;
  return true;
}

void ep_remove_safe(Eventpoll* ep, Epitem* epi) {
  if (__ep_remove(ep, epi, false)) ep_refcount_dec_and_test(ep);  // never the last reference here
}

// ep_clear_and_put: the epoll file is being released.
void ep_clear_and_put(Eventpoll* ep) {
  if (!ep->rbr.empty()) ep->g->rule(Rule::kClearAndPut, ep);
  if (ep->poll_wait.active()) ep_poll_safewake(ep);
  for (Epitem& epi : ep->rbr) ep_unregister_pollwait(ep, &epi);
  for (auto it = ep->rbr.begin(); it != ep->rbr.end();) {
    Epitem* epi = &*it++;
    ep_remove_safe(ep, epi);
  }
  if (ep_refcount_dec_and_test(ep)) ep_free(ep);
}

poll_t ep_item_poll(const Epitem* epi, PollTable* pt, int depth);

// __ep_eventpoll_poll: an epoll is readable iff one of its queued items really polls
// ready; items in front that do not are pruned from the ready list.
poll_t __ep_eventpoll_poll(File* file, PollTable* wait, int depth) {
  Eventpoll* ep = static_cast<EventpollFile*>(file)->ep;
  EpList txlist;
  PollTable pt{};
  poll_t res = 0;
  poll_wait(file, ep->poll_wait, wait);
  ep_start_scan(ep, txlist);
  for (auto it = txlist.begin(); it != txlist.end();) {
    Epitem& epi = *it++;
    if (ep_item_poll(&epi, &pt, depth + 1)) {
      ep->g->rule(Rule::kEpollPollReady, ep, &epi);
      res = EPOLLIN | EPOLLRDNORM;
      break;
    }
    epi.rdllink.unlink();
    emit_ready(*ep->g, EventKind::kReadyDel, Rule::kEpollPollPrune, epi);
  }
  ep_done_scan(ep, txlist);
  return res;
}

// epi_fget: the file may be on its way out (refcount already zero).
File* epi_fget(const Epitem* epi) {
  File* f = epi->ffd.file;
  if (f->f_count <= 0) return nullptr;
  return get_file(f);
}

// ep_item_poll: current ->poll() of the target, filtered by the armed events.
poll_t ep_item_poll(const Epitem* epi, PollTable* pt, int depth) {
  File* file = epi_fget(epi);
  if (!file) return 0;
  pt->key = epi->event.events;
  poll_t res;
  if (file->is_epoll()) {
    res = __ep_eventpoll_poll(file, pt, depth);
  } else {
    epi->ep->g->rule(Rule::kEpItemVfsPoll, epi->ep, epi);
    res = file->poll(pt);  // vfs_poll
  }
  fput(file);
  return res & epi->event.events;
}

// ep_poll_callback: the wait-queue function of every eppoll_entry (fs/eventpoll.c, 6.18).
//
// What it returns matters only for an EPOLLEXCLUSIVE item, whose entry is exclusive:
// __wake_up_common calls every non-exclusive entry and stops after the first exclusive
// entry whose function returns non-zero (nr_exclusive is 1 for wake_up). An exclusive item
// returns 1 only when it woke somebody for this event: it queued the item, its epoll had
// a waiter in epoll_wait, and the key's direction is one the item asked for (EPOLLIN alone
// with EPOLLIN armed, EPOLLOUT alone with EPOLLOUT armed, or neither, as a NULL key or a
// hangup; a key with both counts as no wakeup). Otherwise it returns 0 and the walk goes
// on to the next exclusive epoll, which may have a waiter; an item that was queued but
// woke nobody keeps the event all the same, so one or more exclusive epolls get it
// (traces/exclusive/no-waiter-on-first.trace, filtered-exclusive-not-counted.trace). A
// POLLFREE wake skips the test: every entry of the dying queue must run, to detach itself.
int ep_poll_callback(WaitQueueEntry* wait, unsigned, int sync, poll_t pollflags) {
  auto* pwq = static_cast<EppollEntry*>(wait->priv);  // ep_pwq_from_wait
  Epitem* epi = pwq->base;
  Eventpoll* ep = epi->ep;
  Globals& g = *ep->g;
  int pwake = 0;
  int ewake = 0;
  auto report = [&](Rule what) {
    g.emit({.kind = EventKind::kCallback, .rule = what, .site = "ep_poll_callback", .detail = rule_info(what).text,
            .queue = pwq->whead, .key = pollflags, .ep = ep, .epi = epi});
  };

  if (!(epi->event.events & ~EP_PRIVATE_BITS)) {
    report(Rule::kCbDisabled);
  } else if (pollflags && !(pollflags & epi->event.events)) {
    report(Rule::kCbFiltered);
  } else {
    if (ep->ovflist != ep_unactive()) {
      if (epi->next == ep_unactive()) {
        epi->next = ep->ovflist;
        ep->ovflist = epi;
        report(Rule::kCbOvflist);
      } else {
        report(Rule::kCbOvflistAlready);
      }
    } else if (!ep_is_linked(*epi)) {
      ep->rdllist.push_back(*epi);
      report(Rule::kCbQueued);
    } else {
      report(Rule::kCbAlreadyQueued);
    }
    if (ep->wq.active()) {
      if ((epi->event.events & EPOLLEXCLUSIVE) && !(pollflags & POLLFREE)) {
        switch (pollflags & EPOLLINOUT_BITS) {
          case EPOLLIN:
            if (epi->event.events & EPOLLIN) ewake = 1;
            break;
          case EPOLLOUT:
            if (epi->event.events & EPOLLOUT) ewake = 1;
            break;
          case 0:
            ewake = 1;
            break;
        }
      }
      if (sync && g.profile.ep_callback_sync_wake) wake_up_sync(ep->wq, Rule::kCbWake);
      else wake_up(ep->wq, Rule::kCbWake);
    } else {
      g.rule(Rule::kCbNoWaiter, ep, epi);
    }
    if (ep->poll_wait.active()) pwake++;
  }
  if (pwake) ep_poll_safewake(ep);
  if (!(epi->event.events & EPOLLEXCLUSIVE)) ewake = 1;
  else g.rule(ewake ? Rule::kCbExclusiveWoke : Rule::kCbExclusiveNoWake, ep, epi);
  if (pollflags & POLLFREE) {
    g.rule(Rule::kCbPollfree, ep, epi);
    wait->del_init();
    pwq->whead = nullptr;
  }
  return ewake;
}

struct EpPqueue {
  PollTable pt;
  Epitem* epi;
};

// ep_ptable_queue_proc: hook an eppoll_entry on each queue the target's ->poll names.
// EPOLLEXCLUSIVE (df0108c5da56, 4.5) makes the hook an exclusive entry, added at the tail
// (add_wait_queue_exclusive): when many epolls watch one file (one per worker, the
// accept() herd), a wakeup calls every non-exclusive hook but stops at the first exclusive
// one that woke a waiter (see ep_poll_callback's return), instead of waking a task in each
// epoll. At the tail, in order of ADD: the oldest exclusive epoll is tried first
// (traces/exclusive/one-waiter-each.trace). Other hooks go at the head (add_wait_queue).
void ep_ptable_queue_proc(File*, WaitQueueHead* whead, PollTable* pt) {
  EpPqueue* epq = reinterpret_cast<EpPqueue*>(pt);
  Epitem* epi = epq->epi;
  if (!epi) return;
  auto* pwq = new EppollEntry;
  ++epi->ep->g->live_pwqs;
  pwq->wait.func = ep_poll_callback;
  pwq->wait.priv = pwq;  // the kernel leaves it NULL and uses container_of
  pwq->whead = whead;
  pwq->base = epi;
  if (epi->event.events & EPOLLEXCLUSIVE) {
    epi->ep->g->rule(Rule::kQueueExclusive, epi->ep, epi);
    add_wait_queue_exclusive(*whead, pwq->wait);
  } else {
    epi->ep->g->rule(Rule::kQueueShared, epi->ep, epi);
    add_wait_queue(*whead, pwq->wait);
  }
  pwq->next = epi->pwqlist;
  epi->pwqlist = pwq;
}

// list_file: put a file's epitems_head on tfile_check_list once.
void list_file(File* file) {
  EpitemsHead* head = file->f_ep;
  if (!head->listed) {
    head->listed = true;
    path_state().tfile_check_list.push_back(head);
  }
}

// unlist_file / clear_tfile_check_list
void clear_tfile_check_list() {
  for (EpitemsHead* head : path_state().tfile_check_list) {
    head->listed = false;
    if (head->epitems.empty() && !head->owned_by_ep) delete head;
  }
  path_state().tfile_check_list.clear();
}

int path_count_inc(int nests) {
  if (nests == 0) return 0;  // any number of direct paths
  if (++path_state().path_count[nests] > path_limits[nests]) return -1;
  return 0;
}

// reverse_path_check_proc: count the paths from a file up to top-level epolls.
int reverse_path_check_proc(const EpitemsHead& refs, int depth, int max_nests) {
  if (depth > max_nests) return -1;
  int error = 0;
  for (const Epitem& epi : refs.epitems) {
    const EpitemsHead& up = epi.ep->refs;
    error = up.epitems.empty() ? path_count_inc(depth) : reverse_path_check_proc(up, depth + 1, max_nests);
    if (error) break;
  }
  return error;
}

int reverse_path_check(int max_nests) {
  for (EpitemsHead* head : path_state().tfile_check_list) {
    std::fill(std::begin(path_state().path_count), std::end(path_state().path_count), 0);
    if (int error = reverse_path_check_proc(*head, 0, max_nests)) return error;
  }
  return 0;
}

// attach_epitem: hlist_add_head on file->f_ep, allocating the epitems_head lazily.
void attach_epitem(File* file, Epitem* epi) {
  if (!file->f_ep) {
    Eventpoll* tep = eventpoll_of(file);
    file->f_ep = tep ? &tep->refs : new EpitemsHead;
  }
  file->f_ep->epitems.push_front(*epi);
}

// ep_loop_check_proc (>= 6.17): height of the epoll subtree below ep, memoised per gen;
// more than EP_MAX_NESTS means a loop or too deep.
int ep_loop_check_proc(Globals& g, Eventpoll* ep, int depth) {
  const int max_nests = g.profile.ep_max_nests;
  if (ep->gen == g.loop_check_gen) return ep->loop_check_depth;
  ep->gen = g.loop_check_gen;
  int result = 0;
  for (Epitem& epi : ep->rbr) {
    if (Eventpoll* ep_tovisit = eventpoll_of(epi.ffd.file)) {
      if (ep_tovisit == g.inserting_into || depth > max_nests) {
        g.rule(ep_tovisit == g.inserting_into ? Rule::kLoopCycle : Rule::kLoopTooDeep);
        result = max_nests + 1;
      } else result = std::max(result, ep_loop_check_proc(g, ep_tovisit, depth + 1) + 1);
      if (result > max_nests) break;
    } else {
      list_file(epi.ffd.file);
    }
  }
  ep->loop_check_depth = result;
  return result;
}

// ep_get_upwards_depth_proc (>= 6.17): longest chain of epolls watching ep.
int ep_get_upwards_depth_proc(Globals& g, Eventpoll* ep, int depth) {
  if (ep->gen == g.loop_check_gen) return ep->loop_check_depth;
  int result = 0;
  for (Epitem& epi : ep->refs.epitems) result = std::max(result, ep_get_upwards_depth_proc(g, epi.ep, depth + 1) + 1);
  ep->gen = g.loop_check_gen;
  ep->loop_check_depth = result;
  return result;
}

// ep_loop_check_proc before 6.17 (e.g. 6.1, 6.12): a DFS that skips visited epolls and
// fails only on reaching the epoll being inserted into or going deeper than EP_MAX_NESTS.
int ep_loop_check_proc_legacy(Globals& g, Eventpoll* ep, int depth) {
  ep->gen = g.loop_check_gen;
  int error = 0;
  for (Epitem& epi : ep->rbr) {
    if (Eventpoll* ep_tovisit = eventpoll_of(epi.ffd.file)) {
      if (ep_tovisit->gen == g.loop_check_gen) continue;
      if (ep_tovisit == g.inserting_into || depth > g.profile.ep_max_nests) {
        g.rule(ep_tovisit == g.inserting_into ? Rule::kLoopCycle : Rule::kLoopTooDeep);
        error = -1;
      } else error = ep_loop_check_proc_legacy(g, ep_tovisit, depth + 1);
      if (error) break;
    } else {
      list_file(epi.ffd.file);
    }
  }
  return error;
}

// ep_loop_check: would adding `to` into `ep` close a loop or make a chain too deep?
int ep_loop_check(Globals& g, Eventpoll* ep, Eventpoll* to) {
  g.inserting_into = ep;
  if (!g.profile.ep_loop_check_upwards) return ep_loop_check_proc_legacy(g, to, 0);
  const int depth = ep_loop_check_proc(g, to, 0);
  if (depth > g.profile.ep_max_nests) return -1;
  const int upwards_depth = ep_get_upwards_depth_proc(g, ep, 0);
  if (depth + 1 + upwards_depth > g.profile.ep_max_nests) return g.fail(Rule::kLoopTooDeepUpwards, -1);
  return 0;
}

// ep_insert
long ep_insert(Eventpoll* ep, const EpollEvent& event, File* tfile, int fd, bool full_check) {
  Globals& g = *ep->g;
  if (g.user_epoll_watches >= g.profile.max_user_watches) return g.fail(Rule::kInsertEnospc, -ENOSPC);
  ++g.user_epoll_watches;

  auto* epi = new Epitem;
  ++g.live_epitems;
  epi->ep = ep;
  epi->ffd = {tfile, fd, tfile->id};
  epi->event = event;
  epi->next = ep_unactive();

  attach_epitem(tfile, epi);
  if (full_check && !tfile->is_epoll()) list_file(tfile);
  ep->rbr.insert_equal(*epi);
  ep_get(ep);

  if (full_check && reverse_path_check(g.profile.ep_max_nests)) {
    ep_remove_safe(ep, epi);
    return g.fail(Rule::kInsertTooManyPaths, -EINVAL);
  }

  EpPqueue epq{{ep_ptable_queue_proc, ~poll_t{0}}, epi};
  const poll_t revents = ep_item_poll(epi, &epq.pt, 1);

  int pwake = 0;
  if (revents && !ep_is_linked(*epi)) {
    ep->rdllist.push_back(*epi);
    emit_ready(g, EventKind::kReadyAdd, Rule::kInsertReady, *epi);
    if (ep->wq.active()) wake_up(ep->wq, Rule::kInsertWake);
    if (ep->poll_wait.active()) pwake++;
  }
  if (pwake) ep_poll_safewake(ep);
  return 0;
}

// ep_modify: set the new interest, re-poll, queue and wake if ready (the ET re-arm).
long ep_modify(Eventpoll* ep, Epitem* epi, const EpollEvent& event) {
  PollTable pt{};
  epi->event = event;
  int pwake = 0;
  if (ep_item_poll(epi, &pt, 1)) {
    if (!ep_is_linked(*epi)) {
      ep->rdllist.push_back(*epi);
      emit_ready(*ep->g, EventKind::kReadyAdd, Rule::kModifyReady, *epi);
      if (ep->wq.active()) wake_up(ep->wq, Rule::kModifyWake);
      if (ep->poll_wait.active()) pwake++;
    }
  }
  if (pwake) ep_poll_safewake(ep);
  return 0;
}

// ep_send_events: harvest up to maxevents; LT items go back to the tail of rdllist,
// ONESHOT items are disabled, ET items are simply dropped from the list.
int ep_send_events(Eventpoll* ep, Task& t, int maxevents) {
  Globals& g = *ep->g;
  PollTable pt{};
  int res = 0;
  EpList txlist;
  ep_start_scan(ep, txlist);
  for (auto it = txlist.begin(); it != txlist.end();) {
    if (res >= maxevents) {
      g.rule(Rule::kSendMaxevents, ep);
      break;
    }
    Epitem& epi = *it++;
    epi.rdllink.unlink();
    const poll_t revents = ep_item_poll(&epi, &pt, 1);
    if (!revents) {
      emit_ready(g, EventKind::kReadyDel, Rule::kSendNotReady, epi);
      continue;
    }
    t.events.push_back({revents, epi.event.data});
    g.emit({.kind = EventKind::kEventDelivered, .site = "ep_send_events", .ep = ep, .epi = &epi, .task = &t,
            .arg = static_cast<long>(revents)});
    res++;
    if (epi.event.events & EPOLLONESHOT) {
      epi.event.events &= EP_PRIVATE_BITS;
      emit_ready(g, EventKind::kReadyDel, Rule::kSendOneshot, epi);
    } else if (!(epi.event.events & EPOLLET)) {
      ep_requeue_level_triggered(ep, epi);
    } else {
      emit_ready(g, EventKind::kReadyDel, Rule::kSendEdge, epi);
    }
  }
  ep_done_scan(ep, txlist);
  return res;
}

// ep_autoremove_wake_function: wake the task and always unlink the entry. Why (ep_poll's
// comment, 6.18): removed by its first wakeup, a waiter no longer counts on ep->wq, so the
// next wake_up hits the next waiter and gives it a chance at the next event, instead of
// calling a task that is already awake and losing the wakeup. Unlinking even when
// try_to_wake_up fails is safe: that only happens to a task already woken, whose ep_poll
// removes the entry anyway and never reuses it.
int ep_autoremove_wake_function(WaitQueueEntry* e, unsigned mode, int sync, poll_t key) {
  const int ret = default_wake_function(e, mode, sync, key);
  e->del_init();
  return ret;
}

// ep_schedule_timeout: an absolute timeout already past does not sleep at all.
bool ep_schedule_timeout(const Task& t, const int64_t* to) { return !to || *to > t.sched->now_ns(); }

// ep_poll: harvest ready events, or sleep on ep->wq until some arrive, the timeout passes
// or a signal comes. timeout: null = for ever, {0, 0} = do not wait, else an absolute
// CLOCK_MONOTONIC deadline. *timeout is read only at the start, before anything can sleep:
// the syscalls keep their timespec on the stack (sys_epoll_wait, sys_epoll_pwait2).
MaySleep ep_poll(Eventpoll* ep, Task& t, int maxevents, const Timespec64* timeout) {
  Globals& g = *ep->g;
  bool timed_out = false;
  int64_t expires = 0;
  const int64_t* to = nullptr;
  if (timeout && (timeout->tv_sec | timeout->tv_nsec)) {
    expires = timespec64_to_ktime(*timeout);
    to = &expires;
  } else if (timeout) {
    timed_out = true;  // a non-blocking call never goes near the wait queue
  }
  const bool no_wait = timed_out;

  bool eavail = ep_events_available(ep);  // lockless; re-checked before sleeping
  WaitQueueEntry wait;
  for (;;) {
    if (eavail) {
      const int res = ep_send_events(ep, t, maxevents);  // ep_try_send_events
      if (res) co_return res;
      if (!timed_out) g.rule(Rule::kEpPollEmptyHarvest, ep);
    }
    if (timed_out) {
      g.rule(no_wait ? Rule::kEpPollNoWait : Rule::kEpPollTimeout, ep);
      co_return 0;
    }
    // ep_busy_loop: no NAPI busy polling in the model, nothing becomes available here.
    if (t.signal_pending) co_return g.fail(Rule::kEpPollEintr, -EINTR);

    // A fresh entry each time round, removed by every wakeup: with several waiters each
    // new wakeup then hits the next one, which gets its chance to harvest the new event.
    init_wait(wait, t);
    wait.func = ep_autoremove_wake_function;
    // The final check, after the previous harvest: ep_start_scan/ep_done_scan move items
    // between rdllist and ovflist, and an event may have arrived since eavail was computed.
    // Under ep->lock in the kernel, so no callback can slip between this test and queueing.
    eavail = ep_events_available(ep);
    if (!eavail) __add_wait_queue_exclusive(ep->wq, wait);
    if (!eavail) {
      if (!ep_schedule_timeout(t, to)) {
        timed_out = true;
      } else {
        g.rule(Rule::kEpPollSleeps, ep);
        timed_out = co_await schedule_hrtimeout_range(t, to) == 0;
      }
    }
    // Woken: go and harvest. Still queued means a timeout or a signal, not a wakeup; the
    // kernel then re-tests under the lock whether a wakeup removed the entry meanwhile.
    eavail = true;
    if (wait.queued()) {
      if (timed_out) eavail = !wait.queued();
      __remove_wait_queue(ep->wq, wait);
    }
  }
}

}  // namespace

poll_t EventpollFile::poll(PollTable* pt) { return __ep_eventpoll_poll(this, pt, 0); }

void EventpollFile::release() { ep_clear_and_put(ep); }

// eventpoll_release -> eventpoll_release_file: remove every epitem watching this file.
void eventpoll_release(File* file) {
  while (file->f_ep && !file->f_ep->epitems.empty()) {
    Epitem* epi = &file->f_ep->epitems.front();
    file->g->rule(Rule::kReleaseFile, epi->ep, epi);
    epi->dying = true;
    Eventpoll* ep = epi->ep;
    const bool dispose = __ep_remove(ep, epi, true);
    if (dispose && ep_refcount_dec_and_test(ep)) ep_free(ep);
  }
}

// do_epoll_create: only EPOLL_CLOEXEC is a valid flag.
long do_epoll_create(Globals& g, FdTable& fdt, int flags) {
  if (flags & ~EPOLL_CLOEXEC) return g.fail(Rule::kEpCreateEinval, -EINVAL);
  if (!fdt.has_free(1)) return g.fail(Rule::kFdEmfile, -EMFILE);
  auto* ep = new Eventpoll(g);
  auto* file = new EventpollFile(g, ep, O_CLOEXEC_ & flags);
  return fdt.install(file);
}

// do_epoll_ctl: the kernel's order of checks, then the op.
long do_epoll_ctl(Globals& g, FdTable& fdt, int epfd, int op, int fd, const EpollEvent* event) {
  const bool has_event = op != EPOLL_CTL_DEL;  // ep_op_has_event
  if (has_event && !event) return g.fail(Rule::kCtlEfault, -EFAULT);  // copy_from_user in the syscall wrapper
  EpollEvent epds = has_event ? *event : EpollEvent{};
  File* f = fdt.fget(epfd);
  if (!f) return g.fail(Rule::kCtlEbadfEpfd, -EBADF);
  File* tf = fdt.fget(fd);
  if (!tf) return g.fail(Rule::kCtlEbadfFd, -EBADF);
  if (!tf->can_poll()) return g.fail(Rule::kCtlEperm, -EPERM);
  if (has_event && (epds.events & EPOLLWAKEUP)) {  // ep_take_care_of_epollwakeup: no CAP_BLOCK_SUSPEND
    g.rule(Rule::kCtlWakeupDropped);
    epds.events &= ~EPOLLWAKEUP;
  }
  if (f == tf || !f->is_epoll()) return g.fail(Rule::kCtlEinvalTarget, -EINVAL);
  if (has_event && (epds.events & EPOLLEXCLUSIVE)) {
    if (op == EPOLL_CTL_MOD) return g.fail(Rule::kCtlEinvalExclusiveMod, -EINVAL);
    if (op == EPOLL_CTL_ADD && (tf->is_epoll() || (epds.events & ~EPOLLEXCLUSIVE_OK_BITS))) {
      return g.fail(Rule::kCtlEinvalExclusiveAdd, -EINVAL);
    }
  }
  Eventpoll* ep = eventpoll_of(f);

  // Hold the files for the duration, as CLASS(fd) does: a callback may not free them.
  get_file(f);
  get_file(tf);
  bool full_check = false;
  long error = 0;
  if (op == EPOLL_CTL_ADD && (f->f_ep || ep->gen == g.loop_check_gen || tf->is_epoll())) {
    g.loop_check_gen++;
    full_check = true;
    g.rule(Rule::kCtlFullCheck);
    if (Eventpoll* tep = eventpoll_of(tf); tep && ep_loop_check(g, ep, tep) != 0) error = -ELOOP;  // rule in ep_loop_check
  }
  if (!error) {
    auto found = ep->rbr.find(std::pair{tf->id, fd}, EpiKeyLess{});
    Epitem* epi = found == ep->rbr.end() ? nullptr : &*found;
    error = -EINVAL;
    switch (op) {
      case EPOLL_CTL_ADD:
        if (!epi) {
          epds.events |= EPOLLERR | EPOLLHUP;
          error = ep_insert(ep, epds, tf, fd, full_check);
        } else {
          error = g.fail(Rule::kCtlEexist, -EEXIST);
        }
        break;
      case EPOLL_CTL_DEL:
        if (epi) {
          ep_remove_safe(ep, epi);
          error = 0;
        } else {
          error = g.fail(Rule::kCtlEnoentDel, -ENOENT);
        }
        break;
      case EPOLL_CTL_MOD:
        if (epi) {
          if (!(epi->event.events & EPOLLEXCLUSIVE)) {
            epds.events |= EPOLLERR | EPOLLHUP;
            error = ep_modify(ep, epi, epds);
          } else {
            g.rule(Rule::kCtlEinvalModExclusive);
          }
        } else {
          error = g.fail(Rule::kCtlEnoentMod, -ENOENT);
        }
        break;
      default:
        g.rule(Rule::kCtlEinvalOp);
        break;
    }
  }
  if (full_check) {
    clear_tfile_check_list();
    g.loop_check_gen++;
  }
  fput(tf);
  fput(f);
  return error;
}

namespace {

// do_epoll_wait + ep_check_params, in the order of the profile's kernel. Its CLASS(fd)
// reference is the one Kernel::epoll_wait pins while ep_poll sleeps.
MaySleep do_epoll_wait(Globals& g, FdTable& fdt, Task& t, int epfd, int maxevents, const Timespec64* to) {
  t.events.clear();
  File* f = fdt.fget(epfd);
  const bool bad_max = maxevents <= 0 || maxevents > EP_MAX_EVENTS;
  if (g.profile.ep_wait_checks_fd_first) {
    if (!f) return MaySleep::returned(g.fail(Rule::kWaitEbadf, -EBADF));
    if (bad_max) return MaySleep::returned(g.fail(Rule::kWaitEinvalMax, -EINVAL));
  } else {
    if (bad_max) return MaySleep::returned(g.fail(Rule::kWaitEinvalMax, -EINVAL));
    if (!f) return MaySleep::returned(g.fail(Rule::kWaitEbadf, -EBADF));
  }
  // ep_check_params' access_ok(events, maxevents * 12) comes here; it cannot fail: both
  // executors hand the kernel a buffer of maxevents entries (real: EventBuffer).
  if (!f->is_epoll()) return MaySleep::returned(g.fail(Rule::kWaitEinvalNotEpoll, -EINVAL));
  return ep_poll(eventpoll_of(f), t, maxevents, to);
}

// ep_timeout_to_timespec: milliseconds to ep_poll's form (null, {0, 0}, or now + ms).
const Timespec64* ep_timeout_to_timespec(const Task& t, Timespec64* to, long ms) {
  if (ms < 0) return nullptr;
  if (!ms) {
    *to = {0, 0};
    return to;
  }
  const Timespec64 rel{ms / MSEC_PER_SEC, NSEC_PER_MSEC * (ms % MSEC_PER_SEC)};
  *to = timespec64_add_safe(ns_to_timespec64(t.sched->now_ns()), rel);  // ktime_get_ts64 + ...
  return to;
}

}  // namespace

// SYSCALL_DEFINE4(epoll_wait). A plain function: its timespec only has to live until
// ep_poll first sleeps, since ep_poll reads it before that (as the kernel's does).
MaySleep sys_epoll_wait(Globals& g, FdTable& fdt, Task& t, int epfd, int maxevents, int timeout) {
  Timespec64 to;
  return do_epoll_wait(g, fdt, t, epfd, maxevents, ep_timeout_to_timespec(t, &to, timeout));
}

// SYSCALL_DEFINE6(epoll_pwait2) with a NULL sigmask (set_user_sigmask does nothing):
// get_timespec64, then poll_select_set_timeout's EINVAL, then do_epoll_pwait ->
// do_epoll_wait. A plain function, as sys_epoll_wait.
MaySleep sys_epoll_pwait2(Globals& g, FdTable& fdt, Task& t, int epfd, int maxevents, const Timespec64* timeout) {
  Timespec64 ts;
  const Timespec64* to = nullptr;
  if (timeout) {
    ts = *timeout;  // get_timespec64
    to = &ts;
    if (poll_select_set_timeout(t, &ts, ts.tv_sec, ts.tv_nsec)) return MaySleep::returned(g.fail(Rule::kPwait2Einval, -EINVAL));
  }
  return do_epoll_wait(g, fdt, t, epfd, maxevents, to);
}

}  // namespace model
