#include "schedules.h"

namespace eo {

std::optional<ScheduleMatch> find_model_schedule(model::ModelExecutor& m, const Program& p,
                                                 const std::function<bool(const RunResult&)>& accept) {
  std::optional<ScheduleMatch> found;
  m.for_each_schedule(p, kScheduleLimit, [&](const RunResult& r, int schedule, const std::vector<model::ModelExecutor::WakeeRun>& ran) {
    if (schedule == 0 || !accept(r)) return false;  // schedule 0 is the default run, already tried
    found = ScheduleMatch{schedule, "schedule " + std::to_string(schedule) + ": " + model::ModelExecutor::describe(ran), {}, r};
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

}  // namespace eo
