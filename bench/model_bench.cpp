// bench_model: the model's epoll at scale, and the same cycle on the real kernel.
//  1. EPOLL_CTL_ADD / MOD / DEL per second on an epoll already holding N registrations
//     (N = 1k, 100k, 1M distinct eventfds);
//  2. epoll_wait(maxevents 1, timeout 0) with 1 ready level-triggered eventfd among N idle;
//  3. memory per registration: sizeof(Epitem) + sizeof(EppollEntry) (+ the EpitemsHead of
//     the watched file), and the real heap growth of 100k ADDs (mallinfo2().uordblks
//     delta; a counting global operator new as cross-check), against the kernel's
//     EP_ITEM_COST of 184 bytes;
//  4. kernel/... : the same benchmarks on this machine's kernel (kernel_bench.cpp), N = 1k
//     and 100k, and the kernel's slab growth per registration; a summary after the run
//     prints the memory table and the model/kernel ratios.
// Worlds (the epoll with its N registrations) are built once per N, outside the timing,
// and shared by the benchmarks of that N; benchmarks are registered grouped by N. Which
// registrations the ops touch (sample:16k, sample:all) is explained in bench_common.h.
// The summary goes to stdout with the console format, else to stderr.
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "alloc_count.h"
#include "bench_common.h"
#include "model/eventfd.h"
#include "model/eventpoll.h"
#include "model/kernel.h"
#include "model/uapi.h"

namespace eo_bench {

Results& results() {
  static Results r;
  return r;
}

namespace {

// Kernel's EP_ITEM_COST on 6.x x86-64: sizeof(struct epitem) 120 + sizeof(struct eppoll_entry) 64.
constexpr double kEpItemCost = 184;

model::KernelProfile with_nofile(long n) {
  model::KernelProfile p;
  p.rlimit_nofile = n;
  return p;
}

struct ModelWorld {
  explicit ModelWorld(long n) : k(with_nofile(n + spare_for(n, Pattern::kAll) + 16)), t(k.task("main")) {
    const auto t0 = Clock::now();
    ep = static_cast<int>(k.epoll_create1(t, 0));
    if (ep < 0) {
      error = "epoll_create1: " + std::to_string(ep);
      return;
    }
    const long total = n + spare_for(n, Pattern::kAll);
    std::vector<int> fd_of;
    fd_of.reserve(static_cast<size_t>(total));
    for (long i = 0; i < total; ++i) {
      const long fd = k.eventfd2(t, 0, model::EFD_NONBLOCK);
      if (fd < 0) {
        error = "eventfd2: " + std::to_string(fd);
        return;
      }
      fd_of.push_back(static_cast<int>(fd));
    }
    const Roles roles = deal(total, n);
    std::vector<long> in_order = roles.reg;  // registered in creation order: a quick build
    std::sort(in_order.begin(), in_order.end());
    for (long idx : in_order) {
      if (!add(fd_of[static_cast<size_t>(idx)])) {
        error = "epoll_ctl ADD failed";
        return;
      }
    }
    ready = static_cast<int>(k.eventfd2(t, 1, model::EFD_NONBLOCK));
    if (ready < 0 || !add(ready)) {
      error = "ready eventfd failed";
      return;
    }
    sample = make_cursor(roles, fd_of, kSampleReg, spare_for(n, Pattern::kSample));
    all = make_cursor(roles, fd_of, n, spare_for(n, Pattern::kAll));
    char how[64];
    std::snprintf(how, sizeof how, "%.3f s (%ld eventfds)", seconds_since(t0), total + 1);
    results().setup[{"model", n}] = how;
  }

  bool add(int fd) {
    const model::EpollEvent ev{model::EPOLLIN, static_cast<uint64_t>(fd)};
    return k.epoll_ctl(t, ep, model::EPOLL_CTL_ADD, fd, &ev) == 0;
  }
  bool mod(int fd, bool alt) {
    const model::EpollEvent ev{alt ? model::EPOLLIN | model::EPOLLET : model::EPOLLIN,
                               static_cast<uint64_t>(fd) | (alt ? 1ULL << 32 : 0)};
    return k.epoll_ctl(t, ep, model::EPOLL_CTL_MOD, fd, &ev) == 0;
  }
  bool del(int fd) { return k.epoll_ctl(t, ep, model::EPOLL_CTL_DEL, fd, nullptr) == 0; }
  bool wait1() {
    return k.epoll_wait(t, ep, 1, 0) == 1 && t.events[0].data == static_cast<uint64_t>(ready);
  }

