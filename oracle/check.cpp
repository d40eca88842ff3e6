#include "check.h"

#include <algorithm>

#include "oracle/trace/printer.h"

namespace eo {

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::kPass: return "pass";
    case Verdict::kFail: return "FAIL";
    case Verdict::kSkip: return "skip";
    case Verdict::kError: return "ERROR";
    case Verdict::kLimit: return "limit";
  }
  return "?";
}

namespace {

bool matches_any(const CallArgs& call, const Outcome& o, const Expect& e) {
  return std::any_of(e.alts.begin(), e.alts.end(), [&](const ResultAlt& a) { return outcome_matches(call, o, a); });
}

bool is_resume(const Step& s) { return s.kind == Step::Kind::kResume || s.kind == Step::Kind::kResumeBlocked; }

}  // namespace

bool outcome_matches(const CallArgs& call, const Outcome& o, const ResultAlt& a) {
  switch (a.kind) {
    case ResultAlt::Kind::kAny:
    case ResultAlt::Kind::kBind: return o.kind == Outcome::Kind::kValue;
    case ResultAlt::Kind::kValue: return o.kind == Outcome::Kind::kValue && o.ret == a.value && o.events.empty() && o.numbers.empty();
    case ResultAlt::Kind::kError: return o.kind == Outcome::Kind::kError && o.ret == a.value;
    case ResultAlt::Kind::kEvents:
      return o.kind == Outcome::Kind::kValue && has_events(call_info(call).result) && o.events == a.events;
    case ResultAlt::Kind::kNumbers: return o.kind == Outcome::Kind::kValue && o.numbers == a.numbers;
  }
  return false;
}

std::vector<Mismatch> check_run(const Program& p, const RunResult& r) {
  std::vector<Mismatch> out;
  const size_t n = std::min(p.steps.size(), r.steps.size());
  for (size_t i = 0; i < n; ++i) {
    const Step& s = p.steps[i];
    if (is_resume(s)) continue;
    const StepObservation& obs = r.steps[i];
    const int idx = static_cast<int>(i);
    if (r.stopped_at >= 0 && idx > r.stopped_at) break;
    const Outcome& o = obs.outcome;
    const std::string got = format_outcome(s.call, o);
    if (o.kind == Outcome::Kind::kStuck) {
      out.push_back({Mismatch::Kind::kStuck, idx, s.pos, format_expect(s.call, s.expect), got, "the call did not return (watchdog)"});
      break;
    }
    if (s.kind == Step::Kind::kPendingCall && o.kind != Outcome::Kind::kBlocked) {
      out.push_back({Mismatch::Kind::kNotBlocked, idx, s.pos, "...", got, "expected to block, but the call returned"});
    } else if (s.kind == Step::Kind::kCall && s.expect.checked() && !matches_any(s.call, o, s.expect)) {
      out.push_back({Mismatch::Kind::kResult, idx, s.expect.pos, format_expect(s.call, s.expect), got, "result differs"});
    }
    // The resume lines after this step say exactly which pending calls returned.
    std::vector<const Step*> resumes;
    std::vector<int> resume_idx;
    for (size_t j = i + 1; j < p.steps.size() && is_resume(p.steps[j]); ++j) {
      resumes.push_back(&p.steps[j]);
      resume_idx.push_back(static_cast<int>(j));
    }
    for (const TaskReturn& ret : obs.returned) {
      // A pending call that returned at once was reported above; one that slept and
      // returned within its own step needs its resume line like any other.
      if (ret.step == idx && o.kind != Outcome::Kind::kBlocked) continue;
      auto it = std::find_if(resumes.begin(), resumes.end(), [&](const Step* rs) {
        return rs->resumes == ret.step && rs->kind == Step::Kind::kResume;
      });
      const CallArgs& c = p.steps[static_cast<size_t>(ret.step)].call;  // the call that returned
      if (it == resumes.end()) {
        out.push_back({Mismatch::Kind::kUnwrittenReturn, idx, s.pos, ret.task + ": ... (still blocked)", ret.task + ": ... = " + format_outcome(c, ret.outcome),
                       "the pending call of " + ret.task + " returned after this step, but no resume line says so"});
        continue;
      }
      const Step& rs = **it;
      const int ri = resume_idx[static_cast<size_t>(it - resumes.begin())];
      if (!matches_any(c, ret.outcome, rs.expect)) {
        out.push_back({Mismatch::Kind::kResult, ri, rs.expect.pos, format_expect(c, rs.expect), format_outcome(c, ret.outcome), "result differs"});
      }
    }
    for (size_t k = 0; k < resumes.size(); ++k) {
      const Step& rs = *resumes[k];
      const bool returned = std::any_of(obs.returned.begin(), obs.returned.end(),
                                        [&](const TaskReturn& t) { return t.step == rs.resumes; });
      if (rs.kind == Step::Kind::kResume && !returned) {
        out.push_back({Mismatch::Kind::kStillBlocked, resume_idx[k], rs.pos, format_expect(rs.call, rs.expect), "... (still blocked)",
                       "the pending call of " + rs.task + " has not returned"});
      }
      if (rs.kind == Step::Kind::kResumeBlocked && returned) {
        out.push_back({Mismatch::Kind::kReturned, resume_idx[k], rs.pos, "... blocked", "returned", "the pending call of " + rs.task + " returned"});
      }
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const Mismatch& a, const Mismatch& b) { return a.step < b.step; });
  return out;
}

std::vector<Mismatch> compare_runs(const Program& p, const RunResult& a, const std::string& a_name,
                                   const RunResult& b, const std::string& b_name) {
  std::vector<Mismatch> out;
  const size_t n = std::min({p.steps.size(), a.steps.size(), b.steps.size()});
  for (size_t i = 0; i < n; ++i) {
    const Step& s = p.steps[i];
    if (is_resume(s) || s.expect.checked() || s.kind == Step::Kind::kPendingCall) continue;
    const Outcome& x = a.steps[i].outcome;
    const Outcome& y = b.steps[i].outcome;
    if (x.kind == Outcome::Kind::kNone || y.kind == Outcome::Kind::kNone) continue;
    if (!same_outcome(x, y)) {
      out.push_back({Mismatch::Kind::kExecutors, static_cast<int>(i), s.pos, "", a_name + ": " + format_outcome(s.call, x) + ", " + b_name + ": " +
                                                          format_outcome(s.call, y),
                     "unchecked step: the executors disagree"});
    }
  }
  return out;
}

}  // namespace eo
