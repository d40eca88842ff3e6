#include "real/herd.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "real/fd.h"
#include "real/settle.h"

namespace real {

namespace {

using namespace eo::herd;
using Clock = std::chrono::steady_clock;

int64_t mono_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

// Raw calls: the number a task sleeps in is then exactly the one /proc shows.
long ret_of(long r) { return r < 0 ? -errno : r; }

uint32_t flags_of(Trigger t) {
  switch (t) {
    case Trigger::kLevel: return EPOLLIN;
    case Trigger::kEdge: return EPOLLIN | EPOLLET;
    case Trigger::kOneshot: return EPOLLIN | EPOLLONESHOT;
    case Trigger::kExclusive: return EPOLLIN | EPOLLEXCLUSIVE;
  }
  return EPOLLIN;
}

bool is_listener(const Scenario& s) { return s.source == Source::kUnix || s.source == Source::kTcp || s.wait == Wait::kReuseport; }
bool blocking_wait(const Scenario& s) { return s.wait == Wait::kBlocking || s.wait == Wait::kReuseport; }

enum Phase : int { kStarting, kUser, kInWait, kDone, kExited };

// What the workers share with the coordinator; held by shared_ptr so that a thread the
// watchdog had to give up on can never touch freed memory.
struct Shared {
  explicit Shared(const Scenario& sc) : s(sc), handler(sc.events), done_ns(sc.events) {
    for (auto& h : handler) h = -1;
  }
  struct Worker {
    std::atomic<pid_t> tid{0};
    std::atomic<int> phase{kStarting};
    std::atomic<bool> go{false};
    std::atomic<int64_t> handled{0}, returns{0}, empty{0};
    int ep = -1, src = -1, watched = -1;
  };
  Scenario s;
  std::atomic<bool> stop{false};
  std::atomic<int> ticket{0};      // consumption order = arrival order (FIFO queues)
  std::atomic<int> cur_event{-1};  // consume no: the event the returning worker saw
  std::vector<std::atomic<int>> handler;
  std::vector<std::atomic<int64_t>> done_ns;
  std::deque<Worker> w;
};

long consume_call(const Shared& sh, int src) {
  if (is_listener(sh.s)) return ret_of(syscall(SYS_accept4, src, nullptr, nullptr, 0));
  uint64_t buf = 0;
  return ret_of(syscall(SYS_read, src, &buf, sh.s.source == Source::kEventfd ? 8 : 1));
}

void consumed(Shared& sh, Shared::Worker& w, int i, long fd) {
  const int e = sh.ticket.fetch_add(1);
  if (e < sh.s.events) {
    sh.done_ns[e] = mono_ns();
    sh.handler[e] = i;
  }
  w.handled.fetch_add(1);
  if (is_listener(sh.s)) close(static_cast<int>(fd));
}

int64_t nvcsw_self() {
  rusage ru{};
  getrusage(RUSAGE_THREAD, &ru);
  return ru.ru_nvcsw;
}

// A worker: waits, consumes, serves, re-arms, until told to stop (a signal ends its wait).
void worker_main(std::shared_ptr<Shared> shp, int i) {
  Shared& sh = *shp;
  const Scenario& s = sh.s;
  Shared::Worker& w = sh.w[i];
  w.tid = static_cast<pid_t>(syscall(SYS_gettid));
  w.go.wait(false);
  epoll_event ev[1];
  while (!sh.stop) {
    w.phase = kInWait;
    const int64_t before = nvcsw_self();
    const long rc = blocking_wait(s) ? consume_call(sh, w.src) : ret_of(syscall(SYS_epoll_wait, w.ep, ev, 1, -1));
    const bool slept = nvcsw_self() > before;
    w.phase = kUser;
    if (rc == -EINTR) continue;  // the stop signal
    if (slept) w.returns.fetch_add(1);
    if (!s.consume) {
      w.handled.fetch_add(1);
      const int e = sh.cur_event;
      int none = -1;
      if (e >= 0 && e < s.events) sh.handler[e].compare_exchange_strong(none, i);
      w.phase = kDone;
      while (!sh.stop) sh.stop.wait(false);  // parked in futex: seen as settled
      break;
    }
    int got = 0;
    if (blocking_wait(s)) {
      if (rc >= 0) consumed(sh, w, i, rc), ++got;
    } else if (rc > 0) {
      for (;;) {  // ET drains until EAGAIN; the others take one
        const long c = consume_call(sh, w.src);
        if (c < 0) break;
        consumed(sh, w, i, c);
        ++got;
        if (s.trigger != Trigger::kEdge) break;
      }
      if (s.trigger == Trigger::kOneshot) {
        epoll_event re{};
        re.events = flags_of(s.trigger);
        re.data.u64 = 0;
        syscall(SYS_epoll_ctl, w.ep, EPOLL_CTL_MOD, w.watched, &re);
      }
    }
    if (got == 0) w.empty.fetch_add(1);
    if (got > 0 && s.service_ns > 0) {
      const int64_t until = mono_ns() + got * s.service_ns;
      while (mono_ns() < until && !sh.stop) {
      }
    }
  }
  w.phase = kExited;
}

void on_interrupt(int) {}

// A worker's /proc files, opened once.
struct ProcFiles {
  Fd syscall_fd, stat_fd, schedstat_fd, status_fd;
  bool open(pid_t tid) {
    const std::string dir = "/proc/self/task/" + std::to_string(tid) + "/";
    syscall_fd.reset(::open((dir + "syscall").c_str(), O_RDONLY | O_CLOEXEC));
    stat_fd.reset(::open((dir + "stat").c_str(), O_RDONLY | O_CLOEXEC));
    schedstat_fd.reset(::open((dir + "schedstat").c_str(), O_RDONLY | O_CLOEXEC));
    status_fd.reset(::open((dir + "status").c_str(), O_RDONLY | O_CLOEXEC));
    return syscall_fd && stat_fd && schedstat_fd && status_fd;
  }
};

std::string read_all(const Fd& fd) {
  char buf[4096];
  const ssize_t n = pread(fd.get(), buf, sizeof buf - 1, 0);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

class KernelHerd {
 public:
  KernelHerd(const Scenario& s, const HerdOptions& o) : s_(s), o_(o), sh_(std::make_shared<Shared>(s)) {}
  ~KernelHerd() { finish(); }

  Run run() {
    const auto t0 = Clock::now();
    r_.executor = "kernel";
    if (s_.workers > kMaxHerdWorkers) {
      r_.error = "the kernel executor runs at most " + std::to_string(kMaxHerdWorkers) + " workers";
    } else if (s_.events > kMaxHerdEvents) {
      r_.error = "the kernel executor runs at most " + std::to_string(kMaxHerdEvents) + " events";
    } else if (s_.wait == Wait::kWait14) {
      wait14();
    } else {
      struct sigaction sa{};
      sa.sa_handler = on_interrupt;  // no SA_RESTART: a blocked call returns EINTR
      sigemptyset(&sa.sa_mask);
      sigaction(SIGUSR1, &sa, &old_usr1_);
      signal_set_ = true;
      if (setup() && start_workers()) drive();
      finish();
    }
    r_.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    return std::move(r_);
  }

 private:
  bool fail(const std::string& what, long rc = 0) {
    if (r_.error.empty()) r_.error = what + (rc < 0 ? std::string(": ") + std::strerror(static_cast<int>(-rc)) : "");
    return false;
  }
  int own(long fd) {
    if (fd >= 0) fds_.emplace_back(static_cast<int>(fd));
    return static_cast<int>(fd);
  }

  bool setup() {
    const int n = s_.workers;
    for (int i = 0; i < n; ++i) sh_->w.emplace_back();
    const int nb = blocking_wait(s_) ? 0 : SOCK_NONBLOCK;
    if (s_.wait == Wait::kReuseport) {
      for (int i = 0; i < n; ++i) {
        const int l = own(ret_of(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)));
        const int one = 1;
        if (l < 0) return fail("socket", l);
        if (setsockopt(l, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) return fail("setsockopt(SO_REUSEPORT)", -errno);
        if (!bind_inet(l, i == 0)) return false;
        if (listen(l, kBacklog) != 0) return fail("listen", -errno);
        sh_->w[i].src = l;
      }
      return true;
    }
    int src = -1, inner = -1;
    if (s_.source == Source::kUnix || s_.source == Source::kTcp) {
      const bool tcp = s_.source == Source::kTcp;
      src = own(ret_of(socket(tcp ? AF_INET : AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | nb, 0)));
      if (src < 0) return fail("socket", src);
      if (tcp) {
        if (!bind_inet(src, true)) return false;
      } else {
        sockaddr_un un{};
        un.sun_family = AF_UNIX;
        const std::string name = "eo-herd-" + std::to_string(getpid()) + "-" + std::to_string(++run_counter_);
        std::memcpy(un.sun_path + 1, name.data(), name.size());
        unix_len_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
        std::memcpy(&addr_, &un, sizeof un);
        if (bind(src, reinterpret_cast<sockaddr*>(&addr_), unix_len_) != 0) return fail("bind", -errno);
      }
      if (listen(src, kBacklog) != 0) return fail("listen", -errno);
    } else if (s_.source == Source::kPipe) {
      int p[2];
      if (pipe2(p, O_CLOEXEC | (nb ? O_NONBLOCK : 0)) != 0) return fail("pipe2", -errno);
      src = own(p[0]);
      sink_ = own(p[1]);
    } else if (s_.source == Source::kEventfd) {
      src = sink_ = own(ret_of(eventfd(0, EFD_CLOEXEC | EFD_SEMAPHORE | (nb ? EFD_NONBLOCK : 0))));
      if (src < 0) return fail("eventfd", src);
    } else {
      int sv[2];
      if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | nb, 0, sv) != 0) return fail("socketpair", -errno);
      sink_ = own(sv[0]);
      src = own(sv[1]);
    }
    const uint32_t flags = flags_of(s_.trigger);
    int shared = -1;
    auto add = [&](int ep, int fd, uint32_t events) {
      epoll_event ev{};
      ev.events = events;
      ev.data.u64 = static_cast<uint64_t>(fd);
      return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0 || fail("epoll_ctl(ADD)", -errno);
    };
    if (s_.wait == Wait::kShared) {
      shared = own(ret_of(epoll_create1(EPOLL_CLOEXEC)));
      if (shared < 0) return fail("epoll_create1", shared);
      if (!add(shared, src, flags)) return false;
    }
    if (s_.wait == Wait::kNested) {
      inner = own(ret_of(epoll_create1(EPOLL_CLOEXEC)));
      if (inner < 0) return fail("epoll_create1", inner);
      if (!add(inner, src, EPOLLIN)) return false;
    }
    for (size_t i = 0; i < sh_->w.size(); ++i) {
      auto& w = sh_->w[i];
      w.src = src;
      w.watched = s_.wait == Wait::kNested ? inner : src;
      if (s_.wait == Wait::kShared) {
        w.ep = shared;
      } else if (s_.wait != Wait::kBlocking) {
        w.ep = own(ret_of(epoll_create1(EPOLL_CLOEXEC)));  // registered in worker order
        if (w.ep < 0) return fail("epoll_create1", w.ep);
        if (!add(w.ep, w.watched, flags)) return fail("epoll_ctl(ADD) into worker " + std::to_string(i) + "'s epoll");
      }
    }
    return true;
  }

