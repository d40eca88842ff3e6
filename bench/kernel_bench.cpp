// The real-kernel half of bench_model: the same ADD/MOD/DEL/epoll_wait cycle as the model's
// on this machine's kernel (epoll_create1, eventfd, epoll_ctl, epoll_wait), so that one run
// shows model/kernel ratios; and the kernel's own slab growth per registration.
// Raises RLIMIT_NOFILE while a world exists and restores it (and closes every fd) after.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "bench/bench_common.h"
#include "real/fd.h"

namespace eo_bench {

namespace {

// RLIMIT_NOFILE raised to at least `need` for the owner's lifetime (we run as root, so
// the hard limit may go up to fs.nr_open).
class NofileLimit {
 public:
  explicit NofileLimit(rlim_t need) {
    if (getrlimit(RLIMIT_NOFILE, &old_) != 0) {
      error_ = std::strerror(errno);
      return;
    }
    if (old_.rlim_cur >= need) return;
    rlimit r{need, std::max(old_.rlim_max, need)};
    if (setrlimit(RLIMIT_NOFILE, &r) != 0) {
      error_ = std::string("setrlimit(RLIMIT_NOFILE): ") + std::strerror(errno);
      return;
    }
    changed_ = true;
  }
  ~NofileLimit() {
    if (changed_) setrlimit(RLIMIT_NOFILE, &old_);
  }
  NofileLimit(const NofileLimit&) = delete;
  NofileLimit& operator=(const NofileLimit&) = delete;
  const std::string& error() const { return error_; }

 private:
  rlimit old_{};
  bool changed_ = false;
  std::string error_;
};

// Members are destroyed in reverse order: the fds close before the limit is restored.
struct KernelWorld {
  explicit KernelWorld(long n) : limit(static_cast<rlim_t>(n + spare_for(n) + 256)) {
    if (!limit.error().empty()) {
      error = limit.error();
      return;
    }
    const auto t0 = Clock::now();
    ep.reset(epoll_create1(EPOLL_CLOEXEC));
    if (!ep) {
      error = std::string("epoll_create1: ") + std::strerror(errno);
      return;
    }
    const long total = n + spare_for(n);
    fds.reserve(static_cast<size_t>(total));
    std::vector<int> raw;
    raw.reserve(static_cast<size_t>(total));
    for (long i = 0; i < total; ++i) {
      fds.emplace_back(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
      if (!fds.back()) {
        error = std::string("eventfd: ") + std::strerror(errno);
        return;
      }
      raw.push_back(fds.back().get());
    }
    deal(raw, n, cursor);
    std::vector<int> in_order = cursor.reg;
    std::sort(in_order.begin(), in_order.end());
    for (int fd : in_order) {
      if (!add(fd)) {
        error = std::string("epoll_ctl ADD: ") + std::strerror(errno);
        return;
      }
    }
    ready.reset(eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC));
    if (!ready || !add(ready.get())) {
      error = std::string("ready eventfd: ") + std::strerror(errno);
      return;
    }
    results().setup_s[{"kernel", n}] = seconds_since(t0);
  }

  bool add(int fd) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = static_cast<uint64_t>(fd);
    return epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd, &ev) == 0;
  }
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

  NofileLimit limit;
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

// "Slab:" of /proc/meminfo in bytes, -1 if unreadable.
long meminfo_slab() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  long kb = 0;
  std::string unit;
  while (in >> key >> kb) {
    std::getline(in, unit);
    if (key == "Slab:") return kb * 1024;
  }
  return -1;
}

// eventpoll_epi in /proc/slabinfo: {active_objs, objsize}, {-1, -1} if unreadable.
std::pair<long, long> slabinfo_epi() {
  std::ifstream in("/proc/slabinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string name;
    long active = 0, num = 0, objsize = 0;
    if (ls >> name >> active >> num >> objsize && name == "eventpoll_epi") return {active, objsize};
  }
  return {-1, -1};
}

void bm_kernel_ops(benchmark::State& state, Op op, long n) {
  KernelWorld& w = kernel_world(n);
  if (!w.error.empty()) {
    state.SkipWithError(w.error.c_str());
    return;
  }
  run_ops(state, w, op, "kernel", n);
}

// The kernel's memory for `adds` registrations of idle eventfds into one epoll: the growth
// of all slab memory (epitem, eppoll_entry, epitems_head) and of eventpoll_epi alone.
void bm_kernel_memory(benchmark::State& state, long adds) {
  g_world.reset();
  g_world_n = -1;
  NofileLimit limit(static_cast<rlim_t>(adds + 256));
  if (!limit.error().empty()) {
    state.SkipWithError(limit.error().c_str());
    return;
  }
  for (auto _ : state) {
    real::Fd ep(epoll_create1(EPOLL_CLOEXEC));
    std::vector<real::Fd> fds;
    fds.reserve(static_cast<size_t>(adds));
    for (long i = 0; i < adds; ++i) {
      fds.emplace_back(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
      if (!fds.back()) {
        state.SkipWithError("eventfd failed");
        return;
      }
    }
    const long slab0 = meminfo_slab();
    const auto epi0 = slabinfo_epi();
    const auto t0 = Clock::now();
    for (auto& fd : fds) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      if (epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd.get(), &ev) != 0) {
        state.SkipWithError("epoll_ctl ADD failed");
        return;
      }
    }
    state.SetIterationTime(seconds_since(t0));
    const long slab1 = meminfo_slab();
    const auto epi1 = slabinfo_epi();
    Results& r = results();
    r.kernel_mem = slab0 >= 0;
    r.kernel_slab_bytes = static_cast<double>(slab1 - slab0) / static_cast<double>(adds);
    r.kernel_epi_objsize = static_cast<double>(epi1.second);
    r.kernel_epi_bytes =
        epi0.first >= 0 ? static_cast<double>(epi1.first - epi0.first) * static_cast<double>(epi1.second) /
                              static_cast<double>(adds)
                        : -1;
    utsname u{};
    if (uname(&u) == 0) r.kernel_release = u.release;
    state.counters["slab_bytes/reg"] = r.kernel_slab_bytes;
    state.counters["epi_slab_bytes/reg"] = r.kernel_epi_bytes;
    state.counters["slab/EP_ITEM_COST"] = r.kernel_slab_bytes / 184.0;
  }  // the epoll and the eventfds close here, before the limit is restored
}

}  // namespace

void register_kernel_benchmark(Op op, long n) {
  const std::string name = std::string("kernel/") + op_name(op) + "/N:" + std::to_string(n);
  benchmark::RegisterBenchmark(name.c_str(), bm_kernel_ops, op, n)->UseManualTime()->Unit(benchmark::kMicrosecond);
}

void register_kernel_memory_benchmark(long adds) {
  const std::string name = "kernel/memory_per_registration/adds:" + std::to_string(adds);
  benchmark::RegisterBenchmark(name.c_str(), bm_kernel_memory, adds)
      ->UseManualTime()
      ->Iterations(1)
      ->Unit(benchmark::kMillisecond);
}

void release_kernel_world() {
  g_world.reset();
  g_world_n = -1;
}

}  // namespace eo_bench
