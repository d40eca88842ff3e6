// fs/select.c, 6.x (SYSCALL_DEFINE3(poll), do_sys_poll, do_poll, do_pollfd, __pollwait,
// pollwake, poll_schedule_timeout, poll_select_set_timeout), re-expressed.
#include "select.h"

#include <list>

#include "time64.h"

namespace model {

namespace {

struct PollWqueues;

// The poll table with a way back to its poll_wqueues (container_of in the kernel).
struct PollTableOf {
  PollTable pt;
  PollWqueues* self;
};

// struct poll_table_entry: one per queue a polled file named on the first pass. It holds a
// reference to the file (__pollwait's get_file) until poll_freewait.
struct PollTableEntry {
  PollTableEntry(Task& t, File* f, poll_t key, WaitQueueHead* wait_address, PollWqueues* owner)
      : filp(t, f), key(key), wait_address(wait_address), owner(owner) {}
  FileRef filp;
  poll_t key;           // the events polled for: pollwake ignores wakeups for others
  WaitQueueEntry wait;  // after filp: unlinked before the reference goes (poll_freewait)
  WaitQueueHead* wait_address;
  PollWqueues* owner;
};

// struct poll_wqueues (poll_initwait): the table, the polling task and `triggered`, which a
// wakeup sets so that poll_schedule_timeout does not sleep after it; cleared after each wait.
struct PollWqueues {
  explicit PollWqueues(Task& t) : polling_task(&t) {}
  PollTableOf table{{__pollwait, ~poll_t{0}}, this};
  Task* polling_task;
  bool triggered = false;
  std::list<PollTableEntry> entries;

  // __pollwait: a non-exclusive entry at the head of each queue, woken by pollwake.
  static void __pollwait(File* filp, WaitQueueHead* wait_address, PollTable* p) {
    PollWqueues* pwq = reinterpret_cast<PollTableOf*>(p)->self;
    PollTableEntry& entry = pwq->entries.emplace_back(*pwq->polling_task, filp, p->key, wait_address, pwq);
    entry.wait.priv = &entry;  // init_waitqueue_func_entry(&entry->wait, pollwake)
    entry.wait.func = pollwake;
    add_wait_queue(*wait_address, entry.wait);
  }