  bool bind_inet(int fd, bool first) {
    sockaddr_in in{};
    if (first) {
      in.sin_family = AF_INET;
      in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    } else {
      std::memcpy(&in, &addr_, sizeof in);
    }
    if (bind(fd, reinterpret_cast<sockaddr*>(&in), sizeof in) != 0) return fail("bind", -errno);
    socklen_t len = sizeof addr_;
    if (first && getsockname(fd, reinterpret_cast<sockaddr*>(&addr_), &len) != 0) return fail("getsockname", -errno);
    unix_len_ = sizeof(sockaddr_in);
    return true;
  }

  // Starts the workers one by one, each only once the one before sleeps in its waiting
  // call: the wait queues then hold them in the model's order.
  bool start_workers() {
    wait_nr_ = blocking_wait(s_) ? (is_listener(s_) ? SYS_accept4 : SYS_read) : SYS_epoll_wait;
    procs_.resize(s_.workers);
    for (int i = 0; i < s_.workers; ++i) {
      threads_.emplace_back(worker_main, sh_, i);
      const auto deadline = Clock::now() + std::chrono::milliseconds(o_.watchdog_ms);
      while (sh_->w[i].tid == 0) {
        if (Clock::now() > deadline) return fail("worker " + std::to_string(i) + " did not start (watchdog)");
        std::this_thread::yield();
      }
      if (!procs_[i].open(sh_->w[i].tid)) return fail("cannot open /proc/self/task/TID of worker " + std::to_string(i));
      sh_->w[i].go = true;
      sh_->w[i].go.notify_one();
      if (!settle()) return fail("worker " + std::to_string(i) + " did not block in its first wait (watchdog)");
    }
    return true;
  }

