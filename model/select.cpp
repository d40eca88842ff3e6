// fs/select.c (do_sys_poll, do_poll, do_pollfd, __pollwait, pollwake), 6.x.
#include "select.h"

#include <list>

namespace model {

namespace {

struct PollCall;

// The poll table with a way back to its call (container_of in the kernel).
struct PollWqueues {
  PollTable pt;
  PollCall* self;
};

// struct poll_table_entry: one per queue a polled file named on the first pass.
struct PollTableEntry {
  File* filp;
  poll_t key;
  WaitQueueEntry wait;
  WaitQueueHead* wait_address;
  PollCall* owner;
};

// struct poll_wqueues: the table plus its entries; `triggered` is set by pollwake.
struct PollCall final : PendingCall {
  PollCall(FdTable& fdt, Task& t, int timeout_ms) : fdt(fdt), task(&t), timeout_ms(timeout_ms) {}
  ~PollCall() override { freewait(); }
  PollWqueues table{{}, this};
  PollTable& pt = table.pt;
  FdTable& fdt;
  Task* task;
  int timeout_ms;
  int64_t deadline = 0;
  bool timed_out = false;
  bool triggered = false;
  std::list<PollTableEntry> entries;

  // do_pollfd: POLLNVAL for a closed fd; the mask filtered by events|POLLERR|POLLHUP.
  int poll_all(bool first) {
    pt.qproc = first ? pollwait_proc : nullptr;
    int count = 0;
    for (PollFd& p : task->pollfds) {
      p.revents = 0;
      if (p.fd < 0) continue;
      File* f = fdt.fget(p.fd);
      if (!f) {
        task->sched->globals().rule(Rule::kPollNval);
        p.revents = static_cast<short>(EPOLLNVAL);
        ++count;
        continue;
      }
      const poll_t filter = static_cast<uint16_t>(p.events) | EPOLLERR | EPOLLHUP;
      pt.key = filter;
      get_file(f);
      const poll_t mask = f->poll(&pt) & filter;
      fput(f);
      p.revents = static_cast<short>(mask);
      if (mask) {
        ++count;
        pt.qproc = nullptr;  // do_poll: once something is ready, stop registering
      }
    }
    return count;
  }

  // __pollwait: a non-exclusive entry at the head of each queue, woken by pollwake.
  static void pollwait_proc(File* file, WaitQueueHead* whead, PollTable* p) {
    PollCall* self = reinterpret_cast<PollWqueues*>(p)->self;
    PollTableEntry& e = self->entries.emplace_back();
    e.filp = get_file(file);
    e.key = p->key;
    e.wait_address = whead;
    e.owner = self;
    e.wait.priv = &e;
    e.wait.func = pollwake;
    add_wait_queue(*whead, e.wait);
  }

  // pollwake: ignore keys the caller did not ask for, else mark triggered and wake.
  static int pollwake(WaitQueueEntry* w, unsigned, int, poll_t key) {
    auto* e = static_cast<PollTableEntry*>(w->priv);
    Globals& g = e->owner->task->sched->globals();
    if (key && !(key & e->key)) {
      g.rule(Rule::kPollWakeFiltered);
      return 0;
    }
    g.rule(Rule::kPollWake);
    e->owner->triggered = true;
    return e->owner->task->sched->try_to_wake_up(*e->owner->task);
  }

  long loop(Task& t, bool first) {
    for (;;) {
      const int count = poll_all(first && !timed_out);  // a zero timeout registers nothing
      first = false;
      Globals& g = t.sched->globals();
      // do_poll: nothing ready and a signal pending wins over the timeout.
      if (count) return g.fail(Rule::kPollReady, count);
      if (t.signal_pending) return g.fail(Rule::kPollEintr, -EINTR);
      if (timed_out || (timeout_ms > 0 && deadline <= t.sched->now_ns())) return g.fail(Rule::kPollTimeout, 0);
      if (triggered) {  // poll_schedule_timeout returns at once when already triggered
        triggered = false;
        continue;
      }
      if (timeout_ms > 0) t.sched->arm_timer(t, deadline);
      g.rule(Rule::kPollSleeps);
      return kBlocked;
    }
  }

  long resume(Task& t) override {
    timed_out = t.timed_out;
    t.timed_out = false;
    t.sched->cancel_timer(t);
    triggered = false;
    const long r = loop(t, false);
    if (r == kBlocked) t.sched->sleep_again(t);
    return r;
  }

  void held_files(std::vector<File*>& out) const override {
    for (const PollTableEntry& e : entries) out.push_back(e.filp);
  }
  // poll_freewait
  void freewait() {
    for (PollTableEntry& e : entries) {
      e.wait.del_init();
      fput(e.filp);
    }
    entries.clear();
  }
};

}  // namespace

long do_sys_poll(Globals& g, FdTable& fdt, Task& t, std::vector<PollFd> fds, int timeout_ms) {
  // do_sys_poll: nfds > rlimit(RLIMIT_NOFILE) is EINVAL before the array is read.
  if (static_cast<long>(fds.size()) > g.profile.rlimit_nofile) return g.fail(Rule::kPollEinval, -EINVAL);
  t.pollfds = std::move(fds);
  auto call = std::make_unique<PollCall>(fdt, t, timeout_ms);
  if (timeout_ms == 0) call->timed_out = true;
  else if (timeout_ms > 0) call->deadline = t.sched->now_ns() + int64_t{timeout_ms} * 1000000;
  const long r = call->loop(t, true);
  if (r == kBlocked) t.sched->sleep(t, std::move(call));
  return r;
}

}  // namespace model
