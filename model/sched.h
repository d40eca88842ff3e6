// Simulated tasks and a deterministic scheduler with a virtual clock: enough of
// kernel/sched/core.c (schedule, try_to_wake_up) and kernel/time/hrtimer.c
// (schedule_hrtimeout_range, hrtimer_wakeup) for sleeping syscalls.
//
// The scheduler owns the sleep protocol. A syscall body is a MaySleep coroutine
// (may_sleep.h); where the kernel calls schedule() it does `co_await schedule(t)` (or one
// of the timed variants below): the task is then asleep and its innermost frame is kept in
// Task::sleeping_at. try_to_wake_up makes it runnable, run_until_idle resumes that frame;
// the call goes on exactly after its schedule(), as in the kernel.
#pragma once
#include <boost/intrusive/list.hpp>
#include <cassert>
#include <climits>
#include <coroutine>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "file.h"
#include "may_sleep.h"
#include "uapi.h"
#include "wait.h"

namespace model {

struct Task;
struct Process;
class Scheduler;

// A reference to a file that a syscall holds while it runs (its fdget, or get_file for a
// poll table entry), registered on the task: while the call sleeps, every f_count above the
// descriptor table's is one of these, and tests account for them through Task::held_files.
class FileRef {
 public:
  FileRef(Task& t, File* f);  // get_file; f may be null (then it holds nothing)
  ~FileRef();                 // fput
  FileRef(const FileRef&) = delete;
  FileRef& operator=(const FileRef&) = delete;
  File* get() const { return file_; }
  File* operator->() const { return file_; }
  explicit operator bool() const { return file_ != nullptr; }

  bi::list_member_hook<bi::link_mode<bi::auto_unlink>> hook;  // on Task::held_files

 private:
  File* file_;
};
using HeldFiles = bi::list<FileRef, bi::member_hook<FileRef, decltype(FileRef::hook), &FileRef::hook>,
                           bi::constant_time_size<false>>;

enum class TaskState {
  kIdle,      // no call in flight, or one running from the facade before it first sleeps
  kRunnable,  // woken: on the run queue, or running its call again
  kSleeping,  // in schedule(): sleeping_at is where it goes on
};

// A thread of one of the trace's processes (struct task_struct, as far as the model needs it).
struct Task {
  Task(std::string name, int tid, Scheduler& sched) : name(std::move(name)), tid(tid), sched(&sched) {}
  std::string name;  // the trace's task name ("main", "t1"...)
  int tid;           // 1, 2... in creation order
  Scheduler* sched;  // the scheduler of the task's kernel
  Process* proc = nullptr;  // its process: the descriptor table it uses (current->files)
  TaskState state = TaskState::kIdle;

  // The syscall in flight: its outermost coroutine frame, from the call's first sleep until
  // the scheduler takes its result. Tests it as a bool: the task has a call in flight.
  // Invariant between steps: pending <=> state == kSleeping (or kRunnable while queued).
  MaySleep pending;
  // The innermost frame of the pending call, suspended in schedule(); null otherwise.
  std::coroutine_handle<> sleeping_at;
  // The file references the call in flight holds (empty when idle): `fdget` and those of
  // its frames (poll table entries).
  HeldFiles held_files;
  // The reference the syscall's fdget (ksys_read, do_epoll_wait's CLASS(fd)) holds on the
  // file it was called on, taken when the call first sleeps: nothing else runs between its
  // start and that point, so it is as if taken at the start. Dropped when it returns.
  std::optional<FileRef> fdget;

  bool signal_pending = false;  // signal_pending(current): a signal whose handler does not
                                // restart calls; cleared when the call returns
  bool has_timer = false;       // an hrtimer of the current sleep is armed
  bool timed_out = false;       // that hrtimer fired (hrtimer_wakeup cleared its task)
  long result = 0;              // result of the last completed call
  bool completed = false;       // the last call has returned (its result is in `result`)
  uint64_t woken_in = 0;        // Scheduler::points_passed_ at its last wakeup

  // Output buffers of the task's calls (they outlive a sleeping call).
  std::vector<EpollEvent> events;  // epoll_wait's events
  std::vector<PollFd> pollfds;     // poll's array, with revents
  uint64_t value = 0;              // eventfd_read's value
  unsigned msg_prio = 0;           // mq_timedreceive's priority (its u_msg_prio)
};

class Scheduler {
 public:
  explicit Scheduler(Globals& g) : g_(g) {}

  int64_t now_ns() const { return now_ns_; }  // ktime_get(): the virtual CLOCK_MONOTONIC
  Globals& globals() const { return g_; }
  // try_to_wake_up: 1 if the task was asleep and is now runnable, 0 otherwise.
  int try_to_wake_up(Task& t);
  // schedule() of the task's call: it sleeps until woken; `resume_at` goes on then.
  void schedule(Task& t, std::coroutine_handle<> resume_at);
  // The hrtimer of the task's current sleep, at an absolute virtual time.
  void arm_timer(Task& t, int64_t deadline_ns);
  void cancel_timer(Task& t);  // hrtimer_cancel
  // Runs every runnable task until all are asleep or idle. Returns how many ran.
  int run_until_idle();
  // Called as soon as a task's call has returned (its result is in the task), before the
  // next runnable task runs: a driver whose tasks go on in user space at once, each as on
  // a CPU of its own (the herd lab), issues the task's next call from here.
  void set_on_return(std::function<void(Task&)> f) { on_return_ = std::move(f); }
  // Advances the virtual clock, firing timers in deadline order, running tasks after each.
  void advance(int64_t ns);
  // Advances the clock to the earliest armed timer and fires every timer due then, as
  // advance() does; false if none is armed. Equal deadlines fire in the order they were
  // armed, as lib/timerqueue.c timerqueue_add orders them (strict `expires <`, so an equal
  // expiry goes after those already queued); the multimap keeps that order.
  bool advance_to_next_timer();
  // Sends a non-restarting signal: wakes the task if it sleeps interruptibly.
  void signal(Task& t);
  // 0 (the default): woken tasks run in the order they were woken. Otherwise each choice
  // among several runnable tasks is made by a generator with this seed: on a real machine
  // tasks woken together run in parallel, and which one gets to a shared resource first
  // is not fixed.
  // The seed also decides at each wake point which wakees run there (see below).
  void set_schedule_seed(uint64_t seed);

