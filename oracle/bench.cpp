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
    std::string line = fmt::format("{:<48} {:>6}", display_path(f, corpus), steps);
    std::vector<double> us(executors.size());
    for (size_t i = 0; i < executors.size(); ++i) {
      const auto t0 = clock::now();
      for (int r = 0; r < repeat; ++r) executors[i]->run(p);
      const double elapsed = std::chrono::duration<double, std::micro>(clock::now() - t0).count();
      us[i] = elapsed / repeat / std::max(steps, 1);
      total_us[i] += elapsed / repeat;
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
  return 0;
}

}  // namespace eo
