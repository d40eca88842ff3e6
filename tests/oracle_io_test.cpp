// The oracle's input and output: reading trace paths of any kind, executor limits said up
// front, JSON and KTAP that stay valid whatever the names, files written whole, label ids.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "common/names.h"
#include "oracle/output_file.h"
#include "oracle/record.h"
#include "oracle/report.h"
#include "oracle/runner.h"
#include "oracle/trace/parser.h"
#include "oracle/trace/printer.h"
#include "oracle/trace/trace_file.h"
#include "real/executor.h"

namespace fs = std::filesystem;

namespace {

// A fresh directory under the test's temporary directory.
fs::path scratch(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("eo-io-" + std::to_string(getpid()) + "-" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void write(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

eo::Program parse(const std::string& text) {
  eo::ParseResult r = eo::parse_trace(text, "t.trace");
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().str());
  return std::move(r).program();
}

// ---- reading traces ------------------------------------------------------------------

TEST(ReadTraceFile, ReadsARegularFile) {
  const fs::path d = scratch("regular");
  write(d / "a.trace", "sleep(1) = 0\n");
  std::string text, error;
  ASSERT_TRUE(eo::read_trace_file((d / "a.trace").string(), &text, &error)) << error;
  EXPECT_EQ(text, "sleep(1) = 0\n");
}

TEST(ReadTraceFile, RejectsADirectory) {
  const fs::path d = scratch("dir");
  std::string text, error;
  EXPECT_FALSE(eo::read_trace_file(d.string(), &text, &error));
  EXPECT_EQ(error, "a directory, not a trace file");
}

TEST(ReadTraceFile, RejectsACharacterDeviceWithoutReadingIt) {
  std::string text, error;
  EXPECT_FALSE(eo::read_trace_file("/dev/zero", &text, &error));
  EXPECT_EQ(error, "a character device, not a trace file");
  EXPECT_TRUE(text.empty());
}

// Opening a FIFO without a writer blocks for ever unless the open does not block.
TEST(ReadTraceFile, RejectsAFifoWithoutBlocking) {
  const fs::path d = scratch("fifo");
  const std::string fifo = (d / "f").string();
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::string text, error;
  auto read = std::async(std::launch::async, [&] { return eo::read_trace_file(fifo, &text, &error); });
  if (read.wait_for(std::chrono::seconds(5)) == std::future_status::timeout) {
    ADD_FAILURE() << "opening a FIFO without a writer blocked";
    const int writer = open(fifo.c_str(), O_WRONLY | O_NONBLOCK);  // lets the open return
    read.wait();
    close(writer);
    return;
  }
  EXPECT_FALSE(read.get());
  EXPECT_EQ(error, "a FIFO, not a trace file");
}

// A sparse file larger than the cap is refused from its size, before any of it is read.
TEST(ReadTraceFile, RejectsAFileOverTheCap) {
  const fs::path d = scratch("big");
  write(d / "big.trace", "");
  fs::resize_file(d / "big.trace", 4096);
  std::string text, error;
  EXPECT_FALSE(eo::read_trace_file((d / "big.trace").string(), &text, &error, 1024));
  EXPECT_TRUE(text.empty());
  EXPECT_EQ(error, "larger than 0 MiB, the most a trace may have");
  // The real cap: 64 MiB and one byte, sparse.
  fs::resize_file(d / "big.trace", eo::kMaxTraceBytes + 1);
  EXPECT_FALSE(eo::read_trace_file((d / "big.trace").string(), &text, &error));
  EXPECT_EQ(error, "larger than 64 MiB, the most a trace may have");
  EXPECT_TRUE(text.empty());
}

TEST(ReadTraceFile, ParseTraceFileSaysWhy) {
  const fs::path d = scratch("parse");
  const eo::ParseResult r = eo::parse_trace_file(d.string());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().str(), d.string() + ": a directory, not a trace file");
}

TEST(RunTraceFile, ADirectoryIsBadInputNotAPass) {
  const fs::path d = scratch("run-dir");
  const eo::TraceOutcome t = eo::run_trace_file(d.string(), {});
  EXPECT_TRUE(t.bad_input());
  EXPECT_EQ(t.input_error, d.string() + ": a directory, not a trace file");
}

// ---- executor limits -------------------------------------------------------------------

TEST(KernelLimit, SleepOverTheMaximum) {
  real::KernelExecutor k;
  EXPECT_EQ(k.limit(parse("sleep(60000)\n")), "");
  EXPECT_EQ(k.limit(parse("sleep(60001)\n")),
            "sleep(60001) at line 1 exceeds the kernel executor's maximum sleep of 60000 ms (--max-sleep)");
  real::KernelOptions o;
  o.max_sleep_ms = 100;
  EXPECT_NE(real::KernelExecutor(o).limit(parse("sleep(101)\n")), "");
}

TEST(KernelLimit, CallStepThatMayWaitOutALongTimeout) {
  real::KernelExecutor k;
  const std::string setup = "pipe2(O_NONBLOCK) = [r, w]\nepoll_create1(0) = ep\n";
  EXPECT_EQ(k.limit(parse(setup + "epoll_wait(ep, 8, 100000) = []\n")),
            "epoll_wait timeout of 100000 ms at line 3 exceeds the kernel executor's maximum wait of 60000 ms "
            "(--max-sleep)");
  EXPECT_NE(k.limit(parse(setup + "poll([r: POLLIN], 60001)\n")), "");
  // Returns before its timeout if the trace is right: the watchdog judges it.
  EXPECT_EQ(k.limit(parse(setup + "epoll_ctl(ep, EPOLL_CTL_ADD, w, EPOLLOUT) = 0\nepoll_wait(ep, 8, 100000) = [w: EPOLLOUT]\n")), "");
  EXPECT_EQ(k.limit(parse(setup + "epoll_wait(ep, 0, 100000) = -1 EINVAL\n")), "");
  // Within the limit, infinite, or pending (only seen blocked): no limit.
  EXPECT_EQ(k.limit(parse(setup + "epoll_wait(ep, 8, 60000) = []\n")), "");
  EXPECT_EQ(k.limit(parse(setup + "t1: epoll_wait(ep, 8, 100000) ...\n")), "");
}

// An executor that cannot run a trace: its run must not be called.
class LimitedExecutor : public eo::Executor {
 public:
  std::string name() const override { return "kernel"; }
  std::string version() const override { return "6.18.0"; }
  eo::RunResult run(const eo::Program&) override {
    ADD_FAILURE() << "a trace beyond the limit was run";
    return {};
  }
  std::string limit(const eo::Program&) const override { return "sleep(9) at line 1 exceeds a test limit"; }
};

TEST(RunTrace, ALimitIsItsOwnVerdictNotADivergence) {
  LimitedExecutor k;
  const eo::TraceOutcome t = eo::run_trace_text("t.trace", "sleep(9) = 0\n", {&k});
  ASSERT_FALSE(t.bad_input());
  ASSERT_EQ(t.reports.size(), 1u);
  EXPECT_EQ(t.reports[0].verdict, eo::Verdict::kLimit);
  EXPECT_EQ(t.reports[0].skip_reason, "sleep(9) at line 1 exceeds a test limit");
  EXPECT_FALSE(t.diverged());
  EXPECT_TRUE(t.limited());

  eo::ReportOptions opt;
  opt.executors = {"kernel"};
  opt.versions = {"6.18.0"};
  std::ostringstream ktap;
  eo::report_ktap(ktap, {t}, opt);
  EXPECT_NE(ktap.str().find("  ok 1 kernel # SKIP limit: sleep(9) at line 1 exceeds a test limit\n"), std::string::npos)
      << ktap.str();
  std::ostringstream human;
  eo::report_human(human, {t}, opt);
  EXPECT_NE(human.str().find("kernel did not run it: limit: sleep(9)"), std::string::npos) << human.str();
  std::ostringstream json;
  eo::report_json(json, {t}, opt);
  const auto j = nlohmann::json::parse(json.str());
  EXPECT_EQ(j["traces"][0]["results"]["kernel"]["verdict"], "limit");
  EXPECT_EQ(j["summary"]["limited"], 1);
}

// An executor with a bug that throws: the trace reports it, a directory run goes on.
class ThrowingExecutor : public eo::Executor {
 public:
  std::string name() const override { return "model"; }
  std::string version() const override { return "6.18.0"; }
  eo::RunResult run(const eo::Program&) override { throw std::logic_error("planted"); }
};

TEST(RunTrace, AnExecutorThatThrowsIsAnErrorOfThatTraceOnly) {
  ThrowingExecutor m;
  const eo::TraceOutcome t = eo::run_trace_text("t.trace", "sleep(1) = 0\n", {&m});
  ASSERT_EQ(t.reports.size(), 1u);
  EXPECT_EQ(t.reports[0].verdict, eo::Verdict::kError);
  EXPECT_EQ(t.reports[0].run.error, "internal error of the model executor: planted");
  EXPECT_TRUE(t.diverged());
}

// record: a creating call written without names gets `= *` (a number would not parse).
TEST(Record, ACreatingCallWithoutNamesGetsAny) {
  eo::Program p = parse("eventfd2(0, 0)\npipe2(0)\nsleep(1)\n");
  eo::RunResult run;
  run.steps.resize(3);
  run.steps[0].outcome = {eo::Outcome::Kind::kValue, 3, {3}, {}, {}};
  run.steps[1].outcome = {eo::Outcome::Kind::kValue, 0, {4, 5}, {}, {}};
  run.steps[2].outcome = {eo::Outcome::Kind::kValue, 0, {}, {}, {}};
  EXPECT_EQ(eo::fill_in_results(p, run), 3);
  const std::string text = eo::print_trace(p);
  EXPECT_EQ(text, "eventfd2(0, 0) = *\npipe2(0) = *\nsleep(1) = 0\n");
  EXPECT_TRUE(eo::parse_trace(text, "recorded").ok());
}

// ---- reports ---------------------------------------------------------------------------

eo::TraceOutcome outcome_named(const std::string& shown, const std::string& title) {
  eo::TraceOutcome t = eo::run_trace_text("t.trace", "@title " + title + "\nsleep(1) = 0\n", {});
  t.shown = shown;
  return t;
}

TEST(ReportJson, BytesThatAreNotUtf8StayValidJson) {
  std::vector<eo::TraceOutcome> ts{outcome_named("bad\xff\xfe.trace", "title \xc3(")};
  eo::TraceOutcome bad;
  bad.shown = "unreadable\x80.trace";
  bad.input_error = "unreadable\x80.trace: cannot open: No such file or directory";
  ts.push_back(bad);
  std::ostringstream os;
  eo::report_json(os, ts, {});
  const auto j = nlohmann::json::parse(os.str());  // throws on invalid UTF-8
  EXPECT_EQ(j["traces"][0]["file"], "bad\xef\xbf\xbd\xef\xbf\xbd.trace");  // U+FFFD for each bad byte
  EXPECT_EQ(j["summary"]["bad_input"], 1);
}

TEST(ReportJson, CoverageIsAMemberOfTheObject) {
  model::RuleCoverage cov;
  std::ostringstream os;
  eo::report_json(os, {outcome_named("a.trace", "t")}, {}, &cov);
  const auto j = nlohmann::json::parse(os.str());  // one JSON document, nothing after it
  EXPECT_EQ(j["coverage"]["total"], model::RuleCoverage::total());
  EXPECT_EQ(j["coverage"]["rules"].size(), model::RuleCoverage::total());
}

// The name in a KTAP result line as the kernel's own parser reads it
// (tools/testing/kunit/kunit_parser.py, TEST_RESULT: `(ok|not ok) N [- ]NAME[ # ...]`,
// NAME without '#'); nothing if the parser would not take the line as a result.
std::optional<std::string> ktap_result_name(const std::string& line) {
  size_t i = line.rfind("ok ", 0) == 0 ? 3 : line.rfind("not ok ", 0) == 0 ? 7 : 0;
  if (i == 0) return std::nullopt;
  const size_t digits = i;
  while (i < line.size() && std::isdigit(static_cast<unsigned char>(line[i]))) ++i;
  if (i == digits || i >= line.size() || line[i] != ' ') return std::nullopt;
  std::string rest = line.substr(i + 1);
  if (rest.rfind("- ", 0) == 0) rest = rest.substr(2);
  const size_t hash = rest.find('#');
  if (hash == std::string::npos) return rest;
  if (hash == 0 || rest[hash - 1] != ' ' || hash + 1 >= rest.size() || rest[hash + 1] != ' ') return std::nullopt;
  return rest.substr(0, hash - 1);  // before " # DIRECTIVE"
}

TEST(ReportKtap, NamesTheKernelsParserReadsBack) {
  const std::vector<std::string> names{"a#b.trace", "two\nlines.trace", "with space.trace", "100%.trace", "- x.trace"};
  std::vector<eo::TraceOutcome> ts;
  for (const std::string& n : names) ts.push_back(outcome_named(n, "t"));
  eo::TraceOutcome bad;
  bad.shown = "bad#\n.trace";
  bad.input_error = "bad#\n.trace: line one\nline two";
  ts.push_back(bad);
  std::ostringstream os;
  eo::report_ktap(os, ts, {});
  std::istringstream lines(os.str());
  std::vector<std::string> headers, results;
  for (std::string l; std::getline(lines, l);) {
    const std::string bare = l.substr(l.find_first_not_of(' '));
    if (bare.rfind("# Subtest: ", 0) == 0) {
      headers.push_back(bare.substr(11));
    } else if (l[0] != ' ' && ktap_result_name(bare)) {
      results.push_back(*ktap_result_name(bare));
    } else if (l[0] != ' ') {
      EXPECT_TRUE(bare[0] == '#' || bare.rfind("KTAP", 0) == 0 || bare.rfind("1..", 0) == 0) << "not KTAP: " << l;
    }
  }
  ASSERT_EQ(results.size(), names.size() + 1) << os.str();
  ASSERT_EQ(headers.size(), names.size());
  for (size_t i = 0; i < names.size(); ++i) EXPECT_EQ(headers[i], results[i]);  // the parser matches them by name
  EXPECT_EQ(results[0], "a%23b.trace");
  EXPECT_EQ(results[1], "two%0Alines.trace");
  EXPECT_EQ(results[4], "-%20x.trace");
}

// ---- files written ---------------------------------------------------------------------

TEST(WriteFileAtomically, ReplacesTheFileWholeAndKeepsItsMode) {
  const fs::path d = scratch("atomic");
  const fs::path f = d / "a.trace";
  write(f, "old\n");
  ASSERT_EQ(chmod(f.c_str(), 0640), 0);
  struct stat before {};
  ASSERT_EQ(stat(f.c_str(), &before), 0);
  std::string error;
  ASSERT_TRUE(eo::write_file_atomically(f.string(), "new\n", &error)) << error;
  struct stat after {};
  ASSERT_EQ(stat(f.c_str(), &after), 0);
  EXPECT_NE(before.st_ino, after.st_ino);  // a new file renamed over, not the old one truncated
  EXPECT_EQ(after.st_mode & 07777, 0640u);
  std::ifstream in(f);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "new\n");
  EXPECT_EQ(std::distance(fs::directory_iterator(d), fs::directory_iterator()), 1);  // no temporary left
}

TEST(WriteFileAtomically, AFailedWriteSaysSoAndLeavesNoFile) {
  std::string error;
  EXPECT_FALSE(eo::write_file_atomically("/proc/no-such-dir/a.trace", "x", &error));
  EXPECT_EQ(error, "cannot create a temporary file in /proc/no-such-dir: No such file or directory");
}

TEST(PrepareOutputDir, MakesTheDirectoryOrSaysWhyNot) {
  const fs::path d = scratch("out") / "a" / "b";
  std::string error;
  EXPECT_TRUE(eo::prepare_output_dir(d.string(), &error)) << error;
  EXPECT_TRUE(fs::is_directory(d));
  EXPECT_FALSE(eo::prepare_output_dir("/proc/no-such-dir", &error));
  EXPECT_EQ(error, "cannot create the directory: No such file or directory");
  write(d / "file", "");
  EXPECT_FALSE(eo::prepare_output_dir((d / "file").string(), &error));
  EXPECT_FALSE(eo::prepare_output_dir("/proc/self", &error));  // a directory where no file can be made
  EXPECT_EQ(error.rfind("cannot create a file there", 0), 0u) << error;
}

// ---- names -----------------------------------------------------------------------------

TEST(NameTable, LabelIdsInOrderOfFirstUse) {
  eo::NameTable t;
  EXPECT_EQ(t.label_id("a"), 0u);
  EXPECT_EQ(t.label_id("b"), 1u);
  EXPECT_EQ(t.label_id("a"), 0u);
  EXPECT_EQ(t.label(1), "b");
  EXPECT_EQ(t.label(7), "data=7");
}

// 100,000 distinct labels, each found again under its own id. (How fast: README's scale
// note, `epoll-oracle bench` on a generated 100,000-label trace; never a timed assertion.)
TEST(NameTable, ManyDistinctLabelsKeepTheirIds) {
  eo::NameTable t;
  for (uint64_t i = 0; i < 100000; ++i) ASSERT_EQ(t.label_id("label" + std::to_string(i)), i);
  for (uint64_t i = 0; i < 100000; i += 997) ASSERT_EQ(t.label_id("label" + std::to_string(i)), i);
  EXPECT_EQ(t.label(99999), "label99999");
}

}  // namespace
