// The real-kernel half of bench_model: the same ADD/MOD/DEL/epoll_wait cycle as the model's
// on this machine's kernel (epoll_create1, eventfd, epoll_ctl, epoll_wait), so that one run
// shows model/kernel ratios; and the kernel's own slab memory per registration.
//
// Descriptors. A world needs N + spares eventfds. RLIMIT_NOFILE is raised for the world's
// lifetime and restored after (every fd closed first). Where it cannot be raised (root
// without CAP_SYS_RESOURCE, as in some containers: the hard limit stays), the
// registrations the timed ops never touch are parked: after their ADD their descriptors
// are passed (SCM_RIGHTS) to holder child processes and closed here. An epitem lives as
// long as its file does, not its descriptor, so the epoll keeps all N registrations, each
// with its own file and (file, fd) key; the ops use the descriptors kept open, a random
// sample spread over the tree. The holders exit, closing their files, with the world.
#include <fcntl.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "bench_common.h"
#include "real/fd.h"

namespace eo_bench {

namespace {

constexpr size_t kScmMaxFd = 253;  // SCM_MAX_FD: descriptors per SCM_RIGHTS message
constexpr char kHolderArg[] = "--eo-fd-holder";

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

rlim_t nofile_soft() {
  rlimit r{};
  getrlimit(RLIMIT_NOFILE, &r);
  return r.rlim_cur;
}

// RLIMIT_NOFILE raised to at least `need` for the owner's lifetime, if allowed.
class NofileLimit {
 public:
  explicit NofileLimit(rlim_t need) {
    if (getrlimit(RLIMIT_NOFILE, &old_) != 0 || old_.rlim_cur >= need) return;
    rlimit r{need, std::max(old_.rlim_max, need)};
    if (setrlimit(RLIMIT_NOFILE, &r) != 0) {
      error_ = errno_text("setrlimit(RLIMIT_NOFILE)");
      return;
    }
    changed_ = true;
  }
  ~NofileLimit() {
    if (changed_) setrlimit(RLIMIT_NOFILE, &old_);
  }
  NofileLimit(const NofileLimit&) = delete;
  NofileLimit& operator=(const NofileLimit&) = delete;
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

 private:
  rlimit old_{};
  bool changed_ = false;
  std::string error_;
};

// A holder: keeps every descriptor it receives on fd 3 until EOF, then exits (closing
// them). 'S' asks it for the count it holds.
[[noreturn]] void holder_main() {
  const int sock = 3;
  close_range(4, ~0U, 0);  // anything inherited by mistake
  long held = 0;
  for (;;) {
    char tag = 0;
    alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int) * kScmMaxFd)];
    iovec iov{&tag, 1};
    msghdr m{};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = cbuf;
    m.msg_controllen = sizeof cbuf;
    const ssize_t r = recvmsg(sock, &m, 0);
    if (r == 0) _exit(0);
    if (r < 0) {
      if (errno == EINTR) continue;
      _exit(1);
    }
    if (m.msg_flags & MSG_CTRUNC) _exit(2);  // descriptors were dropped
    for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
        held += static_cast<long>((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    }
    if (tag == 'S' && send(sock, &held, sizeof held, 0) != sizeof held) _exit(3);
  }
}

