#include "executor.h"

#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
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
#include "fd.h"
#include "mq_names.h"

namespace real {

namespace {

using eo::Outcome;
using eo::Step;
using Clock = std::chrono::steady_clock;

// x86-64 packs struct epoll_event (12 bytes), and fs/eventpoll.c caps maxevents at
// EP_MAX_EVENTS = INT_MAX / sizeof(struct epoll_event).
static_assert(sizeof(epoll_event) == 12, "traces describe x86-64's packed epoll_event");
constexpr long kEpMaxEvents = INT_MAX / static_cast<long>(sizeof(epoll_event));
// epoll_wait buffers up to this many entries are plain heap memory; larger ones reserve
// address space only (see EventBuffer).
constexpr int kHeapEvents = 4096;
constexpr int kInterruptSignal = SIGUSR1;
// The message-queue notification signal (SIGEV_SIGNAL), blocked in every thread of a run
// and counted by notifications(): a real-time signal, so that each one is queued.
int notify_signal() { return SIGRTMIN + 2; }
// The signal set of notify_signal().
sigset_t notify_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, notify_signal());
  return set;
}
// Takes every pending notification signal (rt_sigtimedwait with a zero timeout until
// EAGAIN); how many there were.
long take_notifications() {
  const sigset_t set = notify_set();
  const timespec zero{0, 0};
  long n = 0;
  while (syscall(SYS_rt_sigtimedwait, &set, nullptr, &zero, _NSIG / 8) > 0) ++n;
  return n;
}
// Executor descriptors live at or above this number, out of the trace's way.
constexpr int kHighFdBase = 900;

// Signal dispositions and descriptor numbering are per process: one run at a time.
std::mutex g_run_mutex;

// Does nothing: its only job is to exist without SA_RESTART, so that a call it
// interrupts returns EINTR instead of being restarted.
void on_interrupt_signal(int) {}

// syscall(2) gives -1 and errno; outcomes want -errno.
long ret_of(long r) { return r == -1 ? -errno : r; }

// The memory epoll_wait writes events into. The kernel rejects maxevents <= 0 and
// > EP_MAX_EVENTS with EINVAL before it looks at the buffer (do_epoll_wait), and checks
// access_ok(events, maxevents * 12) next: a valid maxevents needs a buffer that covers
// all of it. Up to kHeapEvents it is heap memory; beyond, an anonymous MAP_NORESERVE
// mapping of maxevents * 12 bytes (at most 2 GiB of address space, backed only where the
// kernel writes events), so a hostile maxevents costs no memory.
class EventBuffer {
 public:
  explicit EventBuffer(int maxevents) {
    if (maxevents > kHeapEvents && maxevents <= kEpMaxEvents) {
      map_len_ = static_cast<size_t>(maxevents) * sizeof(epoll_event);
      void* m = mmap(nullptr, map_len_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (m == MAP_FAILED) {
        map_len_ = 0;
      } else {
        map_ = static_cast<epoll_event*>(m);
      }
    } else {
      heap_.resize(static_cast<size_t>(std::clamp(maxevents, 1, kHeapEvents)));
    }
  }
  ~EventBuffer() {
    if (map_) munmap(map_, map_len_);
  }
  EventBuffer(const EventBuffer&) = delete;
  EventBuffer& operator=(const EventBuffer&) = delete;
  bool ok() const { return map_ || !heap_.empty(); }
  epoll_event* data() { return map_ ? map_ : heap_.data(); }

 private:
  std::vector<epoll_event> heap_;
  epoll_event* map_ = nullptr;
  size_t map_len_ = 0;
};

// The schema's x86-64 numbers are this machine's.
static_assert(eo::nr::kRead == SYS_read && eo::nr::kWrite == SYS_write && eo::nr::kClose == SYS_close &&
              eo::nr::kPoll == SYS_poll && eo::nr::kDup == SYS_dup && eo::nr::kNanosleep == SYS_nanosleep &&
              eo::nr::kShutdown == SYS_shutdown && eo::nr::kSocketpair == SYS_socketpair &&
              eo::nr::kEpollWait == SYS_epoll_wait && eo::nr::kEpollCtl == SYS_epoll_ctl &&
              eo::nr::kEventfd2 == SYS_eventfd2 && eo::nr::kEpollCreate1 == SYS_epoll_create1 &&
              eo::nr::kPipe2 == SYS_pipe2 && eo::nr::kEpollPwait2 == SYS_epoll_pwait2 &&
              eo::nr::kRtSigtimedwait == SYS_rt_sigtimedwait && eo::nr::kMqOpen == SYS_mq_open &&
              eo::nr::kMqUnlink == SYS_mq_unlink && eo::nr::kMqTimedsend == SYS_mq_timedsend &&
              eo::nr::kMqTimedreceive == SYS_mq_timedreceive && eo::nr::kMqNotify == SYS_mq_notify &&
              eo::nr::kMqGetsetattr == SYS_mq_getsetattr);

// One system call of a step, its arguments resolved by the coordinator (which owns the
// names); it runs on the task thread, writes what the call returned into the RawResult
// and gives the return value (-errno on failure). `cancel` ends a loop that a signal
// interrupted between two calls.
using RawCall = std::function<long(eo::RawResult&, const std::atomic<bool>& cancel)>;

// One call handed to a task thread.
struct Command {
  size_t step = 0;  // index into Program::steps
  bool pending = false;
  RawCall run;
  eo::RawResult raw;  // written by the task thread
};

// Raw syscall(2) throughout: the number the task sleeps in is then exactly the schema's,
// and libc adds nothing (no cancellation points, no fd bookkeeping).
template <class... A>
long sys(long nr, A... args) {
  return ret_of(syscall(nr, args...));
}

// Runs the call on the calling (task) thread.
void execute(Command& c, const std::atomic<bool>& cancel) {
  c.raw.ret = cancel.load() ? -EINTR : c.run(c.raw, cancel);
}

// The system call of each trace call: the real function of its schema row. The kernel
// reads int/unsigned arguments from the low 32 bits; the casts give the values the model
// gets from its own.
class RawCalls {
 public:
  RawCalls(eo::StepHarness& h, const RunQueues& queues) : h_(h), queues_(queues) {}
  std::string error;  // why a call could not be prepared (its buffer cannot be had)

