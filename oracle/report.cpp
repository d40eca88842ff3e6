#include "report.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "oracle/trace/printer.h"

namespace eo {

namespace {

struct Paint {
  bool on;
  std::string operator()(const std::string& s, const char* code) const {
    return on ? fmt::format("\033[{}m{}\033[0m", code, s) : s;
  }
  std::string green(const std::string& s) const { return (*this)(s, "32"); }
  std::string red(const std::string& s) const { return (*this)(s, "1;31"); }
  std::string dim(const std::string& s) const { return (*this)(s, "2"); }
  std::string bold(const std::string& s) const { return (*this)(s, "1"); }
  std::string yellow(const std::string& s) const { return (*this)(s, "33"); }
  // The verdict's name, padded to `width` before it is coloured.
  std::string verdict(Verdict v, size_t width = 0) const {
    std::string s = verdict_name(v);
    if (s.size() < width) s += std::string(width - s.size(), ' ');
    switch (v) {
      case Verdict::kPass: return green(s);
      case Verdict::kSkip: return dim(s);
      case Verdict::kLimit: return yellow(s);
      default: return red(s);
    }
  }
};

// The non-resume step a resume line follows.
int anchor_step_of(const Program& p, int resume) {
  int k = resume;
  while (k > 0 && (p.steps[static_cast<size_t>(k)].kind == Step::Kind::kResume ||
                   p.steps[static_cast<size_t>(k)].kind == Step::Kind::kResumeBlocked)) {
    --k;
  }
  return k;
}

int first_divergent_step(const TraceOutcome& t) {
  int first = -1;
  auto take = [&](int s) {
    if (s >= 0 && (first < 0 || s < first)) first = s;
  };
  for (const ExecutorReport& r : t.reports) take(r.first_mismatch_step());
  for (const Mismatch& m : t.cross) take(m.step);
  return first;
}

std::string step_text(const Program& p, int step) {
  const Step& s = p.steps[static_cast<size_t>(step)];
  return format_step(s);
}

std::string pad(const std::string& s, size_t w) { return s.size() >= w ? s : s + std::string(w - s.size(), ' '); }

// A KTAP test name: the spec allows no '#' in it and a line cannot hold a newline, so those
// bytes, '%', spaces and every other byte outside printable ASCII are percent-encoded.
std::string ktap_name(const std::string& s) {
  std::string out;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c > 0x20 && c < 0x7f && c != '#' && c != '%') out += ch;
    else out += fmt::format("%{:02X}", c);
  }
  return out;
}

// Text on one KTAP line (a diagnostic, a SKIP reason): control bytes written as \n, \xNN.
std::string ktap_text(const std::string& s) {
  std::string out;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\n') out += "\\n";
    else if (c < 0x20 || c == 0x7f) out += fmt::format("\\x{:02x}", c);
    else out += ch;
  }
  return out;
}

}  // namespace

std::string written_text(const Program& p, int step) {
  const Step& s = p.steps[static_cast<size_t>(step)];
  if (s.kind == Step::Kind::kPendingCall) return "...";
  if (s.kind == Step::Kind::kResumeBlocked) return "... blocked";
  if (!s.expect.checked()) return "";
  return format_expect(s.call, s.expect);  // a resume line carries its pending call
}

std::string observed_text(const Program& p, const ExecutorReport& r, int step) {
  if (r.verdict == Verdict::kSkip) return "skip";
  if (r.verdict == Verdict::kLimit) return "limit";
  if (step >= static_cast<int>(r.run.steps.size())) return "(not run)";
  const Step& s = p.steps[static_cast<size_t>(step)];
  if (r.run.stopped_at >= 0 && step > r.run.stopped_at) return "(not run)";
  if (s.kind == Step::Kind::kCall || s.kind == Step::Kind::kPendingCall) {
    return format_outcome(s.call, r.run.steps[static_cast<size_t>(step)].outcome);
  }
  const int anchor = anchor_step_of(p, step);
  const StepObservation& obs = r.run.steps[static_cast<size_t>(anchor)];
  for (const TaskReturn& ret : obs.returned) {
    if (ret.step == s.resumes) return format_outcome(s.call, ret.outcome);
  }
  return "... blocked";
}