// Files kept open by holder children (see the top of the file). A holder is this binary
// run again with kHolderArg (posix_spawn, so no copy-on-write sharing of the model's
// worlds with the children), its socket as fd 3.
class FdParking {
 public:
  // Spawns enough holders for `count` descriptors (none if count is 0).
  explicit FdParking(long count) {
    const long per_child = static_cast<long>(nofile_soft()) - 16;
    for (long left = count; left > 0; left -= per_child) {
      int sv[2];
      if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
        error_ = errno_text("socketpair");
        return;
      }
      if (sv[1] == 3) {  // dup2(3, 3) would leave FD_CLOEXEC set
        const int moved = fcntl(sv[1], F_DUPFD_CLOEXEC, 4);
        close(sv[1]);
        sv[1] = moved;
      }
      posix_spawn_file_actions_t fa;
      posix_spawn_file_actions_init(&fa);
      posix_spawn_file_actions_adddup2(&fa, sv[1], 3);
      char arg0[] = "bench_model";
      char arg1[sizeof kHolderArg];
      std::memcpy(arg1, kHolderArg, sizeof kHolderArg);
      char* argv[] = {arg0, arg1, nullptr};
      pid_t pid = -1;
      const int rc = posix_spawn(&pid, "/proc/self/exe", &fa, nullptr, argv, environ);
      posix_spawn_file_actions_destroy(&fa);
      close(sv[1]);
      if (rc != 0) {
        errno = rc;
        error_ = errno_text("posix_spawn");
        close(sv[0]);
        return;
      }
      holders_.push_back({pid, sv[0], 0, per_child});
    }
  }
  ~FdParking() {
    for (Holder& h : holders_) close(h.sock);  // EOF: the holder exits
    for (Holder& h : holders_) waitpid(h.pid, nullptr, 0);
  }
  FdParking(const FdParking&) = delete;
  FdParking& operator=(const FdParking&) = delete;

  // Passes the descriptors to the holders; the caller closes its own.
  bool park(const std::vector<int>& fds) {
    size_t i = 0;
    while (i < fds.size()) {
      while (cur_ < holders_.size() && holders_[cur_].held >= holders_[cur_].capacity) ++cur_;
      if (cur_ == holders_.size()) {
        error_ = "holders full";
        return false;
      }
      Holder& h = holders_[cur_];
      const size_t k = std::min({fds.size() - i, kScmMaxFd, static_cast<size_t>(h.capacity - h.held)});
      if (!send_fds(h.sock, 'F', fds.data() + i, k)) return false;
      h.held += static_cast<long>(k);
      i += k;
    }
    return true;
  }
  // Every holder confirms it holds what it was sent.
  bool sync() {
    for (Holder& h : holders_) {
      long held = -1;
      if (!send_fds(h.sock, 'S', nullptr, 0) || recv(h.sock, &held, sizeof held, 0) != sizeof held ||
          held != h.held) {
        error_ = "a holder lost descriptors";
        return false;
      }
    }
    return true;
  }
  const std::string& error() const { return error_; }
  size_t holders() const { return holders_.size(); }

 private:
  struct Holder {
    pid_t pid;
    int sock;
    long held;
    long capacity;
  };
  bool send_fds(int sock, char tag, const int* fds, size_t k) {
    alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int) * kScmMaxFd)] = {};
    iovec iov{&tag, 1};
    msghdr m{};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    if (k) {
      m.msg_control = cbuf;
      m.msg_controllen = CMSG_SPACE(sizeof(int) * k);
      cmsghdr* c = CMSG_FIRSTHDR(&m);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int) * k);
      std::memcpy(CMSG_DATA(c), fds, sizeof(int) * k);
    }
    if (sendmsg(sock, &m, 0) != 1) {
      error_ = errno_text("sendmsg(SCM_RIGHTS)");
      return false;
    }
    return true;
  }
  std::vector<Holder> holders_;
  size_t cur_ = 0;
  std::string error_;
};

// Descriptors this process may use for the live part of a world besides the fds it keeps.
constexpr long kFdMargin = 64 + static_cast<long>(kScmMaxFd);

bool ctl_add(int ep, int fd) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = static_cast<uint64_t>(fd);
  return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0;
}

