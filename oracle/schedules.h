// The model's other schedules: when its default run (every wakee after its waker, woken
// tasks in wake order) does not give what is expected, the runs it also allows on the
// profile's CPUs (model/sched.h Scheduler::wake_point; notes/cpu_wake_points.md). A run is
// accepted only whole, as the model produced it: no comparison is loosened.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/executor.h"
#include "common/program.h"
#include "model/executor.h"

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
// then seeds 1..kScheduleSeeds (random orders and wake-point decisions).
std::optional<ScheduleMatch> find_model_schedule(model::ModelExecutor& m, const Program& p,
                                                 const std::function<bool(const RunResult&)>& accept);

// The same as a function of the program, for fuzz and tests.
using ScheduleSearch = std::function<std::optional<ScheduleMatch>(const Program&, const std::function<bool(const RunResult&)>&)>;
inline ScheduleSearch schedule_search(model::ModelExecutor& m) {
  return [&m](const Program& p, const std::function<bool(const RunResult&)>& accept) { return find_model_schedule(m, p, accept); };
}

}  // namespace eo