  // ---- settled: every worker asleep in its waiting call (or parked when done), twice ---

  struct Snapshot {
    bool settled = false;
    std::vector<std::string> sched;
    int64_t progress = 0;
    bool operator==(const Snapshot& o) const { return settled == o.settled && sched == o.sched && progress == o.progress; }
  };

  bool asleep_in(int i, long nr, std::string* sched) {
    *sched = read_all(procs_[i].schedstat_fd);
    const std::string sc = read_all(procs_[i].syscall_fd);
    char* end = nullptr;
    const long got = std::strtol(sc.c_str(), &end, 10);
    if (end == sc.c_str() || got != nr) return false;
    const std::string st = read_all(procs_[i].stat_fd);
    const size_t paren = st.rfind(')');
    return paren != std::string::npos && paren + 2 < st.size() && st[paren + 2] == 'S';
  }

  Snapshot snapshot() {
    Snapshot snap;
    snap.progress = sh_->ticket;
    for (int i = 0; i < static_cast<int>(procs_.size()); ++i) {
      auto& w = sh_->w[i];
      if (w.tid == 0 || !procs_[i].syscall_fd) continue;  // not started yet
      snap.progress += w.returns + w.empty + w.handled;
      const int phase = w.phase;
      std::string sched;
      if (phase == kInWait) {
        if (!asleep_in(i, wait_nr_, &sched)) return snap;
      } else if (phase == kDone) {
        if (!asleep_in(i, SYS_futex, &sched)) return snap;
      } else if (phase != kStarting || w.go) {
        return snap;  // running, or told to start and not yet in its wait
      }
      snap.sched.push_back(std::move(sched));
    }
    snap.settled = true;
    return snap;
  }