  // A preemption point of the waker: a wake it made has returned and the locks it held
  // there are dropped, and what it does next may be seen by a wakee running at once (on
  // another CPU). `site` names the kernel function and wake the point follows. The
  // schedule decides which of the tasks woken so far run now, and in which order, each
  // to its next sleep or its return as a whole; the others run after the waker, as at
  // every syscall's end. A wakee is offered at the first point after its wake only ("at
  // once"); deferred there, it runs after the waker. Schedule 0 (no seed, no script) defers
  // them all. Tasks woken by a wakee running here are offered at the same point (points do
  // not nest). Only when the profile lets a wakee run at once
  // (KernelProfile::wakee_may_run_at_once).
  void wake_point(const char* site) {
    if (points_live_ && !in_wake_point_ && !runqueue_.empty()) run_at_wake_point(site);
  }
  // One decision met at a wake point: `chosen` of `options` (0 = defer the rest, k = run
  // the k-th runnable wakee, in run queue order), and what it meant.
  struct WakeDecision {
    int chosen = 0;
    int options = 0;
    std::string task;  // the wakee that ran at the point; empty for 0
    std::string site;  // the point: "unix_release_sock after sk_state_change"
  };
  // Enumeration: the decisions at the first wake points come from `script`, those after
  // its end are 0; decisions_met() then lists every decision the run made.
  void set_wake_script(std::vector<int> script);
  const std::vector<WakeDecision>& decisions_met() const { return met_; }

 private:
  // Runs one runnable task to its next sleep or its return.
  void run_one(Task& t, const char* site);
  void run_at_wake_point(const char* site);
  int decide(int options);
  void update_points_live();

  Globals& g_;
  int64_t now_ns_ = 0;
  std::deque<Task*> runqueue_;  // woken tasks, in wake order; each at most once
  uint64_t rng_ = 0;            // xorshift state; 0 = FIFO
  std::multimap<int64_t, Task*> timers_;  // armed hrtimers by deadline; one per task at most
  uint64_t points_passed_ = 0;  // wake points decided so far: a wakee's woken_in tells its first
  bool points_live_ = false;    // some schedule other than 0 decides at wake points
  bool in_wake_point_ = false;  // a wakee runs at a wake point: its own points defer
  bool scripted_ = false;       // set_wake_script was called
  std::vector<int> script_;
  std::vector<WakeDecision> met_;
  std::function<void(Task&)> on_return_;
};

// MAX_SCHEDULE_TIMEOUT: the timeout of a blocking socket (no SO_SNDTIMEO/SO_RCVTIMEO in
// the model); 0 is a non-blocking one.
inline constexpr long MAX_SCHEDULE_TIMEOUT = LONG_MAX;

// co_await schedule(t): the task sleeps until a wakeup (kernel/sched/core.c schedule).
struct [[nodiscard]] Schedule {
  Task& t;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) const { t.sched->schedule(t, h); }
  void await_resume() const noexcept {}
};
inline Schedule schedule(Task& t) { return {t}; }

// co_await schedule_timeout(t, timeo) (kernel/time/sleep_timeout.c): the model's sockets
// only sleep for ever (MAX_SCHEDULE_TIMEOUT), which schedule_timeout returns unchanged.
struct [[nodiscard]] ScheduleTimeout {
  Task& t;
  long timeo;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) const { t.sched->schedule(t, h); }
  long await_resume() const noexcept { return timeo; }
};
inline ScheduleTimeout schedule_timeout(Task& t, long timeo) {
  assert(timeo == MAX_SCHEDULE_TIMEOUT);  // a finite socket timeout would need an hrtimer
  return {t, timeo};
}

// co_await schedule_hrtimeout_range(t, expires) with HRTIMER_MODE_ABS (kernel/time/hrtimer.c;
// the slack changes nothing in virtual time): null expires sleeps for ever; an hrtimer
// sleeper wakes the task at *expires (hrtimer_wakeup), or at once if that time has passed.
// 0 if the timer expired, -EINTR if something else woke the task first.
struct [[nodiscard]] ScheduleHrtimeout {
  Task& t;
  const int64_t* expires;
  bool expired_before = false;
  bool await_ready() noexcept {
    expired_before = expires && *expires <= t.sched->now_ns();
    return expired_before;
  }
  void await_suspend(std::coroutine_handle<> h) const {
    if (expires) t.sched->arm_timer(t, *expires);
    t.sched->schedule(t, h);
  }
  int await_resume() {
    if (expired_before) return 0;
    const bool fired = std::exchange(t.timed_out, false);
    t.sched->cancel_timer(t);  // hrtimer_cancel: a wakeup before expiry leaves it armed
    return fired ? 0 : -EINTR;
  }
  // An abandoned call's frame goes away with this awaiter in it: its timer must not fire.
  ~ScheduleHrtimeout() { t.sched->cancel_timer(t); }
};
inline ScheduleHrtimeout schedule_hrtimeout_range(Task& t, const int64_t* expires) { return {t, expires}; }

}  // namespace model
