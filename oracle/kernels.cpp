#include "kernels.h"

#include <fmt/format.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>

#include "model/executor.h"
#include "oracle/corpus.h"
#include "oracle/guest_wire.h"
#include "oracle/initramfs.h"
#include "oracle/kernel_profile.h"
#include "oracle/qemu_guest.h"
#include "oracle/runner.h"
#include "oracle/trace/trace_file.h"
#include "real/calibrate.h"
#include "real/executor.h"
#include "real/fd.h"

namespace eo {

using nlohmann::json;
namespace fs = std::filesystem;

std::string default_cache_dir() {
  if (const char* d = std::getenv("EPOLL_ORACLE_CACHE"); d && *d) return d;
  if (const char* d = std::getenv("XDG_CACHE_HOME"); d && *d) return std::string(d) + "/epoll-oracle";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/root") + "/.cache/epoll-oracle";
}

namespace {

const std::string kFetchScript = std::string(EO_SOURCE_DIR) + "/scripts/kernels-fetch.sh";

// Runs kernels-fetch.sh; its "LABEL DIR" lines (stderr passes through as progress).
int run_fetch(const std::string& cache, const std::vector<std::string>& labels, std::vector<std::pair<std::string, std::string>>* images) {
  std::string cmd = "'" + kFetchScript + "' '" + cache + "'";
  for (const std::string& l : labels) cmd += " '" + l + "'";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  if (!pipe) return 2;
  char line[4096];
  while (fgets(line, sizeof line, pipe.get())) {
    std::istringstream words(line);
    std::string label, dir;
    if (words >> label >> dir && images) images->push_back({label, dir});
  }
  const int status = pclose(pipe.release());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
}

// One column of the matrix.
struct Column {
  std::string label;        // "host", "5.10", "6.1-rt", ...
  std::string package;      // Debian package and version; for the host its uname -r
  std::string release, uname_version;
  std::string version;      // detected (KernelVersion::from_uname)
  std::string image, config;
  std::optional<model::KernelProfile> profile;
  std::string error;        // the guest did not boot, finish or report
  std::string console_tail;
  std::string boots_note;   // a guest booted twice: why
  double seconds = 0;
  // Per trace (shown path): the guest's run, or why it has none.
  std::map<std::string, json> guest_lines;
};

// The recorded run of a guest, replayed as an executor so that the checker treats it as
// it treats this machine's kernel.
class RecordedKernel : public Executor {
 public:
  RecordedKernel(std::string version, const json* line) : version_(std::move(version)), line_(line) {}
  std::string name() const override { return "kernel"; }
  std::string version() const override { return version_; }
  std::string limit(const Program&) const override {
    if (!line_) return "";
    return line_->value("limit", std::string());
  }
  RunResult run(const Program& p) override {
    if (!line_ || !line_->contains("run")) {
      RunResult r;
      r.steps.resize(p.steps.size());
      r.error = !line_ ? "the guest sent no result for this trace" : "the guest could not read it: " + line_->value("error", std::string());
      r.stopped_at = 0;
      return r;
    }
    RunResult r = run_from_json(line_->at("run"));
    if (r.steps.size() != p.steps.size()) {  // a different trace text than the guest ran
      r.steps.resize(p.steps.size());
      r.error = "the guest's run has another number of steps";
    }
    return r;
  }

