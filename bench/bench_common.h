// Shared by the two halves of bench_model: model_bench.cpp (the model, main, the summary)
// and kernel_bench.cpp (the same cycle on the real kernel). They are separate translation
// units because model/uapi.h and <sys/epoll.h> define the same names (EPOLL_CTL_ADD is a
// macro in the latter).
#pragma once
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

namespace eo_bench {

enum class Op { kAdd, kMod, kDel, kWait };

inline const char* op_name(Op op) {
  switch (op) {
    case Op::kAdd: return "epoll_ctl_ADD";
    case Op::kMod: return "epoll_ctl_MOD";
    case Op::kDel: return "epoll_ctl_DEL";
    case Op::kWait: return "epoll_wait_1ready";
  }
  return "?";
}

// Which registrations the timed ops touch. Both sides of a model/kernel comparison use
// kSample: MOD and DEL cycle through a fixed random sample of kSampleReg registrations
// (spread uniformly over the tree), ADD through kSampleSpare unregistered eventfds. That is
// what the kernel side can do here: RLIMIT_NOFILE caps the descriptors one process keeps
// open (see kernel_bench.cpp). kAll (model only) cycles through all N registrations and
// 64k spares: every op then walks a cache-cold tree path, as in a server whose clients
// are all equally active.
enum class Pattern { kSample, kAll };
inline constexpr long kSampleReg = 16384;
inline constexpr long kSampleSpare = 2048;
inline constexpr long kAllSpare = 65536;

inline const char* pattern_name(Pattern p) { return p == Pattern::kSample ? "sample:16k" : "sample:all"; }

// Ops per timed batch: small enough that N stays N (ADD/DEL move it by at most N/8), large
// enough that the two clock reads around a batch cost nothing per op.
inline long batch_for(long n) { return std::clamp(n / 8, 1L, 256L); }
// Spare (unregistered) eventfds for a pattern: a multiple of the batch.
inline long spare_for(long n, Pattern p) {
  const long b = batch_for(n);
  return std::max(b, std::min(n, p == Pattern::kSample ? kSampleSpare : kAllSpare) / b * b);
}

// What a run measured, for the summary printed after all benchmarks: the last run of
// each benchmark is the one Google Benchmark reports.
struct Results {
  std::map<std::tuple<std::string, Pattern, Op, long>, double> rate;  // (side, pattern, op, N) -> ops/s
  std::map<std::pair<std::string, long>, std::string> setup;          // (side, N) -> how the world was built
  // Memory per registration, model.
  bool model_mem = false;
  long mem_adds = 0;
  double sizeof_epi = 0, sizeof_pwq = 0, sizeof_head = 0;
  double malloc_bytes = 0;  // mallinfo2().uordblks delta / adds
  double new_bytes = 0;     // operator new bytes / adds
  double new_calls = 0;     // operator new calls / adds
  // Memory per registration, kernel: growth of the slab caches epoll allocates from.
  bool kernel_mem = false;
  long kernel_mem_adds = 0;
  double kernel_epi = 0, kernel_pwq = 0, kernel_head = 0;  // bytes / adds, per cache
  std::string kernel_release;
};
Results& results();

using Clock = std::chrono::steady_clock;
inline double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// The roles of the eventfds of a world, as indexes into their creation order: `reg` the N
// registered ones, `spare` the others, both in one fixed random order.
struct Roles {
  std::vector<long> reg, spare;
};
inline Roles deal(long total, long n) {
  std::vector<long> v(static_cast<size_t>(total));
  for (long i = 0; i < total; ++i) v[static_cast<size_t>(i)] = i;
  std::mt19937_64 rng(0x5eed);
  std::shuffle(v.begin(), v.end(), rng);
  Roles r;
  r.reg.assign(v.begin(), v.begin() + n);
  r.spare.assign(v.begin() + n, v.end());
  return r;
}

// The fds a benchmark's ops cycle through.
struct Cursor {
  std::vector<int> reg;    // registered idle fds
  std::vector<int> spare;  // unregistered fds
  size_t reg_pos = 0, spare_pos = 0;
  bool mod_alt = false;
  // The next `b` fds of v, cycling.
  static const int* next(const std::vector<int>& v, size_t& pos, size_t b) {
    if (pos + b > v.size()) pos = 0;
    const int* p = v.data() + pos;
    pos += b;
    return p;
  }
};
// The first `nreg` registered and `nspare` spare fds of the roles (fd_of: index -> fd).
inline Cursor make_cursor(const Roles& r, const std::vector<int>& fd_of, long nreg, long nspare) {
  Cursor c;
  for (long i = 0; i < std::min<long>(nreg, static_cast<long>(r.reg.size())); ++i)
    c.reg.push_back(fd_of[static_cast<size_t>(r.reg[static_cast<size_t>(i)])]);
  for (long i = 0; i < std::min<long>(nspare, static_cast<long>(r.spare.size())); ++i)
    c.spare.push_back(fd_of[static_cast<size_t>(r.spare[static_cast<size_t>(i)])]);
  return c;
}

// A world: one epoll holding N idle registrations (eventfds with count 0, EPOLLIN), one
// more eventfd with count 1 registered level-triggered (the one ready item), and spare
// eventfds not registered. It provides add/mod/del(fd) and wait1(), each true on success.
//
// The timed body shared by both sides. Manual time: each iteration times one batch of
// batch_for(N) ops with steady_clock; the undo of ADD and DEL (DEL, resp. re-ADD, of the
// same fds) runs between batches, untimed, so that N stays N. items_per_second is total
// ops / total batch time, as Google Benchmark computes it; the counter ns/op, and the
// summary, use the median batch instead: the machine is shared (2 cores), and a batch
// during which this process was preempted would otherwise count the other process's time.
template <class World>
void run_ops(benchmark::State& state, World& w, Cursor& c, Op op, const char* side, Pattern pattern, long n) {
  const size_t b = static_cast<size_t>(batch_for(n));
  long ops = 0;
  std::vector<double> batch_s;
  bool ok = true;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    double dt = 0;
    switch (op) {
      case Op::kAdd: {
        const int* fds = Cursor::next(c.spare, c.spare_pos, b);
        for (size_t i = 0; i < b; ++i) ok &= w.add(fds[i]);
        dt = seconds_since(t0);
        for (size_t i = 0; i < b; ++i) ok &= w.del(fds[i]);
        break;
      }
      case Op::kDel: {
        const int* fds = Cursor::next(c.reg, c.reg_pos, b);
        for (size_t i = 0; i < b; ++i) ok &= w.del(fds[i]);
        dt = seconds_since(t0);
        for (size_t i = 0; i < b; ++i) ok &= w.add(fds[i]);
        break;
      }
      case Op::kMod: {
        const int* fds = Cursor::next(c.reg, c.reg_pos, b);
        c.mod_alt = !c.mod_alt;
        for (size_t i = 0; i < b; ++i) ok &= w.mod(fds[i], c.mod_alt);
        dt = seconds_since(t0);
        break;
      }
      case Op::kWait: {
        for (size_t i = 0; i < b; ++i) ok &= w.wait1();
        dt = seconds_since(t0);
        break;
      }
    }
    state.SetIterationTime(dt);
    batch_s.push_back(dt);
    ops += static_cast<long>(b);
    if (!ok) {
      state.SkipWithError("a call failed");
      break;
    }
  }
  state.SetItemsProcessed(ops);
  if (!ok || batch_s.empty()) return;
  auto mid = batch_s.begin() + static_cast<long>(batch_s.size() / 2);
  std::nth_element(batch_s.begin(), mid, batch_s.end());
  const double ns_op = *mid * 1e9 / static_cast<double>(b);
  state.counters["ns/op"] = ns_op;
  results().rate[{side, pattern, op, n}] = 1e9 / ns_op;
}

inline std::string bench_name(const char* side, Op op, long n, Pattern p) {
  std::string s = std::string(side) + "/" + op_name(op) + "/N:" + std::to_string(n);
  if (op != Op::kWait) s += std::string("/") + pattern_name(p);
  return s;
}

// kernel_bench.cpp
void register_kernel_benchmark(Op op, long n);
void register_kernel_memory_benchmark(long adds);
void release_kernel_world();
// In a holder process (kernel_bench.cpp) serves and exits; else returns false.
bool run_fd_holder_if_asked(int argc, char** argv);

}  // namespace eo_bench
