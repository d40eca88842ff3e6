#include "guest_run.h"

#include <sys/utsname.h>

#include <chrono>

#include "oracle/corpus.h"
#include "oracle/guest_wire.h"
#include "oracle/runner.h"
#include "oracle/trace/trace_file.h"
#include "real/calibrate.h"

namespace eo {

using nlohmann::json;

int cmd_guest_run(const std::string& dir, const real::KernelOptions& options, std::ostream& out, std::ostream& err) {
  utsname u{};
  uname(&u);
  json head = {{"release", u.release}, {"version", u.version}, {"machine", u.machine}};
  std::string cal_error;
  const auto start = std::chrono::steady_clock::now();
  if (auto cal = real::calibrate(&cal_error)) {
    head["calibration"] = to_json(*cal);
    head["families"] = to_json(real::probe_socketpair_families());
  } else {
    head["calibration_error"] = cal_error;
  }
  head["calibration_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  out << head.dump() << "\n" << std::flush;
  std::vector<std::string> missing;
  const std::vector<std::string> files = find_traces({dir}, &missing);
  if (!missing.empty()) {
    err << "guest-run: " << dir << ": no such directory\n";
    return 2;
  }
  real::KernelExecutor kernel(options);
  int rc = 0;
  for (const std::string& f : files) {
    json line = {{"trace", display_path(f, dir)}};
    std::string text, error;
    if (!read_trace_file(f, &text, &error)) {
      line["error"] = error;
      rc = 2;
    } else if (TraceOutcome parsed = run_trace_text(f, text, {}); parsed.bad_input()) {
      line["error"] = parsed.input_error;
      rc = 2;
    } else if (std::string why = kernel.limit(*parsed.program); !why.empty()) {
      line["limit"] = why;
    } else {
      const auto start = std::chrono::steady_clock::now();
      line["run"] = to_json(kernel.run(*parsed.program));
      line["ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    }
    out << line.dump() << "\n" << std::flush;
  }
  return rc;
}

}  // namespace eo