 private:
  std::string version_;
  const json* line_;
};

struct Cell {
  bool in_range = true;
  std::string kernel, model;  // verdict names
  std::vector<std::string> notes;  // first mismatch of each side, cross mismatches
  bool cross = false;
  bool limit() const { return kernel == "limit"; }
  bool ok() const { return kernel == "pass" && model == "pass" && !cross; }
  std::string text() const {
    std::string t;
    if (limit()) t = "limit";
    else if (kernel == "ERROR" || model == "ERROR") t = "ERR";
    else if (ok()) t = "ok";
    else t = std::string(kernel == "pass" ? "" : "K") + (model == "pass" ? "" : "M") + (cross ? "X" : "");
    return in_range ? t : "out:" + t;
  }
};

std::string mismatch_note(const std::string& who, const Mismatch& m) {
  return fmt::format("{}: line {}: {}{}{}", who, m.pos.line, m.message, m.expected.empty() ? "" : ": written " + m.expected,
                     m.actual.empty() ? "" : ", got " + m.actual);
}

Cell make_cell(const TraceOutcome& t, const Column& col) {
  Cell c;
  int ma = 0, mi = 0, pa = 0;
  if (parse_version(col.version, &ma, &mi, &pa)) c.in_range = t.program->kernel_matches(ma, mi, pa);
  const ExecutorReport& model = t.reports[0];
  const ExecutorReport& kernel = t.reports[1];
  c.model = verdict_name(model.verdict);
  c.kernel = verdict_name(kernel.verdict);
  if (kernel.verdict == Verdict::kLimit) c.notes.push_back("kernel: " + kernel.skip_reason);
  if (!kernel.run.error.empty()) c.notes.push_back("kernel: " + kernel.run.error);
  if (!kernel.mismatches.empty()) c.notes.push_back(mismatch_note("kernel", kernel.mismatches.front()));
  if (!model.run.error.empty()) c.notes.push_back("model: " + model.run.error);
  if (!model.mismatches.empty()) c.notes.push_back(mismatch_note("model", model.mismatches.front()));
  c.cross = !t.cross.empty();
  if (c.cross) c.notes.push_back(mismatch_note("model vs kernel", t.cross.front()));
  return c;
}

std::string self_executable() {
  std::error_code ec;
  return fs::read_symlink("/proc/self/exe", ec).string();
}

// The executor for the guests: this binary without its debug sections (a smaller
// initramfs boots faster); the binary itself if strip is missing.
std::string guest_executor(const std::string& cache) {
  const std::string self = self_executable();
  const std::string stripped = cache + "/guest/epoll-oracle";
  fs::create_directories(cache + "/guest");
  const std::string cmd = "strip --strip-debug -o '" + stripped + "' '" + self + "' 2>/dev/null";
  return std::system(cmd.c_str()) == 0 ? stripped : self;
}

void load_image(Column& col, const std::string& dir) {
  std::string package;
  read_file(dir + "/package", &package);
  while (!package.empty() && package.back() == '\n') package.pop_back();
  col.package = package;
  col.image = fs::exists(dir + "/vmlinux") ? dir + "/vmlinux" : dir + "/vmlinuz";
  col.config = fs::exists(dir + "/config") ? dir + "/config" : "";
}

// The guest's header line: its kernel, and the profile the model takes for it.
void read_guest_results(Column& col, std::string results) {
  results.erase(results.rfind('\n') == std::string::npos ? 0 : results.rfind('\n') + 1);  // a line cut by the watchdog
  std::istringstream lines(results);
  std::string line;
  if (!std::getline(lines, line)) {
    if (col.error.empty()) col.error = "the guest sent nothing";
    return;
  }
  try {
    const json head = json::parse(line);
    col.release = head.at("release").get<std::string>();
    col.uname_version = head.at("version").get<std::string>();
    const auto v = model::KernelVersion::from_uname(col.release, col.uname_version);
    if (!v) throw std::runtime_error("no kernel version in uname " + col.release);
    col.version = v->str();
    if (head.contains("calibration")) {
      col.profile = measured_profile(*v, calibration_from_json(head.at("calibration")),
                                     families_table(families_from_json(head.at("families"))));
    } else {
      col.profile = model::KernelProfile::for_version(*v);
      col.error = "calibration failed in the guest: " + head.value("calibration_error", std::string());
    }
    while (std::getline(lines, line)) {
      json j = json::parse(line);
      const std::string trace = j.at("trace").get<std::string>();
      col.guest_lines[trace] = std::move(j);
    }
  } catch (const std::exception& e) {
    if (col.error.empty()) col.error = std::string("unreadable results from the guest: ") + e.what();
  }
}

std::string archive_path(const std::string& shown) {
  std::string p = shown;
  while (!p.empty() && p[0] == '/') p.erase(0, 1);
  return p;
}

std::string ktap_safe(std::string s) {
  for (char& ch : s) {
    if (ch == '#' || ch == ' ' || ch == '\t' || ch == '\n') ch = '_';
  }
  return s;
}

}  // namespace

int cmd_kernels_fetch(const std::string& cache_dir, const std::vector<std::string>& kernels, std::ostream& err) {
  std::vector<std::pair<std::string, std::string>> images;
  const int rc = run_fetch(cache_dir, kernels, &images);
  for (const auto& [label, dir] : images) {
    std::string package;
    read_file(dir + "/package", &package);
    err << label << "  " << dir << "  " << package;
  }
  if (rc != 0) err << "epoll-oracle: kernels fetch: " << kFetchScript << " exited with status " << rc << "\n";
  return rc == 0 ? 0 : rc == 2 ? 2 : 1;
}

int cmd_kernels(const KernelsOptions& o, const std::vector<std::string>& files, const std::string& corpus_dir,
                std::ostream& out, std::ostream& err) {
  const auto start = std::chrono::steady_clock::now();
  const std::string cache = o.cache_dir.empty() ? default_cache_dir() : o.cache_dir;
  auto say = [&](const std::string& text) {
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (o.progress) err << fmt::format("kernels [{:5.1f} s]: {}\n", t, text) << std::flush;
  };
  // The traces, read once; the guests get the same text.
  struct TraceFile {
    std::string path, shown, text, error;
  };
  std::vector<TraceFile> traces;
  for (const std::string& f : files) {
    TraceFile t{f, display_path(f, corpus_dir), "", ""};
    if (!read_trace_file(f, &t.text, &t.error)) t.error = f + ": " + t.error;
    traces.push_back(std::move(t));
  }

  std::vector<Column> columns;
  if (o.host) {
    Column host;
    host.label = "host";
    utsname u{};
    uname(&u);
    host.release = host.package = u.release;
    host.uname_version = u.version;
    const auto v = model::KernelVersion::from_uname(u.release, u.version);
    host.version = v ? v->str() : u.release;
    std::string error;
    if (auto cal = real::calibrate(&error); cal && v) host.profile = measured_profile(*v, *cal, real::probe_socketpair);
    else host.error = "calibration failed: " + error;
    columns.push_back(std::move(host));
  }
  std::vector<std::pair<std::string, std::string>> images;
  if (o.kernels.size() != 1 || o.kernels[0] != "none") {
    say("kernel images in " + cache + "/images");
    if (const int rc = run_fetch(cache, o.kernels, &images); rc != 0) {
      err << "epoll-oracle: kernels: fetching the kernel images failed (" << kFetchScript << ", status " << rc << ")\n";
      return rc == 2 ? 2 : 1;
    }
  }
  const size_t first_guest = columns.size();
  for (const auto& [label, dir] : images) {
    Column c;
    c.label = label;
    load_image(c, dir);
    columns.push_back(std::move(c));
  }

  // The guests: one initramfs each (its config differs), at most o.jobs at once.
  if (columns.size() > first_guest) {
    // One matrix at a time per cache: the guests' run directories are the cache's.
    fs::create_directories(cache + "/run");
    const real::Fd lock(open((cache + "/run/lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (lock && flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
      say("waiting for another `kernels` run on " + cache);
      flock(lock.get(), LOCK_EX);
    }
    const std::string executor = guest_executor(cache);
    std::vector<std::pair<std::string, std::string>> in_archive;
    for (const TraceFile& t : traces) {
      if (t.error.empty()) in_archive.push_back({archive_path(t.shown), t.path});
    }
    std::atomic<size_t> next{first_guest};
    std::mutex say_mutex;
    auto worker = [&] {
      for (size_t i = next++; i < columns.size(); i = next++) {
        Column& col = columns[i];
        const std::string work = cache + "/run/" + col.label;
        fs::create_directories(work);
        InitramfsContents contents{o.guest_init.empty() ? EO_GUEST_INIT : o.guest_init, executor, col.config, in_archive};
        std::string error;
        if (!write_initramfs(contents, work + "/initramfs.cpio", &error)) {
          col.error = error;
          continue;
        }
        {
          std::lock_guard lk(say_mutex);
          say(fmt::format("{}: booting {} ({})", col.label, col.image, col.package));
        }
        GuestBoot boot;
        boot.kernel = col.image;
        boot.initramfs = work + "/initramfs.cpio";
        boot.work_dir = work;
        boot.timeout_s = o.timeout_s;
        boot.boot_timeout_s = o.boot_timeout_s;
        boot.guest_args = {"--watchdog", std::to_string(o.guest_watchdog_ms)};
        rlimit nofile{};
        if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY) boot.nofile = static_cast<long>(nofile.rlim_cur);
        GuestResult r = boot_guest(boot);
        if (!r.came_up) {
          // A kernel that did not even reach /init, before any trace: under TCG on a loaded
          // host this was seen twice in 40 warm matrices (7.2 hung with nothing on the
          // console; 6.12 panicked in sched_clock_cpu during an initcall). Boot it once
          // more, say so in the report, and keep the first boot's console for a look.
          std::error_code ec;
          fs::copy_file(work + "/console.log", work + "/console-first-boot.log", fs::copy_options::overwrite_existing, ec);
          col.boots_note = "the first boot did not reach /init (" + r.error + "); booted again, its console in " + work +
                           "/console-first-boot.log";
          {
            std::lock_guard lk(say_mutex);
            say(fmt::format("{}: {}", col.label, col.boots_note));
          }
          const double first = r.seconds;
          r = boot_guest(boot);
          r.seconds += first;
        }
        col.seconds = r.seconds;
        col.console_tail = r.console_tail;
        // A guest whose executor ran but said a trace was unreadable still reports the rest.
        if (!r.error.empty() && !(r.ended && r.status == 2)) col.error = r.error;
        read_guest_results(col, r.results);
        std::lock_guard lk(say_mutex);
        say(fmt::format("{}: {} in {:.1f} s{}", col.label, col.error.empty() ? "done" : "FAILED", col.seconds,
                        col.error.empty() ? "" : ": " + col.error));
      }
    };
    std::vector<std::thread> pool;
    for (int j = 0; j < std::max(1, o.jobs); ++j) pool.emplace_back(worker);
    for (std::thread& t : pool) t.join();
  }

  // The host's column runs after the guests, not beside them: its timing-sensitive
  // traces would see CPUs that the guests keep busy.
  std::unique_ptr<real::KernelExecutor> host_kernel;
  if (o.host) {
    real::KernelOptions ko;
    ko.watchdog_ms = o.host_watchdog_ms;
    host_kernel = std::make_unique<real::KernelExecutor>(ko);
    say("host: running " + std::to_string(traces.size()) + " traces on " + columns[0].release);
  }

  // The matrix: each trace on each column, model and kernel, every trace forced.
  std::vector<std::vector<Cell>> cells(traces.size(), std::vector<Cell>(columns.size()));
  bool bad_input = false;
  for (size_t ti = 0; ti < traces.size(); ++ti) {
    const TraceFile& t = traces[ti];
    for (size_t ci = 0; ci < columns.size(); ++ci) {
      Column& col = columns[ci];
      Cell& cell = cells[ti][ci];
      if (!t.error.empty()) {
        cell.kernel = cell.model = "ERROR";
        cell.notes.push_back(t.error);
        bad_input = true;
        continue;
      }
      if (!col.profile) {
        cell.kernel = cell.model = "ERROR";
        cell.notes.push_back(col.label + ": " + col.error);
        continue;
      }
      model::ModelExecutor model_ex(*col.profile, false);
      std::unique_ptr<Executor> recorded;
      Executor* kernel_ex = host_kernel.get();
      if (ci >= first_guest || !o.host) {
        auto it = col.guest_lines.find(archive_path(t.shown));
        recorded = std::make_unique<RecordedKernel>(col.version, it == col.guest_lines.end() ? nullptr : &it->second);
        kernel_ex = recorded.get();
      }
      const auto cell_start = std::chrono::steady_clock::now();
      TraceOutcome outcome = run_trace_text(t.path, t.text, {&model_ex, kernel_ex}, true);
      // The host's column runs here, the guests' ran in their qemu: its time is these runs'.
      if (kernel_ex == host_kernel.get()) col.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - cell_start).count();
      if (outcome.bad_input()) {
        cell.kernel = cell.model = "ERROR";
        cell.notes.push_back(outcome.input_error);
        bad_input = true;
        continue;
      }
      cell = make_cell(outcome, col);
    }
  }

  // Counts.
  int agree_all = 0, in_range_bad = 0, limits = 0;
  std::vector<int> ok_per_column(columns.size()), in_range_per_column(columns.size());
  for (size_t ti = 0; ti < traces.size(); ++ti) {
    bool all = true;
    for (size_t ci = 0; ci < columns.size(); ++ci) {
      const Cell& c = cells[ti][ci];
      all = all && c.ok();
      if (c.in_range) ++in_range_per_column[ci];
      if (c.in_range && c.ok()) ++ok_per_column[ci];
      if (c.limit()) ++limits;
      else if (c.in_range && !c.ok()) ++in_range_bad;
    }
    agree_all += all;
  }
  bool guest_failed = false;
  for (const Column& c : columns) guest_failed = guest_failed || !c.error.empty();
  const double total_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  if (o.format == "json") {
    json j;
    j["kernels"] = json::array();
    for (const Column& c : columns) {
      json k = {{"label", c.label}, {"package", c.package}, {"release", c.release}, {"uname_version", c.uname_version},
                {"version", c.version}, {"seconds", c.seconds}, {"error", c.error}};
      if (!c.error.empty()) k["console_tail"] = c.console_tail;
      if (!c.boots_note.empty()) k["booted_twice"] = c.boots_note;
      if (c.profile) k["profile"] = {{"version", c.profile->version.str()}, {"nr_cpus", c.profile->nr_cpus}};
      j["kernels"].push_back(k);
    }
    j["traces"] = json::array();
    for (size_t ti = 0; ti < traces.size(); ++ti) {
      json row = {{"trace", traces[ti].shown}, {"cells", json::object()}};
      for (size_t ci = 0; ci < columns.size(); ++ci) {
        const Cell& c = cells[ti][ci];
        row["cells"][columns[ci].label] = {{"status", c.text()}, {"in_range", c.in_range}, {"kernel", c.kernel},
                                           {"model", c.model}, {"model_vs_kernel", c.cross}, {"notes", c.notes}};
      }
      j["traces"].push_back(row);
    }
    j["summary"] = {{"traces", traces.size()}, {"agree_on_all", agree_all}, {"in_range_disagreements", in_range_bad},
                    {"limits", limits}, {"seconds", total_s}};
    out << j.dump(2) << "\n";
  } else if (o.format == "ktap") {
    out << "KTAP version 1\n1.." << columns.size() << "\n";
    for (size_t ci = 0; ci < columns.size(); ++ci) {
      const Column& col = columns[ci];
      out << "    KTAP version 1\n    # " << col.label << ": " << col.package << " (" << col.version << ")\n";
      if (!col.boots_note.empty()) out << "    # " << ktap_safe(col.boots_note) << "\n";
      if (!col.error.empty()) {
        out << "    # " << ktap_safe(col.error) << "\n";
        std::istringstream tail(col.console_tail);
        for (std::string l; std::getline(tail, l);) out << "    # console: " << l << "\n";
      }
      out << "    1.." << traces.size() << "\n";
      bool column_ok = col.error.empty();
      for (size_t ti = 0; ti < traces.size(); ++ti) {
        const Cell& c = cells[ti][ci];
        const bool pass = c.ok() || c.limit() || !c.in_range;
        column_ok = column_ok && pass;
        for (const std::string& n : c.notes) out << "    # " << ktap_safe(traces[ti].shown) << ": " << n << "\n";
        out << "    " << (pass ? "ok " : "not ok ") << ti + 1 << " " << ktap_safe(traces[ti].shown);
        if (c.limit()) out << " # SKIP beyond the executor's limits";
        else if (!c.in_range) out << " # SKIP outside range: " << (c.ok() ? "pass" : "fail " + c.text());
        out << "\n";
      }
      out << (column_ok ? "ok " : "not ok ") << ci + 1 << " " << col.label << "\n";
    }
  } else {
    out << fmt::format("epoll-oracle kernels: {} trace{} on {} kernel{} ({:.1f} s)\n\n", traces.size(),
                       traces.size() == 1 ? "" : "s", columns.size(), columns.size() == 1 ? "" : "s", total_s);
    out << fmt::format("{:<8} {:<10} {:<56} {:>7}  {}\n", "kernel", "version", "package", "seconds", "in range ok");
    for (size_t ci = 0; ci < columns.size(); ++ci) {
      const Column& c = columns[ci];
      out << fmt::format("{:<8} {:<10} {:<56} {:>7.1f}  {}/{}\n", c.label, c.version, c.package, c.seconds,
                         ok_per_column[ci], in_range_per_column[ci]);
      if (!c.boots_note.empty()) out << "  NOTE: " << c.boots_note << "\n";
      if (!c.error.empty()) {
        out << "  ERROR: " << c.error << "\n";
        std::istringstream tail(c.console_tail);
        for (std::string l; std::getline(tail, l);) out << "  | " << l << "\n";
      }
    }
    size_t width = 5;
    for (const TraceFile& t : traces) width = std::max(width, t.shown.size());
    out << "\n" << fmt::format("{:<{}}", "trace", width);
    for (const Column& c : columns) out << fmt::format(" {:>9}", c.label);
    out << "\n";
    int shown_rows = 0;
    for (size_t ti = 0; ti < traces.size(); ++ti) {
      bool all = true;
      for (const Cell& c : cells[ti]) all = all && c.ok();
      if (all && !o.all_rows) continue;
      ++shown_rows;
      out << fmt::format("{:<{}}", traces[ti].shown, width);
      for (const Cell& c : cells[ti]) out << fmt::format(" {:>9}", c.text());
      out << "\n";
    }
    if (shown_rows == 0) out << "(every trace ok on every kernel)\n";
    out << "\nok: the kernel gives the written results and the model predicts them. K: the kernel differs from the\n"
           "written results, M: the model does, X: model and kernel differ on an unchecked step; out: the trace's\n"
           "@kernel excludes that kernel (run forced, not a failure); limit: beyond the executor's limits.\n";
    // What needs a reader: disagreements inside a range, and outside one only where the
    // model and the kernel part (out:KM, both away from the written results alike, is
    // the other side of the trace's change).
    bool any_note = false;
    int outside_ok = 0;
    for (size_t ti = 0; ti < traces.size(); ++ti) {
      for (size_t ci = 0; ci < columns.size(); ++ci) {
        const Cell& c = cells[ti][ci];
        outside_ok += !c.in_range && c.ok();
        if (c.ok() || c.notes.empty() || (!c.in_range && !c.cross && c.kernel == c.model)) continue;
        if (!any_note) out << "\n";
        any_note = true;
        for (const std::string& n : c.notes) out << traces[ti].shown << " [" << columns[ci].label << "] " << n << "\n";
      }
    }
    out << fmt::format("\n{} of {} traces ok on every kernel; {} disagreement{} inside @kernel ranges; {} run{} outside a "
                       "range that pass{}\n",
                       agree_all, traces.size(), in_range_bad, in_range_bad == 1 ? "" : "s", outside_ok,
                       outside_ok == 1 ? "" : "s", outside_ok ? " (a range drawn too narrow?)" : "");
  }
  if (bad_input) return 2;
  if (guest_failed || in_range_bad > 0) return 1;
  return limits > 0 ? 3 : 0;
}

}  // namespace eo
