// Timing one call again and again for `herd cost`: each call timed on its own
// (CLOCK_MONOTONIC), until the point's time budget is spent and the minimum count reached.
#pragma once
#include <algorithm>
#include <chrono>
#include <vector>

namespace eo {

// Calls f() (which returns false to stop with an error) after a few untimed warm-up calls;
// the median ns per call, or a negative number if f failed.
template <typename F>
double median_ns_per_call(F&& f, double seconds, int min_calls, long* calls) {
  using clock = std::chrono::steady_clock;
  for (int i = 0; i < 5; ++i) {
    if (!f()) return -1;
  }
  std::vector<double> ns;
  const auto end = clock::now() + std::chrono::duration<double>(seconds);
  while (static_cast<int>(ns.size()) < min_calls || (clock::now() < end && ns.size() < 1000000)) {
    const auto t0 = clock::now();
    const bool ok = f();
    const auto t1 = clock::now();
    if (!ok) return -1;
    ns.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count());
  }
  *calls = static_cast<long>(ns.size());
  std::nth_element(ns.begin(), ns.begin() + static_cast<long>(ns.size() / 2), ns.end());
  return ns[ns.size() / 2];
}

}  // namespace eo