  RawCall operator()(const eo::Pipe2& a) {
    const long flags = static_cast<int>(a.flags.value);
    return [=](eo::RawResult& r, const auto&) { return sys(SYS_pipe2, r.fds, flags); };
  }
  RawCall operator()(const eo::Socketpair& a) {
    const long domain = static_cast<int>(a.domain), type = static_cast<int>(a.type.value);
    return [=](eo::RawResult& r, const auto&) { return sys(SYS_socketpair, domain, type, 0L, r.fds); };
  }
  RawCall operator()(const eo::Eventfd2& a) {
    const long initval = static_cast<unsigned>(a.initval), flags = static_cast<int>(a.flags.value);
    return [=](eo::RawResult&, const auto&) { return sys(SYS_eventfd2, initval, flags); };
  }
  RawCall operator()(const eo::EpollCreate1& a) {
    const long flags = static_cast<int>(a.flags.value);
    return [=](eo::RawResult&, const auto&) { return sys(SYS_epoll_create1, flags); };
  }
  RawCall operator()(const eo::Dup& a) {
    const long fd = h_.fd(a.fd);
    return [=](eo::RawResult&, const auto&) { return sys(SYS_dup, fd); };
  }
  RawCall operator()(const eo::Close& a) {
    const long fd = h_.fd(a.fd);
    return [=](eo::RawResult&, const auto&) { return sys(SYS_close, fd); };
  }
  RawCall operator()(const eo::Shutdown& a) {
    const long fd = h_.fd(a.fd), how = static_cast<int>(a.how);
    return [=](eo::RawResult&, const auto&) { return sys(SYS_shutdown, fd, how); };
  }
  // A negative N is passed as the size_t it converts to (the kernel's answer: EFAULT or
  // EINVAL); a valid pointer is needed all the same.
  RawCall operator()(const eo::Read& a) { return io(SYS_read, h_.fd(a.fd), eo::io_count(a.count)); }
  RawCall operator()(const eo::Write& a) { return io(SYS_write, h_.fd(a.fd), eo::io_count(a.count)); }
  RawCall operator()(const eo::Fill& a) { return fill_drain(SYS_write, h_.fd(a.fd), eo::chunk_count(a.chunk)); }
  RawCall operator()(const eo::Drain& a) { return fill_drain(SYS_read, h_.fd(a.fd), eo::chunk_count(a.chunk)); }
  RawCall operator()(const eo::EventfdWrite& a) {
    const long fd = h_.fd(a.fd);
    const uint64_t value = static_cast<uint64_t>(a.value);
    return [=](eo::RawResult&, const auto&) {
      uint64_t v = value;
      return sys(SYS_write, fd, &v, sizeof v);
    };
  }
  RawCall operator()(const eo::EventfdRead& a) {
    const long fd = h_.fd(a.fd);
    return [=](eo::RawResult& r, const auto&) {
      r.value = 0;
      return sys(SYS_read, fd, &r.value, sizeof r.value);
    };
  }
  RawCall operator()(const eo::EpollCtl& a) {
    const long ep = h_.fd(a.ep), op = static_cast<int>(a.op), fd = h_.fd(a.fd);
    const bool has_ev = a.events.has_value();
    epoll_event ev{};
    ev.events = static_cast<uint32_t>(a.events ? a.events->value : 0);
    ev.data.u64 = h_.data_of(a);
    return [=](eo::RawResult&, const auto&) mutable { return sys(SYS_epoll_ctl, ep, op, fd, has_ev ? &ev : nullptr); };
  }
  RawCall operator()(const eo::EpollWait& a) {
    const long timeout = static_cast<int>(a.timeout_ms);
    return epoll_events(h_.fd(a.ep), static_cast<int>(a.maxevents), [=](long ep, epoll_event* events, long maxevents) {
      return sys(SYS_epoll_wait, ep, events, maxevents, timeout);
    });
  }
  // With a null sigmask, as the trace language defines it (set_user_sigmask does nothing).
  RawCall operator()(const eo::EpollPwait2& a) {
    const std::optional<eo::EpollPwait2::Timespec> ts = a.timespec();
    const struct timespec timeout{ts ? ts->sec : 0, ts ? ts->nsec : 0};
    const bool has_timeout = ts.has_value();
    return epoll_events(h_.fd(a.ep), static_cast<int>(a.maxevents), [=](long ep, epoll_event* events, long maxevents) {
      return sys(SYS_epoll_pwait2, ep, events, maxevents, has_timeout ? &timeout : nullptr, nullptr, 0L);
    });
  }
  RawCall operator()(const eo::Poll& a) {
    std::vector<pollfd> pfds;
    for (const eo::PollEntry& e : a.fds) pfds.push_back({h_.fd(e.fd), static_cast<short>(e.events.value), 0});
    const long timeout = static_cast<int>(a.timeout_ms);
    return [=](eo::RawResult& r, const auto&) mutable {
      const long n = sys(SYS_poll, pfds.data(), static_cast<unsigned long>(pfds.size()), timeout);
      for (size_t k = 0; k < pfds.size(); ++k) r.events.push_back({static_cast<uint16_t>(pfds[k].revents), k});
      return n;
    };
  }
  // Queue names are the run's (RunQueues); a queue is created with mode 0600.
  RawCall operator()(const eo::MqOpen& a) {
    const std::string name = queues_.kernel_name(a.name.name);
    const long flags = static_cast<int>(a.flags.value);
    const bool has_attr = a.maxmsg || a.msgsize;
    mq_attr attr{};
    attr.mq_maxmsg = a.maxmsg.value_or(0);
    attr.mq_msgsize = a.msgsize.value_or(0);
    return [=](eo::RawResult&, const auto&) mutable {
      return sys(SYS_mq_open, name.c_str(), flags, 0600L, has_attr ? &attr : nullptr);
    };
  }
  RawCall operator()(const eo::MqUnlink& a) {
    const std::string name = queues_.kernel_name(a.name.name);
    return [=](eo::RawResult&, const auto&) { return sys(SYS_mq_unlink, name.c_str()); };
  }
  // LEN as given: the kernel refuses one above mq_msgsize (at most HARD_MSGSIZEMAX, 16 MiB)
  // before it reads the buffer, which covers every length it accepts.
  RawCall operator()(const eo::MqSend& a) {
    const long fd = h_.fd(a.q), prio = static_cast<unsigned>(a.prio);
    const size_t len = static_cast<size_t>(a.len);
    auto buf = std::make_shared<std::vector<char>>(eo::io_buffer_size(len), eo::kFiller);
    return [=](eo::RawResult&, const auto&) { return sys(SYS_mq_timedsend, fd, buf->data(), len, prio, nullptr); };
  }
  // BUFLEN as given; the buffer holds any message the kernel may store (<= 16 MiB).
  RawCall operator()(const eo::MqReceive& a) {
    const long fd = h_.fd(a.q);
    const size_t len = static_cast<size_t>(a.buflen);
    auto buf = std::make_shared<std::vector<char>>(std::clamp<size_t>(len, 1, eo::kMaxIoBytes));
    return [=](eo::RawResult& r, const auto&) {
      unsigned prio = 0;
      const long n = sys(SYS_mq_timedreceive, fd, buf->data(), len, &prio, nullptr);
      r.prio = prio;
      return n;
    };
  }
  RawCall operator()(const eo::MqGetattr& a) {
    const long fd = h_.fd(a.q);
    return [=](eo::RawResult&, const auto&) {
      mq_attr old{};
      const long r = sys(SYS_mq_getsetattr, fd, nullptr, &old);
      return r < 0 ? r : static_cast<long>(old.mq_curmsgs);
    };
  }
  RawCall operator()(const eo::MqNotify& a) {
    const long fd = h_.fd(a.q);
    const bool has = a.notify.has_value();
    sigevent sev{};
    sev.sigev_notify = static_cast<int>(a.notify.value_or(0));
    sev.sigev_signo = notify_signal();
    return [=](eo::RawResult&, const auto&) mutable { return sys(SYS_mq_notify, fd, has ? &sev : nullptr); };
  }
  RawCall operator()(const eo::Notifications&) {
    return [](eo::RawResult&, const auto&) { return take_notifications(); };
  }
  RawCall operator()(const eo::Sleep&) {  // runs on the coordinator (Run::sleep), never on a task
    return [](eo::RawResult&, const auto&) { return 0L; };
  }

