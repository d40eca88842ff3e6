#include "record.h"

#include "oracle/check.h"
#include "oracle/output_file.h"
#include "oracle/runner.h"
#include "oracle/trace/parser.h"
#include "oracle/trace/printer.h"
#include "oracle/trace/trace_file.h"

namespace eo {

namespace {

bool is_resume(const Step& s) { return s.kind == Step::Kind::kResume || s.kind == Step::Kind::kResumeBlocked; }

// The written form of an outcome, or nothing when it cannot be written (stuck, blocked).
std::optional<ResultAlt> alt_of(const CallArgs& call, const Outcome& o) {
  const ResultShape shape = call_info(call).result;
  ResultAlt a;
  if (o.kind == Outcome::Kind::kError) {
    a.kind = ResultAlt::Kind::kError;
    a.value = o.ret;
  } else if (o.kind != Outcome::Kind::kValue) {
    return std::nullopt;
  } else if (names_bound(shape) > 0) {
    // A creating call written without names: its descriptors cannot be named afterwards,
    // so the result says only that it succeeded (a number would not parse).
    a.kind = ResultAlt::Kind::kAny;
  } else if (has_events(shape)) {
    a.kind = ResultAlt::Kind::kEvents;
    a.events = o.events;
  } else if (shape == ResultShape::kLenPrio) {
    a.kind = ResultAlt::Kind::kNumbers;
    a.numbers = o.numbers;
  } else {
    a.kind = ResultAlt::Kind::kValue;
    a.value = o.ret;
  }
  return a;
}

// Inserts a step at index `at`; having no source line, it is printed after step at-1.
void insert_step(Program& p, int at, Step s) {
  p.steps.insert(p.steps.begin() + at, std::move(s));
  for (Line& l : p.lines) {
    if (l.kind == Line::Kind::kStep && l.step >= at) ++l.step;
  }
}

}  // namespace

int fill_in_results(Program& p, const RunResult& run) {
  int added = 0;
  // Results of the calls themselves.
  for (size_t i = 0; i < p.steps.size() && i < run.steps.size(); ++i) {
    Step& s = p.steps[i];
    if (s.kind != Step::Kind::kCall || s.expect.checked()) continue;
    if (auto a = alt_of(s.call, run.steps[i].outcome)) {
      s.expect.alts.push_back(*a);  // print_trace reprints the changed step
      ++added;
    }
  }
  // Resume lines for pending calls that returned without one. Walk backwards so that
  // insertions do not move the steps still to visit.
  for (int i = static_cast<int>(std::min(p.steps.size(), run.steps.size())) - 1; i >= 0; --i) {
    const Step& s = p.steps[static_cast<size_t>(i)];
    if (is_resume(s)) continue;
    int end = i + 1;
    while (end < static_cast<int>(p.steps.size()) && is_resume(p.steps[static_cast<size_t>(end)])) ++end;
    for (const TaskReturn& ret : run.steps[static_cast<size_t>(i)].returned) {
      // A call that returned at once reports it on its own step; a pending call (`...`) that
      // did gets its resume line after it, as any other (else it would read as still pending).
      if (ret.step == i && s.kind != Step::Kind::kPendingCall) continue;
      bool written = false;
      for (int j = i + 1; j < end; ++j) written = written || p.steps[static_cast<size_t>(j)].resumes == ret.step;
      if (written) continue;
      // Steps before i do not move while walking backwards: ret.step still indexes its call.
      auto a = alt_of(p.steps[static_cast<size_t>(ret.step)].call, ret.outcome);
      if (!a) continue;
      Step r;
      r.kind = Step::Kind::kResume;
      r.task = ret.task;
      r.task_written = true;
      r.resumes = ret.step;
      r.call = blank_call(p.steps[static_cast<size_t>(ret.step)].call);
      r.expect.alts.push_back(*a);
      insert_step(p, end, std::move(r));
      ++added;
    }
  }
  link_resumes(p);  // the insertions moved the pending steps after them
  return added;
}

int cmd_record(const std::string& path, bool in_place, Executor& kernel, std::ostream& out, std::ostream& err) {
  if (in_place && path == "-") {
    err << "-: standard input cannot be rewritten in place (-i)\n";
    return 2;
  }
  std::string text, error;
  if (!read_trace_file(path, &text, &error)) {
    err << path << ": " << error << "\n";
    return 2;
  }
  ParseResult parsed = parse_trace(text, path);
  if (!parsed) {
    err << parsed.error().str() << "\n";
    return 2;
  }
  Program p = std::move(parsed).program();
  int ma, mi, pa;
  if (parse_version(kernel.version(), &ma, &mi, &pa) && !p.kernel_matches(ma, mi, pa)) {
    err << "epoll-oracle: warning: kernel " << kernel.version() << " is outside @kernel " << p.kernel_text << "\n";
  }
  if (const std::string why = kernel.limit(p); !why.empty()) {
    err << path << ": not run: limit: " << why << "\n";
    return 3;
  }
  const RunResult run = kernel.run(p);
  // Written results the kernel contradicts (missing resume lines are what record adds).
  int rc = 0;
  for (const Mismatch& m : check_run(p, run)) {
    if (m.kind == Mismatch::Kind::kUnwrittenReturn) continue;
    err << path << ":" << m.pos.line << ":" << m.pos.col << ": warning: " << m.message << ": written " << m.expected
        << ", kernel " << m.actual << "\n";
    rc = 1;
  }
  if (!run.error.empty()) {
    err << path << ": kernel run stopped: " << run.error << "\n";
    rc = 1;
  }
  const int added = fill_in_results(p, run);
  const std::string printed = print_trace(p);
  if (in_place) {
    std::string why;
    if (!write_file_atomically(path, printed, &why)) {
      err << path << ": " << why << "\n";
      return 2;
    }
    err << path << ": " << added << " result" << (added == 1 ? "" : "s") << " recorded from kernel " << kernel.version()
        << "\n";
  } else {
    out << printed;
  }
  return rc;
}

}  // namespace eo
