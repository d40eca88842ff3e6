// The differential search: generation, diff, and shrinking against a model with a planted
// bug (level-triggered items not requeued), run against this machine's kernel.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "model/coverage.h"
#include "model/executor.h"
#include "oracle/diff.h"
#include "oracle/fuzz.h"
#include "oracle/fuzz_gen.h"
#include "oracle/trace/parser.h"
#include "oracle/trace/printer.h"
#include "real/executor.h"
#include "tests/broken_model.h"

namespace {

// Every generated case converts to a program the trace language accepts (printed
// canonically, parsed back), whatever RapidCheck shrinks it to.
TEST(FuzzGen, ProgramsAreValidTraces) {
  const bool ok = rc::check([] {
    const eo::FuzzCase c = *eo::gen_fuzz_case();
    const eo::Program p = eo::to_program(c);
    const std::string text = eo::print_trace_canonical(p);
    const eo::ParseResult back = eo::parse_trace(text, "generated");
    if (!back.ok()) RC_FAIL(back.error().str() + "\n" + text);
  });
  EXPECT_TRUE(ok);
}

// Every call of the schema that runs in a task has a generator rule: a call added to
// common/calls.h without one fails here (sleep, which belongs to no task, is left out:
// generated runs take no real time).
TEST(FuzzGen, EveryCallOfTheSchemaIsGenerated) {
  std::vector<bool> seen(eo::kCallCount, false);
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    const eo::FuzzCase c = eo::gen_fuzz_case()(rc::Random(seed), 100).value();
    for (const eo::Step& s : eo::to_program(c).steps) seen[s.call.index()] = true;
  }
  for (size_t i = 0; i < eo::kCallCount; ++i) {
    if (!eo::kCallInfos[i]->in_task) continue;
    EXPECT_TRUE(seen[i]) << eo::kCallInfos[i]->name << " is never generated";
  }
}

// The queue rules reach forked children: a child opens a queue by name, registers for
// notification and counts its own signals (mq_notify's owner is a process).
TEST(FuzzGen, ChildrenUseQueues) {
  bool opened = false, notified = false, counted = false;
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    const eo::FuzzCase c = eo::gen_fuzz_case()(rc::Random(seed), 100).value();
    const eo::Program p = eo::to_program(c);
    std::vector<std::string> children;
    for (const eo::Step& s : p.steps) {
      if (std::holds_alternative<eo::Fork>(s.call) && !s.expect.alts.empty()) children.push_back(s.expect.alts[0].names[0]);
      if (std::find(children.begin(), children.end(), s.task) == children.end()) continue;
      opened = opened || std::holds_alternative<eo::MqOpen>(s.call);
      notified = notified || std::holds_alternative<eo::MqNotify>(s.call);
      counted = counted || std::holds_alternative<eo::Notifications>(s.call);
    }
  }
  EXPECT_TRUE(opened);
  EXPECT_TRUE(notified);
  EXPECT_TRUE(counted);
}

// A search that finds the planted bug (seed 7 reaches it within 400 cases).
eo::FuzzOptions planted_bug_search() {
  eo::FuzzOptions opt;
  opt.cases = 400;
  opt.seed = 7;
  opt.progress = false;
  return opt;
}

// The planted bug is found and shrunk to a handful of steps.
TEST(FuzzShrink, PlantedBugIsFoundAndShrunk) {
  auto broken = make_broken_model();
  real::KernelExecutor kernel;
  const eo::FuzzOptions opt = planted_bug_search();
  std::ostringstream out, err;
  eo::FuzzStats stats;
  const int rc = eo::cmd_fuzz(opt, *broken, kernel, nullptr, out, err, &stats);
  EXPECT_EQ(rc, 1) << out.str();
  EXPECT_EQ(stats.divergences, 1);
  // The printed trace: count its steps (lines that are neither directives nor comments).
  const std::string text = out.str();
  const auto start = text.find("@title");
  const auto end = text.find("\n", text.find("# replay:"));
  ASSERT_NE(start, std::string::npos) << text;
  ASSERT_NE(end, std::string::npos) << text;
  const auto parsed = eo::parse_trace(text.substr(start, end - start), "shrunk");
  ASSERT_TRUE(parsed.ok()) << parsed.error().str();
  // Calls, not the resume lines that recording the kernel's results adds.
  size_t calls = 0;
  for (const eo::Step& s : parsed.program().steps) {
    calls += s.kind == eo::Step::Kind::kCall || s.kind == eo::Step::Kind::kPendingCall;
  }
  // Six for a pipe (pipe2, epoll_create1, the waiter, epoll_ctl, write, epoll_wait); seed 7
  // now meets it first on a UDP socket, whose socket, bind and connect add two.
  EXPECT_LE(calls, 8u) << text;
  std::cout << text << "\n";
}

// --out: a divergence that cannot be written is an error, never "written to".
TEST(FuzzOut, AFailedWriteIsAnError) {
  auto broken = make_broken_model();
  real::KernelExecutor kernel;
  eo::FuzzOptions opt = planted_bug_search();
  opt.out_dir = "/proc/no-such-dir";  // the CLI refuses it up front; cmd_fuzz must cope too
  std::ostringstream out, err;
  EXPECT_EQ(eo::cmd_fuzz(opt, *broken, kernel, nullptr, out, err), 2);
  EXPECT_EQ(out.str().find("written to"), std::string::npos) << out.str();
  EXPECT_EQ(err.str().rfind("epoll-oracle: /proc/no-such-dir/divergence-", 0), 0u) << err.str();
  EXPECT_NE(err.str().find(".trace: cannot create a temporary file in /proc/no-such-dir: No such file or directory\n"),
            std::string::npos)
      << err.str();
}

// The correct model against the kernel: no divergence in a bounded run.
TEST(FuzzShrink, CorrectModelHasNoDivergence) {
  model::RuleCoverage coverage;
  model::ModelExecutor m(model::KernelProfile{});
  m.set_observer(&coverage);
  real::KernelExecutor kernel;
  eo::FuzzOptions opt;
  opt.cases = 200;
  opt.seed = 11;
  opt.progress = false;
  std::ostringstream out, err;
  EXPECT_EQ(eo::cmd_fuzz(opt, m, kernel, &coverage, out, err, nullptr, eo::schedule_search(m)), 0) << out.str();
  EXPECT_GT(coverage.reached(), model::RuleCoverage::total() / 2);
}

}  // namespace
