#include "oracle/herd_metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace eo::herd {

// G = sum_i (2i - n - 1) x_(i) / (n sum x), with x sorted ascending and i from 1: the mean
// absolute difference over all pairs divided by twice the mean.
double gini(const std::vector<int64_t>& x) {
  const size_t n = x.size();
  if (n == 0) return 0;
  std::vector<int64_t> s = x;
  std::sort(s.begin(), s.end());
  long double total = 0, weighted = 0;
  for (size_t i = 0; i < n; ++i) {
    total += s[i];
    weighted += (2.0L * static_cast<long double>(i + 1) - static_cast<long double>(n) - 1) * s[i];
  }
  return total == 0 ? 0 : static_cast<double>(weighted / (static_cast<long double>(n) * total));
}

std::optional<int64_t> percentile(std::vector<int64_t> values, double q) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  const size_t rank = static_cast<size_t>(std::ceil(q / 100.0 * static_cast<double>(values.size())));
  return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

std::optional<double> max_min_ratio(const std::vector<int64_t>& x) {
  if (x.empty()) return std::nullopt;
  const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
  if (*lo <= 0) return std::nullopt;
  return static_cast<double>(*hi) / static_cast<double>(*lo);
}

int64_t wasted(int64_t wakeups, int64_t returns, int64_t empty) { return std::max<int64_t>(0, wakeups - returns) + empty; }

Summary summarize(const Run& r, size_t max_handlers) {
  Summary s;
  s.events = static_cast<int64_t>(r.handler.size());
  s.consumed = std::accumulate(r.handled.begin(), r.handled.end(), int64_t{0});
  for (size_t i = 0; i < r.handled.size(); ++i) {
    s.wakeups += r.wakeups[i];
    s.returns += r.returns[i];
    s.wasted += wasted(r.wakeups[i], r.returns[i], r.empty[i]);
  }
  if (s.events > 0) {
    s.wakeups_per_event = static_cast<double>(s.wakeups) / static_cast<double>(s.events);
    s.returns_per_event = static_cast<double>(s.returns) / static_cast<double>(s.events);
    s.wasted_per_event = static_cast<double>(s.wasted) / static_cast<double>(s.events);
  }
  for (int64_t h : r.handled) s.share.push_back(s.consumed ? static_cast<double>(h) / static_cast<double>(s.consumed) : 0);
  s.max_min = max_min_ratio(r.handled);
  s.gini = gini(r.handled);
  std::vector<int64_t> lat;
  for (int64_t l : r.latency_ns)
    if (l >= 0) lat.push_back(l);
  s.p50 = percentile(lat, 50);
  s.p90 = percentile(lat, 90);
  s.p99 = percentile(lat, 99);
  s.pmax = percentile(lat, 100);
  for (size_t e = 0; e < r.handler.size() && e < max_handlers; ++e)
    s.handlers += (e ? "," : "") + (r.handler[e] < 0 ? std::string("-") : std::to_string(r.handler[e]));
  if (r.handler.size() > max_handlers) s.handlers += ",...";
  return s;
}

}  // namespace eo::herd