  model::Kernel k;
  model::Task& t;
  int ep = -1;
  int ready = -1;
  Cursor sample, all;
  std::string error;
};

std::unique_ptr<ModelWorld> g_world;
long g_world_n = -1;

ModelWorld& model_world(long n) {
  if (!g_world || g_world_n != n) {
    g_world.reset();
    g_world = std::make_unique<ModelWorld>(n);
    g_world_n = n;
  }
  return *g_world;
}

void release_model_world() {
  g_world.reset();
  g_world_n = -1;
}

void bm_model_ops(benchmark::State& state, Op op, long n, Pattern p) {
  ModelWorld& w = model_world(n);
  if (!w.error.empty()) {
    state.SkipWithError(w.error.c_str());
    return;
  }
  run_ops(state, w, p == Pattern::kSample ? w.sample : w.all, op, "model", p, n);
}

// Memory of `adds` registrations of idle eventfds into one fresh epoll (eventfds created
// first, one warm-up ADD first: the first ADD into a fresh epoll takes the full-check path).
void bm_model_memory(benchmark::State& state, long adds) {
  release_model_world();
  for (auto _ : state) {
    model::Kernel k(with_nofile(adds + 16));
    model::Task& t = k.task("main");
    const int ep = static_cast<int>(k.epoll_create1(t, 0));
    std::vector<int> fds;
    for (long i = 0; i <= adds; ++i) fds.push_back(static_cast<int>(k.eventfd2(t, 0, model::EFD_NONBLOCK)));
    auto add = [&](int fd) {
      const model::EpollEvent ev{model::EPOLLIN, static_cast<uint64_t>(fd)};
      return k.epoll_ctl(t, ep, model::EPOLL_CTL_ADD, fd, &ev) == 0;
    };
    if (ep < 0 || fds.back() < 0 || !add(fds.back())) {
      state.SkipWithError("setup failed");
      return;
    }
    bool ok = true;
    const struct mallinfo2 m0 = mallinfo2();
    alloc_count_start();
    const auto t0 = Clock::now();
    for (long i = 0; i < adds; ++i) ok &= add(fds[static_cast<size_t>(i)]);
    const double dt = seconds_since(t0);
    alloc_count_stop();
    const struct mallinfo2 m1 = mallinfo2();
    state.SetIterationTime(dt);
    if (!ok) {
      state.SkipWithError("epoll_ctl ADD failed");
      return;
    }
    Results& r = results();
    const double a = static_cast<double>(adds);
    r.model_mem = true;
    r.mem_adds = adds;
    r.sizeof_epi = sizeof(model::Epitem);
    r.sizeof_pwq = sizeof(model::EppollEntry);
    r.sizeof_head = sizeof(model::EpitemsHead);  // one per watched file; each file has 1 watcher here
    r.malloc_bytes = (static_cast<double>(m1.uordblks) - static_cast<double>(m0.uordblks)) / a;
    r.new_bytes = static_cast<double>(alloc_count_bytes()) / a;
    r.new_calls = static_cast<double>(alloc_count_calls()) / a;
    state.counters["sizeof(epi+pwq)"] = r.sizeof_epi + r.sizeof_pwq;
    state.counters["sizeof(+head)"] = r.sizeof_epi + r.sizeof_pwq + r.sizeof_head;
    state.counters["malloc_bytes/reg"] = r.malloc_bytes;
    state.counters["new_bytes/reg"] = r.new_bytes;
    state.counters["allocs/reg"] = r.new_calls;
    state.counters["malloc/EP_ITEM_COST"] = r.malloc_bytes / kEpItemCost;
  }
}

void register_model_benchmark(Op op, long n, Pattern p) {
  benchmark::RegisterBenchmark(bench_name("model", op, n, p).c_str(), bm_model_ops, op, n, p)
      ->UseManualTime()
      ->Unit(benchmark::kMicrosecond);
}

std::string fmt_ns(double rate) {
  if (rate <= 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", 1e9 / rate);
  return buf;
}

void print_summary(FILE* out) {
  const Results& r = results();
  std::fprintf(out, "\n== bench_model summary ==\n");
  auto row = [&](const std::string& what, double bytes) {
    std::fprintf(out, "  %-80s %8.1f %10.2f\n", what.c_str(), bytes, bytes / kEpItemCost);
  };
  if (r.model_mem || r.kernel_mem) {
    std::fprintf(out, "\nMemory per registration (ADDs of idle eventfds into one epoll)\n");
    std::fprintf(out, "  %-80s %8s %10s\n", "", "bytes", "/184");
    row("kernel EP_ITEM_COST: sizeof epitem 120 + eppoll_entry 64 (6.x x86-64)", kEpItemCost);
  }
  if (r.model_mem) {
    const double a = r.sizeof_epi + r.sizeof_pwq;
    row("model (a)  sizeof(Epitem) " + std::to_string(static_cast<int>(r.sizeof_epi)) + " + sizeof(EppollEntry) " +
            std::to_string(static_cast<int>(r.sizeof_pwq)),
        a);
    row("model (a') + sizeof(EpitemsHead) " + std::to_string(static_cast<int>(r.sizeof_head)) +
            " (one per watched file, 1 watcher each)",
        a + r.sizeof_head);
    row("model (b)  heap growth: mallinfo2().uordblks delta / " + std::to_string(r.mem_adds) + " ADDs",
        r.malloc_bytes);
    char calls[32];
    std::snprintf(calls, sizeof calls, "%.2f", r.new_calls);
    row(std::string("           cross-check: operator new bytes / ADDs (") + calls + " news per ADD)", r.new_bytes);
  }
  if (r.kernel_mem) {
    const double total = r.kernel_epi + r.kernel_pwq + r.kernel_head;
    char parts[96];
    std::snprintf(parts, sizeof parts, " (epi %.0f + pwq %.0f + ep_head %.0f)", r.kernel_epi, r.kernel_pwq,
                  r.kernel_head);
    row("kernel " + r.kernel_release + ": slab growth / " + std::to_string(r.kernel_mem_adds) + " ADDs" + parts,
        total);
  }
  std::fprintf(out, "\nThroughput, model vs kernel, ops on a random sample of 16k registrations and 2k spares\n");
  std::fprintf(out, "(ns per call, median batch; model/kernel = model time / kernel time)\n");
  std::fprintf(out, "  %-18s %8s %10s %10s %13s\n", "op", "N", "model ns", "kernel ns", "model/kernel");
  auto get = [&](const char* side, Pattern p, Op op, long n) {
    auto it = r.rate.find({side, p, op, n});
    return it == r.rate.end() ? 0.0 : it->second;
  };
  for (Op op : {Op::kAdd, Op::kMod, Op::kDel, Op::kWait}) {
    for (long n : {1000L, 100000L, 1000000L}) {
      const double m = get("model", Pattern::kSample, op, n), kr = get("kernel", Pattern::kSample, op, n);
      if (m <= 0 && kr <= 0) continue;
      char ratio[32] = "-";
      if (m > 0 && kr > 0) std::snprintf(ratio, sizeof ratio, "%.2f", kr / m);
      std::fprintf(out, "  %-18s %8ld %10s %10s %13s\n", op_name(op), n, fmt_ns(m).c_str(), fmt_ns(kr).c_str(), ratio);
    }
  }
  std::fprintf(out, "\nModel, ops on all N registrations and 64k spares (cache-cold tree paths)\n");
  std::fprintf(out, "(ns per call, median batch)\n");
  std::fprintf(out, "  %-18s %8s %10s %16s\n", "op", "N", "model ns", "vs sample:16k");
  for (Op op : {Op::kAdd, Op::kMod, Op::kDel}) {
    for (long n : {1000L, 100000L, 1000000L}) {
      const double m = get("model", Pattern::kAll, op, n), ms = get("model", Pattern::kSample, op, n);
      if (m <= 0) continue;
      char ratio[32] = "-";
      if (ms > 0) std::snprintf(ratio, sizeof ratio, "%.2fx", ms / m);
      std::fprintf(out, "  %-18s %8ld %10s %16s\n", op_name(op), n, fmt_ns(m).c_str(), ratio);
    }
  }
  if (!r.setup.empty()) {
    std::fprintf(out, "\nWorld setup (N eventfds + spares, N ADDs; untimed)\n");
    for (const auto& [key, how] : r.setup)
      std::fprintf(out, "  %-6s N=%-8ld %s\n", key.first.c_str(), key.second, how.c_str());
  }
}

}  // namespace
}  // namespace eo_bench

int main(int argc, char** argv) {
  using namespace eo_bench;
  run_fd_holder_if_asked(argc, argv);
  bool console = true;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--benchmark_format=", 19) == 0 && std::strcmp(argv[i] + 19, "console") != 0)
      console = false;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  // Memory first, before any world exists.
  benchmark::RegisterBenchmark("model/memory_per_registration/adds:100000", bm_model_memory, 100000L)
      ->UseManualTime()
      ->Iterations(1)
      ->Unit(benchmark::kMillisecond);
  register_kernel_memory_benchmark(100000);
  for (long n : {1000L, 100000L, 1000000L}) {
    for (Op op : {Op::kAdd, Op::kMod, Op::kDel, Op::kWait}) {
      register_model_benchmark(op, n, Pattern::kSample);
      if (n <= 100000) register_kernel_benchmark(op, n);
    }
    if (n > kSampleReg) {
      for (Op op : {Op::kAdd, Op::kMod, Op::kDel}) register_model_benchmark(op, n, Pattern::kAll);
    }
  }

  benchmark::RunSpecifiedBenchmarks();
  release_model_world();
  release_kernel_world();  // closes its fds, restores RLIMIT_NOFILE
  print_summary(console ? stdout : stderr);
  benchmark::Shutdown();
  return 0;
}
