// `bench`: the corpus replayed on every executor in one run, time per step side by side.
#pragma once
#include <ostream>
#include <string>
#include <vector>

#include "common/executor.h"

namespace eo {

struct BenchRow {
  std::string trace;
  int steps = 0;                    // steps run per replay
  std::vector<double> us_per_step;  // per executor, mean over the replays
};

// Replays each trace `repeat` times on each executor (skipping traces outside an
// executor's @kernel range for all of them). A trace whose run stops (a stuck call) or that
// is beyond an executor's limit is reported and left out of the timings. Returns 2 on bad
// input, 1 when a run stopped, 3 when a trace was beyond a limit, else 0.
int cmd_bench(const std::vector<std::string>& files, const std::string& corpus, const std::vector<Executor*>& executors,
              int repeat, std::ostream& out, std::ostream& err);

}  // namespace eo
