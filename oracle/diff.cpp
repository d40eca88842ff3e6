#include "diff.h"

#include <algorithm>

#include "oracle/trace/printer.h"

namespace eo {

namespace {

// Each returned call with the outcome of its pending step's call.
std::string returned_text(const Program& p, const std::vector<TaskReturn>& r) {
  std::string s = "{";
  for (size_t i = 0; i < r.size(); ++i) {
    s += (i ? ", " : "") + r[i].task + ": " + format_outcome(p.steps[static_cast<size_t>(r[i].step)].call, r[i].outcome);
  }
  return s + "}";
}

std::string join(const std::vector<std::string>& v) {
  std::string s = "{";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
  return s + "}";
}

}  // namespace

std::string Divergence::str(const Program& p) const {
  const Step& s = p.steps[static_cast<size_t>(step)];
  return "step " + std::to_string(step + 1) + " `" + format_step(s) + "`: " + what + " differs: model " + left +
         ", kernel " + right;
}

std::optional<Divergence> first_divergence(const Program& p, const RunResult& a, const RunResult& b) {
  const int n = static_cast<int>(std::min({p.steps.size(), a.steps.size(), b.steps.size()}));
  for (int i = 0; i < n; ++i) {
    const StepObservation& x = a.steps[static_cast<size_t>(i)];
    const StepObservation& y = b.steps[static_cast<size_t>(i)];
    const Step& s = p.steps[static_cast<size_t>(i)];
    // A pending call that slept and returned within its own step (its task is among the
    // step's returns on both sides) may or may not have been seen asleep on a kernel:
    // its result is compared in the returns below, not here.
    const auto returned_here = [&](const StepObservation& o) {
      return std::any_of(o.returned.begin(), o.returned.end(), [&](const TaskReturn& r) { return r.step == i; });
    };
    const bool settled_within = s.kind == Step::Kind::kPendingCall && returned_here(x) && returned_here(y);
    if (!settled_within && !same_outcome(x.outcome, y.outcome)) {
      return Divergence{i, "result", format_outcome(s.call, x.outcome), format_outcome(s.call, y.outcome)};
    }
    const std::vector<TaskReturn>& rx = x.returned;  // both in task order (StepHarness::end_step)
    const std::vector<TaskReturn>& ry = y.returned;
    bool eq = rx.size() == ry.size();
    for (size_t k = 0; eq && k < rx.size(); ++k) eq = rx[k].task == ry[k].task && same_outcome(rx[k].outcome, ry[k].outcome);
    if (!eq) return Divergence{i, "calls returned after it", returned_text(p, rx), returned_text(p, ry)};
    if (x.still_blocked != y.still_blocked) {
      return Divergence{i, "calls still blocked after it", join(x.still_blocked), join(y.still_blocked)};
    }
    const bool stop_x = a.stopped_at == i, stop_y = b.stopped_at == i;
    if (stop_x != stop_y) {
      return Divergence{i, "run stopped", stop_x ? a.error : "went on", stop_y ? b.error : "went on"};
    }
    if (stop_x) break;
  }
  return std::nullopt;
}

}  // namespace eo
