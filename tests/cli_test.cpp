// The epoll-oracle command as a user meets it: hostile paths, bad options, full or closed
// standard output, executor limits, record -i. Each test runs the built binary through
// bash and checks its exit status and its message.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace fs = std::filesystem;

namespace {

struct Result {
  int status = -1;  // exit status; 128 + N when killed by signal N
  std::string out, err;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("eo-cli-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs `epoll-oracle ARGS` in the scratch directory (stdout and stderr captured unless
  // ARGS redirects them), bounded by `timeout` seconds.
  Result eo(const std::string& args, int timeout = 60) {
    const std::string cmd = "cd '" + dir_.string() + "' && timeout " + std::to_string(timeout) + " " + EO_CLI + " " +
                            args;
    const std::string full = "bash -c \"" + escape(cmd) + "\" >'" + (dir_ / ".out").string() + "' 2>'" +
                             (dir_ / ".err").string() + "'";
    const int w = std::system(full.c_str());
    Result r;
    r.status = WIFEXITED(w) ? WEXITSTATUS(w) : 128 + WTERMSIG(w);
    r.out = slurp(dir_ / ".out");
    r.err = slurp(dir_ / ".err");
    return r;
  }
  static std::string escape(const std::string& s) {
    std::string o;
    for (char c : s) {
      if (c == '"' || c == '\\' || c == '$' || c == '`') o += '\\';
      o += c;
    }
    return o;
  }
  fs::path file(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
    return dir_ / name;
  }
  fs::path dir_;
};

const std::string kPassing = "pipe2(O_NONBLOCK) = [r, w]\nwrite(w, 3) = 3\nread(r, 8) = 3\n";

// ---- trace paths -------------------------------------------------------------------------

TEST_F(Cli, ADirectoryWhereATraceIsExpectedIsBadInput) {
  fs::create_directories(dir_ / "d");
  for (const std::string cmd : {"run", "explain", "record"}) {
    const Result r = eo(cmd + " d");
    EXPECT_EQ(r.status, 2) << cmd;
    EXPECT_EQ(r.err, "d: a directory, not a trace file\n") << cmd;
    EXPECT_EQ(r.out, "") << cmd;
  }
}

TEST_F(Cli, DevZeroIsRefusedAtOnce) {
  const Result r = eo("check --on model /dev/zero", 10);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("bad input /dev/zero: a character device, not a trace file"), std::string::npos) << r.out;
  EXPECT_EQ(eo("run /dev/zero", 10).err, "/dev/zero: a character device, not a trace file\n");
}

TEST_F(Cli, AFifoDoesNotHang) {
  ASSERT_EQ(mkfifo((dir_ / "fifo").c_str(), 0600), 0);
  const Result r = eo("run fifo", 10);
  EXPECT_EQ(r.status, 2);  // 124: timeout killed it
  EXPECT_EQ(r.err, "fifo: a FIFO, not a trace file\n");
}

TEST_F(Cli, ASparseFileOverTheCapIsRefusedFromItsSize) {
  file("big.trace", "");
  fs::resize_file(dir_ / "big.trace", size_t{512} << 20);
  const Result r = eo("run big.trace", 10);
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "big.trace: larger than 64 MiB, the most a trace may have\n");
}

TEST_F(Cli, StandardInputIsATrace) {
  file("a.trace", kPassing);
  const Result r = eo("run --on model - < a.trace");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("model 6"), std::string::npos) << r.out;
}

TEST_F(Cli, AMissingTraceIsBadInput) {
  EXPECT_EQ(eo("run nope.trace").err, "nope.trace: cannot open: No such file or directory\n");
  const Result r = eo("check nope.trace");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "epoll-oracle: nope.trace: no such file or directory\n");
}