  // pollwake: a key the entry did not poll for is ignored; else __pollwake marks the table
  // triggered and wakes the polling task (default_wake_function).
  static int pollwake(WaitQueueEntry* wait, unsigned, int, poll_t key) {
    auto* entry = static_cast<PollTableEntry*>(wait->priv);
    PollWqueues* pwq = entry->owner;
    Globals& g = pwq->polling_task->sched->globals();
    if (key && !(key & entry->key)) {
      g.rule(Rule::kPollWakeFiltered);
      return 0;
    }
    g.rule(Rule::kPollWake);
    pwq->triggered = true;
    return pwq->polling_task->sched->try_to_wake_up(*pwq->polling_task);
  }
};

// poll_freewait: every entry leaves its queue and drops its file reference.
void poll_freewait(PollWqueues& pwq) {
  while (!pwq.entries.empty()) pwq.entries.pop_front();
}

// do_pollfd: POLLNVAL for a closed fd; else the file's mask filtered by events|ERR|HUP.
poll_t do_pollfd(Globals& g, FdTable& fdt, PollFd& pollfd, PollTable* pwait) {
  poll_t mask = 0;
  if (pollfd.fd >= 0) {
    mask = EPOLLNVAL;
    if (File* f = fdt.fget(pollfd.fd)) {  // fdget
      const poll_t filter = static_cast<uint16_t>(pollfd.events) | EPOLLERR | EPOLLHUP;
      pwait->key = filter;
      get_file(f);
      g.rule(Rule::kPollVfsPoll);
      mask = f->poll(pwait) & filter;  // vfs_poll
      fput(f);
    } else {
      g.rule(Rule::kPollNval);
    }
  }
  pollfd.revents = static_cast<short>(mask);
  return mask;
}

// poll_schedule_timeout: sleep unless a wakeup already came (triggered); 0 if the timeout
// expired, -EINTR otherwise. `triggered` is cleared for the next pass either way.
MaySleep poll_schedule_timeout(PollWqueues& pwq, Task& t, const int64_t* expires) {
  int rc = -EINTR;
  if (!pwq.triggered) {
    t.sched->globals().rule(Rule::kPollSleeps);
    rc = co_await schedule_hrtimeout_range(t, expires);
  }
  pwq.triggered = false;
  co_return rc;
}

// do_poll: poll every fd; the first pass registers on the queues (until something is
// ready), later passes only look. Returns the ready count, 0 on timeout, -EINTR on a signal
// with nothing ready (-ERESTARTNOHAND: the trace's handlers do not restart poll).
MaySleep do_poll(Globals& g, FdTable& fdt, PollWqueues& wait, Task& t, const Timespec64* end_time) {
  PollTable* pt = &wait.table.pt;
  int64_t expire = 0;
  const int64_t* to = nullptr;
  bool timed_out = false;
  long count = 0;

  if (end_time && !end_time->tv_sec && !end_time->tv_nsec) {  // the no-wait case
    pt->qproc = nullptr;
    timed_out = true;
  }
  for (;;) {
    for (PollFd& pfd : t.pollfds) {
      if (do_pollfd(g, fdt, pfd, pt)) {
        count++;
        pt->qproc = nullptr;  // found something: register no more waiters
      }
    }
    pt->qproc = nullptr;  // every waiter is registered: later passes only look
    if (!count && t.signal_pending) count = -EINTR;
    if (count || timed_out) break;
    if (end_time && !to) {
      expire = timespec64_to_ktime(*end_time);
      to = &expire;
    }
    if (!co_await poll_schedule_timeout(wait, t, to)) timed_out = true;
  }
  if (count > 0) g.rule(Rule::kPollReady);
  else if (count == 0) g.rule(Rule::kPollTimeout);
  else g.rule(Rule::kPollEintr);
  co_return count;
}

// do_sys_poll: nfds > rlimit(RLIMIT_NOFILE) is EINVAL before the array is read; the table
// lives for the whole call and is freed before the result is copied out.
MaySleep do_sys_poll(Globals& g, FdTable& fdt, Task& t, std::vector<PollFd> fds, const Timespec64* end_time) {
  if (static_cast<long>(fds.size()) > g.profile.rlimit_nofile) co_return g.fail(Rule::kPollEinval, -EINVAL);
  t.pollfds = std::move(fds);  // copy_from_user; the revents are written in place
  PollWqueues table(t);        // poll_initwait
  const long fdcount = co_await do_poll(g, fdt, table, t, end_time);
  poll_freewait(table);
  co_return fdcount;
}

}  // namespace

int poll_select_set_timeout(const Task& t, Timespec64* to, int64_t sec, int64_t nsec) {
  const Timespec64 ts{sec, nsec};
  if (!timespec64_valid(ts)) return -EINVAL;
  if (!sec && !nsec) *to = {0, 0};  // optimised: the zero timeout
  else *to = timespec64_add_safe(ns_to_timespec64(t.sched->now_ns()), ts);  // ktime_get_ts64 + ts
  return 0;
}

// SYSCALL_DEFINE3(poll): a negative timeout waits for ever; the end time lives in this
// frame for the whole call.
MaySleep sys_poll(Globals& g, FdTable& fdt, Task& t, std::vector<PollFd> fds, int timeout_msecs) {
  Timespec64 end_time;
  const Timespec64* to = nullptr;
  if (timeout_msecs >= 0) {
    to = &end_time;
    poll_select_set_timeout(t, &end_time, timeout_msecs / MSEC_PER_SEC, NSEC_PER_MSEC * (timeout_msecs % MSEC_PER_SEC));
  }
  co_return co_await do_sys_poll(g, fdt, t, std::move(fds), to);
}

}  // namespace model