void report_human(std::ostream& os, const std::vector<TraceOutcome>& traces, const ReportOptions& opt) {
  const Paint paint{opt.color};
  size_t width = 5;
  for (const TraceOutcome& t : traces) width = std::max(width, t.shown.size());
  width = std::min<size_t>(width + 2, 72);

  std::string header = pad("trace", width);
  for (size_t i = 0; i < opt.executors.size(); ++i) header += pad(opt.executors[i], 9);
  os << paint.bold(header) << "\n";
  std::map<std::string, std::map<Verdict, int>> counts;
  int bad_input = 0, diverged = 0, limited = 0;
  for (const TraceOutcome& t : traces) {
    std::string line = pad(t.shown, width);
    if (t.bad_input()) {
      line += paint.red("bad input");
      ++bad_input;
    } else {
      for (const ExecutorReport& r : t.reports) {
        line += paint.verdict(r.verdict, 9);
        counts[r.executor][r.verdict]++;
      }
      if (!t.cross.empty()) line += paint.red("executors disagree");
      if (t.diverged()) ++diverged;
      if (t.limited()) ++limited;
    }
    os << line << "\n";
    for (const ExecutorReport& r : t.reports) {
      if (!r.schedule.empty()) os << "  " << r.executor << " matched with " << r.schedule << "\n";
    }
  }

  for (const TraceOutcome& t : traces) {
    if (t.bad_input()) {
      os << "\n" << paint.red("bad input ") << t.input_error << "\n";
      continue;
    }
    if (t.limited()) {
      os << "\n" << paint.yellow("LIMIT ") << paint.bold(t.shown) << (t.program->title.empty() ? "" : "  " + t.program->title) << "\n";
      for (const ExecutorReport& r : t.reports) {
        if (r.verdict == Verdict::kLimit) os << "  " << r.executor << " did not run it: limit: " << r.skip_reason << "\n";
      }
    }
    if (!t.diverged()) continue;
    const Program& p = *t.program;
    const int step = first_divergent_step(t);
    os << "\n" << paint.red("FAIL ") << paint.bold(t.shown) << (p.title.empty() ? "" : "  " + p.title) << "\n";
    for (const ExecutorReport& r : t.reports) {
      if (!r.run.error.empty()) os << "  " << r.executor << ": " << r.run.error << "\n";
    }
    if (step < 0) continue;
    const Step& s = p.steps[static_cast<size_t>(step)];
    os << fmt::format("  first divergent step, {}:{}:{}\n    {}\n", t.shown, s.pos.line, s.pos.col, step_text(p, step));
    std::string why;
    for (const ExecutorReport& r : t.reports) {
      for (const Mismatch& m : r.mismatches) {
        if (m.step == step && why.empty()) why = r.executor + ": " + m.message;
      }
    }
    for (const Mismatch& m : t.cross) {
      if (m.step == step && why.empty()) why = m.message;
    }
    const std::string w = written_text(p, step);
    os << "    " << pad("written", 9) << (w.empty() ? paint.dim("(not checked)") : w) << "\n";
    for (const ExecutorReport& r : t.reports) {
      const std::string got = observed_text(p, r, step);
      const bool bad = std::any_of(r.mismatches.begin(), r.mismatches.end(), [&](const Mismatch& m) { return m.step == step; });
      os << "    " << pad(r.executor, 9) << (bad ? paint.red(got) : got) << "\n";
    }
    if (!why.empty()) os << "    " << paint.dim(why) << "\n";
    for (const ExecutorReport& r : t.reports) {
      if (r.executor != "model" || r.run.steps.empty()) continue;
      const int anchor = anchor_step_of(p, step);
      const auto& lines = r.run.steps[static_cast<size_t>(anchor)].explain;
      if (lines.empty()) continue;
      os << "    the model explains " << step_text(p, anchor) << ":\n";
      for (const std::string& l : lines) os << "      " << l << "\n";
    }
  }

  os << "\n" << traces.size() << " traces";
  for (const std::string& ex : opt.executors) {
    auto& c = counts[ex];
    os << fmt::format("; {}: {} passed, {} failed, {} skipped", ex, c[Verdict::kPass], c[Verdict::kFail] + c[Verdict::kError],
                      c[Verdict::kSkip]);
    if (c[Verdict::kLimit]) os << fmt::format(", {} not run (limit)", c[Verdict::kLimit]);
  }
  os << "; " << (diverged ? paint.red(std::to_string(diverged) + " diverged") : paint.green("0 diverged"));
  if (limited) os << "; " << paint.yellow(std::to_string(limited) + " beyond an executor's limit, not run there");
  if (bad_input) os << "; " << paint.red(std::to_string(bad_input) + " bad input");
  os << "\n";
}

