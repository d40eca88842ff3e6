#include "fuzz.h"

#include <fmt/format.h>
#include <rapidcheck.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <random>

#include "oracle/diff.h"
#include "oracle/fuzz_gen.h"
#include "oracle/fuzz_judge.h"
#include "oracle/output_file.h"
#include "oracle/record.h"
#include "oracle/trace/parser.h"
#include "oracle/trace/printer.h"

namespace eo {

namespace {

using Clock = std::chrono::steady_clock;

struct Failure {
  FuzzCase c;
  Program program;
  Divergence d;
};

// Progress on stderr: redrawn in place on a terminal, a line every 10 s otherwise.
class Progress : public rc::detail::TestListener {
 public:
  Progress(const FuzzOptions& opt, FuzzStats& s, const model::RuleCoverage* cov, std::ostream& err, Clock::time_point t0)
      : opt_(opt), s_(s), cov_(cov), err_(err), t0_(t0), tty_(isatty(STDERR_FILENO)) {}
  void onTestCaseFinished(const rc::detail::CaseDescription&) override { tick(false); }
  void onShrinkTried(const rc::detail::CaseDescription&, bool accepted) override {
    shrinks_ += 1;
    accepted_ += accepted;
    tick(false);
  }
  void onTestFinished(const rc::detail::TestMetadata&, const rc::detail::TestResult&) override {}
  void tick(bool force) {
    if (!opt_.progress) return;
    const auto now = Clock::now();
    if (!force && now - last_ < (tty_ ? std::chrono::milliseconds(200) : std::chrono::seconds(10))) return;
    last_ = now;
    const double t = std::chrono::duration<double>(now - t0_).count();
    std::string line = fmt::format("[{:.0f}s] cases {} steps {} ({:.0f} cases/s) divergences {}", t, s_.cases, s_.steps,
                                   t > 0 ? s_.cases / t : 0.0, s_.divergences);
    long tolerated = 0;
    for (const auto& [name, n] : s_.tolerances) tolerated += n;
    if (tolerated) line += fmt::format(" tolerated {}", tolerated);
    if (cov_) line += fmt::format(" rules {}/{}", cov_->reached(), model::RuleCoverage::total());
    if (shrinks_) line += fmt::format(" shrinking {}/{}", accepted_, shrinks_);
    err_ << (tty_ ? "\r\033[K" : "") << line << (tty_ ? "" : "\n") << std::flush;
  }
  void end_batch() { shrinks_ = accepted_ = 0; }
  void clear() {
    if (opt_.progress && tty_) err_ << "\r\033[K" << std::flush;
  }