  bool settle() {
    return settle_twice([this] { return snapshot(); }, Clock::now() + std::chrono::milliseconds(o_.watchdog_ms));
  }

  int64_t vcsw(int i) {
    const std::string st = read_all(procs_[i].status_fd);
    const size_t at = st.find("\nvoluntary_ctxt_switches:");
    return at == std::string::npos ? 0 : std::strtoll(st.c_str() + at + 25, nullptr, 10);
  }

  int64_t vcsw_total(std::vector<int64_t>* per) {
    int64_t sum = 0;
    for (int i = 0; i < s_.workers; ++i) sum += (*per)[i] = vcsw(i);
    return sum;
  }

  int64_t returns_total() {
    int64_t sum = 0;
    for (auto& w : sh_->w) sum += w.returns;
    return sum;
  }

  bool produce(int e) {
    sh_->cur_event = e;
    arrival_ns_[e] = mono_ns();
    if (is_listener(s_)) {
      const bool tcp = s_.source == Source::kTcp || s_.wait == Wait::kReuseport;
      const int c = own(ret_of(socket(tcp ? AF_INET : AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)));
      if (c < 0) return fail("socket", c);
      if (connect(c, reinterpret_cast<sockaddr*>(&addr_), unix_len_) != 0)
        return fail("connect of event " + std::to_string(e), -errno);
      return true;
    }
    const uint64_t one = 1;
    const char byte = 'x';
    const long n = s_.source == Source::kEventfd ? write(sink_, &one, sizeof one) : write(sink_, &byte, 1);
    return n > 0 || fail("write of event " + std::to_string(e), -errno);
  }

  void drive() {
    const int n = s_.workers;
    arrival_ns_.assign(s_.events, 0);
    std::vector<int64_t> base(n), now(n);
    vcsw_total(&base);
    const std::vector<int64_t> start = base;
    std::mt19937_64 rng(s_.seed);
    std::exponential_distribution<double> gap(s_.rate_per_ms);
    const int64_t t0 = mono_ns();
    double at_ms = 0;
    for (int e = 0; e < s_.events;) {
      if (s_.arrival == Arrival::kPoisson) {
        if (e > 0) at_ms += gap(rng);
        const int64_t due = t0 + static_cast<int64_t>(at_ms * 1e6);
        timespec ts{static_cast<time_t>(due / 1000000000), static_cast<long>(due % 1000000000)};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
        }
        if (!produce(e++)) return;
        continue;
      }
      const int k = s_.arrival == Arrival::kBurst ? std::min(s_.burst, s_.events - e) : 1;
      const int64_t returns_before = returns_total();
      for (int j = 0; j < k; ++j)
        if (!produce(e++)) return;
      if (!settle()) return void(fail("the workers did not settle after event " + std::to_string(e - 1) + " (watchdog)"));
      if (s_.arrival == Arrival::kOneAtATime) {
        const int64_t before = [&] { int64_t s = 0; for (int64_t v : base) s += v; return s; }();
        r_.woken.push_back(static_cast<int>(vcsw_total(&now) - before));
        r_.returned.push_back(static_cast<int>(returns_total() - returns_before));
        base = now;
      }
    }
    if (!settle()) return void(fail("the workers did not settle after the last event (watchdog)"));
    vcsw_total(&now);
    for (int i = 0; i < n; ++i) {
      auto& w = sh_->w[i];
      r_.handled.push_back(w.handled);
      r_.wakeups.push_back(now[i] - start[i]);
      r_.returns.push_back(w.returns);
      r_.empty.push_back(w.empty);
    }
    for (int e = 0; e < s_.events; ++e) {
      r_.handler.push_back(sh_->handler[e]);
      const int64_t done = sh_->done_ns[e];
      r_.latency_ns.push_back(s_.consume && sh_->handler[e] >= 0 ? done - arrival_ns_[e] : -1);
    }
  }

