// epoll-oracle: the command line. See `epoll-oracle --help`.
#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "model/executor.h"
#include "model/profile.h"
#include "oracle/beliefs.h"
#include "oracle/bench.h"
#include "oracle/calls_doc.h"
#include "oracle/corpus.h"
#include "oracle/fuzz.h"
#include "oracle/guest_run.h"
#include "oracle/herd.h"
#include "oracle/herd_cost.h"
#include "oracle/kernels.h"
#include "oracle/kernel_profile.h"
#include "oracle/output_file.h"
#include "oracle/record.h"
#include "oracle/report.h"
#include "oracle/runner.h"
#include "oracle/trace/trace_file.h"
#include "real/calibrate.h"
#include "real/executor.h"

namespace {

// Documented exit statuses (every command's --help footer, README.md). Where several
// apply, the first of 2, 1, 3 wins.
constexpr int kExitPass = 0;
constexpr int kExitDiverged = 1;
constexpr int kExitBadInput = 2;  // also: output that could not be written
constexpr int kExitLimit = 3;     // nothing diverged, but an executor could not run a trace

const std::string kExit2 = "2  bad input or output: an unreadable or malformed trace, a bad option, output that\n"
                           "     could not be written";
const std::string kExit3 = "3  nothing diverged, but a trace is beyond an executor's limit (a sleep or a call's\n"
                           "     timeout over --max-sleep) and was not run there";

// "Exit status:" and one status a line.
std::string footer(const std::vector<std::string>& statuses) {
  std::string text = "Exit status:";
  for (const std::string& s : statuses) text += "\n  " + s;
  return text;
}

std::string uname_release() {
  struct utsname u {};
  uname(&u);
  return u.release;
}

struct Common {
  std::string on = "model,kernel";
  std::string profile;  // X.Y[.Z] for the model; default: this kernel's version
  std::string color = "auto";
  int watchdog_ms = 2000;
  long max_sleep_ms = real::KernelOptions{}.max_sleep_ms;
};

// Each command gets the options it uses, and only those.
void add_on(CLI::App* cmd, Common& c) {
  cmd->add_option("--on", c.on, "Executors to run, comma-separated: model, kernel")
      ->check(CLI::IsMember({"model", "kernel", "model,kernel", "kernel,model"}))
      ->capture_default_str();
}

// A version the model knows: from KernelProfile::kOldest to the kNewest series.
CLI::Validator known_kernel_version() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        const auto v = model::KernelVersion::parse(text);
        const auto& newest = model::KernelProfile::kNewest;
        if (!v) return "expected a kernel version like 6.12 or 5.15.3, got '" + text + "'";
        if (*v < model::KernelProfile::kOldest) {
          return "the model knows kernels from " + model::KernelProfile::kOldest.str() + " on, not " + v->str();
        }
        if (std::pair(v->major, v->minor) > std::pair(newest.major, newest.minor)) {
          return fmt::format("the model knows kernels up to {}.{}, not {}", newest.major, newest.minor, v->str());
        }
        return "";
      },
      "VERSION");
}

// A count or a duration: more than 0 (0 or less would mean "not given" inside).
CLI::Validator positive() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        double v = 0;
        if (!CLI::detail::lexical_cast(text, v) || !(v > 0)) return "expected a number above 0, got " + text;
        return "";
      },
      "POSITIVE");
}

void add_profile(CLI::App* cmd, Common& c) {
  cmd->add_option("--profile", c.profile,
                  fmt::format("Kernel version the model imitates, {} to {}.{}.y, e.g. 5.10 or 6.12.40 (default: this "
                              "machine's kernel)",
                              model::KernelProfile::kOldest.str(), model::KernelProfile::kNewest.major,
                              model::KernelProfile::kNewest.minor))
      ->check(known_kernel_version());
}