// Members are destroyed in reverse order: the live fds and the epoll close, then the
// holders exit, then the limit is restored.
struct KernelWorld {
  explicit KernelWorld(long n)
      : total(n + spare_for(n, Pattern::kSample)), limit(static_cast<rlim_t>(total + kFdMargin)) {
    const auto t0 = Clock::now();
    const Roles roles = deal(total, n);
    // Kept open: the sample the ops use (all of them if the limit allows).
    std::vector<char> live(static_cast<size_t>(total), limit.ok() ? 1 : 0);
    for (long i = 0; i < std::min(n, kSampleReg); ++i) live[static_cast<size_t>(roles.reg[static_cast<size_t>(i)])] = 1;
    for (long idx : roles.spare) live[static_cast<size_t>(idx)] = 1;
    std::vector<char> registered(static_cast<size_t>(total), 0);
    for (long idx : roles.reg) registered[static_cast<size_t>(idx)] = 1;
    long nparked = 0;
    for (char l : live) nparked += l ? 0 : 1;
    if (static_cast<long>(nofile_soft()) < total - nparked + kFdMargin) {
      error = "RLIMIT_NOFILE too low even for the sample: " + limit.error();
      return;
    }
    parking = std::make_unique<FdParking>(nparked);
    if (!parking->error().empty()) {
      error = parking->error();
      return;
    }
    ep.reset(epoll_create1(EPOLL_CLOEXEC));
    if (!ep) {
      error = errno_text("epoll_create1");
      return;
    }
    std::vector<int> fd_of(static_cast<size_t>(total), -1);
    std::vector<int> to_park;
    for (long i = 0; i < total; ++i) {
      const int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
      if (fd < 0) {
        error = errno_text("eventfd");
        return;
      }
      if (registered[static_cast<size_t>(i)] && !ctl_add(ep.get(), fd)) {
        close(fd);
        error = errno_text("epoll_ctl ADD");
        return;
      }
      if (live[static_cast<size_t>(i)]) {
        fds.emplace_back(fd);
        fd_of[static_cast<size_t>(i)] = fd;
      } else {
        to_park.push_back(fd);
      }
      if (to_park.size() == kScmMaxFd || (i + 1 == total && !to_park.empty())) {
        const bool ok = parking->park(to_park);
        for (int p : to_park) close(p);
        to_park.clear();
        if (!ok) {
          error = parking->error();
          return;
        }
      }
    }
    if (!parking->sync()) {
      error = parking->error();
      return;
    }
    ready.reset(eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC));
    if (!ready || !ctl_add(ep.get(), ready.get())) {
      error = errno_text("ready eventfd");
      return;
    }
    cursor = make_cursor(roles, fd_of, kSampleReg, kSampleSpare);
    char how[160];
    std::snprintf(how, sizeof how, "%.3f s; %ld of %ld eventfds parked in %zu holder processes%s", seconds_since(t0),
                  nparked, total, parking->holders(), limit.ok() ? "" : " (RLIMIT_NOFILE could not be raised)");
    results().setup[{"kernel", n}] = how;
  }

  bool add(int fd) { return ctl_add(ep.get(), fd); }
  bool mod(int fd, bool alt) {
    epoll_event ev{};
    ev.events = alt ? EPOLLIN | EPOLLET : EPOLLIN;
    ev.data.u64 = static_cast<uint64_t>(fd) | (alt ? 1ULL << 32 : 0);
    return epoll_ctl(ep.get(), EPOLL_CTL_MOD, fd, &ev) == 0;
  }
  bool del(int fd) { return epoll_ctl(ep.get(), EPOLL_CTL_DEL, fd, nullptr) == 0; }
  bool wait1() {
    epoll_event ev{};
    return epoll_wait(ep.get(), &ev, 1, 0) == 1 && ev.data.u64 == static_cast<uint64_t>(ready.get());
  }

  long total;
  NofileLimit limit;
  std::unique_ptr<FdParking> parking;
  real::Fd ep;
  std::vector<real::Fd> fds;
  real::Fd ready;
  Cursor cursor;
  std::string error;
};

std::unique_ptr<KernelWorld> g_world;
long g_world_n = -1;

KernelWorld& kernel_world(long n) {
  if (!g_world || g_world_n != n) {
    g_world.reset();  // close the old one (and restore the limit) first
    g_world = std::make_unique<KernelWorld>(n);
    g_world_n = n;
  }
  return *g_world;
}

void bm_kernel_ops(benchmark::State& state, Op op, long n) {
  KernelWorld& w = kernel_world(n);
  if (!w.error.empty()) {
    state.SkipWithError(w.error.c_str());
    return;
  }
  run_ops(state, w, w.cursor, op, "kernel", Pattern::kSample, n);
}

// In-use objects and object size of a slab cache (SLUB sysfs), {-1, -1} if unreadable.
std::pair<long, long> slab_objects(const char* cache) {
  const std::string dir = std::string("/sys/kernel/slab/") + cache + "/";
  std::ifstream objs(dir + "objects"), size(dir + "slab_size");
  long n = -1, sz = -1;
  if (!(objs >> n) || !(size >> sz)) return {-1, -1};
  return {n, sz};
}