// With no path, check runs the shipped corpus (or $EPOLL_ORACLE_TRACES), never ./traces.
TEST_F(Cli, CheckDefaultsToTheShippedCorpusNotTheCurrentDirectory) {
  fs::create_directories(dir_ / "traces");
  file("traces/broken.trace", "this is not a trace\n");
  // --tags: parse every trace, run none.
  unsetenv("EPOLL_ORACLE_TRACES");
  Result r = eo("check --on model --tags no-such-tag");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "epoll-oracle: no trace has the tags no-such-tag\n") << r.out;
  setenv("EPOLL_ORACLE_TRACES", "traces", 1);
  r = eo("check --on model --tags no-such-tag");
  unsetenv("EPOLL_ORACLE_TRACES");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("bad input traces/broken.trace:1:1:"), std::string::npos) << r.out;
  EXPECT_NE(eo("check --help").out.find("EPOLL_ORACLE_TRACES"), std::string::npos);
}

// ---- output ----------------------------------------------------------------------------

TEST_F(Cli, AFullOrClosedStdoutIsAnError) {
  file("a.trace", kPassing);
  for (const std::string args : {"check --on model a.trace", "run --on model a.trace", "explain a.trace",
                                  "record a.trace", "beliefs", "--help", "check --help"}) {
    Result r = eo(args + " >/dev/full");
    EXPECT_EQ(r.status, 2) << args;
    EXPECT_EQ(r.err, "epoll-oracle: cannot write to standard output: No space left on device\n") << args;
    r = eo(args + " >&-");
    EXPECT_EQ(r.status, 2) << args;
    EXPECT_EQ(r.err, "epoll-oracle: cannot write to standard output: Bad file descriptor\n") << args;
  }
}

TEST_F(Cli, JsonIsValidWithNonUtf8NamesAndHoldsTheCoverage) {
  file("bad\xff.trace", "@title caf\xe9\n" + kPassing);
  const Result r = eo("check --on model --format json --coverage bad*.trace");
  EXPECT_EQ(r.status, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);  // one valid document: no text after it
  EXPECT_EQ(j["traces"][0]["title"], "caf\xef\xbf\xbd");
  EXPECT_TRUE(j["coverage"]["reached"].get<int>() > 0);
}

TEST_F(Cli, KtapCoverageIsDiagnosticLines) {
  file("a.trace", kPassing);
  const Result r = eo("check --on model --format ktap --coverage a.trace");
  EXPECT_EQ(r.status, 0) << r.err;
  std::istringstream lines(r.out);
  for (std::string l; std::getline(lines, l);) {
    const bool known = l.rfind("KTAP", 0) == 0 || l.rfind("1..", 0) == 0 || l.rfind("ok ", 0) == 0 ||
                       l.rfind("not ok ", 0) == 0 || l.rfind("#", 0) == 0 || l.rfind("  ", 0) == 0;
    EXPECT_TRUE(known) << l;
  }
}

// ---- options ---------------------------------------------------------------------------

TEST_F(Cli, FuzzRejectsCountsAndDurationsThatAreNotPositive) {
  EXPECT_EQ(eo("fuzz --cases 0").err, "--cases: expected a number above 0, got 0\nRun with --help for more information.\n");
  EXPECT_EQ(eo("fuzz --cases -5").status, 2);
  const Result r = eo("fuzz --seconds -1");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "--seconds: expected a number above 0, got -1\nRun with --help for more information.\n");
  EXPECT_EQ(r.out, "");  // nothing ran
}

TEST_F(Cli, FuzzOutMustBeWritableBeforeItStarts) {
  const Result r = eo("fuzz --cases 1 --out /proc/nope");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "epoll-oracle: --out /proc/nope: cannot create the directory: No such file or directory\n");
  EXPECT_EQ(r.out, "");
}

TEST_F(Cli, EachCommandTakesOnlyTheOptionsItUses) {
  file("a.trace", kPassing);
  EXPECT_EQ(eo("record --profile 6.1 a.trace").status, 2);
  EXPECT_EQ(eo("record --color never a.trace").status, 2);
  EXPECT_EQ(eo("explain --watchdog 100 a.trace").status, 2);
  EXPECT_EQ(eo("explain --on kernel a.trace").status, 2);
  EXPECT_EQ(eo("fuzz --color never --cases 1").status, 2);
}