void report_json(std::ostream& os, const std::vector<TraceOutcome>& traces, const ReportOptions& opt,
                 const model::RuleCoverage* coverage) {
  using nlohmann::json;
  json j;
  j["executors"] = json::array();
  for (size_t i = 0; i < opt.executors.size(); ++i) {
    j["executors"].push_back({{"name", opt.executors[i]}, {"version", i < opt.versions.size() ? opt.versions[i] : ""}});
  }
  j["traces"] = json::array();
  int diverged = 0, bad = 0, limited = 0;
  for (const TraceOutcome& t : traces) {
    json jt{{"file", t.shown}};
    if (t.bad_input()) {
      jt["error"] = t.input_error;
      ++bad;
      j["traces"].push_back(jt);
      continue;
    }
    const Program& p = *t.program;
    jt["title"] = p.title;
    jt["tags"] = p.tags;
    jt["diverged"] = t.diverged();
    diverged += t.diverged();
    limited += t.limited();
    auto mismatch_json = [&](const Mismatch& m) {
      return json{{"step", m.step}, {"line", m.pos.line}, {"col", m.pos.col}, {"call", step_text(p, m.step)},
                  {"expected", m.expected}, {"actual", m.actual}, {"message", m.message}};
    };
    for (const ExecutorReport& r : t.reports) {
      json je{{"verdict", verdict_name(r.verdict)}, {"version", r.version}};
      if (!r.skip_reason.empty()) je[r.verdict == Verdict::kLimit ? "limit" : "skip_reason"] = r.skip_reason;
      if (!r.run.error.empty()) je["error"] = r.run.error;
      if (!r.schedule.empty()) je["schedule"] = r.schedule;
      je["mismatches"] = json::array();
      for (const Mismatch& m : r.mismatches) je["mismatches"].push_back(mismatch_json(m));
      jt["results"][r.executor] = je;
    }
    jt["disagreements"] = json::array();
    for (const Mismatch& m : t.cross) jt["disagreements"].push_back(mismatch_json(m));
    j["traces"].push_back(jt);
  }
  j["summary"] = {{"traces", traces.size()}, {"diverged", diverged}, {"bad_input", bad}, {"limited", limited}};
  if (coverage) {
    json rules = json::array();
    for (size_t i = 1; i < model::kRuleCount; ++i) {
      const auto r = static_cast<model::Rule>(i);
      const auto& info = model::rule_info(r);
      rules.push_back({{"site", info.site}, {"text", info.text}, {"count", coverage->count(r)}});
    }
    j["coverage"] = {{"reached", coverage->reached()}, {"total", model::RuleCoverage::total()}, {"rules", rules}};
  }
  // File names and titles are bytes: a byte that is not UTF-8 becomes U+FFFD, never an abort.
  os << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
}

void report_ktap(std::ostream& os, const std::vector<TraceOutcome>& traces, const ReportOptions&) {
  os << "KTAP version 1\n1.." << traces.size() << "\n";
  int n = 0;
  for (const TraceOutcome& t : traces) {
    ++n;
    const std::string name = ktap_name(t.shown);
    if (t.bad_input()) {
      os << "# " << ktap_text(t.input_error) << "\nnot ok " << n << " " << name << "\n";
      continue;
    }
    // A subtest per executor, indented one level (two spaces).
    os << "  KTAP version 1\n  # Subtest: " << name << "\n  1.." << t.reports.size() << "\n";
    int k = 0;
    std::string skipped;  // why no executor ran it
    for (const ExecutorReport& r : t.reports) {
      ++k;
      for (const Mismatch& m : r.mismatches) {
        os << "  # " << ktap_text(fmt::format("{}:{}:{}: {}: written {}, got {}", t.shown, m.pos.line, m.pos.col, m.message,
                                              m.expected, m.actual))
           << "\n";
      }
      if (r.verdict == Verdict::kSkip || r.verdict == Verdict::kLimit) {
        const std::string why = r.verdict == Verdict::kLimit ? "limit: " + r.skip_reason : r.skip_reason;
        if (skipped.empty()) skipped = r.verdict == Verdict::kLimit ? why : "outside @kernel";
        os << "  ok " << k << " " << r.executor << " # SKIP " << ktap_text(why) << "\n";
      } else {
        os << "  " << (r.verdict == Verdict::kPass ? "ok " : "not ok ") << k << " " << r.executor << "\n";
      }
    }
    for (const Mismatch& m : t.cross) {
      os << "# " << ktap_text(fmt::format("{}:{}:{}: {}: {}", t.shown, m.pos.line, m.pos.col, m.message, m.actual)) << "\n";
    }
    if (t.all_skipped()) os << "ok " << n << " " << name << " # SKIP " << ktap_text(skipped) << "\n";
    else os << (t.diverged() ? "not ok " : "ok ") << n << " " << name << "\n";
  }
}

