// Reports of a check: a human table with the first divergent step of each failing trace,
// JSON for programs, KTAP for kernel CI systems (Documentation/dev-tools/ktap.rst: names
// percent-encoded where KTAP forbids a byte).
#pragma once
#include <ostream>
#include <string>
#include <vector>

#include "model/coverage.h"
#include "oracle/runner.h"

namespace eo {

struct ReportOptions {
  bool color = false;
  std::vector<std::string> executors;  // names, in column order
  std::vector<std::string> versions;   // their versions
};

void report_human(std::ostream& os, const std::vector<TraceOutcome>& traces, const ReportOptions& opt);
// `coverage` (optional): the model's rule counts, put in the JSON object as "coverage".
void report_json(std::ostream& os, const std::vector<TraceOutcome>& traces, const ReportOptions& opt,
                 const model::RuleCoverage* coverage = nullptr);
void report_ktap(std::ostream& os, const std::vector<TraceOutcome>& traces, const ReportOptions& opt);

// `run`: every step with the written result and each executor's, side by side.
void report_steps(std::ostream& os, const TraceOutcome& t, const ReportOptions& opt, bool with_explain);

// `explain`: each step, the model's result, and what happened inside the model.
void report_explain(std::ostream& os, const TraceOutcome& t, const ReportOptions& opt);

// What an executor returned for a step as a trace would write it: the call's own result,
// or for a resume line the result of that task's pending call.
std::string observed_text(const Program& p, const ExecutorReport& r, int step);
// The written result of a step ("" when the step has none).
std::string written_text(const Program& p, int step);

}  // namespace eo
