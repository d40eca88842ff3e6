// The replacement operator new/delete live in their own translation unit: inlined next to
// a new-expression, a delete that calls free() trips g++'s -Wmismatched-new-delete.
#include "alloc_count.h"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<bool> g_on{false};
std::atomic<long> g_bytes{0};
std::atomic<long> g_calls{0};
}  // namespace

void* operator new(std::size_t n) {
  if (g_on.load(std::memory_order_relaxed)) {
    g_bytes.fetch_add(static_cast<long>(n), std::memory_order_relaxed);
    g_calls.fetch_add(1, std::memory_order_relaxed);
  }
  if (n == 0) n = 1;
  for (;;) {
    if (void* p = std::malloc(n)) return p;
    std::new_handler h = std::get_new_handler();
    if (!h) throw std::bad_alloc();
    h();
  }
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace eo_bench {

void alloc_count_start() {
  g_bytes = 0;
  g_calls = 0;
  g_on = true;
}
void alloc_count_stop() { g_on = false; }
long alloc_count_bytes() { return g_bytes.load(); }
long alloc_count_calls() { return g_calls.load(); }

}  // namespace eo_bench