void report_steps(std::ostream& os, const TraceOutcome& t, const ReportOptions& opt, bool with_explain) {
  const Paint paint{opt.color};
  if (t.bad_input()) {
    os << t.input_error << "\n";
    return;
  }
  const Program& p = *t.program;
  if (!p.title.empty()) os << paint.bold(p.title) << "\n";
  for (const ExecutorReport& r : t.reports) {
    os << r.executor << " " << r.version << ": " << paint.verdict(r.verdict);
    if (!r.skip_reason.empty()) os << " (" << r.skip_reason << ")";
    if (!r.run.error.empty()) os << " (" << r.run.error << ")";
    os << "\n";
  }
  size_t w_step = 4, w_written = 7;
  for (size_t i = 0; i < p.steps.size(); ++i) {
    w_step = std::max(w_step, step_text(p, static_cast<int>(i)).size());
    w_written = std::max(w_written, written_text(p, static_cast<int>(i)).size());
  }
  w_step = std::min<size_t>(w_step, 60);
  std::string head = pad("step", w_step + 2) + pad("written", w_written + 2);
  for (const ExecutorReport& r : t.reports) head += pad(r.executor, 24);
  os << "\n" << paint.bold(head) << "\n";
  for (size_t i = 0; i < p.steps.size(); ++i) {
    const int step = static_cast<int>(i);
    std::string line = pad(step_text(p, step), w_step + 2) + pad(written_text(p, step), w_written + 2);
    for (const ExecutorReport& r : t.reports) {
      const std::string got = observed_text(p, r, step);
      const bool bad = std::any_of(r.mismatches.begin(), r.mismatches.end(), [&](const Mismatch& m) { return m.step == step; });
      line += bad ? paint.red(pad(got, 24)) : pad(got, 24);
    }
    const bool cross = std::any_of(t.cross.begin(), t.cross.end(), [&](const Mismatch& m) { return m.step == step; });
    if (cross) line += paint.red(" <- executors disagree");
    os << line << "\n";
    if (!with_explain) continue;
    for (const ExecutorReport& r : t.reports) {
      if (r.executor != "model" || step >= static_cast<int>(r.run.steps.size())) continue;
      for (const std::string& l : r.run.steps[i].explain) os << "    " << paint.dim(l) << "\n";
    }
  }
  // What the table cannot show: calls that returned without a resume line, and the like.
  bool header = false;
  for (const ExecutorReport& r : t.reports) {
    for (const Mismatch& m : r.mismatches) {
      if (!header) os << "\n";
      header = true;
      os << paint.red(r.executor) << fmt::format(" {}:{}: {}", m.pos.line, m.pos.col, m.message);
      if (!m.actual.empty()) os << " (" << m.actual << ")";
      os << "\n";
    }
  }
}

void report_explain(std::ostream& os, const TraceOutcome& t, const ReportOptions& opt) {
  const Paint paint{opt.color};
  const Program& p = *t.program;
  const ExecutorReport& r = t.reports.front();
  os << paint.bold(t.shown) << (p.title.empty() ? "" : ": " + p.title) << "\n";
  os << paint.dim("model of Linux " + r.version + (r.verdict == Verdict::kSkip ? " (" + r.skip_reason + ")" : "")) << "\n";
  if (r.verdict == Verdict::kSkip) return;
  for (size_t i = 0; i < p.steps.size(); ++i) {
    const int step = static_cast<int>(i);
    const Step& s = p.steps[i];
    const std::string got = observed_text(p, r, step);
    const std::string written = written_text(p, step);
    const bool bad = std::any_of(r.mismatches.begin(), r.mismatches.end(), [&](const Mismatch& m) { return m.step == step; });
    std::string line = fmt::format("{:>3}:{:<3}", s.pos.line, s.pos.col) + paint.bold(step_text(p, step));
    if (s.kind == Step::Kind::kCall && !s.expect.checked()) line += paint.dim("  -> " + got);
    if (bad) line += paint.red("  <- the model returns " + got + ", the trace says " + written);
    os << "\n" << line << "\n";
    if (i < r.run.steps.size()) {
      for (const std::string& l : r.run.steps[i].explain) os << "        " << l << "\n";
    }
  }
  if (!r.run.error.empty()) os << "\n" << paint.red(r.run.error) << "\n";
}

}  // namespace eo
