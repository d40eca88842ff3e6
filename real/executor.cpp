#include "executor.h"

#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/harness.h"
#include "real/child.h"
#include "real/fd.h"
#include "real/net_rest.h"
#include "real/raw_calls.h"
#include "real/settle.h"
#include "real/mq_names.h"

namespace real {

namespace {

using eo::Outcome;
using eo::Step;
using Clock = std::chrono::steady_clock;

constexpr int kInterruptSignal = SIGUSR1;
// Executor descriptors live at or above this number, out of the trace's way.
constexpr int kHighFdBase = 900;
// A trace may fork at most this many real processes (a hostile trace is not a fork bomb).
constexpr size_t kMaxChildren = 64;

// Signal dispositions and descriptor numbering are per process: one run at a time.
std::mutex g_run_mutex;

// Does nothing: its only job is to exist without SA_RESTART, so that a call it
// interrupts returns EINTR instead of being restarted.
void on_interrupt_signal(int) {}




// What the abstract AF_UNIX names of a run begin with: this process and run, so that no
// two runs on the machine share a name.
std::string run_tag() {
  static std::atomic<unsigned long> runs{0};
  return "eo." + std::to_string(getpid()) + "." + std::to_string(runs++);
}

// One call handed to a task thread (run) or to a child process (resolved, exit).
struct Command {
  size_t step = 0;  // index into Program::steps
  bool pending = false;
  bool exit = false;  // exit(): the task's process ends
  Resolved resolved;  // what its names denote
  RawCall run;        // thread tasks only: the child makes its own from `resolved`
  eo::RawResult raw;  // written by the task thread (or its child's proxy)
};


// Runs the call on the calling (task) thread.
void execute(Command& c, const std::atomic<bool>& cancel) {
  c.raw.ret = cancel.load() ? -EINTR : c.run(c.raw, cancel);
}


struct Shared {
  std::mutex mu;
  std::condition_variable changed;  // a task finished a call, or published its tid
  uint64_t completions = 0;         // calls finished so far (guarded by mu)
};

// One trace task: a thread that runs the calls handed to it, one at a time.
struct Task {
  enum class State { kIdle, kAssigned, kRunning, kDone };
  std::string name;
  // Guarded by Shared::mu.
  State state = State::kIdle;
  bool quit = false;
  pid_t tid = 0;
  std::unique_ptr<Command> cmd;
  bool pending = false;   // cmd is a pending call
  std::array<int, 2> expect_nr = {-1, -1};  // the system calls cmd may sleep in
  std::condition_variable work;
  // Read by the task between calls of a loop; set by the coordinator to interrupt.
  std::atomic<bool> cancel{false};
  // Coordinator only.
  std::thread thread;  // the task's thread; for a process, its proxy (proxy_main)
  bool abandoned = false;
  Fd stat_fd, syscall_fd, schedstat_fd;  // /proc/PID/task/TID/{stat,syscall,schedstat}
  // A task that fork() bound: the one task of a child process (tid == pid), reached through
  // the coordinator's end of its channel (real/child.h). Set before its proxy starts.
  pid_t pid = 0;
  Fd chan;

