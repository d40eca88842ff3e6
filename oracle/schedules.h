// The model's other schedules: when its default run (every wakee after its waker, woken
// tasks in wake order) does not give what is expected, the runs it also allows on the
// profile's CPUs (model/sched.h Scheduler::wake_point; notes/cpu_wake_points.md). A run is
// accepted only whole, as the model produced it: no comparison is loosened.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/executor.h"
#include "common/program.h"

namespace eo {

struct ScheduleMatch {
  int schedule = 0;  // the enumerated schedule's number, or 0 for a seed's run
  std::string how;   // "schedule 1: t1 ran at unix_release_sock after sk_state_change"
  std::vector<std::string> sites;  // the wake points where a wakee ran, one per wakee run there
  RunResult run;
};

// How far the search goes: the enumerated wake-point schedules, then the order seeds.
inline constexpr int kScheduleLimit = 64;
inline constexpr uint64_t kScheduleSeeds = 16;

// The first model run other than the default one that `accept` takes: the enumerated
// schedules 1.. (ModelExecutor::for_each_schedule, at most kScheduleLimit runs in all),
// then seeds 1..kScheduleSeeds (random orders and wake-point decisions). A template over
// the model's executor: the tests' planted-bug model is the same code in another namespace.
template <class ModelExecutor>
std::optional<ScheduleMatch> find_model_schedule(ModelExecutor& m, const Program& p,
                                                 const std::function<bool(const RunResult&)>& accept) {
  std::optional<ScheduleMatch> found;
  m.for_each_schedule(p, kScheduleLimit, [&](const RunResult& r, int schedule, const auto& ran) {
    if (schedule == 0 || !accept(r)) return false;  // schedule 0 is the default run, already tried
    found = ScheduleMatch{schedule, "schedule " + std::to_string(schedule) + ": " + ModelExecutor::describe(ran), {}, r};
    for (const auto& w : ran) found->sites.push_back(w.site);
    return true;
  });
  if (found) return found;
  for (uint64_t seed = 1; seed <= kScheduleSeeds; ++seed) {
    RunResult r = m.run_schedule(p, seed);
    if (accept(r)) return ScheduleMatch{0, "seed " + std::to_string(seed) + ": another order of woken tasks", {}, std::move(r)};
  }
  return std::nullopt;
}

// The same as a function of the program, for fuzz and tests.
using ScheduleSearch = std::function<std::optional<ScheduleMatch>(const Program&, const std::function<bool(const RunResult&)>&)>;
template <class ModelExecutor>
ScheduleSearch schedule_search(ModelExecutor& m) {
  return [&m](const Program& p, const std::function<bool(const RunResult&)>& accept) { return find_model_schedule(m, p, accept); };
}

}  // namespace eo