TEST_F(Cli, ProfileMustBeAKernelTheModelKnows) {
  file("a.trace", kPassing);
  Result r = eo("check --on model --profile 99999.1 a.trace");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "--profile: the model knows kernels up to 7.2, not 99999.1\nRun with --help for more information.\n");
  r = eo("check --on model --profile 5.4 a.trace");
  EXPECT_EQ(r.err, "--profile: the model knows kernels from 5.5 on, not 5.4\nRun with --help for more information.\n");
  EXPECT_EQ(eo("check --on model --profile 7.2.13 a.trace").status, 0);
}

// ---- executor limits -------------------------------------------------------------------

TEST_F(Cli, ASleepOverTheKernelsMaximumIsALimitNotAFailure) {
  file("s.trace", "sleep(60001)\n");
  const std::string why = "sleep(60001) at line 1 exceeds the kernel executor's maximum sleep of 60000 ms (--max-sleep)";
  Result r = eo("check s.trace", 20);  // not run: no minute of sleep
  EXPECT_EQ(r.status, 3);
  EXPECT_NE(r.out.find("s.trace  pass     limit"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("kernel did not run it: limit: " + why), std::string::npos) << r.out;
  r = eo("check --format ktap s.trace", 20);
  EXPECT_EQ(r.status, 3);
  EXPECT_NE(r.out.find("  ok 2 kernel # SKIP limit: " + why + "\n"), std::string::npos) << r.out;
  r = eo("check --format json s.trace", 20);
  EXPECT_EQ(nlohmann::json::parse(r.out)["traces"][0]["results"]["kernel"]["limit"], why);
  r = eo("run s.trace", 20);
  EXPECT_EQ(r.status, 3);
  r = eo("record s.trace", 20);
  EXPECT_EQ(r.status, 3);
  EXPECT_EQ(r.err, "s.trace: not run: limit: " + why + "\n");
  EXPECT_EQ(eo("check --max-sleep 50 --on kernel s.trace").status, 3);
}

TEST_F(Cli, ACallThatMayWaitOutALongTimeoutIsALimit) {
  file("w.trace", "epoll_create1(0) = ep\nepoll_wait(ep, 8, 100000) = []\n");
  const Result r = eo("check --on kernel w.trace", 20);  // not 62 s of waiting
  EXPECT_EQ(r.status, 3);
  EXPECT_NE(r.out.find("epoll_wait timeout of 100000 ms at line 2 exceeds the kernel executor's maximum wait of 60000 ms"),
            std::string::npos)
      << r.out;
}

// ---- bench, record -i ------------------------------------------------------------------

TEST_F(Cli, BenchLeavesAStuckTraceOutOfTheTimings) {
  file("stuck.trace", "pipe2(0) = [r, w]\nread(r, 1) = 1\n");  // blocks: no data
  const Result r = eo("bench --on kernel --repeat 1 --watchdog 100 stuck.trace");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("not timed: kernel stuck:"), std::string::npos) << r.out;
  const size_t total = r.out.find("all traces (per step)");
  ASSERT_NE(total, std::string::npos) << r.out;
  EXPECT_EQ(std::stol(r.out.substr(total + 21)), 0) << r.out;  // no step timed
  EXPECT_EQ(r.err, "epoll-oracle: a trace stopped or got stuck; it is left out of the timings\n");
}

TEST_F(Cli, RecordInPlaceReplacesTheFileWholeWithItsMode) {
  const fs::path f = file("a.trace", "pipe2(O_NONBLOCK) = [r, w]\nwrite(w, 3)\n");
  ASSERT_EQ(chmod(f.c_str(), 0604), 0);
  struct stat before {};
  ASSERT_EQ(stat(f.c_str(), &before), 0);
  const Result r = eo("record -i a.trace");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(slurp(f), "pipe2(O_NONBLOCK) = [r, w]\nwrite(w, 3) = 3\n");
  struct stat after {};
  ASSERT_EQ(stat(f.c_str(), &after), 0);
  EXPECT_NE(after.st_ino, before.st_ino);  // renamed over: a reader never sees half a file
  EXPECT_EQ(after.st_mode & 07777, 0604u);
  const Result in = eo("record -i - < a.trace");
  EXPECT_EQ(in.status, 2);
  EXPECT_EQ(in.err, "-: standard input cannot be rewritten in place (-i)\n");
  EXPECT_FALSE(fs::exists(dir_ / "-"));
}

}  // namespace
