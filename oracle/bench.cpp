#include "bench.h"

#include <fmt/format.h>

#include <chrono>

#include "oracle/corpus.h"
#include "oracle/runner.h"
#include "oracle/trace/parser.h"

namespace eo {

int cmd_bench(const std::vector<std::string>& files, const std::string& corpus, const std::vector<Executor*>& executors,
              int repeat, std::ostream& out, std::ostream& err) {
  using clock = std::chrono::steady_clock;
  std::vector<double> total_us(executors.size(), 0.0);
  long total_steps = 0;
  int rc = 0;
  std::string header = fmt::format("{:<48} {:>6}", "trace", "steps");
  for (Executor* e : executors) header += fmt::format(" {:>14}", e->name() + " us/step");
  if (executors.size() == 2) header += fmt::format(" {:>8}", "ratio");
  out << header << "\n";
  for (const std::string& f : files) {
    ParseResult parsed = parse_trace_file(f);
    if (!parsed) {
      err << parsed.error().str() << "\n";
      return 2;
    }
    const Program& p = parsed.program();
    bool runs_everywhere = true;
    for (Executor* e : executors) {
      int ma, mi, pa;
      if (parse_version(e->version(), &ma, &mi, &pa) && !p.kernel_matches(ma, mi, pa)) runs_everywhere = false;
    }
    if (!runs_everywhere) continue;
    int steps = 0;
    for (const Step& s : p.steps) steps += s.kind == Step::Kind::kCall || s.kind == Step::Kind::kPendingCall;
    const std::string shown = display_path(f, corpus);
    std::string line = fmt::format("{:<48} {:>6}", shown, steps);
    // Not timed: a trace an executor cannot run, or one whose run stops (a stuck call would
    // count the watchdog's wait as step time).
    std::string not_timed;
    for (Executor* e : executors) {
      if (std::string why = e->limit(p); !why.empty() && not_timed.empty()) {
        not_timed = "not timed: " + e->name() + ": limit: " + why;
        rc = std::max(rc, 3);
      }
    }
    std::vector<double> us(executors.size()), elapsed(executors.size());
    for (size_t i = 0; i < executors.size() && not_timed.empty(); ++i) {
      const auto t0 = clock::now();
      for (int r = 0; r < repeat && not_timed.empty(); ++r) {
        const RunResult run = executors[i]->run(p);
        if (!run.error.empty()) {
          bool stuck = false;
          for (const StepObservation& o : run.steps) stuck = stuck || o.outcome.kind == Outcome::Kind::kStuck;
          not_timed = fmt::format("not timed: {} {}: {}", executors[i]->name(), stuck ? "stuck" : "stopped", run.error);
          rc = 1;
        }
      }
      elapsed[i] = std::chrono::duration<double, std::micro>(clock::now() - t0).count();
    }
    if (!not_timed.empty()) {
      out << fmt::format("{:<48} {:>6} {}\n", shown, steps, not_timed);
      continue;
    }
    for (size_t i = 0; i < executors.size(); ++i) {
      us[i] = elapsed[i] / repeat / std::max(steps, 1);
      total_us[i] += elapsed[i] / repeat;
      line += fmt::format(" {:>14.2f}", us[i]);
    }
    total_steps += steps;
    if (executors.size() == 2) line += fmt::format(" {:>7.1f}x", us[1] / us[0]);
    out << line << "\n";
  }
  std::string line = fmt::format("{:<48} {:>6}", "all traces (per step)", total_steps);
  std::vector<double> per(executors.size());
  for (size_t i = 0; i < executors.size(); ++i) {
    per[i] = total_us[i] / std::max(total_steps, 1L);
    line += fmt::format(" {:>14.2f}", per[i]);
  }
  if (executors.size() == 2) line += fmt::format(" {:>7.1f}x", per[1] / per[0]);
  out << line << "\n";
  if (executors.size() == 2) {
    out << fmt::format("\n{} is {:.1f} times faster per step than {} ({} replays of each trace).\n",
                       executors[0]->name(), per[1] / per[0], executors[1]->name(), repeat);
  }
  if (rc == 1) err << "epoll-oracle: a trace stopped or got stuck; it is left out of the timings\n";
  if (rc == 3) err << "epoll-oracle: a trace is beyond an executor's limit; it is left out of the timings\n";
  return rc;
}

}  // namespace eo