// The kernel's memory for `adds` registrations of idle eventfds into one epoll: the growth
// of the slab caches ep_insert allocates from (eventpoll_epi: struct epitem,
// eventpoll_pwq: struct eppoll_entry, ep_head: struct epitems_head, one per watched file),
// read around the ADDs only, in chunks that fit RLIMIT_NOFILE (parking the rest).
void bm_kernel_memory(benchmark::State& state, long adds) {
  g_world.reset();
  g_world_n = -1;
  static const char* const kCaches[3] = {"eventpoll_epi", "eventpoll_pwq", "ep_head"};
  if (slab_objects(kCaches[0]).first < 0) {
    state.SkipWithError("/sys/kernel/slab not readable");
    return;
  }
  NofileLimit limit(static_cast<rlim_t>(adds + kFdMargin));
  const long chunk = std::min(adds, static_cast<long>(nofile_soft()) - kFdMargin);
  for (auto _ : state) {
    FdParking parking(adds > chunk ? adds : 0);
    real::Fd ep(epoll_create1(EPOLL_CLOEXEC));
    if (!parking.error().empty() || !ep) {
      state.SkipWithError("setup failed");
      return;
    }
    double bytes[3] = {0, 0, 0};
    double secs = 0;
    std::vector<int> fds;
    for (long done = 0; done < adds; done += static_cast<long>(fds.size())) {
      fds.clear();
      for (long i = 0; i < std::min(chunk, adds - done); ++i) {
        const int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (fd < 0) break;
        fds.push_back(fd);
      }
      std::pair<long, long> before[3];
      for (int c = 0; c < 3; ++c) before[c] = slab_objects(kCaches[c]);
      const auto t0 = Clock::now();
      bool ok = !fds.empty();
      for (int fd : fds) ok &= ctl_add(ep.get(), fd);
      secs += seconds_since(t0);
      for (int c = 0; c < 3; ++c) {
        const auto after = slab_objects(kCaches[c]);
        bytes[c] += static_cast<double>(after.first - before[c].first) * static_cast<double>(after.second);
      }
      if (ok && adds > chunk) {
        for (size_t i = 0; i < fds.size() && ok; i += kScmMaxFd) {
          ok = parking.park(std::vector<int>(fds.begin() + static_cast<long>(i),
                                             fds.begin() + static_cast<long>(std::min(fds.size(), i + kScmMaxFd))));
        }
      }
      for (int fd : fds) close(fd);
      if (!ok) {
        state.SkipWithError("eventfd, epoll_ctl ADD or parking failed");
        return;
      }
    }
    if (!parking.sync()) {
      state.SkipWithError(parking.error().c_str());
      return;
    }
    state.SetIterationTime(secs);
    Results& r = results();
    r.kernel_mem = true;
    r.kernel_mem_adds = adds;
    r.kernel_epi = bytes[0] / static_cast<double>(adds);
    r.kernel_pwq = bytes[1] / static_cast<double>(adds);
    r.kernel_head = bytes[2] / static_cast<double>(adds);
    utsname u{};
    if (uname(&u) == 0) r.kernel_release = u.release;
    const double total = r.kernel_epi + r.kernel_pwq + r.kernel_head;
    state.counters["slab_bytes/reg"] = total;
    state.counters["slab/EP_ITEM_COST"] = total / 184.0;
  }  // the epoll closes, the holders exit (closing the eventfds), then the limit is restored
}

}  // namespace

void register_kernel_benchmark(Op op, long n) {
  benchmark::RegisterBenchmark(bench_name("kernel", op, n, Pattern::kSample).c_str(), bm_kernel_ops, op, n)
      ->UseManualTime()
      ->Unit(benchmark::kMicrosecond);
}

void register_kernel_memory_benchmark(long adds) {
  const std::string name = "kernel/memory_per_registration/adds:" + std::to_string(adds);
  benchmark::RegisterBenchmark(name.c_str(), bm_kernel_memory, adds)
      ->UseManualTime()
      ->Iterations(1)
      ->Unit(benchmark::kMillisecond);
}

bool run_fd_holder_if_asked(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], kHolderArg) == 0) holder_main();
  return false;
}

void release_kernel_world() {
  g_world.reset();
  g_world_n = -1;
}

}  // namespace eo_bench