  // Stops and joins every worker (a signal every 5 ms ends a wait it is in), closes every
  // descriptor, restores SIGUSR1. Bounded by the watchdog; a worker that will not stop is
  // left detached (it holds the shared state) and reported.
  void finish() {
    if (finished_) return;
    finished_ = true;
    sh_->stop = true;
    sh_->stop.notify_all();
    for (auto& w : sh_->w) {
      w.go = true;
      w.go.notify_one();
    }
    const auto deadline = Clock::now() + std::chrono::milliseconds(o_.watchdog_ms);
    for (size_t i = 0; i < threads_.size(); ++i) {
      auto& w = sh_->w[i];
      while (w.phase != kExited && Clock::now() < deadline) {
        if (w.tid) syscall(SYS_tgkill, getpid(), w.tid.load(), SIGUSR1);
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      if (w.phase == kExited) {
        threads_[i].join();
      } else {
        threads_[i].detach();
        fail("worker " + std::to_string(i) + " did not stop (watchdog); left detached");
      }
    }
    threads_.clear();
    procs_.clear();
    fds_.clear();
    if (signal_set_) sigaction(SIGUSR1, &old_usr1_, nullptr);
    signal_set_ = false;
  }

  // LTP epoll_wait14: F pipes with a byte each in one level-triggered epoll, R calls of
  // epoll_wait(M, 0); how often each fd comes back.
  void wait14() {
    const int ep = own(ret_of(epoll_create1(EPOLL_CLOEXEC)));
    if (ep < 0) return void(fail("epoll_create1", ep));
    r_.fd_reports.assign(s_.fds, 0);
    for (int f = 0; f < s_.fds; ++f) {
      int p[2];
      if (pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) return void(fail("pipe2", -errno));
      own(p[0]);
      own(p[1]);
      const char byte = 'x';
      if (write(p[1], &byte, 1) != 1) return void(fail("write", -errno));
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = static_cast<uint64_t>(f);
      if (epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) != 0) return void(fail("epoll_ctl", -errno));
    }
    std::vector<epoll_event> evs(s_.maxevents);
    for (int round = 0; round < s_.rounds; ++round) {
      const long n = ret_of(syscall(SYS_epoll_wait, ep, evs.data(), s_.maxevents, 0));
      if (n < 0) return void(fail("epoll_wait", n));
      std::vector<int> got;
      for (long j = 0; j < n; ++j) {
        const int f = static_cast<int>(evs[j].data.u64);
        got.push_back(f);
        ++r_.fd_reports[f];
      }
      r_.rounds.push_back(std::move(got));
    }
    fds_.clear();
  }

  static constexpr int kBacklog = 4096;
  static inline std::atomic<int> run_counter_{0};
  const Scenario& s_;
  const HerdOptions& o_;
  std::shared_ptr<Shared> sh_;
  Run r_;
  std::vector<Fd> fds_;
  std::vector<std::thread> threads_;
  std::vector<ProcFiles> procs_;
  sockaddr_storage addr_{};
  socklen_t unix_len_ = 0;
  int sink_ = -1;
  long wait_nr_ = SYS_epoll_wait;
  std::vector<int64_t> arrival_ns_;
  struct sigaction old_usr1_{};
  bool signal_set_ = false, finished_ = false;
};

}  // namespace

eo::herd::Run run_herd(const eo::herd::Scenario& s, const HerdOptions& opt) {
  KernelHerd h(s, opt);
  return h.run();
}

}  // namespace real