void add_color(CLI::App* cmd, Common& c) {
  cmd->add_option("--color", c.color, "Colour the output: auto (on a terminal), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
}

// The kernel executor's bounds (real::KernelOptions).
void add_kernel_limits(CLI::App* cmd, Common& c, bool with_max_sleep = true) {
  cmd->add_option("--watchdog", c.watchdog_ms, "Milliseconds a kernel step may take before it is reported stuck")
      ->check(CLI::Range(50, 600000))
      ->capture_default_str();
  if (!with_max_sleep) return;
  cmd->add_option("--max-sleep", c.max_sleep_ms,
                  "Longest sleep(MS), and longest finite epoll_wait/poll timeout a call step may wait out, that the "
                  "kernel executor runs; a trace beyond it is reported as 'limit' and not run on the kernel")
      ->check(CLI::Range(1L, 3'600'000L))
      ->capture_default_str();
}

real::KernelOptions kernel_options(const Common& c) {
  real::KernelOptions o;
  o.watchdog_ms = c.watchdog_ms;
  o.max_sleep_ms = c.max_sleep_ms;
  return o;
}

std::string trace_help() {
  return fmt::format("The trace file (a regular file of at most {} MiB), or - for standard input", eo::kMaxTraceBytes >> 20);
}

// The model's profile: the chosen version's switches, with the constants measured on this
// machine's kernel (AF_UNIX accounting, pipe size, watch limit).
std::optional<model::KernelProfile> model_profile(const Common& c, std::string* error) {
  const std::string text = c.profile.empty() ? uname_release() : c.profile;
  auto v = model::KernelVersion::parse(text);
  if (!v) {
    *error = "--profile: expected a kernel version like 6.12 or 5.15.3, got '" + text + "'";
    return std::nullopt;
  }
  if (*v < model::KernelProfile::kOldest) {
    *error = "--profile: the model knows kernels from " + model::KernelProfile::kOldest.str() + " on, not " + v->str();
    return std::nullopt;
  }
  model::KernelProfile p = model::KernelProfile::for_version(*v);
  std::string cal_error;
  if (auto cal = real::calibrate(&cal_error)) {
    p = eo::measured_profile(*v, *cal, real::probe_socketpair);  // on demand: the probe is slow
    if (cal->config.source.empty()) {
      std::cerr << "epoll-oracle: warning: no kernel config (/proc/config.gz, /boot/config-RELEASE); the model "
                   "assumes CONFIG_WATCH_QUEUE is not set\n";
    }
  } else {
    std::cerr << "epoll-oracle: warning: calibration failed (" << cal_error << "); the model uses x86-64 6.18 defaults\n";
  }
  return p;
}

struct Executors {
  model::RuleCoverage coverage;
  std::unique_ptr<model::ModelExecutor> model;
  std::unique_ptr<real::KernelExecutor> kernel;
  std::vector<eo::Executor*> list;
  eo::ReportOptions opt;
};

// `coverage`: count the model's rules (an observer: it costs time, so only when asked).
std::unique_ptr<Executors> make_executors(const Common& c, bool explain, bool coverage, std::string* error) {
  auto holder = std::make_unique<Executors>();
  Executors& ex = *holder;
  std::set<std::string> wanted;
  std::stringstream ss(c.on);
  for (std::string item; std::getline(ss, item, ',');) wanted.insert(item);
  if (wanted.count("model")) {
    auto p = model_profile(c, error);
    if (!p) return nullptr;
    ex.model = std::make_unique<model::ModelExecutor>(*p, explain);
    if (coverage) ex.model->set_observer(&ex.coverage);
    ex.list.push_back(ex.model.get());
  }
  if (wanted.count("kernel")) {
    ex.kernel = std::make_unique<real::KernelExecutor>(kernel_options(c));
    ex.list.push_back(ex.kernel.get());
  }
  for (eo::Executor* e : ex.list) {
    ex.opt.executors.push_back(e->name());
    ex.opt.versions.push_back(e->version());
  }
  ex.opt.color = c.color == "always" || (c.color == "auto" && isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR"));
  return holder;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

bool has_tag(const eo::Program& p, const std::vector<std::string>& tags) {
  if (tags.empty()) return true;
  for (const std::string& t : tags) {
    for (const std::string& pt : p.tags) {
      if (pt == t) return true;
    }
  }
  return false;
}

// The trace files under the paths (default: the shipped corpus); false after saying why.
bool corpus_files(std::vector<std::string> paths, std::vector<std::string>* files) {
  if (paths.empty()) paths.push_back(eo::default_corpus_dir());
  std::vector<std::string> missing;
  *files = eo::find_traces(paths, &missing);
  for (const std::string& m : missing) std::cerr << "epoll-oracle: " << m << ": no such file or directory\n";
  if (!missing.empty()) return false;
  if (files->empty()) {
    std::cerr << "epoll-oracle: no .trace files under " << fmt::format("{}", fmt::join(paths, ", ")) << "\n";
    return false;
  }
  return true;
}

int cmd_check(const Common& c, const std::vector<std::string>& paths, const std::string& tags_arg, const std::string& format,
              bool coverage) {
  std::string error;
  auto ex = make_executors(c, true, coverage, &error);
  if (!ex) {
    std::cerr << "epoll-oracle: " << error << "\n";
    return kExitBadInput;
  }
  const std::string corpus = eo::default_corpus_dir();
  std::vector<std::string> files;
  if (!corpus_files(paths, &files)) return kExitBadInput;
  const std::vector<std::string> tags = split(tags_arg);
  const bool progress = files.size() > 1 && isatty(STDERR_FILENO) && format == "human";
  std::vector<eo::TraceOutcome> results;
  size_t n = 0;
  for (const std::string& f : files) {
    ++n;
    if (progress) std::cerr << fmt::format("\r\033[K[{}/{}] {}", n, files.size(), eo::display_path(f, corpus)) << std::flush;
    std::string text;
    eo::TraceOutcome t;
    if (!tags.empty()) {
      // Parse once without running to filter by tags.
      t = eo::run_trace_file(f, {});
      if (!t.bad_input() && !has_tag(*t.program, tags)) continue;
      if (!t.bad_input()) t = eo::run_trace_file(f, ex->list);
    } else {
      t = eo::run_trace_file(f, ex->list);
    }
    t.shown = eo::display_path(f, corpus);
    results.push_back(std::move(t));
  }
  if (progress) std::cerr << "\r\033[K" << std::flush;
  if (results.empty()) {
    std::cerr << "epoll-oracle: no trace has the tags " << tags_arg << "\n";
    return kExitBadInput;
  }
  const model::RuleCoverage* cov = coverage && ex->model ? &ex->coverage : nullptr;
  if (format == "json") eo::report_json(std::cout, results, ex->opt, cov);
  else if (format == "ktap") eo::report_ktap(std::cout, results, ex->opt);
  else {
    std::cout << fmt::format("epoll-oracle check: {} trace{} on", results.size(), results.size() == 1 ? "" : "s");
    for (size_t i = 0; i < ex->opt.executors.size(); ++i) {
      std::cout << (i ? " and " : " ") << ex->opt.executors[i] << " " << ex->opt.versions[i];
    }
    std::cout << "\n\n";
    eo::report_human(std::cout, results, ex->opt);
  }
  if (cov && format == "human") eo::print_coverage(std::cout, *cov, ex->opt.color);
  if (cov && format == "ktap") {
    // KTAP: diagnostic lines after the results.
    std::ostringstream text;
    eo::print_coverage(text, *cov, false);
    std::istringstream lines(text.str());
    for (std::string l; std::getline(lines, l);) {
      if (!l.empty()) std::cout << "# " << l << "\n";
    }
  }
  bool bad = false, diverged = false, limited = false;
  for (const auto& t : results) {
    bad = bad || t.bad_input();
    diverged = diverged || t.diverged();
    limited = limited || t.limited();
  }
  return bad ? kExitBadInput : diverged ? kExitDiverged : limited ? kExitLimit : kExitPass;
}

// run and explain: one trace on the chosen executors, reported by `report`.
template <typename Report>
int run_one(const Common& c, const std::string& path, Report report) {
  std::string error;
  auto ex = make_executors(c, true, false, &error);
  if (!ex) {
    std::cerr << "epoll-oracle: " << error << "\n";
    return kExitBadInput;
  }
  eo::TraceOutcome t = eo::run_trace_file(path, ex->list);
  if (t.bad_input()) {
    std::cerr << t.input_error << "\n";
    return kExitBadInput;
  }
  report(t, ex->opt);
  return t.diverged() ? kExitDiverged : t.limited() ? kExitLimit : kExitPass;
}

int cmd_run(const Common& c, const std::string& path, bool explain) {
  return run_one(c, path, [explain](const eo::TraceOutcome& t, const eo::ReportOptions& opt) {
    eo::report_steps(std::cout, t, opt, explain);
  });
}

int cmd_explain(const Common& c, const std::string& path) {
  Common model_only = c;
  model_only.on = "model";
  return run_one(model_only, path, [](const eo::TraceOutcome& t, const eo::ReportOptions& opt) {
    eo::report_explain(std::cout, t, opt);
  });
}

// A standard descriptor that is closed (`>&-`) would be handed to the first file the
// trace opens, and the report would go into the trace's pipe: hold its number with
// /dev/null opened read-only, so that writes there fail and say so.
void hold_standard_descriptors() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    const int held = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (held >= 0 && held != fd) {
      dup2(held, fd);
      close(held);
    }
  }
}

// std::cout's buffer, written straight to descriptor 1, keeping the errno of the first
// write that failed (stdio's buffer loses it once a later flush has nothing to write).
class StdoutBuffer : public std::streambuf {
 public:
  StdoutBuffer() { setp(buf_, buf_ + sizeof buf_); }
  int error() const { return error_; }

 protected:
  int overflow(int c) override {
    if (write_out() != 0) return traits_type::eof();
    if (c != traits_type::eof()) sputc(static_cast<char>(c));
    return traits_type::not_eof(c);
  }
  int sync() override { return write_out(); }

 private:
  int write_out() {
    const char* p = pbase();
    while (p < pptr() && error_ == 0) {
      const ssize_t n = ::write(STDOUT_FILENO, p, static_cast<size_t>(pptr() - p));
      if (n >= 0) p += n;
      else if (errno != EINTR) error_ = errno;
    }
    setp(buf_, buf_ + sizeof buf_);
    return error_ == 0 ? 0 : -1;
  }
  char buf_[1 << 16];
  int error_ = 0;
};

// Whether everything written to standard output reached it; if not, says so on stderr.
bool stdout_written(const StdoutBuffer& buffer) {
  std::cout.flush();
  if (buffer.error() == 0 && std::cout.good()) return true;
  std::cerr << "epoll-oracle: cannot write to standard output: " << std::strerror(buffer.error()) << "\n";
  return false;
}

// ---- herd ------------------------------------------------------------------------------

// `herd`'s options. Scenario settings given as flags (--workers 8 ...) apply to every
// scenario of the files, or make the one scenario when no file is named.
struct HerdArgs {
  eo::herd::Command cmd;
  std::string on = "model,kernel";
  std::map<std::string, std::vector<std::string>> settings;
  std::string sweep_workers;
};

// Registers `herd` (its own block: other herd subcommands hang under the returned App).
CLI::App* add_herd(CLI::App& app, HerdArgs& a, Common& common) {
  auto* herd = app.add_subcommand(
      "herd", "Thundering-herd scenarios on the model and on this kernel's threads, side by side (docs/HERD.md)");
  herd->add_option("files", a.cmd.files, "Scenario files (docs/HERD.md); none: one scenario from the flags");
  herd->add_option("--on", a.on, "Executors to run, comma-separated: model, kernel")
      ->check(CLI::IsMember({"model", "kernel", "model,kernel", "kernel,model"}))
      ->capture_default_str();
  const std::pair<const char*, const char*> keys[] = {
      {"source", "unix, tcp, pipe, eventfd, socketpair"},
      {"wait", "blocking, shared, per-worker, nested, reuseport, wait14"},
      {"trigger", "lt, et, oneshot, exclusive"},
      {"workers", "worker threads (the kernel runs at most 64)"},
      {"events", "connections or writes"},
      {"service", "a worker's time per event: 50us, 2ms... (virtual on the model, spun on the kernel)"},
      {"seed", "the Poisson arrival's seed"},
      {"consume", "yes, or no: each worker waits once and reads nothing (LTP's, kselftest's shape)"},
      {"fds", "wait14: ready pipes"},
      {"maxevents", "wait14: epoll_wait's maxevents"},
      {"rounds", "wait14: calls of epoll_wait"}};
  for (const auto& [key, help] : keys) herd->add_option(std::string("--") + key, a.settings[key], help)->expected(1);
  herd->add_option("--arrival", a.settings["arrival"], "one-at-a-time, burst K, or poisson RATE (events per ms)")
      ->expected(1, 2);
  herd->add_option("--csv", a.cmd.csv, "Write the results as CSV to FILE");
  herd->add_option("--json", a.cmd.json, "Write the results as JSON to FILE");
  herd->add_option("--svg", a.cmd.svg_dir, "Write SVG charts (gnuplot) into DIR");
  herd->add_flag("--sweep", a.cmd.sweep,
                 "Sweep the workers for shared LT, shared ET and per-worker EXCLUSIVE epolls (model; kernel up to "
                 "--kernel-max)");
  herd->add_option("--sweep-workers", a.sweep_workers, "The sweep's worker counts, comma-separated")
      ->default_str("1,2,4,...,8192,10000");
  herd->add_option("--kernel-max", a.cmd.kernel_max, "The sweep's largest kernel point")->capture_default_str();
  herd->add_option("--watchdog", a.cmd.watchdog_ms, "Kernel: the longest a settle may take, ms")
      ->check(CLI::Range(1, 600000))
      ->capture_default_str();
  add_profile(herd, common);
  herd->footer(footer({"0  every scenario ran, and every deterministic one agreed exactly on model and kernel",
                       "1  a deterministic scenario differs between model and kernel, or a run failed",
                       "2  bad input or output: a malformed scenario file (FILE:LINE:COL), a bad option, an output "
                       "file that could not be written"}));
  return herd;
}

int cmd_herd(HerdArgs& a, const Common& common) {
  a.cmd.on_model = a.on.find("model") != std::string::npos;
  a.cmd.on_kernel = a.on.find("kernel") != std::string::npos;
  for (const auto& [key, values] : a.settings)
    if (!values.empty()) a.cmd.settings.emplace_back(key, values);
  if (!a.sweep_workers.empty()) {
    a.cmd.sweep_workers.clear();
    for (const std::string& w : split(a.sweep_workers)) {
      int n = 0;
      if (!CLI::detail::lexical_cast(w, n) || n < 1 || n > 1000000) {
        std::cerr << "epoll-oracle: --sweep-workers: expected whole numbers from 1 to 1000000, got '" << w << "'\n";
        return kExitBadInput;
      }
      a.cmd.sweep_workers.push_back(n);
    }
  }
  const std::string text = common.profile.empty() ? uname_release() : common.profile;
  const auto v = model::KernelVersion::parse(text);
  if (!v || *v < model::KernelProfile::kOldest) {
    std::cerr << "epoll-oracle: --profile: expected a kernel version the model knows, got '" << text << "'\n";
    return kExitBadInput;
  }
  return eo::herd::cmd_herd(a.cmd, model::KernelProfile::for_version(*v), std::cout, std::cerr);
}

// `herd cost`: poll(2) against epoll_wait(2), N watched and K ready (oracle/herd_cost.h).
struct HerdCostArgs {
  eo::CostOptions opt;
  std::string on = "model,kernel", csv, json, svg;
  bool no_progress = false;
  CLI::App* cmd = nullptr;
};

void add_herd_cost(CLI::App& herd, HerdCostArgs& a) {
  a.cmd = herd.add_subcommand("cost", "Time per wait, poll against epoll_wait, N watched descriptors of which K are ready");
  a.cmd->add_option("--n", a.opt.n, "Watched descriptors, comma-separated")
      ->delimiter(',')
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  a.cmd->add_option("--k", a.opt.k, "Ready descriptors for each N, comma-separated: counts or shares of N (10%)")
      ->delimiter(',')
      ->capture_default_str();
  a.cmd->add_option("--on", a.on, "Executors, comma-separated: model, kernel")
      ->check(CLI::IsMember({"model", "kernel", "model,kernel", "kernel,model"}))
      ->capture_default_str();
  a.cmd->add_option("--seconds", a.opt.seconds_per_point, "Time spent on each (executor, call, N, K) point")
      ->check(CLI::Range(0.0, 60.0))
      ->capture_default_str();
  a.cmd->add_option("--min-calls", a.opt.min_calls, "Calls timed at least per point")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  a.cmd->add_option("--csv", a.csv, "Also write the points as CSV to this file");
  a.cmd->add_option("--json", a.json, "Also write the points as JSON to this file");
  a.cmd->add_option("--svg", a.svg, "Also draw the log-log chart (gnuplot) into this SVG file");
  a.cmd->add_flag("--no-progress", a.no_progress, "No progress line per point on standard error");
  a.cmd->footer("Each call is timed on its own (median ns); on the model, f_op is the count of f_op->poll\n"
                "calls in one wait (rule coverage): N for poll (do_poll polls every fd), K for epoll_wait\n"
                "(ep_send_events polls the ready items only). The kernel side raises the soft RLIMIT_NOFILE\n"
                "for the run if N needs it.\n\n" +
                footer({"0  measured", "1  a measurement failed (a call did not return K)",
                        "2  a bad option, or an output that could not be written"}));
}

int run_herd_cost(HerdCostArgs& a) {
  a.opt.on_model = a.on.find("model") != std::string::npos;
  a.opt.on_kernel = a.on.find("kernel") != std::string::npos;
  a.opt.progress = !a.no_progress;
  return eo::cmd_herd_cost(a.opt, a.csv, a.json, a.svg, std::cout, std::cerr);
}

int run_command(int argc, char** argv) {
  CLI::App app{
      "epoll-oracle: what Linux epoll really does.\n"
      "Runs traces (small strace-like programs of pipe, socketpair, eventfd and epoll calls with the\n"
      "results Linux gives) on a faithful model of fs/eventpoll.c and on this machine's kernel, and\n"
      "reports every step where they differ, with the model's account of what happened inside.\n"
      "`epoll-oracle calls` lists the calls a trace may make."};
  app.footer(footer({"0  everything matched", "1  a divergence", kExit2, kExit3}) +
             "\nEach command's --help says what its statuses mean there.\n\n"
             "Environment:\n  EPOLL_ORACLE_TRACES  the corpus used when no trace is named (default: the shipped corpus,\n"
             "                       " + eo::shipped_corpus_dir() + ")");
  app.require_subcommand(1);
  app.set_version_flag("--version", "epoll-oracle 0.1");

  Common common;
  std::vector<std::string> paths;
  const std::string corpus_help = "(default: $EPOLL_ORACLE_TRACES if set, else the shipped corpus " +
                                  eo::shipped_corpus_dir() + ")";
  const std::string paths_help = fmt::format(
      "Trace files (regular files of at most {} MiB, or - for standard input) or directories (searched "
      "recursively for *.trace) {}",
      eo::kMaxTraceBytes >> 20, corpus_help);
  std::string tags, format = "human";
  auto* check = app.add_subcommand("check", "Run traces (default: the shipped corpus) and report divergences");
  check->add_option("paths", paths, paths_help);
  check->add_option("--tags", tags, "Only traces with at least one of these tags, comma-separated");
  check->add_option("--format", format, "Report format: human, json, ktap")
      ->check(CLI::IsMember({"human", "json", "ktap"}))
      ->capture_default_str();
  bool coverage = false;
  check->add_flag("--coverage", coverage,
                  "Also report which model rules the traces reached and which never (in JSON: a \"coverage\" member; "
                  "in KTAP: diagnostic lines)");
  add_on(check, common);
  add_profile(check, common);
  add_color(check, common);
  add_kernel_limits(check, common);
  check->footer(footer({"0  every trace passed (or was skipped by its @kernel)", "1  a divergence", kExit2, kExit3}) +
                "\n\nEnvironment:\n  EPOLL_ORACLE_TRACES  the corpus used when no path is given");

  std::string trace;
  bool explain_flag = false;
  auto* run = app.add_subcommand("run", "Run one trace: every step with written, model and kernel results side by side");
  run->add_option("trace", trace, trace_help())->required();
  run->add_flag("--explain", explain_flag, "Also print the model's account of each step");
  add_on(run, common);
  add_profile(run, common);
  add_color(run, common);
  add_kernel_limits(run, common);
  run->footer(footer({"0  the trace passed", "1  a divergence", kExit2, kExit3}));

  bool in_place = false;
  auto* record = app.add_subcommand("record", "Fill in the results a trace leaves out, from this machine's kernel");
  record->add_option("trace", trace, trace_help())->required();
  record->add_flag("--in-place,-i", in_place,
                   "Replace the file instead of printing the result (a temporary file renamed over it, same mode)");
  add_kernel_limits(record, common);
  record->footer("Steps without `= RESULT` get the kernel's result; resume lines are added for pending\n"
                 "calls that returned. Written results are kept; where the kernel disagrees a warning\n"
                 "is printed.\n\n" +
                 footer({"0  recorded", "1  written results disagree with the kernel, or the run stopped", kExit2,
                         "3  the trace is beyond the kernel executor's limit (--max-sleep): not run, nothing written"}));

  auto* explain = app.add_subcommand("explain", "Show, step by step, what happens inside the model in kernel terms");
  explain->add_option("trace", trace, trace_help())->required();
  add_profile(explain, common);
  add_color(explain, common);
  explain->footer(footer({"0  the model gives the written results", "1  it does not", kExit2}));

  std::string readme;
  auto* beliefs = app.add_subcommand("beliefs", "Print the table of common beliefs about epoll and Linux's verdicts");
  beliefs->add_option("--corpus", paths, "Directory of belief traces (default: traces/beliefs of the corpus " +
                                             corpus_help + ")");
  beliefs->add_option("--update-readme", readme, "Replace the generated section of this README instead of printing");
  std::string check_readme;
  beliefs->add_option("--check-readme", check_readme, "Exit 1 if the generated section of this README is out of date");
  beliefs->footer(footer({"0  done", "1  --check-readme: the section is out of date", kExit2}) +
                  "\n\nEnvironment:\n  EPOLL_ORACLE_TRACES  the corpus whose beliefs/ is read when --corpus is not given");

  int repeat = 20;
  auto* bench = app.add_subcommand("bench", "Replay the corpus on the model and the kernel: time per step side by side");
  bench->add_option("paths", paths, paths_help);
  bench->add_option("--repeat", repeat, "Replays of each trace on each executor")->check(CLI::Range(1, 100000))->capture_default_str();
  add_on(bench, common);
  add_profile(bench, common);
  add_kernel_limits(bench, common);
  bench->footer(footer({"0  every trace timed", "1  a trace stopped or got stuck on an executor (reported, not timed)", kExit2,
                        "3  a trace is beyond an executor's limit (--max-sleep; reported, not timed)"}) +
                "\n\nEnvironment:\n  EPOLL_ORACLE_TRACES  the corpus used when no path is given");

  eo::FuzzOptions fuzz_opt;
  uint64_t fuzz_seed = 0;
  auto* fuzz = app.add_subcommand("fuzz", "Differential search: random traces on the model and the kernel, divergences shrunk");
  fuzz->add_option("--seconds", fuzz_opt.seconds, "Run for this long (with neither --seconds nor --cases: 300 cases)")
      ->check(positive());
  fuzz->add_option("--cases", fuzz_opt.cases, "Run this many cases")->check(positive());
  auto* seed_opt = fuzz->add_option("--seed", fuzz_seed, "Seed of the first batch (default: random, printed)");
  fuzz->add_option("--batch", fuzz_opt.batch, "Cases per RapidCheck run; batch i uses seed + i")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  fuzz->add_option("--max-size", fuzz_opt.max_size, "RapidCheck's maximum size: longer traces as it grows")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  fuzz->add_option("--out", fuzz_opt.out_dir,
                   "Directory where shrunk divergences are written as traces (made if missing; checked writable first)");
  fuzz->add_flag("--coverage", fuzz_opt.coverage, "Print which model rules were reached and which never");
  fuzz->add_flag("!--no-progress", fuzz_opt.progress, "No live progress line");
  fuzz->add_flag("--stop-at-first", fuzz_opt.stop_at_first, "Stop at the first divergence also when bounded by --seconds");
  add_profile(fuzz, common);
  add_kernel_limits(fuzz, common, false);
  fuzz->footer(footer({"0  no divergence", "1  a divergence (shrunk and printed)",
                       kExit2 + " (a divergence that could not be written to --out is 2)"}));

  bool markdown = false;
  std::string update_doc, check_doc;
  auto* calls = app.add_subcommand("calls", "List the calls of the trace language: arguments, result, whether it may block");
  calls->add_flag("--markdown", markdown, "As the Markdown table of docs/LANGUAGE.md");
  calls->add_option("--update-doc", update_doc, "Replace the calls table of this document instead of printing");
  calls->add_option("--check-doc", check_doc, "Exit 1 if the calls table of this document differs from the calls");
  calls->footer(footer({"0  done", "1  --check-doc: the table is out of date", kExit2}) +
                "\n\nThe table is the part of the document between the lines " + std::string(eo::kCallsBegin) +
                " and " + eo::kCallsEnd + ".");

  eo::KernelsOptions kopt;
  std::string kernel_list;
  bool no_host = false;
  auto* kernels = app.add_subcommand(
      "kernels", "The kernel matrix: traces (default: the corpus) on Debian kernels under qemu and on this machine, "
                 "each with the model's prediction for that kernel");
  kernels->add_option("paths", paths, paths_help);
  kernels->add_option("--kernels", kernel_list,
                      "Guest kernels, comma-separated, of 5.10, 6.1, 6.1-rt, 6.12, 7.2 (default: all; none: only this machine)");
  kernels->add_flag("--no-host", no_host, "Leave out this machine's kernel");
  kernels->add_option("--format", kopt.format, "Report format: human, json, ktap (one subtest per kernel)")
      ->check(CLI::IsMember({"human", "json", "ktap"}))
      ->capture_default_str();
  kernels->add_flag("--all", kopt.all_rows, "human: a row for every trace, not only those not ok on some kernel");
  kernels->add_option("--jobs,-j", kopt.jobs, "Guests at once")->check(CLI::Range(1, 16))->capture_default_str();
  kernels->add_option("--timeout", kopt.timeout_s, "Seconds a guest may take to boot, run and power off (watchdog)")
      ->check(CLI::Range(5, 7200))
      ->capture_default_str();
  kernels->add_option("--boot-timeout", kopt.boot_timeout_s,
                      "Seconds a guest may take to reach its /init; one that does not is booted once more (said in the report)")
      ->check(CLI::Range(5, 7200))
      ->capture_default_str();
  kernels->add_option("--guest-watchdog", kopt.guest_watchdog_ms, "The kernel executor's --watchdog inside the guests (ms)")
      ->check(CLI::Range(50, 600000))
      ->capture_default_str();
  kernels->add_option("--cache", kopt.cache_dir, "Cache of kernel images and guest files (default: " + eo::default_cache_dir() + ")");
  kernels->add_flag("!--no-progress", kopt.progress, "No progress lines on stderr");
  kernels->add_option("--guest-init", kopt.guest_init, "Another /init for the guests (to see how failures are reported)")
      ->group("");
  add_kernel_limits(kernels, common, false);
  kernels->footer(footer({"0  on every kernel inside each trace's @kernel, the kernel gives the written results and the model predicts them",
                          "1  a disagreement, or a guest that did not boot, finish or report (its console tail is shown)",
                          kExit2, "3  nothing disagreed, but a trace is beyond the kernel executor's limits"}) +
                  "\n\nEnvironment:\n  EPOLL_ORACLE_CACHE   the cache directory\n  EPOLL_ORACLE_TRACES  the corpus used when no path is given");
  kernels->fallthrough();
  auto* kernels_fetch = kernels->add_subcommand("fetch", "Fetch the guest kernels into the cache (scripts/kernels-fetch.sh)");
  std::string guest_dir;
  auto* guest_run = kernels->add_subcommand("guest-run", "Inside a guest: run the traces of DIR on this kernel, results as JSON lines");
  guest_run->add_option("dir", guest_dir, "Directory of traces")->required();
  guest_run->group("");
  add_kernel_limits(guest_run, common, false);

  HerdArgs herd_args;
  auto* herd = add_herd(app, herd_args, common);
  HerdCostArgs herd_cost;
  add_herd_cost(*herd, herd_cost);

  auto* calibrate = app.add_subcommand("calibrate", "Measure the kernel constants the model takes from this machine");
  calibrate->footer(footer({"0  measured", "1  the measurement failed", "2  a bad option, or output that could not be written"}));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitPass : kExitBadInput;
  }

  if (herd_cost.cmd->parsed()) return run_herd_cost(herd_cost);
  if (herd->parsed()) return cmd_herd(herd_args, common);
  if (check->parsed()) return cmd_check(common, paths, tags, format, coverage);
  if (run->parsed()) return cmd_run(common, trace, explain_flag);
  if (explain->parsed()) return cmd_explain(common, trace);
  if (record->parsed()) {
    real::KernelExecutor kernel(kernel_options(common));
    return eo::cmd_record(trace, in_place, kernel, std::cout, std::cerr);
  }
  if (calls->parsed()) {
    if (!check_doc.empty()) return eo::cmd_calls(markdown, check_doc, true, std::cout, std::cerr);
    return eo::cmd_calls(markdown, update_doc, false, std::cout, std::cerr);
  }
  if (beliefs->parsed()) {
    const std::string dir = paths.empty() ? eo::default_corpus_dir() + "/beliefs" : paths.front();
    if (!check_readme.empty()) return eo::cmd_beliefs(dir, check_readme, true, std::cout, std::cerr);
    return eo::cmd_beliefs(dir, readme, false, std::cout, std::cerr);
  }
  if (fuzz->parsed()) {
    if (*seed_opt) fuzz_opt.seed = fuzz_seed;
    if (fuzz_opt.seconds <= 0 && fuzz_opt.cases <= 0) fuzz_opt.cases = 300;
    std::string error;
    if (!fuzz_opt.out_dir.empty() && !eo::prepare_output_dir(fuzz_opt.out_dir, &error)) {
      std::cerr << "epoll-oracle: --out " << fuzz_opt.out_dir << ": " << error << "\n";
      return kExitBadInput;
    }
    auto ex = make_executors(common, false, true, &error);
    if (!ex) {
      std::cerr << "epoll-oracle: " << error << "\n";
      return kExitBadInput;
    }
    model::ModelExecutor* m = ex->model.get();
    return eo::cmd_fuzz(fuzz_opt, *m, *ex->kernel, &ex->coverage, std::cout, std::cerr, nullptr, eo::schedule_search(*m));
  }
  if (bench->parsed()) {
    std::string error;
    auto ex = make_executors(common, false, false, &error);
    if (!ex) {
      std::cerr << "epoll-oracle: " << error << "\n";
      return kExitBadInput;
    }
    std::vector<std::string> files;
    if (!corpus_files(paths, &files)) return kExitBadInput;
    return eo::cmd_bench(files, eo::default_corpus_dir(), ex->list, repeat, std::cout, std::cerr);
  }
  if (kernels->parsed()) {
    kopt.kernels = split(kernel_list);
    kopt.host = !no_host;
    if (kopt.cache_dir.empty()) kopt.cache_dir = eo::default_cache_dir();
    if (guest_run->parsed()) return eo::cmd_guest_run(guest_dir, kernel_options(common), std::cout, std::cerr);
    if (kernels_fetch->parsed()) return eo::cmd_kernels_fetch(kopt.cache_dir, kopt.kernels, std::cerr);
    std::vector<std::string> files;
    if (!corpus_files(paths, &files)) return kExitBadInput;
    kopt.host_watchdog_ms = common.watchdog_ms;
    return eo::cmd_kernels(kopt, files, eo::default_corpus_dir(), std::cout, std::cerr);
  }
  if (calibrate->parsed()) {
    std::string error;
    auto cal = real::calibrate(&error);
    if (!cal) {
      std::cerr << "epoll-oracle: calibration failed: " << error << "\n";
      return kExitDiverged;
    }
    std::cout << fmt::format(
        "kernel {}\npage size {}\npipe capacity {} ({} buffers)\nmax_user_watches {}\n"
        "AF_UNIX: sndbuf {}, sk_buff {}, skb_shared_info {}, frags {} ({} samples fitted), max_dgram_qlen {}\n"
        "TCP: tcp_wmem[1] {}, tcp_wmem[2] {}, tcp_rmem[1] {}, tcp_rmem[2] {}, somaxconn {}, wmem_max {}, rmem_max {}; "
        "fill {} = reader {} + writer {} (SO_SNDBUF {})\n",
        uname_release(), cal->page_size, cal->pipe_capacity, cal->pipe_def_buffers, cal->max_user_watches,
        cal->af_unix.sndbuf, cal->af_unix.sk_buff_size, cal->af_unix.shinfo_size, cal->af_unix.frags_size,
        cal->samples.size(), cal->unix_max_dgram_qlen, cal->tcp.wmem_default, cal->tcp.wmem_max,
        cal->tcp.rmem_default, cal->tcp.rmem_max, cal->tcp.somaxconn, cal->tcp.core_wmem_max, cal->tcp.core_rmem_max,
        cal->tcp.fill_total, cal->tcp.rcv_capacity, cal->tcp.snd_capacity, cal->tcp.sndbuf_settled);
    std::string udp_steps;
    for (const auto& [from, truesize] : cal->udp.steps) udp_steps += fmt::format(" {}+:{}", from, truesize);
    std::cout << fmt::format("UDP: SO_RCVBUF {}, SO_SNDBUF {}; truesize by length{}, {}+: len+{}\n",
                             cal->udp.rmem_default, cal->udp.wmem_default, udp_steps, cal->udp.paged_from,
                             cal->udp.paged_extra);
    // What the profile takes from the running kernel besides the measured constants.
    const real::SocketpairErrnos families = real::probe_socketpair_families();
    std::vector<std::string> pair_families;
    for (size_t fam = 0; fam < families.size(); ++fam) {
      for (int err : families[fam]) {
        if (err == 0) {
          pair_families.push_back(std::to_string(fam));
          break;
        }
      }
    }
    std::cout << fmt::format(
        "descriptors: RLIMIT_NOFILE {}, fs.nr_open {}\nkernel config: {} (CONFIG_WATCH_QUEUE {}, preemption {})\n"
        "cpus: {} online\n"
        "mqueue: msg_max {}, msgsize_max {}, queues_max {}, msg_default {}, msgsize_default {}, CAP_SYS_RESOURCE {}\n"
        "socketpair: families {} make pairs (of {} probed)\n",
        cal->rlimit_nofile, cal->nr_open, cal->config.source.empty() ? "not found" : cal->config.source,
        cal->config.watch_queue ? "y" : "n", cal->config.preempt.empty() ? "unknown" : cal->config.preempt,
        cal->nr_cpus, cal->mqueue.msg_max, cal->mqueue.msgsize_max, cal->mqueue.queues_max, cal->mqueue.msg_default,
        cal->mqueue.msgsize_default, cal->mqueue.cap_sys_resource ? "yes" : "no", fmt::join(pair_families, ", "), families.size());
    return kExitPass;
  }
  return kExitBadInput;
}

}  // namespace

int main(int argc, char** argv) {
  hold_standard_descriptors();
  StdoutBuffer buffer;
  std::cout.rdbuf(&buffer);
  if (isatty(STDOUT_FILENO)) std::cout << std::unitbuf;  // a terminal sees each line at once
  const int rc = run_command(argc, argv);
  // A report that did not reach its reader is not a pass (`> /dev/full`, `>&-`).
  const bool written = stdout_written(buffer);
  std::cout.rdbuf(nullptr);  // the buffer goes before std::cout does
  return written ? rc : kExitBadInput;
}
