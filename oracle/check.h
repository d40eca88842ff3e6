// The checker: compares what executors observed with the results a trace writes, and
// executors with each other (docs/LANGUAGE.md "What a run reports").
#pragma once
#include <string>
#include <vector>

#include "common/executor.h"
#include "common/program.h"

namespace eo {

// One step where an executor differs from the written result, or from the other executor.
struct Mismatch {
  enum class Kind {
    kResult,         // a result differs from the written one
    kNotBlocked,     // a call written with `...` returned
    kStuck,          // a call did not return (watchdog)
    kUnwrittenReturn,  // a pending call returned but no resume line says so
    kStillBlocked,   // a resume line's call has not returned
    kReturned,       // a `... blocked` line's call has returned
    kExecutors,      // two executors disagree on an unchecked step
  };
  Kind kind = Kind::kResult;
  int step = -1;          // index into Program::steps of the step it concerns
  Pos pos;                // where to point the reader
  std::string expected;   // the written result ("" when comparing executors)
  std::string actual;     // what the executor did
  std::string message;    // one line saying what is wrong
};

// kLimit: not run on that executor, the trace is beyond one of its limits (Executor::limit).
enum class Verdict { kPass, kFail, kSkip, kError, kLimit };
const char* verdict_name(Verdict v);

// One trace on one executor.
struct ExecutorReport {
  std::string executor;   // "model", "kernel"
  std::string version;
  Verdict verdict = Verdict::kPass;
  std::string skip_reason;  // kSkip, kLimit: why it was not run
  std::vector<Mismatch> mismatches;  // against the written results, in step order
  RunResult run;
  // The model's run that matched, when its default run did not (oracle/schedules.h):
  // "schedule 1: t1 ran at ..."; empty for the default run and for kernels.
  std::string schedule;
  int first_mismatch_step() const { return mismatches.empty() ? -1 : mismatches.front().step; }
};

// Matches one run against the program's written results.
std::vector<Mismatch> check_run(const Program& p, const RunResult& r);

// Steps whose results the trace leaves unchecked but where two executors disagree.
std::vector<Mismatch> compare_runs(const Program& p, const RunResult& a, const std::string& a_name,
                                   const RunResult& b, const std::string& b_name);

// Whether an outcome satisfies one written alternative.
bool outcome_matches(const CallArgs& call, const Outcome& o, const ResultAlt& alt);

}  // namespace eo
