// Wakees at wake points (model/sched.h Scheduler::wake_point, notes/cpu_wake_points.md):
// on two CPUs a task woken by close's or shutdown's sk_state_change may re-poll before the
// waker goes on (traces/cpus, measured on this kernel), and ModelExecutor::for_each_schedule
// reaches every such order; on one CPU without preemption only "after the waker" exists.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "model/executor.h"
#include "model/observer.h"
#include "oracle/trace/parser.h"
#include "oracle/trace/printer.h"

namespace {

eo::Program parse(const std::string& text) {
  const eo::ParseResult p = eo::parse_trace(text, "test");
  EXPECT_TRUE(p.ok()) << p.error().str();
  return p.program();
}

// What the pending calls returned, step by step, each step's by task name (a step's
// returns are a set): "t1=[a: POLLERR|POLLHUP] t2=...".
std::string returns(const eo::Program& p, const eo::RunResult& r) {
  std::string s;
  for (size_t i = 0; i < r.steps.size(); ++i) {
    std::set<std::string> step;
    for (const eo::TaskReturn& t : r.steps[i].returned) {
      eo::CallArgs c = eo::Sleep{};
      for (const eo::Step& st : p.steps) {
        if (st.kind == eo::Step::Kind::kPendingCall && st.task == t.task) c = st.call;
      }
      step.insert(t.task + "=" + eo::format_outcome(c, t.outcome));
    }
    for (const std::string& x : step) s += (s.empty() ? "" : " ") + x;
  }
  return s;
}

struct Enumerated {
  int runs = 0;
  std::vector<std::string> results;  // in schedule order
  std::set<std::string> distinct;
  std::vector<std::string> how;
};

Enumerated enumerate(const std::string& text, model::KernelProfile profile, int limit = 64,
                     model::Observer* observer = nullptr) {
  const eo::Program p = parse(text);
  model::ModelExecutor m(std::move(profile));
  if (observer) m.set_observer(observer);
  Enumerated e;
  e.runs = m.for_each_schedule(p, limit, [&](const eo::RunResult& r, int, const std::vector<model::ModelExecutor::WakeeRun>& ran) {
    const std::string how = model::ModelExecutor::describe(ran);
    EXPECT_TRUE(r.error.empty()) << r.error;
    e.results.push_back(returns(p, r));
    e.distinct.insert(e.results.back());
    e.how.push_back(how);
    return false;
  });
  return e;
}

model::KernelProfile cpus(int n) {
  model::KernelProfile p;
  p.nr_cpus = n;
  p.preempt = model::Preempt::kNone;
  return p;
}

const char* const kClosePoller = R"(
socketpair(AF_UNIX, SOCK_STREAM|SOCK_NONBLOCK) = [a, b]
fill(a, 1)
t1: poll([a: POLLOUT], -1) ...
close(b)
)";

const char* const kCloseTwoPollers = R"(
socketpair(AF_UNIX, SOCK_STREAM|SOCK_NONBLOCK) = [a, b]
fill(a, 1)
t1: poll([a: POLLOUT], -1) ...
t2: poll([a: POLLOUT], -1) ...
close(b)
)";

const char* const kShutdownPollsBoth = R"(
socketpair(AF_UNIX, SOCK_STREAM|SOCK_NONBLOCK) = [a, b]
t1: poll([a: POLLRDHUP, b: POLLRDHUP], -1) ...
shutdown(b, SHUT_RDWR)
)";

const char* const kCloseEpollWaiter = R"(
socketpair(AF_UNIX, SOCK_STREAM|SOCK_NONBLOCK) = [a, b]
epoll_create1(0) = ep
epoll_ctl(ep, EPOLL_CTL_ADD, a, EPOLLOUT) = 0
fill(a, 1)
t1: epoll_wait(ep, 8, -1) ...
close(b)
)";

const std::string kAfter = "t1=[a: POLLOUT|POLLERR|POLLHUP]";
const std::string kBefore = "t1=[a: POLLERR|POLLHUP]";

TEST(Cpus, ClosePollerRunsBeforeThePurgeOrAfterTheClose) {
  const Enumerated e = enumerate(kClosePoller, cpus(2));
  EXPECT_EQ(e.runs, 2);
  ASSERT_EQ(e.results.size(), 2u);
  EXPECT_EQ(e.results[0], kAfter);  // schedule 0: today's model, the wakee after the waker
  EXPECT_EQ(e.results[1], kBefore);
  EXPECT_EQ(e.how[1], "t1 ran at unix_release_sock after sk_state_change");
}

