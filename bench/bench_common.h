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

// Ops per timed batch: small enough that N stays N (ADD/DEL move it by at most N/8), large
// enough that the two clock reads around a batch cost nothing per op.
inline long batch_for(long n) { return std::clamp(n / 8, 1L, 256L); }
// Unregistered eventfds the ADD benchmark cycles through: many, so that the inserts land
// on cold parts of the tree as they would in a server, not on the same few hot paths.
inline long spare_for(long n) {
  const long b = batch_for(n);
  return std::max(b, std::min(n, 65536L) / b * b);
}

// What a run measured, for the summary printed after all benchmarks: the last run of
// each benchmark is the one Google Benchmark reports.
struct Results {
  std::map<std::tuple<std::string, Op, long>, double> rate;  // (side, op, N) -> ops/s
  std::map<std::pair<std::string, long>, double> setup_s;    // (side, N) -> seconds to build
  // Memory per registration.
  bool model_mem = false;
  long mem_adds = 0;
  double sizeof_epi = 0, sizeof_pwq = 0, sizeof_head = 0;
  double malloc_bytes = 0;  // mallinfo2().uordblks delta / adds
  double new_bytes = 0;     // operator new bytes / adds
  double new_calls = 0;     // operator new calls / adds
  bool kernel_mem = false;
  double kernel_slab_bytes = 0;   // /proc/meminfo Slab delta / adds
  double kernel_epi_objsize = 0;  // /proc/slabinfo eventpoll_epi objsize
  double kernel_epi_bytes = 0;    // eventpoll_epi (active objs * objsize) delta / adds
  std::string kernel_release;
};
Results& results();

using Clock = std::chrono::steady_clock;
inline double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// A world: one epoll holding N idle registrations (eventfds with count 0, EPOLLIN), one
// more eventfd with count 1 registered level-triggered (the one ready item), and spare
// eventfds not registered. World provides add/mod/del(fd) and wait1() -> bool (success),
// and the cursors below.
struct Cursor {
  std::vector<int> reg;    // registered idle fds, random order
  std::vector<int> spare;  // unregistered fds, random order
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

// Splits fds [0, total) (indexes into `fds`) into n registered and the rest spare, both in
// a fixed random order.
inline void deal(const std::vector<int>& fds, long n, Cursor& c) {
  std::vector<int> v = fds;
  std::mt19937_64 rng(0x5eed);
  std::shuffle(v.begin(), v.end(), rng);
  c.reg.assign(v.begin(), v.begin() + n);
  c.spare.assign(v.begin() + n, v.end());
}

// The timed body shared by both sides. Manual time: each iteration times one batch of
// `batch_for(N)` ops with steady_clock; ADD's and DEL's undo (DEL resp. re-ADD of the
// same fds) runs between batches, untimed, so N stays N.
template <class World>
void run_ops(benchmark::State& state, World& w, Op op, const char* side, long n) {
  const size_t b = static_cast<size_t>(batch_for(n));
  Cursor& c = w.cursor;
  long ops = 0;
  double secs = 0;
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
    secs += dt;
    ops += static_cast<long>(b);
    if (!ok) {
      state.SkipWithError("a call failed (see the world's checks)");
      break;
    }
  }
  state.SetItemsProcessed(ops);
  state.counters["ns/op"] = secs > 0 ? secs * 1e9 / static_cast<double>(ops) : 0;
  state.SetLabel("batch=" + std::to_string(b));
  if (ok && secs > 0) results().rate[{side, op, n}] = static_cast<double>(ops) / secs;
}

// kernel_bench.cpp
void register_kernel_benchmark(Op op, long n);
void register_kernel_memory_benchmark(long adds);
void release_kernel_world();

}  // namespace eo_bench
