// Virtual time in model::ModelExecutor (docs/LANGUAGE.md "Time, and every step bounded"): a call
// step written with a result that sleeps with a finite timeout returns when it expires;
// other tasks' timeouts due on the way fire in deadline order and are that step's resume
// lines; a later timeout stays armed with its deadline; a call with no timer is stuck.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "model/executor.h"
#include "oracle/trace/parser.h"

namespace {

using eo::Outcome;

eo::RunResult run(const std::string& text) {
  const eo::ParseResult p = eo::parse_trace(text, "test");
  EXPECT_TRUE(p.ok()) << p.error().str();
  return model::ModelExecutor(model::KernelProfile{}, true).run(p.program());
}

// The tasks whose pending calls returned after a step: a set (docs/LANGUAGE.md "Tasks"), sorted.
std::vector<std::string> returned(const eo::StepObservation& o) {
  std::vector<std::string> names;
  for (const eo::TaskReturn& r : o.returned) names.push_back(r.task);
  std::sort(names.begin(), names.end());
  return names;
}

// Which tasks' timers expire during a step, in the order they fire.
std::vector<std::string> expiries(const eo::StepObservation& o) {
  const std::string mark = "hrtimer: timeout of ";
  std::vector<std::string> names;
  for (const std::string& line : o.explain) {
    const size_t at = line.find(mark);
    if (at != std::string::npos) names.push_back(line.substr(at + mark.size(), line.find(' ', at + mark.size()) - at - mark.size()));
  }
  return names;
}

void expect_empty_return(const Outcome& o) {
  EXPECT_EQ(o.kind, Outcome::Kind::kValue);
  EXPECT_EQ(o.ret, 0);
  EXPECT_TRUE(o.events.empty());
}

constexpr const char* kSetup =
    "pipe2(0) = [r, w]\n"
    "epoll_create1(0) = ep\n"
    "epoll_ctl(ep, EPOLL_CTL_ADD, r, EPOLLIN) = 0\n";

TEST(VirtualTime, CallStepInMainReturnsEmptyWhenItsTimeoutExpires) {
  const eo::RunResult r = run(std::string(kSetup) +
                              "epoll_wait(ep, 4, 20) = []\n"
                              "poll([r: POLLIN], 100) = []\n");
  ASSERT_EQ(r.stopped_at, -1) << r.error;
  expect_empty_return(r.steps[3].outcome);
  expect_empty_return(r.steps[4].outcome);
  EXPECT_EQ(expiries(r.steps[3]), std::vector<std::string>{"main"});
}

TEST(VirtualTime, CallStepInTaskReturnsWhileAnUntimedCallStaysBlocked) {
  const eo::RunResult r = run(std::string(kSetup) +
                              "t2: epoll_wait(ep, 1, -1) ...\n"
                              "t1: poll([r: POLLIN], 100) = []\n");
  ASSERT_EQ(r.stopped_at, -1) << r.error;
  expect_empty_return(r.steps[4].outcome);
  EXPECT_TRUE(r.steps[4].returned.empty());
  EXPECT_EQ(r.steps[4].still_blocked, std::vector<std::string>{"t2"});
}

// t2 is armed first with the later deadline: timers fire by deadline, not by arming.
TEST(VirtualTime, ShorterTimeoutsOfOtherTasksFireInDeadlineOrderAndReturnInTheStep) {
  const eo::RunResult r = run(std::string(kSetup) +
                              "t2: poll([r: POLLIN], 200) ...\n"
                              "t1: epoll_wait(ep, 1, 100) ...\n"
                              "epoll_wait(ep, 1, 500) = []\n");
  ASSERT_EQ(r.stopped_at, -1) << r.error;
  const eo::StepObservation& o = r.steps[5];
  expect_empty_return(o.outcome);
  EXPECT_EQ(returned(o), (std::vector<std::string>{"t1", "t2"}));
  for (const eo::TaskReturn& t : o.returned) expect_empty_return(t.outcome);
  EXPECT_TRUE(o.still_blocked.empty());
  EXPECT_EQ(expiries(o), (std::vector<std::string>{"t1", "t2", "main"}));
}

// Time stops when the step's call returns: t2 keeps its deadline (800), not 800 from then.
TEST(VirtualTime, LaterTimeoutStaysArmedWithItsDeadline) {
  const eo::RunResult r = run(std::string(kSetup) +
                              "t1: poll([r: POLLIN], 100) ...\n"
                              "t2: epoll_wait(ep, 1, 800) ...\n"
                              "epoll_wait(ep, 1, 300) = []\n"
                              "sleep(499) = 0\n"
                              "sleep(1) = 0\n");
  ASSERT_EQ(r.stopped_at, -1) << r.error;
  EXPECT_EQ(returned(r.steps[5]), std::vector<std::string>{"t1"});
  EXPECT_EQ(r.steps[5].still_blocked, std::vector<std::string>{"t2"});
  EXPECT_TRUE(r.steps[6].returned.empty());  // at 799 ms
  EXPECT_EQ(returned(r.steps[7]), std::vector<std::string>{"t2"});  // at 800 ms
}

// Equal deadlines (calls made with no time between them) fire at the same instant, in
// the order the calls armed them: t1's before main's, both in main's step.
TEST(VirtualTime, EqualDeadlinesFireTogetherInArmingOrder) {
  const eo::RunResult r = run(std::string(kSetup) +
                              "t1: poll([r: POLLIN], 100) ...\n"
                              "t2: poll([r: POLLIN], 100) ...\n"
                              "poll([r: POLLIN], 100) = []\n");
  ASSERT_EQ(r.stopped_at, -1) << r.error;
  EXPECT_EQ(returned(r.steps[5]), (std::vector<std::string>{"t1", "t2"}));
  EXPECT_EQ(expiries(r.steps[5]), (std::vector<std::string>{"t1", "t2", "main"}));
}

// No timer of its own: nothing can end the call, whatever timers other tasks have.
TEST(VirtualTime, CallStepWithoutTimeoutIsStuck) {
  const eo::RunResult r = run(std::string(kSetup) +
                              "t1: poll([r: POLLIN], 100) ...\n"
                              "epoll_wait(ep, 1, -1) = []\n"
                              "write(w, 1) = 1\n");
  EXPECT_EQ(r.stopped_at, 4);
  EXPECT_NE(r.error.find("step did not return"), std::string::npos) << r.error;
  EXPECT_EQ(r.steps[4].outcome.kind, Outcome::Kind::kStuck);
  EXPECT_TRUE(expiries(r.steps[4]).empty());  // t1's timer is not run to end main's call
  EXPECT_EQ(r.steps[5].outcome.kind, Outcome::Kind::kNone);
}

}  // namespace