TEST(Cpus, CloseEpollWaiterRunsBeforeThePurgeOrAfterTheClose) {
  const Enumerated e = enumerate(kCloseEpollWaiter, cpus(2));
  EXPECT_EQ(e.runs, 2);
  EXPECT_EQ(e.distinct, (std::set<std::string>{"t1=[a: EPOLLOUT|EPOLLERR|EPOLLHUP]", "t1=[a: EPOLLERR|EPOLLHUP]"}));
}

TEST(Cpus, OneCpuWithoutPreemptionRunsTheWakeeOnlyAfterTheWaker) {
  for (model::Preempt pr : {model::Preempt::kNone, model::Preempt::kVoluntary}) {
    model::KernelProfile p = cpus(1);
    p.preempt = pr;
    const Enumerated e = enumerate(kClosePoller, p);
    EXPECT_EQ(e.runs, 1);
    EXPECT_EQ(e.distinct, std::set<std::string>{kAfter});
  }
  model::KernelProfile full = cpus(1);
  full.preempt = model::Preempt::kFull;  // the wakee may preempt the closer on its CPU
  EXPECT_EQ(enumerate(kClosePoller, full).distinct, (std::set<std::string>{kAfter, kBefore}));
}

TEST(Cpus, TwoPollersEachRunAtOnceOrAfterInEveryOrder) {
  const Enumerated e = enumerate(kCloseTwoPollers, cpus(2));
  // At the one point: defer both; t1 (then t2 or not); t2 (then t1 or not).
  EXPECT_EQ(e.runs, 5);
  const std::string out = "[a: POLLOUT|POLLERR|POLLHUP]", err = "[a: POLLERR|POLLHUP]";
  std::set<std::string> want;
  for (const std::string& x : {out, err}) {
    for (const std::string& y : {out, err}) want.insert("t1=" + x + " t2=" + y);
  }
  EXPECT_EQ(e.distinct, want);
}

TEST(Cpus, ShutdownPollerMaySeeOnlyTheFirstEnd) {
  const Enumerated e = enumerate(kShutdownPollsBoth, cpus(2));
  EXPECT_EQ(e.runs, 2);
  EXPECT_EQ(e.distinct, (std::set<std::string>{"t1=[a: POLLHUP|POLLRDHUP, b: POLLHUP|POLLRDHUP]",
                                               "t1=[b: POLLHUP|POLLRDHUP]"}));
}

TEST(Cpus, ScheduleZeroIsTheDefaultRun) {
  for (const char* text : {kClosePoller, kCloseTwoPollers, kShutdownPollsBoth}) {
    const eo::Program p = parse(text);
    model::ModelExecutor m(cpus(2));
    const std::string plain = returns(p, m.run(p));
    std::string first;
    m.for_each_schedule(p, 1, [&](const eo::RunResult& r, int s, const std::vector<model::ModelExecutor::WakeeRun>& ran) {
      EXPECT_EQ(s, 0);
      EXPECT_TRUE(ran.empty());
      first = returns(p, r);
      return false;
    });
    EXPECT_EQ(first, plain);
  }
}

TEST(Cpus, LimitBoundsTheRuns) {
  EXPECT_EQ(enumerate(kCloseTwoPollers, cpus(2), 3).runs, 3);
  int visited = 0;
  const eo::Program p = parse(kCloseTwoPollers);
  model::ModelExecutor m(cpus(2));
  EXPECT_EQ(m.for_each_schedule(p, 64, [&](const eo::RunResult&, int, const std::vector<model::ModelExecutor::WakeeRun>&) {
              return ++visited == 2;
            }),
            2);
}

// A wakee runs at a wake point only outside every wake walk (__wake_up_common holds the
// queue's lock; nothing may run inside it): every run at a point is at wake depth 0.
struct RunDepths : model::Observer {
  int at_points = 0, inside_walks = 0;
  void on_event(const model::Event& e) override {
    if (e.kind != model::EventKind::kTaskRun || std::string(e.site) == "schedule") return;
    ++at_points;
    if (e.depth != 0) ++inside_walks;
  }
};

TEST(Cpus, WakeesNeverRunInsideAWakeWalk) {
  RunDepths d;
  enumerate(kCloseTwoPollers, cpus(2), 64, &d);
  enumerate(kShutdownPollsBoth, cpus(2), 64, &d);
  EXPECT_GT(d.at_points, 0);
  EXPECT_EQ(d.inside_walks, 0);
}

}  // namespace
