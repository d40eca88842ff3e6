// `fuzz`: the differential search. RapidCheck generates traces (fuzz_gen.h), each runs on
// the model and on the kernel, and the first step where they differ fails the property;
// RapidCheck then shrinks the case to a minimal trace, printed ready for traces/.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <string>

#include "common/executor.h"
#include "model/coverage.h"
#include "oracle/schedules.h"

namespace eo {

struct FuzzOptions {
  double seconds = 0;             // stop after this long (0: not bounded by time)
  long cases = 0;                 // stop after this many cases (0: not bounded by count)
  std::optional<uint64_t> seed;   // first batch's seed (default: random, printed)
  int batch = 100;                // cases per RapidCheck run; batch i uses seed + i
  int max_size = 100;             // RapidCheck's maximum size (ops per case grow with it)
  std::string out_dir;            // where shrunk divergences are written ("" = nowhere);
                                  // the CLI checks it up front (prepare_output_dir)
  bool coverage = false;          // print the model's rule coverage at the end
  bool progress = true;           // live progress line on stderr
  bool stop_at_first = false;     // a run bounded by --seconds stops at its first divergence too
};

struct FuzzStats {
  long cases = 0;
  long steps = 0;
  long divergences = 0;        // shrunk divergences found (one per failing batch)
  // Every tolerance that applied (fuzz_judge.h tolerance_name), and how often: the kernel
  // not repeating itself on the prefix, a model schedule by enumeration or by order seed.
  std::map<std::string, long> tolerances;
  long suffix_cut = 0;          // divergent cases judged on the prefix up to the divergent step
  std::map<std::string, long> schedule_sites;  // the wake points wakees ran at (the wake-point tolerance), and how often
  double seconds = 0;
  double kernel_seconds = 0;   // spent in the kernel runs of the cases (not shrinking)
};

// Runs the search. `coverage` (optional) must be the model executor's observer. Exit
// status: 0 no divergence, 1 a divergence was found, 2 one could not be written to out_dir.
// `schedules` (optional, oracle/schedules.h) searches the model's other schedules: a
// divergence is allowed if one whole model run reproduces the kernel's, because real CPUs
// run woken tasks in parallel (another order, or a wakee at once at a wake point).
int cmd_fuzz(const FuzzOptions& opt, Executor& model, Executor& kernel, const model::RuleCoverage* coverage,
             std::ostream& out, std::ostream& err, FuzzStats* stats = nullptr, const ScheduleSearch& schedules = {});

// The coverage table: every rule with its count, unreached ones last.
void print_coverage(std::ostream& os, const model::RuleCoverage& cov, bool color);

}  // namespace eo