  bool in_flight() const { return state == State::kAssigned || state == State::kRunning; }
  bool is_process() const { return pid > 0; }
};

void task_main(std::shared_ptr<Shared> sh, std::shared_ptr<Task> t) {
  // Threads inherit the creator's mask; the interrupt must reach this one.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, kInterruptSignal);
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  // From the thread itself: naming another thread would open /proc/.../comm.
  prctl(PR_SET_NAME, ("eo:" + t->name).substr(0, 15).c_str(), 0, 0, 0);

  std::unique_lock lk(sh->mu);
  t->tid = gettid();
  sh->changed.notify_all();
  for (;;) {
    t->work.wait(lk, [&] { return t->quit || t->state == Task::State::kAssigned; });
    if (t->state != Task::State::kAssigned) return;
    t->state = Task::State::kRunning;
    Command& c = *t->cmd;  // the coordinator leaves cmd alone until kDone
    lk.unlock();
    execute(c, t->cancel);
    lk.lock();
    // Recorded by the task itself: a call counts as returned only from here on.
    t->state = Task::State::kDone;
    ++sh->completions;
    sh->changed.notify_all();
  }
}

// The thread that stands for a child process's task: hands each command to the child and
// reports what it returned, with the states of task_main. A command stays kAssigned until
// the child acknowledges it, so that the child is never seen asleep before it runs the call.
void proxy_main(std::shared_ptr<Shared> sh, std::shared_ptr<Task> t) {
  const int chan = t->chan.get();
  std::unique_lock lk(sh->mu);
  for (;;) {
    t->work.wait(lk, [&] { return t->quit || t->state == Task::State::kAssigned; });
    if (t->state != Task::State::kAssigned) return;
    Command& c = *t->cmd;
    lk.unlock();
    bool ok = send_command(chan, c.step, c.resolved, c.exit) && recv_ack(chan);
    lk.lock();
    if (ok) t->state = Task::State::kRunning;
    lk.unlock();
    ok = ok && recv_result(chan, c.raw);
    if (!ok && c.exit) {
      // exit() completes when the table is closed: do_exit runs exit_files before
      // exit_notify, so once the child is a zombie (waited for, not reaped) it is closed.
      siginfo_t info{};
      int r;
      while ((r = waitid(P_PID, static_cast<id_t>(t->pid), &info, WEXITED | WNOWAIT)) != 0 && errno == EINTR) {
      }
      c.raw.ret = r == 0 ? 0 : -errno;
    } else if (!ok) {
      c.raw.ret = -EPIPE;  // the child is gone (killed): its call never returned
    }
    lk.lock();
    t->state = Task::State::kDone;
    ++sh->completions;
    sh->changed.notify_all();
  }
}

// pread at offset 0 regenerates a /proc seq_file (seq_read_iter restarts at ki_pos 0),
// so one descriptor opened before the run serves every snapshot.
bool read_proc(const Fd& fd, char* buf, size_t size, std::string* out) {
  const ssize_t n = pread(fd.get(), buf, size - 1, 0);
  if (n < 0) return false;
  out->assign(buf, static_cast<size_t>(n));
  return true;
}

// What a coordinator snapshot saw: settled when every task with a call in flight was
// blocked; `sched` holds each blocked task's /proc/TID/schedstat text (run time, run
// delay, times scheduled in), which changes whenever the task has run.
struct Snapshot {
  bool settled = false;
  uint64_t completions = 0;
  std::vector<std::pair<const Task*, std::string>> sched;
  NetRest::View net;  // the run's sockets in the network (empty while it has no AF_INET port)
  friend bool operator==(const Snapshot&, const Snapshot&) = default;
};

class Run {
 public:
  Run(const KernelOptions& o, const eo::Program& p)
      : o_(o), p_(p), sh_(std::make_shared<Shared>()), h_(p, run_tag()), queues_(p) {}
  ~Run() { cleanup(); }

  eo::RunResult run() {
    res_.steps.resize(p_.steps.size());
    std::string error;
    if (!setup(&error)) {
      res_.error = "setup: " + error;
      res_.stopped_at = 0;
      cleanup();
      return std::move(res_);
    }
    for (size_t i = 0; i < p_.steps.size(); ++i) {
      if (!step(i)) {
        res_.stopped_at = static_cast<int>(i);
        break;
      }
    }
    cleanup();
    return std::move(res_);
  }

 private:
  std::chrono::milliseconds ms(long v) const { return std::chrono::milliseconds(v); }

  std::string where(size_t i) const {
    const Step& s = p_.steps[i];
    return "step " + std::to_string(i) + " (line " + std::to_string(s.pos.line) + ", task " + s.task + ")";
  }

  bool stop(const std::string& why) {
    if (res_.error.empty()) res_.error = why;
    return false;
  }

