// The verdict on one generated program: does the model differ from the kernel, and if the
// runs differ, is it one of the named tolerances? Shared by `fuzz` and its tests, so that
// both judge exactly alike.
#pragma once
#include <optional>
#include <string>

#include "common/executor.h"
#include "common/program.h"
#include "oracle/diff.h"
#include "oracle/schedules.h"

namespace eo {

struct Judgement {
  enum class Verdict {
    kSame,                    // no divergence
    kKernelNondeterministic,  // the kernel did not repeat itself on the prefix up to the divergent step
    kWakePointSchedule,       // the model's enumerated schedules (a wakee run at a wake point) give the kernel's run
    kOrderSchedule,           // another order of the tasks woken together (a schedule seed) gives it
    kDivergence,              // none of these: a model bug (or a missing rule)
  };
  Verdict verdict = Verdict::kSame;
  Program judged;                   // the program judged: cut after the divergent step (the racy suffix removed)
  std::optional<Divergence> d;      // kDivergence: where, in `judged`
  std::optional<ScheduleMatch> match;  // the schedule verdicts: which one
  bool cut = false;                 // `judged` is shorter than the program generated
};

// The name of a tolerance as the report prints it ("" for kSame and kDivergence).
const char* tolerance_name(Judgement::Verdict v);

// The steps up to and including `last` (generated programs have no resume lines: a call
// still pending at the end is reported as still blocked, as in any generated program).
Program prefix(const Program& p, int last);

// Runs `p` on both executors. On a divergence at step i: the program is cut after step i,
// run again on both (the model is deterministic; the kernel's runs of the steps after i
// cannot change steps up to i), the kernel's prefix run repeated three more times (a race
// before or at i makes it kernel nondeterminism), then the model's other schedules are
// tried on the prefix. Only what is left is a divergence.
Judgement judge_program(const Program& p, Executor& model, Executor& kernel, const ScheduleSearch& schedules);
// The same when both runs of `p` were already made.
Judgement judge_runs(const Program& p, const RunResult& m, const RunResult& k, Executor& model, Executor& kernel,
                     const ScheduleSearch& schedules);

}  // namespace eo