 private:
  const FuzzOptions& opt_;
  FuzzStats& s_;
  const model::RuleCoverage* cov_;
  std::ostream& err_;
  Clock::time_point t0_, last_{};
  bool tty_;
  long shrinks_ = 0, accepted_ = 0;
};

// The shrunk case as a trace: the kernel's results written in, the divergence and the
// command that replays it in comments.
std::string divergence_trace(const Failure& f, Executor& model, Executor& kernel, uint64_t seed, int batch,
                             int max_size) {
  Program p = f.program;
  p.title = "fuzz: model and kernel differ at step " + std::to_string(f.d.step + 1) + " (" + f.d.what + ")";
  p.tags = {"fuzz"};
  fill_in_results(p, kernel.run(p));
  std::string text = print_trace_canonical(p);
  text += fmt::format(
      "# model:  {}\n# kernel: {}\n# replay: epoll-oracle fuzz --seed {} --cases {} --batch {} --max-size {} --profile {}\n",
      f.d.left, f.d.right, seed, batch, batch, max_size, model.version());
  return text;
}

// A program the trace language accepts once the model's results are written in (a task
// calls again only after its pending call returned, every name is bound first).
bool valid_trace(const Program& p, Executor& model) {
  Program r = p;
  fill_in_results(r, model.run(p));
  return parse_trace(print_trace_canonical(r), "shrunk").ok();
}

// Shrinking by steps, after RapidCheck's by operations: a scenario is one operation to
// RapidCheck, so its steps go one at a time here, each removal kept while the program is
// still a divergence, as the search judges it. Bounded in time.
void shrink_steps(Failure& f, Executor& model, Executor& kernel, const ScheduleSearch& schedules, double budget_s) {
  const auto t0 = Clock::now();
  for (bool changed = true; changed;) {
    changed = false;
    for (int i = static_cast<int>(f.program.steps.size()) - 1; i >= 0; --i) {
      if (std::chrono::duration<double>(Clock::now() - t0).count() > budget_s) return;
      if (i >= static_cast<int>(f.program.steps.size())) continue;
      Program q = f.program;
      q.steps.erase(q.steps.begin() + i);
      if (q.steps.empty() || !valid_trace(q, model)) continue;
      const Judgement j = judge_program(q, model, kernel, schedules);
      if (j.verdict != Judgement::Verdict::kDivergence) continue;
      f.program = j.judged;
      f.d = *j.d;
      changed = true;
    }
  }
}

}  // namespace

int cmd_fuzz(const FuzzOptions& opt, Executor& model, Executor& kernel, const model::RuleCoverage* coverage,
             std::ostream& out, std::ostream& err, FuzzStats* stats_out, const ScheduleSearch& schedules) {
  FuzzStats stats;
  {
    // RapidCheck announces its own (unused) configuration on first use: keep it quiet.
    std::streambuf* saved = std::cerr.rdbuf(nullptr);
    rc::detail::configuration();
    std::cerr.rdbuf(saved);
  }
  const uint64_t seed0 = opt.seed ? *opt.seed : std::random_device{}();
  const auto t0 = Clock::now();
  Progress progress(opt, stats, coverage, err, t0);
  out << fmt::format("epoll-oracle fuzz: model {} against kernel {}, seed {}{}{}\n", model.version(), kernel.version(),
                     seed0, opt.cases ? fmt::format(", {} cases", opt.cases) : "",
                     opt.seconds > 0 ? fmt::format(", {} s", opt.seconds) : "");
  std::optional<Failure> last_failure;
  int rc = 0;
  bool write_failed = false;  // a divergence could not be written to --out
  for (uint64_t b = 0;; ++b) {
    const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    if (opt.seconds > 0 && elapsed >= opt.seconds) break;
    if (opt.cases > 0 && stats.cases >= opt.cases) break;
    if (opt.seconds <= 0 && opt.cases <= 0 && b > 0) break;
    const uint64_t seed = seed0 + b;
    rc::detail::TestParams params;
    params.seed = seed;
    params.maxSuccess = opt.cases > 0 ? static_cast<int>(std::min<long>(opt.batch, opt.cases - stats.cases)) : opt.batch;
    params.maxSize = opt.max_size;
    params.disableShrinking = false;
    bool shrinking = false;
    Clock::time_point found_at{};
    long found_cases = 0;
    last_failure.reset();
    const auto property = [&] {
      const FuzzCase c = *gen_fuzz_case();
      const Program p = to_program(c);
      const RunResult m = model.run(p);
      const auto tk = Clock::now();
      const RunResult k = kernel.run(p);
      if (!shrinking) {
        ++stats.cases;
        stats.steps += static_cast<long>(p.steps.size());
        stats.kernel_seconds += std::chrono::duration<double>(Clock::now() - tk).count();
      }
      if (!first_divergence(p, m, k)) return;
      const Judgement j = judge_runs(p, m, k, model, kernel, schedules);
      if (!shrinking) {
        if (j.cut) ++stats.suffix_cut;
        if (const char* name = tolerance_name(j.verdict); *name) ++stats.tolerances[name];
        if (j.verdict == Judgement::Verdict::kWakePointSchedule) {
          for (const std::string& site : j.match->sites) ++stats.schedule_sites[site];
        }
      }
      if (j.verdict != Judgement::Verdict::kDivergence) return;
      if (!shrinking) {
        found_at = Clock::now();
        found_cases = stats.cases;
      }
      shrinking = true;
      last_failure = Failure{c, j.judged, *j.d};
      RC_FAIL(j.d->str(j.judged));
    };
    rc::detail::TestMetadata meta;
    meta.id = meta.description = "model matches kernel";
    const rc::detail::TestResult result = rc::detail::checkTestable(property, meta, params, progress);
    progress.end_batch();
    if (result.template is<rc::detail::FailureResult>() && last_failure) {
      shrink_steps(*last_failure, model, kernel, schedules, 30);
      ++stats.divergences;
      rc = 1;
      progress.clear();
      const std::string text = divergence_trace(*last_failure, model, kernel, seed, params.maxSuccess, params.maxSize);
      const auto shrunk_at = Clock::now();
      out << "\nDIVERGENCE (shrunk to " << last_failure->program.steps.size() << " steps): "
          << last_failure->d.str(last_failure->program) << "\n"
          << fmt::format("found after {} cases in {:.1f} s; shrunk in {:.1f} s\n\n", found_cases,
                         std::chrono::duration<double>(found_at - t0).count(),
                         std::chrono::duration<double>(shrunk_at - found_at).count())
          << text << "\n";
      if (!opt.out_dir.empty()) {
        const std::string path = opt.out_dir + "/divergence-" + std::to_string(seed) + ".trace";
        std::string why;
        if (write_file_atomically(path, text, &why)) {
          out << "written to " << path << "\n";
        } else {
          err << "epoll-oracle: " << path << ": " << why << "\n";
          write_failed = true;
        }
      }
      if (opt.seconds <= 0 || opt.stop_at_first) break;  // a bounded run stops at the first divergence
    }
  }
  stats.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  progress.tick(true);
  progress.clear();
  out << fmt::format("\n{} cases, {} steps in {:.1f} s ({:.0f} cases/s, {:.0f} steps/s); {} divergence{}", stats.cases,
                     stats.steps, stats.seconds, stats.cases / std::max(stats.seconds, 1e-9),
                     stats.steps / std::max(stats.seconds, 1e-9), stats.divergences, stats.divergences == 1 ? "" : "s");
  if (coverage) out << fmt::format("; rules reached {}/{}", coverage->reached(), model::RuleCoverage::total());
  out << "\n";
  if (stats.kernel_seconds > 0) {
    out << fmt::format(
        "kernel alone: {:.0f} steps/s; cross-checked: {:.0f} steps/s ({:.0f}% of the kernel's rate; the oracle's own cost "
        "is {:.2f}x the kernel's)\n",
        stats.steps / stats.kernel_seconds, stats.steps / std::max(stats.seconds, 1e-9),
        100.0 * stats.kernel_seconds / std::max(stats.seconds, 1e-9),
        (stats.seconds - stats.kernel_seconds) / stats.kernel_seconds);
  }
  // Every tolerance by name, with how often it applied (0 too: a tolerance that never
  // applies is worth knowing).
  out << "tolerances applied (cases):\n";
  for (const auto v : {Judgement::Verdict::kKernelNondeterministic, Judgement::Verdict::kWakePointSchedule,
                       Judgement::Verdict::kOrderSchedule}) {
    const auto it = stats.tolerances.find(tolerance_name(v));
    out << fmt::format("  {:>6}  {}\n", it == stats.tolerances.end() ? 0 : it->second, tolerance_name(v));
  }
  for (const auto& [site, n] : stats.schedule_sites) out << fmt::format("          wakee run at {}: {} cases\n", site, n);
  out << fmt::format("  divergent cases judged on their prefix (the steps after the divergent one cut): {}\n", stats.suffix_cut);
  if (coverage && opt.coverage) print_coverage(out, *coverage, false);
  if (stats_out) *stats_out = stats;
  return write_failed ? 2 : rc;
}

void print_coverage(std::ostream& os, const model::RuleCoverage& cov, bool) {
  os << fmt::format("\nrule coverage: {} of {} rules reached\n", cov.reached(), model::RuleCoverage::total());
  for (int pass = 0; pass < 2; ++pass) {
    os << (pass == 0 ? "\nreached:\n" : "\nnever reached:\n");
    for (size_t i = 1; i < model::kRuleCount; ++i) {
      const auto r = static_cast<model::Rule>(i);
      const uint64_t n = cov.count(r);
      if ((n != 0) != (pass == 0)) continue;
      const auto& info = model::rule_info(r);
      os << fmt::format("  {:>9}  {:<26} {}\n", n ? std::to_string(n) : "-", info.site, info.text);
    }
  }
}

}  // namespace eo