  // ---- setup and cleanup -------------------------------------------------------------

  bool setup(std::string* error) {
    // No SA_RESTART: a blocked call that the signal interrupts returns EINTR.
    struct sigaction sa {};
    sa.sa_handler = on_interrupt_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    sigaction(kInterruptSignal, &sa, &old_interrupt_);
    sa.sa_handler = SIG_IGN;  // a write with no reader gives EPIPE, not a dead process
    sigaction(SIGPIPE, &sa, &old_pipe_);
    // The notification signal is blocked here before the task threads exist (they inherit
    // the mask); none left from before the run is counted.
    const sigset_t notify = notify_set();
    pthread_sigmask(SIG_BLOCK, &notify, &old_mask_);
    take_notifications();
    signals_set_ = true;
    queues_.arm();

    // One thread per task that issues calls (sleep runs on the coordinator), but for the
    // tasks fork() binds: those are child processes, made when their fork runs.
    std::set<std::string> forked;
    for (const Step& s : p_.steps) {
      if (!std::holds_alternative<eo::Fork>(s.call)) continue;
      for (const eo::ResultAlt& a : s.expect.alts) forked.insert(a.names.begin(), a.names.end());
    }
    std::vector<std::string> names;
    for (const Step& s : p_.steps) {
      if ((s.kind == Step::Kind::kCall || s.kind == Step::Kind::kPendingCall) && eo::call_info(s.call).in_task &&
          !forked.contains(s.task) && std::find(names.begin(), names.end(), s.task) == names.end()) {
        names.push_back(s.task);
      }
    }
    for (const std::string& n : names) {
      auto t = std::make_shared<Task>();
      t->name = n;
      t->thread = std::thread(task_main, sh_, t);
      tasks_.push_back(std::move(t));
    }
    {
      std::unique_lock lk(sh_->mu);
      sh_->changed.wait(lk, [&] {
        return std::all_of(tasks_.begin(), tasks_.end(), [](const auto& t) { return t->tid != 0; });
      });
    }

    // The /proc files each task is watched through, opened now (before the first step)
    // and moved to high numbers, so that the trace sees the lowest free numbers it would
    // see without us.
    const long need = 3 * static_cast<long>(tasks_.size()) + 1;  // + the sock_diag socket
    long base = kHighFdBase;
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        base + need >= static_cast<long>(rl.rlim_cur)) {
      base = static_cast<long>(rl.rlim_cur) - need - 1;
    }
    if (need > 0 && base < 3) {
      *error = "RLIMIT_NOFILE too small for " + std::to_string(tasks_.size()) + " tasks";
      return false;
    }
    base_ = static_cast<int>(base);
    for (auto& t : tasks_) {
      if (!watch(*t, "/proc/self/task/" + std::to_string(t->tid) + "/", error)) return false;
    }
    return net_.open(static_cast<int>(base), error);
  }

  // Opens the /proc files t is watched through (dir: its /proc/.../task/TID/) and moves
  // them to high numbers, out of the trace's lowest-free numbering.
  bool watch(Task& t, const std::string& dir, std::string* error) {
    for (auto [file, fd] : {std::pair{"stat", &t.stat_fd}, {"syscall", &t.syscall_fd}, {"schedstat", &t.schedstat_fd}}) {
      if (!high_fd(Fd(open((dir + file).c_str(), O_RDONLY | O_CLOEXEC)), *fd, "open " + dir + file, error)) return false;
    }
    return true;
  }

  // Moves `low` (just opened, at the lowest free number) to out at base_ or above.
  bool high_fd(Fd low, Fd& out, const std::string& what, std::string* error) {
    if (!low) {
      *error = what + ": " + std::strerror(errno);
      return false;
    }
    out.reset(fcntl(low.get(), F_DUPFD_CLOEXEC, base_));
    if (!out) {
      *error = "F_DUPFD_CLOEXEC " + std::to_string(base_) + ": " + std::strerror(errno);
      return false;
    }
    return true;
  }