 private:
  // An epoll wait into an EventBuffer of maxevents entries: wait(ep, buffer, maxevents)
  // gives the count, the events written become the raw result.
  template <class Wait>
  RawCall epoll_events(long ep, int maxevents, Wait wait) {
    auto events = std::make_shared<EventBuffer>(maxevents);
    if (!events->ok()) {
      error = "cannot reserve an epoll_wait buffer for " + std::to_string(maxevents) + " events: " + std::strerror(errno);
      return nullptr;
    }
    return [=](eo::RawResult& r, const auto&) {
      const long n = wait(ep, events->data(), long{maxevents});
      for (long k = 0; k < n; ++k) r.events.push_back({events->data()[k].events, events->data()[k].data.u64});
      return n;
    };
  }
  static RawCall io(long nr, long fd, size_t count) {
    auto buf = std::make_shared<std::vector<char>>(eo::io_buffer_size(count), eo::kFiller);
    return [=](eo::RawResult&, const auto&) { return sys(nr, fd, buf->data(), count); };
  }
  // fill/drain: eo::fill_drain_loop, ended early by a signal (cancel).
  static RawCall fill_drain(long nr, long fd, size_t chunk) {
    auto buf = std::make_shared<std::vector<char>>(eo::io_buffer_size(chunk), eo::kFiller);
    return [=](eo::RawResult&, const std::atomic<bool>& cancel) {
      return eo::fill_drain_loop([&] { return sys(nr, fd, buf->data(), chunk); },
                                 [&](long, long total) -> std::optional<long> {
                                   if (cancel.load()) return total ? total : -EINTR;
                                   return std::nullopt;
                                 });
    };
  }
  eo::StepHarness& h_;
  const RunQueues& queues_;
};

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
  std::thread thread;
  bool abandoned = false;
  Fd stat_fd, syscall_fd, schedstat_fd;  // /proc/self/task/TID/{stat,syscall,schedstat}

