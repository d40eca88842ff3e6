// The herd lab's metrics, computed the same way from either executor's Run.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/herd.h"

namespace eo::herd {

// Gini coefficient of a distribution (0: perfectly even, (n-1)/n: one takes all); 0 for
// an empty or all-zero one.
double gini(const std::vector<int64_t>& x);
// The nearest-rank percentile q (0 < q <= 100) of the values; nullopt if there are none.
std::optional<int64_t> percentile(std::vector<int64_t> values, double q);
// max/min of the values; nullopt if the minimum is 0 (infinite) or there are none.
std::optional<double> max_min_ratio(const std::vector<int64_t>& x);
// Wasted wakeups of one worker: woken and asleep again inside the kernel (wakeups - returns),
// plus returns that found nothing (empty).
int64_t wasted(int64_t wakeups, int64_t returns, int64_t empty);

struct Summary {
  int64_t events = 0, consumed = 0;
  int64_t wakeups = 0, returns = 0, wasted = 0;
  double wakeups_per_event = 0, returns_per_event = 0, wasted_per_event = 0;
  std::vector<double> share;  // per worker: its part of the consumed events
  std::optional<double> max_min;
  double gini = 0;
  std::optional<int64_t> p50, p90, p99, pmax;  // latency, ns
  std::string handlers;  // the first events' handlers: "2,1,0,2,1,0"
};

Summary summarize(const Run& r, size_t max_handlers = 32);

}  // namespace eo::herd