  // ---- processes ---------------------------------------------------------------------

  // The channel of the next fork, both ends at high numbers (the trace's table is copied
  // at the fork: the low numbers socketpair took are free again by then).
  bool open_channel(std::string* error) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
      *error = std::string("socketpair: ") + std::strerror(errno);
      return false;
    }
    Fd a(sv[0]), b(sv[1]);
    if (!high_fd(std::move(a), chan_parent_, "channel", error) || !high_fd(std::move(b), chan_child_, "channel", error)) {
      return false;
    }
    fork_ctx_ = ForkContext{&p_, getpid(), chan_child_.get(), base_};
    return true;
  }

  // After fork step i returned pid: the child's task, watched through its /proc files and
  // driven by a proxy thread.
  bool adopt(size_t i, long pid) {
    chan_child_.reset();  // the child's end lives in the child now
    if (pid <= 0) {
      chan_parent_.reset();
      return true;
    }
    auto t = std::make_shared<Task>();
    t->name = h_.forked_task(i);
    t->pid = t->tid = static_cast<pid_t>(pid);
    t->chan = std::move(chan_parent_);
    tasks_.push_back(t);  // before anything can fail: cleanup kills and reaps it
    std::string error;
    const std::string dir = "/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/";
    if (!watch(*t, dir, &error)) return stop(where(i) + ": " + error);
    t->thread = std::thread(proxy_main, sh_, t);
    return true;
  }

  // exit() in main's process: its other tasks' calls end (interrupted; never reported) and
  // whatever they returned on the way is recorded, so that their descriptors are closed too.
  void end_other_tasks(const Task& caller) {
    for (auto& u : tasks_) {
      if (u.get() == &caller || u->is_process()) continue;
      h_.forget(u->name);
      if (!interrupt(*u)) {
        u->abandoned = true;
        continue;
      }
      if (std::unique_ptr<Command> late = take(*u)) finish(*late);
    }
  }

  // Kills and reaps every child process (SIGKILL, then waitpid): at the end of every run.
  void end_children() {
    for (auto& t : tasks_) {
      if (!t->is_process()) continue;
      kill(t->pid, SIGKILL);  // not reaped yet: the pid is still this child's
      if (t->chan) shutdown(t->chan.get(), SHUT_RDWR);  // the proxy's recv returns
    }
    const auto deadline = Clock::now() + ms(o_.interrupt_ms);
    for (auto& t : tasks_) {
      if (!t->is_process()) continue;
      for (;;) {
        const pid_t r = waitpid(t->pid, nullptr, WNOHANG);
        if (r == t->pid || (r < 0 && errno != EINTR)) break;
        if (Clock::now() >= deadline) {
          if (res_.error.empty()) res_.error = "child " + t->name + " could not be reaped";
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
  }

  // Interrupts every call still in flight, joins every thread, closes what the trace
  // left open and every executor descriptor, restores the signal dispositions. Runs on
  // every exit path (also from the destructor).
  void cleanup() {
    if (cleaned_) return;
    cleaned_ = true;
    end_children();
    for (auto& t : tasks_) {
      if (!interrupt(*t)) t->abandoned = true;
    }
    {
      std::lock_guard lk(sh_->mu);
      for (auto& t : tasks_) {
        t->quit = true;
        t->work.notify_one();
      }
    }
    bool abandoned = false;
    for (auto& t : tasks_) {
      if (!t->thread.joinable()) continue;
      if (t->abandoned) {
        // The kernel kept it despite the signals. It holds its own references to the
        // shared state, so detaching is safe; it is reported, and the signal handler is
        // left installed (a late SIGUSR1 must not kill the process).
        t->thread.detach();
        abandoned = true;
        if (res_.error.empty()) res_.error = "task " + t->name + " could not be interrupted; its thread was abandoned";
      } else {
        t->thread.join();
      }
    }
    // Results nobody collected still tell which descriptors exist.
    for (auto& t : tasks_) {
      if (!t->abandoned && t->state == Task::State::kDone && t->cmd) finish(*t->cmd);
    }
    for (int fd : h_.open_fds()) syscall(SYS_close, long{fd});
    queues_.unlink_all();  // the run's queues, whatever happened (and again when queues_ goes)
    for (auto& t : tasks_) {
      t->stat_fd.reset();
      t->syscall_fd.reset();
      t->schedstat_fd.reset();
      t->chan.reset();
    }
    chan_parent_.reset();
    chan_child_.reset();
    if (signals_set_) {
      if (!abandoned) sigaction(kInterruptSignal, &old_interrupt_, nullptr);
      sigaction(SIGPIPE, &old_pipe_, nullptr);
      take_notifications();  // sent to this process by the run's queues: not the caller's
      pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
    }
    tasks_.clear();
  }

  // Gets t's call (if any) out of the kernel: sets cancel (for fill/drain loops) and
  // sends the signal again every few milliseconds, since one sent just before the task
  // entered the system call is consumed by the handler without interrupting anything.
  // False if the call did not return within interrupt_ms.
  bool interrupt(Task& t) {
    std::unique_lock lk(sh_->mu);
    if (!t.in_flight()) return true;
    t.cancel.store(true);
    const auto deadline = Clock::now() + ms(o_.interrupt_ms);
    for (;;) {
      if (t.is_process()) {
        kill(t.pid, kInterruptSignal);  // its one thread
      } else {
        syscall(SYS_tgkill, long{getpid()}, long{t.tid}, long{kInterruptSignal});
      }
      if (sh_->changed.wait_for(lk, ms(5), [&] { return !t.in_flight(); })) return true;
      if (Clock::now() >= deadline) return false;
    }
  }

  // ---- steps ---------------------------------------------------------------------------

  Task* task(const std::string& name) {
    for (auto& t : tasks_) {
      if (t->name == name) return t.get();
    }
    return nullptr;
  }

  // The command for a call step of task t; nullptr (and *error) if its buffer cannot be had.
  std::unique_ptr<Command> prepare(size_t i, const Task& t, std::string* error) {
    const Step& s = p_.steps[i];
    auto c = std::make_unique<Command>();
    c->step = i;
    c->pending = s.kind == Step::Kind::kPendingCall;
    c->exit = eo::call_info(s.call).ends_process;
    c->resolved = resolve(h_, s.call);
    if (const auto* q = std::get_if<eo::MqOpen>(&s.call)) c->resolved.mq_name = queues_.kernel_name(q->name.name);
    if (const auto* q = std::get_if<eo::MqUnlink>(&s.call)) c->resolved.mq_name = queues_.kernel_name(q->name.name);
    if (t.is_process()) return c;  // the child makes the raw call from the numbers
    if (c->exit) c->resolved.exit_closes = h_.open_fds("main");
    c->run = make_raw_call(s.call, c->resolved, &fork_ctx_, error);
    if (!c->run) return nullptr;
    return c;
  }

  // The outcome of a finished command (the harness binds names, keeps descriptors).
  Outcome finish(const Command& c) { return h_.finish(c.step, c.raw); }

  void dispatch(Task& t, std::unique_ptr<Command> c) {
    std::lock_guard lk(sh_->mu);
    t.pending = c->pending;
    t.expect_nr = eo::call_info(p_.steps[c->step].call).syscalls;
    if (c->pending) h_.sleeping(c->step);
    t.cmd = std::move(c);
    t.cancel.store(false);
    t.state = Task::State::kAssigned;
    t.work.notify_one();
  }

  // Pending calls that have returned, into obs.returned.
  void gather_returns(eo::StepObservation& obs) {
    std::vector<std::pair<std::string, std::unique_ptr<Command>>> done;
    {
      std::lock_guard lk(sh_->mu);
      for (auto& t : tasks_) {
        if (t->state == Task::State::kDone && t->pending) {
          done.emplace_back(t->name, std::move(t->cmd));
          t->state = Task::State::kIdle;
        }
      }
    }
    for (auto& [name, c] : done) h_.returned(obs, name, c->raw);
  }

  // The task's call result once it is done; nullptr if it is still in flight.
  std::unique_ptr<Command> take(Task& t) {
    std::lock_guard lk(sh_->mu);
    if (t.state != Task::State::kDone) return nullptr;
    t.state = Task::State::kIdle;
    return std::move(t.cmd);
  }

  bool step(size_t i) {
    const Step& s = p_.steps[i];
    eo::StepObservation& obs = res_.steps[i];
    // Calls that returned between steps (timeouts) are reported at the next step.
    gather_returns(obs);

    const bool is_call = s.kind == Step::Kind::kCall || s.kind == Step::Kind::kPendingCall;
    const bool in_task = eo::call_info(s.call).in_task;
    long bound = o_.watchdog_ms;
    // A call's own timeout is not the kernel's fault: it comes on top (no longer than a
    // sleep may be).
    if (const std::optional<int64_t> timeout = eo::finite_timeout_ms(s.call); is_call && timeout && *timeout > 0) {
      bound += static_cast<long>(std::min<int64_t>(*timeout, o_.max_sleep_ms));
    }
    bool ok = true;
    if (is_call && !in_task) {
      ok = sleep(i, obs);
    } else if (is_call) {
      ok = call(i, bound, obs);
    }
    // Every task idle or blocked and the network at rest; for a pending call this is
    // where it is seen blocked.
    net_.note(h_.open_fds());
    if (ok && !settle(Clock::now() + ms(bound))) {
      if (s.kind == Step::Kind::kPendingCall && in_task) {
        std::lock_guard lk(sh_->mu);
        if (task(s.task)->in_flight()) obs.outcome.kind = Outcome::Kind::kStuck;
      }
      ok = stop(where(i) + ": the tasks were neither blocked nor idle within " + std::to_string(bound) + " ms" +
                (net_why_.empty() ? "" : " (network not at rest: " + net_why_ + ")"));
    }
    gather_returns(obs);
    h_.end_step(obs);
    // A pending call that returned at once: its outcome is that return (and it is listed
    // in returned, where the checker sees the missing block).
    if (s.kind == Step::Kind::kPendingCall && obs.outcome.kind == Outcome::Kind::kBlocked) {
      for (const eo::TaskReturn& r : obs.returned) {
        if (r.step == static_cast<int>(i)) obs.outcome = r.outcome;
      }
    }
    return ok;
  }

  // sleep's real function: the coordinator sleeps, whoever has a call pending.
  bool sleep(size_t i, eo::StepObservation& obs) {
    const long v = std::get<eo::Sleep>(p_.steps[i].call).ms;
    if (v > o_.max_sleep_ms) {
      return stop(where(i) + ": sleep(" + std::to_string(v) + ") exceeds the executor's limit of " +
                  std::to_string(o_.max_sleep_ms) + " ms");
    }
    // Absolute deadline: a signal to this thread must not shorten the sleep.
    timespec until{};
    clock_gettime(CLOCK_MONOTONIC, &until);
    const long d = std::max(v, 0L);
    until.tv_sec += d / 1000;
    until.tv_nsec += (d % 1000) * 1'000'000;
    if (until.tv_nsec >= 1'000'000'000) until.tv_sec += 1, until.tv_nsec -= 1'000'000'000;
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr) == EINTR) {
    }
    obs.outcome.kind = Outcome::Kind::kValue;
    obs.outcome.ret = 0;
    return true;
  }

  // Hands the call to its task. A call step is waited for (bounded); a pending call is
  // left to the settle loop that follows.
  bool call(size_t i, long bound, eo::StepObservation& obs) {
    const Step& s = p_.steps[i];
    Task* found = task(s.task);
    if (!found) return stop(where(i) + ": task " + s.task + " has no process (its fork failed)");
    Task& t = *found;
    {
      std::lock_guard lk(sh_->mu);
      if (t.in_flight()) return stop(where(i) + ": task " + s.task + " already has a pending call");
    }
    std::string error;
    const bool forks = std::holds_alternative<eo::Fork>(s.call);
    if (forks && !open_channel(&error)) return stop(where(i) + ": " + error);
    if (eo::call_info(s.call).ends_process && !t.is_process()) end_other_tasks(t);
    std::unique_ptr<Command> c = prepare(i, t, &error);
    if (!c) return stop(where(i) + ": " + error);
    dispatch(t, std::move(c));
    if (s.kind == Step::Kind::kPendingCall) {
      obs.outcome.kind = Outcome::Kind::kBlocked;  // step() replaces it if the call returns
      return true;
    }
    {
      std::unique_lock lk(sh_->mu);
      sh_->changed.wait_until(lk, Clock::now() + ms(bound), [&] { return t.state == Task::State::kDone; });
    }
    if (std::unique_ptr<Command> done = take(t)) {
      obs.outcome = finish(*done);
      return !forks || adopt(i, done->raw.ret);
    }
    obs.outcome.kind = Outcome::Kind::kStuck;
    stop(where(i) + ": the call did not return within " + std::to_string(bound) + " ms (watchdog)");
    // Get it out of the kernel now; its late result only matters for the descriptors.
    if (interrupt(t)) {
      if (std::unique_ptr<Command> late = take(t)) finish(*late);
    } else {
      t.abandoned = true;
    }
    return false;
  }

  // ---- blocked and settled ---------------------------------------------------------------

  // Whether t sleeps in system call nr: /proc/TID/syscall names it (the kernel prints
  // "running" unless the task is off the CPU with a consistent snapshot,
  // task_current_syscall) and /proc/TID/stat says S (TASK_INTERRUPTIBLE: waiting on a wait
  // queue, not a transient D on a mutex, not R/woken). *sched gets the schedstat text.
  bool blocked_in(const Task& t, const std::array<int, 2>& nrs, std::string* sched) {
    char buf[1024];
    std::string text;
    if (!read_proc(t.schedstat_fd, buf, sizeof buf, sched)) sched->clear();
    if (!read_proc(t.syscall_fd, buf, sizeof buf, &text)) return false;
    char* end = nullptr;
    const long got = std::strtol(text.c_str(), &end, 10);
    if (end == text.c_str() || got < 0 || (got != nrs[0] && got != nrs[1])) return false;
    if (!read_proc(t.stat_fd, buf, sizeof buf, &text)) return false;
    const size_t paren = text.rfind(')');  // comm may contain spaces and parentheses
    return paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] == 'S';
  }

  Snapshot snapshot() {
    Snapshot snap;
    std::vector<std::pair<const Task*, std::array<int, 2>>> flying;
    {
      std::lock_guard lk(sh_->mu);
      snap.completions = sh_->completions;
      for (auto& t : tasks_) {
        if (t->state == Task::State::kAssigned) return snap;  // not even started
        if (t->state == Task::State::kRunning) flying.emplace_back(t.get(), t->expect_nr);
      }
    }
    for (const auto& [t, nrs] : flying) {
      std::string sched;
      if (!blocked_in(*t, nrs, &sched)) return snap;
      snap.sched.emplace_back(t, std::move(sched));
    }
    {
      std::lock_guard lk(sh_->mu);
      if (sh_->completions != snap.completions) return snap;
    }
    if (net_.any()) {
      snap.net = net_.look();
      net_why_ = snap.net.why;
      if (!snap.net.at_rest) return snap;
    }
    snap.settled = true;
    return snap;
  }

  // Waits until every task is idle (its call returned and recorded) or blocked, seen
  // twice in a row with nothing in between: same calls returned, and no blocked task
  // scheduled in since (schedstat unchanged). One snapshot is not enough because the
  // tasks are read one after the other: a task read as blocked can be woken by one read
  // later that was still running (a pipe reader returning wakes the writer); the second
  // snapshot sees it running, returned, or with a new schedstat.
  bool settle(Clock::time_point deadline) {
    return settle_twice([this] { return snapshot(); }, deadline);
  }

  const KernelOptions& o_;
  const eo::Program& p_;
  std::shared_ptr<Shared> sh_;
  std::vector<std::shared_ptr<Task>> tasks_;
  eo::StepHarness h_;
  NetRest net_;  // the network part of "settled" (TRACE_FORMAT.md v1.1)
  std::string net_why_;  // why the network was last seen not at rest
  RunQueues queues_;
  eo::RunResult res_;
  sigset_t old_mask_{};
  struct sigaction old_interrupt_ {};
  struct sigaction old_pipe_ {};
  bool signals_set_ = false;
  bool cleaned_ = false;
  int base_ = kHighFdBase;  // the executor's descriptors are at or above it
  ForkContext fork_ctx_;    // of the fork being run
  Fd chan_parent_, chan_child_;  // its channel, until the child's task adopts it
};

}  // namespace