  bool in_flight() const { return state == State::kAssigned || state == State::kRunning; }
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
  friend bool operator==(const Snapshot&, const Snapshot&) = default;
};

class Run {
 public:
  Run(const KernelOptions& o, const eo::Program& p)
      : o_(o), p_(p), sh_(std::make_shared<Shared>()), h_(p), queues_(p) {}
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

    // One thread per task that issues calls (sleep runs on the coordinator).
    std::vector<std::string> names;
    for (const Step& s : p_.steps) {
      if ((s.kind == Step::Kind::kCall || s.kind == Step::Kind::kPendingCall) && eo::call_info(s.call).in_task &&
          std::find(names.begin(), names.end(), s.task) == names.end()) {
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
    const long need = 3 * static_cast<long>(tasks_.size());
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
    for (auto& t : tasks_) {
      const std::string dir = "/proc/self/task/" + std::to_string(t->tid) + "/";
      for (auto [file, fd] : {std::pair{"stat", &t->stat_fd}, {"syscall", &t->syscall_fd},
                              {"schedstat", &t->schedstat_fd}}) {
        Fd low(open((dir + file).c_str(), O_RDONLY | O_CLOEXEC));
        if (!low) {
          *error = "open " + dir + file + ": " + std::strerror(errno);
          return false;
        }
        fd->reset(fcntl(low.get(), F_DUPFD_CLOEXEC, base));
        if (!*fd) {
          *error = "F_DUPFD_CLOEXEC " + std::to_string(base) + ": " + std::strerror(errno);
          return false;
        }
      }
    }
    return true;
  }

  // Interrupts every call still in flight, joins every thread, closes what the trace
  // left open and every executor descriptor, restores the signal dispositions. Runs on
  // every exit path (also from the destructor).
  void cleanup() {
    if (cleaned_) return;
    cleaned_ = true;
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
    }
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
      syscall(SYS_tgkill, long{getpid()}, long{t.tid}, long{kInterruptSignal});
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

  // The command for a call step; nullptr (and *error) if its buffer cannot be had.
  std::unique_ptr<Command> prepare(size_t i, std::string* error) {
    const Step& s = p_.steps[i];
    auto c = std::make_unique<Command>();
    c->step = i;
    c->pending = s.kind == Step::Kind::kPendingCall;
    RawCalls calls(h_, queues_);
    c->run = std::visit(calls, s.call);
    if (!c->run) {
      *error = calls.error;
      return nullptr;
    }
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
    // Every task idle or blocked; for a pending call this is where it is seen blocked.
    if (ok && !settle(Clock::now() + ms(bound))) {
      if (s.kind == Step::Kind::kPendingCall && in_task) {
        std::lock_guard lk(sh_->mu);
        if (task(s.task)->in_flight()) obs.outcome.kind = Outcome::Kind::kStuck;
      }
      ok = stop(where(i) + ": the tasks were neither blocked nor idle within " + std::to_string(bound) + " ms");
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
    Task& t = *task(s.task);
    {
      std::lock_guard lk(sh_->mu);
      if (t.in_flight()) return stop(where(i) + ": task " + s.task + " already has a pending call");
    }
    std::string error;
    std::unique_ptr<Command> c = prepare(i, &error);
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
      return true;
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
    Snapshot prev;
    auto pause = std::chrono::microseconds(20);
    for (;;) {
      Snapshot snap = snapshot();
      if (snap.settled && prev.settled && snap == prev) return true;
      if (Clock::now() >= deadline) return false;
      if (!snap.settled) {
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::microseconds(1000));
      }
      prev = std::move(snap);
    }
  }

  const KernelOptions& o_;
  const eo::Program& p_;
  std::shared_ptr<Shared> sh_;
  std::vector<std::shared_ptr<Task>> tasks_;
  eo::StepHarness h_;
  RunQueues queues_;
  eo::RunResult res_;
  sigset_t old_mask_{};
  struct sigaction old_interrupt_ {};
  struct sigaction old_pipe_ {};
  bool signals_set_ = false;
  bool cleaned_ = false;
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
  for (const Step& s : p.steps) {
    if (s.kind != Step::Kind::kCall && s.kind != Step::Kind::kPendingCall) continue;
    const std::string at = " at line " + std::to_string(s.pos.line);
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
