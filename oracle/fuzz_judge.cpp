#include "fuzz_judge.h"

namespace eo {

const char* tolerance_name(Judgement::Verdict v) {
  switch (v) {
    case Judgement::Verdict::kKernelNondeterministic: return "kernel nondeterminism on the prefix up to the divergent step";
    case Judgement::Verdict::kWakePointSchedule: return "model schedule: a wakee run at a wake point";
    case Judgement::Verdict::kOrderSchedule: return "model schedule: another order of tasks woken together";
    default: return "";
  }
}

Program prefix(const Program& p, int last) {
  Program q = p;
  q.steps.resize(static_cast<size_t>(last) + 1);
  q.lines.clear();
  return q;
}

Judgement judge_program(const Program& p, Executor& model, Executor& kernel, const ScheduleSearch& schedules) {
  const RunResult m = model.run(p);
  return judge_runs(p, m, kernel.run(p), model, kernel, schedules);
}

Judgement judge_runs(const Program& p, const RunResult& m, const RunResult& k0, Executor& model, Executor& kernel,
                     const ScheduleSearch& schedules) {
  Judgement j;
  const auto d0 = first_divergence(p, m, k0);
  if (!d0) return j;
  j.cut = d0->step + 1 < static_cast<int>(p.steps.size());
  j.judged = j.cut ? prefix(p, d0->step) : p;
  const Program& q = j.judged;
  const RunResult k = kernel.run(q);
  auto d = first_divergence(q, model.run(q), k);
  // The kernel went another way on the prefix this time: it does not repeat itself there.
  if (!d) {
    j.verdict = Judgement::Verdict::kKernelNondeterministic;
    return j;
  }
  // A race may go the same way twice: a few more runs of the prefix.
  for (int again = 0; again < 3; ++again) {
    if (first_divergence(q, k, kernel.run(q))) {
      j.verdict = Judgement::Verdict::kKernelNondeterministic;
      return j;
    }
  }
  if (schedules) {
    if (auto found = schedules(q, [&](const RunResult& r) { return !first_divergence(q, r, k); })) {
      j.verdict = found->schedule > 0 ? Judgement::Verdict::kWakePointSchedule : Judgement::Verdict::kOrderSchedule;
      j.match = std::move(found);
      return j;
    }
  }
  j.verdict = Judgement::Verdict::kDivergence;
  j.d = d;
  return j;
}

}  // namespace eo