KernelExecutor::KernelExecutor(KernelOptions options) : options_(options) {
  utsname u{};
  if (uname(&u) == 0) version_ = u.release;
}

namespace {

// Whether every written result of a call has it return before its timeout: an error, or
// events (an empty list or `*` may be the timeout expiring).
bool returns_before_timeout(const Step& s) {
  if (!s.expect.checked()) return false;
  for (const eo::ResultAlt& a : s.expect.alts) {
    const bool early = a.kind == eo::ResultAlt::Kind::kError || (a.kind == eo::ResultAlt::Kind::kEvents && !a.events.empty());
    if (!early) return false;
  }
  return true;
}

}  // namespace

std::string KernelExecutor::limit(const eo::Program& p) const {
  const long max = options_.max_sleep_ms;
  std::set<std::string> forked;  // tasks of child processes
  for (const Step& s : p.steps) {
    if (s.kind != Step::Kind::kCall && s.kind != Step::Kind::kPendingCall) continue;
    const std::string at = " at line " + std::to_string(s.pos.line);
    if (std::holds_alternative<eo::Fork>(s.call)) {
      if (forked.contains(s.task)) {
        return "fork() in a forked process" + at + ": the kernel executor forks from main's process only";
      }
      if (forked.size() >= kMaxChildren) {
        return "fork()" + at + " makes more than the kernel executor's " + std::to_string(kMaxChildren) +
               " child processes";
      }
      for (const eo::ResultAlt& a : s.expect.alts) forked.insert(a.names.begin(), a.names.end());
    }
    if (const auto* sleep = std::get_if<eo::Sleep>(&s.call); sleep && sleep->ms > max) {
      return "sleep(" + std::to_string(sleep->ms) + ")" + at + " exceeds the kernel executor's maximum sleep of " +
             std::to_string(max) + " ms (--max-sleep)";
    }
    // A pending call is only seen blocked; a call step is waited for, up to max.
    const std::optional<int64_t> timeout = eo::finite_timeout_ms(s.call);
    if (s.kind == Step::Kind::kCall && timeout && *timeout > max && !returns_before_timeout(s)) {
      return std::string(eo::call_info(s.call).name) + " timeout of " + std::to_string(*timeout) + " ms" + at +
             " exceeds the kernel executor's maximum wait of " + std::to_string(max) + " ms (--max-sleep)";
    }
  }
  return "";
}

eo::RunResult KernelExecutor::run(const eo::Program& p) {
  std::lock_guard lk(g_run_mutex);
  try {
    Run r(options_, p);
    return r.run();
  } catch (const std::exception& e) {  // thread creation, allocation; Run's destructor cleaned up
    eo::RunResult res;
    res.steps.resize(p.steps.size());
    res.error = std::string("kernel executor: ") + e.what();
    res.stopped_at = 0;
    return res;
  }
}

}  // namespace real
