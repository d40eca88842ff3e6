// Running traces on executors and checking them: the shared engine of check, run, record
// and explain.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "common/executor.h"
#include "common/program.h"
#include "oracle/check.h"

namespace eo {

struct TraceOutcome {
  std::string path;
  std::string shown;               // path as reported (relative to the corpus)
  std::optional<Program> program;  // empty when the file could not be read or parsed
  std::string input_error;         // "file:line:col: what was expected"
  std::vector<ExecutorReport> reports;  // one per executor, in the order given
  std::vector<Mismatch> cross;          // executors disagreeing on unchecked steps
  bool bad_input() const { return !program.has_value(); }
  bool diverged() const;           // a FAIL/ERROR on some executor, or a cross mismatch
  bool all_skipped() const;        // no executor ran it (@kernel or a limit)
  bool limited() const;            // an executor did not run it: beyond its limits
};

// "6.18.44-fc-v657" -> 6, 18, 44. False if it does not start with a version.
bool parse_version(const std::string& text, int* major, int* minor, int* patch);

// Parses `text` (read from `path`) and runs it on every executor. `outside_range`: also on
// executors whose version is outside the trace's @kernel (`kernels` runs them forced).
TraceOutcome run_trace_text(const std::string& path, const std::string& text, const std::vector<Executor*>& executors,
                            bool outside_range = false);
TraceOutcome run_trace_file(const std::string& path, const std::vector<Executor*>& executors);

}  // namespace eo
