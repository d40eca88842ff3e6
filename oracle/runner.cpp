#include "runner.h"

#include <cstdio>
#include <exception>

#include "model/executor.h"
#include "oracle/schedules.h"
#include "oracle/trace/parser.h"
#include "oracle/trace/trace_file.h"

namespace eo {

bool TraceOutcome::diverged() const {
  if (!cross.empty()) return true;
  for (const ExecutorReport& r : reports) {
    if (r.verdict == Verdict::kFail || r.verdict == Verdict::kError) return true;
  }
  return false;
}

bool TraceOutcome::all_skipped() const {
  for (const ExecutorReport& r : reports) {
    if (r.verdict != Verdict::kSkip && r.verdict != Verdict::kLimit) return false;
  }
  return !reports.empty();
}

bool TraceOutcome::limited() const {
  for (const ExecutorReport& r : reports) {
    if (r.verdict == Verdict::kLimit) return true;
  }
  return false;
}

bool parse_version(const std::string& text, int* major, int* minor, int* patch) {
  *major = *minor = *patch = 0;
  return std::sscanf(text.c_str(), "%d.%d.%d", major, minor, patch) >= 2;
}

TraceOutcome run_trace_text(const std::string& path, const std::string& text, const std::vector<Executor*>& executors,
                            bool outside_range) {
  TraceOutcome out;
  out.path = path;
  out.shown = path;
  ParseResult parsed = parse_trace(text, path);
  if (!parsed) {
    out.input_error = parsed.error().str();
    return out;
  }
  out.program = std::move(parsed).program();
  const Program& p = *out.program;
  for (Executor* ex : executors) {
    ExecutorReport rep;
    rep.executor = ex->name();
    rep.version = ex->version();
    int ma, mi, pa;
    if (!outside_range && parse_version(rep.version, &ma, &mi, &pa) && !p.kernel_matches(ma, mi, pa)) {
      rep.verdict = Verdict::kSkip;
      rep.skip_reason = rep.version + " is outside @kernel " + p.kernel_text;
      out.reports.push_back(std::move(rep));
      continue;
    }
    if (std::string why = ex->limit(p); !why.empty()) {
      rep.verdict = Verdict::kLimit;
      rep.skip_reason = why;
      out.reports.push_back(std::move(rep));
      continue;
    }
    try {
      rep.run = ex->run(p);
    } catch (const std::exception& e) {  // a bug of ours: this trace reports it, the others still run
      rep.run = RunResult{};
      rep.run.steps.resize(p.steps.size());
      rep.run.error = "internal error of the " + rep.executor + " executor: " + e.what();
      rep.verdict = Verdict::kError;
      out.reports.push_back(std::move(rep));
      continue;
    }
    rep.mismatches = check_run(p, rep.run);
    if (auto* m = dynamic_cast<model::ModelExecutor*>(ex); m && !rep.mismatches.empty()) {
      // Another schedule the model allows on these CPUs, if one whole run matches.
      const auto whole_match = [&](const RunResult& r) { return r.error.empty() && check_run(p, r).empty(); };
      if (auto found = find_model_schedule(*m, p, whole_match)) {
        rep.run = std::move(found->run);
        rep.mismatches.clear();
        rep.schedule = std::move(found->how);
      }
    }
    if (!rep.mismatches.empty()) rep.verdict = Verdict::kFail;
    else if (!rep.run.error.empty()) rep.verdict = Verdict::kError;
    out.reports.push_back(std::move(rep));
  }
  for (size_t i = 0; i < out.reports.size(); ++i) {
    for (size_t j = i + 1; j < out.reports.size(); ++j) {
      const ExecutorReport& a = out.reports[i];
      const ExecutorReport& b = out.reports[j];
      const auto ran = [](const ExecutorReport& r) { return r.verdict != Verdict::kSkip && r.verdict != Verdict::kLimit; };
      if (!ran(a) || !ran(b)) continue;
      auto m = compare_runs(p, a.run, a.executor, b.run, b.executor);
      out.cross.insert(out.cross.end(), m.begin(), m.end());
    }
  }
  return out;
}

TraceOutcome run_trace_file(const std::string& path, const std::vector<Executor*>& executors) {
  std::string text, error;
  if (!read_trace_file(path, &text, &error)) {
    TraceOutcome out;
    out.path = out.shown = path;
    out.input_error = path + ": " + error;
    return out;
  }
  return run_trace_text(path, text, executors);
}

}  // namespace eo
