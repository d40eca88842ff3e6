// The herd lab: its metrics, its scenario files' errors, and the anchors on the model
// against this machine's kernel. Expected outcomes are the published ones (Cloudflare 2017,
// LTP epoll_wait14/15/16, kselftest epoll_wakeup_test epoll9/10), which the kernel run
// reproduces, and the kernel rule each deterministic one follows.
#include <dirent.h>
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "model/profile.h"
#include "oracle/herd.h"
#include "oracle/herd_metrics.h"
#include "oracle/herd_model.h"
#include "oracle/herd_scenario.h"
#include "real/herd.h"

namespace {

using namespace eo::herd;

// ---- metrics -----------------------------------------------------------------------

TEST(HerdMetrics, GiniFromItsDefinition) {
  // G = sum over pairs |xi - xj| / (2 n^2 mean).
  EXPECT_DOUBLE_EQ(gini({1, 1, 1}), 0);
  EXPECT_DOUBLE_EQ(gini({0, 0, 6}), 2.0 / 3);  // one takes all: (n - 1) / n
  EXPECT_DOUBLE_EQ(gini({1, 2, 3, 4}), 0.25);  // 20 / (2 * 16 * 2.5)
  EXPECT_DOUBLE_EQ(gini({4, 3, 2, 1}), 0.25);  // order does not matter
  EXPECT_DOUBLE_EQ(gini({}), 0);
  EXPECT_DOUBLE_EQ(gini({0, 0}), 0);
}

TEST(HerdMetrics, NearestRankPercentiles) {
  EXPECT_EQ(percentile({40, 10, 30, 20}, 50), 20);
  EXPECT_EQ(percentile({40, 10, 30, 20}, 90), 40);
  EXPECT_EQ(percentile({40, 10, 30, 20}, 100), 40);
  EXPECT_EQ(percentile({40, 10, 30, 20}, 1), 10);
  EXPECT_FALSE(percentile({}, 50));
}

TEST(HerdMetrics, MaxMinAndWasted) {
  EXPECT_DOUBLE_EQ(*max_min_ratio({2, 4, 3}), 2.0);
  EXPECT_FALSE(max_min_ratio({0, 3}));  // infinite
  EXPECT_EQ(wasted(5, 3, 1), 3);        // 2 slept again in the kernel, 1 found nothing
  EXPECT_EQ(wasted(1, 2, 0), 0);        // a return without a wakeup (something was ready)
}

TEST(HerdMetrics, SummaryOfARun) {
  eo::herd::Run r;
  r.handler = {0, 0, 1, -1};
  r.latency_ns = {10, 20, 30, -1};
  r.handled = {2, 1};
  r.wakeups = {3, 2};
  r.returns = {2, 1};
  r.empty = {0, 1};
  const Summary s = summarize(r);
  EXPECT_EQ(s.events, 4);
  EXPECT_EQ(s.consumed, 3);
  EXPECT_EQ(s.wasted, 1 + 2);
  EXPECT_DOUBLE_EQ(s.wakeups_per_event, 5.0 / 4);
  EXPECT_EQ(s.handlers, "0,0,1,-");
  EXPECT_EQ(*s.p50, 20);
  EXPECT_DOUBLE_EQ(*s.max_min, 2.0);
}

// ---- scenario files ------------------------------------------------------------------

std::string parse_error(const std::string& text) {
  std::string error;
  EXPECT_FALSE(parse_scenarios(text, "f.herd", &error)) << text;
  return error;
}

TEST(HerdScenario, ParsesSettings) {
  std::string error;
  const auto s = parse_scenarios(
      "# two\nscenario a\nsource tcp\nwait per-worker   # each its own\ntrigger exclusive\nworkers 8\nevents 100\n"
      "arrival poisson 2.5\nservice 50us\nseed 7\n\nscenario b\nwait wait14\nfds 13\nmaxevents 3\nrounds 4\n",
      "f.herd", &error);
  ASSERT_TRUE(s) << error;
  ASSERT_EQ(s->size(), 2u);
  const Scenario& a = (*s)[0];
  EXPECT_EQ(a.name, "a");
  EXPECT_EQ(a.where, "f.herd:2");
  EXPECT_EQ(a.source, Source::kTcp);
  EXPECT_EQ(a.wait, Wait::kPerWorker);
  EXPECT_EQ(a.trigger, Trigger::kExclusive);
  EXPECT_EQ(a.workers, 8);
  EXPECT_EQ(a.events, 100);
  EXPECT_EQ(a.arrival, Arrival::kPoisson);
  EXPECT_DOUBLE_EQ(a.rate_per_ms, 2.5);
  EXPECT_EQ(a.service_ns, 50000);
  EXPECT_EQ(a.seed, 7u);
  EXPECT_EQ((*s)[1].wait, Wait::kWait14);
  EXPECT_EQ((*s)[1].rounds, 4);
}

TEST(HerdScenario, BadInputSaysWhere) {
  EXPECT_EQ(parse_error("workers 3\n"), "f.herd:1:1: expected 'scenario NAME' before the first setting");
  EXPECT_EQ(parse_error("scenario a\nworkers 0\n"),
            "f.herd:2:9: 'workers': expected a whole number from 1 to 1000000, got '0'");
  EXPECT_EQ(parse_error("scenario a\n  workers  12x\n"),
            "f.herd:2:12: 'workers': expected a whole number from 1 to 1000000, got '12x'");
  EXPECT_EQ(parse_error("scenario a\nwokers 3\n"),
            "f.herd:2:1: unknown setting 'wokers' (expected source, wait, trigger, workers, events, arrival, service, "
            "seed, consume, fds, maxevents or rounds)");
  EXPECT_EQ(parse_error("scenario a\nsource fifo\n"),
            "f.herd:2:8: 'source': expected one of unix, tcp, pipe, eventfd, socketpair, got 'fifo'");
  EXPECT_EQ(parse_error("scenario a\nworkers 3 4\n"), "f.herd:2:11: 'workers' takes one value");
  EXPECT_EQ(parse_error("scenario a\narrival burst\n"),
            "f.herd:2:9: 'arrival': expected one-at-a-time, burst K or poisson RATE (events per ms)");
  EXPECT_EQ(parse_error("scenario a\narrival poisson -1\n"),
            "f.herd:2:17: 'arrival poisson': expected a rate in events per ms above 0, up to 1000000, got '-1'");
  EXPECT_EQ(parse_error("scenario a\nservice 5min\n"),
            "f.herd:2:9: 'service': expected a duration (a whole number with ns, us, ms or s), got '5min'");
  EXPECT_EQ(parse_error("scenario a\nworkers \x01\n"), "f.herd:2:9: unexpected character (settings are printable ASCII)");
  EXPECT_EQ(parse_error("scenario\n"), "f.herd:1:9: expected 'scenario NAME' (one word)");
  EXPECT_EQ(parse_error("# nothing\n"), "f.herd:2:1: expected at least one 'scenario NAME'");
  // do_epoll_ctl refuses EPOLLEXCLUSIVE on an epoll file: said at the scenario's line.
  EXPECT_EQ(parse_error("scenario ok\n\nscenario bad\nwait nested\ntrigger exclusive\n"),
            "f.herd:3:1: wait nested with trigger exclusive: the kernel refuses EPOLLEXCLUSIVE on an epoll (EINVAL)");
  EXPECT_EQ(parse_error("scenario a\nwait reuseport\n"),
            "f.herd:1:1: wait reuseport needs source tcp (SO_REUSEPORT groups are inet-only since 6.13)");
}

// ---- anchors: model against this kernel ----------------------------------------------

Scenario make(Source src, Wait w, Trigger t, int workers, int events, bool consume = true) {
  Scenario s;
  s.name = "test";
  s.source = src;
  s.wait = w;
  s.trigger = t;
  s.workers = workers;
  s.events = events;
  s.consume = consume;
  return s;
}

int count_dir(const char* path) {
  int n = 0;
  if (DIR* d = opendir(path)) {
    while (readdir(d)) ++n;
    closedir(d);
  }
  return n;
}

struct Both {
  Run model, kernel;
};

Both run_both(const Scenario& s) {
  // TSan starts a thread of its own at the process's first pthread_create: make it exist
  // before the baseline, so that only the executor's threads are counted.
  std::thread([] {}).join();
  const int fds = count_dir("/proc/self/fd"), tasks = count_dir("/proc/self/task");
  Both b{run_on_model(s, model::KernelProfile{}), real::run_herd(s)};
  EXPECT_EQ(b.model.error, "");
  EXPECT_EQ(b.kernel.error, "");
  // The kernel executor leaves no descriptor and no thread behind.
  EXPECT_EQ(count_dir("/proc/self/fd"), fds);
  EXPECT_EQ(count_dir("/proc/self/task"), tasks);
  return b;
}

// Cloudflare: blocking accept is a round robin: inet_csk_wait_for_connect's
// prepare_to_wait_exclusive queues each acceptor at the tail, one woken per connection.
TEST(HerdAnchors, BlockingAcceptIsRoundRobin) {
  for (Source src : {Source::kUnix, Source::kTcp}) {
    const Both b = run_both(make(src, Wait::kBlocking, Trigger::kLevel, 3, 6));
    EXPECT_EQ(b.kernel.handler, (std::vector<int>{0, 1, 2, 0, 1, 2})) << name_of(src);
    EXPECT_EQ(b.model.handler, b.kernel.handler) << name_of(src);
    EXPECT_EQ(b.model.woken, b.kernel.woken) << name_of(src);
    EXPECT_EQ(b.model.woken, (std::vector<int>(6, 1)));
  }
}

// Cloudflare: per-worker epolls with EPOLLEXCLUSIVE put every connection on worker 0:
// ep_ptable_queue_proc's add_wait_queue_exclusive keeps registration order, and
// ep_poll_callback wakes the first epoll that has a waiter.
TEST(HerdAnchors, ExclusivePerWorkerEpollsPileOnTheFirst) {
  const Both b = run_both(make(Source::kUnix, Wait::kPerWorker, Trigger::kExclusive, 3, 6));
  EXPECT_EQ(b.kernel.handler, (std::vector<int>(6, 0)));
  EXPECT_EQ(b.model.handler, b.kernel.handler);
  EXPECT_EQ(b.model.woken, b.kernel.woken);
  EXPECT_EQ(b.model.returned, b.kernel.returned);
}

// One shared ET epoll: ep_poll's __add_wait_queue_exclusive at the head wakes the last to
// sleep, which sleeps again at the head: the last worker takes all.
TEST(HerdAnchors, SharedEdgeTriggeredEpollIsLifo) {
  const Both b = run_both(make(Source::kUnix, Wait::kShared, Trigger::kEdge, 4, 8));
  EXPECT_EQ(b.kernel.handler, (std::vector<int>(8, 3)));
  EXPECT_EQ(b.model.handler, b.kernel.handler);
  EXPECT_EQ(b.model.woken, b.kernel.woken);
}

// LTP epoll_wait15: one write to a pipe watched EPOLLIN|EPOLLET by 8 epolls wakes all 8.
// epoll_wait16: with EPOLLEXCLUSIVE, each of 8 writes wakes exactly one, each a new one.
TEST(HerdAnchors, LtpEpollWait15And16) {
  const Both et = run_both(make(Source::kPipe, Wait::kPerWorker, Trigger::kEdge, 8, 1, false));
  EXPECT_EQ(et.kernel.woken, (std::vector<int>{8}));
  EXPECT_EQ(et.kernel.returned, (std::vector<int>{8}));
  EXPECT_EQ(et.model.woken, et.kernel.woken);
  EXPECT_EQ(et.model.returned, et.kernel.returned);
  const Both ex = run_both(make(Source::kPipe, Wait::kPerWorker, Trigger::kExclusive, 8, 8, false));
  EXPECT_EQ(ex.kernel.woken, (std::vector<int>(8, 1)));
  EXPECT_EQ(ex.kernel.handler, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(ex.model.woken, ex.kernel.woken);
  EXPECT_EQ(ex.model.handler, ex.kernel.handler);
}

// LTP epoll_wait14: 13 ready fds, maxevents 3: ep_send_events requeues every delivered LT
// item at the tail, so the fds come in turn: 13 rounds report each 3 times.
TEST(HerdAnchors, LtpEpollWait14) {
  Scenario s = make(Source::kPipe, Wait::kWait14, Trigger::kLevel, 1, 1);
  s.fds = 13;
  s.maxevents = 3;
  for (int rounds : {4, 13}) {
    s.rounds = rounds;
    const Both b = run_both(s);
    EXPECT_EQ(b.model.rounds, b.kernel.rounds);
    EXPECT_EQ(b.model.fd_reports, b.kernel.fd_reports);
  }
  EXPECT_EQ(run_on_model(s, model::KernelProfile{}).fd_reports, std::vector<int64_t>(13, 3));
}

// kselftest epoll_wakeup_test epoll9/epoll10: two threads on one epoll, a socketpair write:
// LT both return (ep_done_scan re-wakes the next waiter for the requeued item), ET one.
TEST(HerdAnchors, KselftestTwoThreadsLtBothEtOne) {
  const Both lt = run_both(make(Source::kSocketpair, Wait::kShared, Trigger::kLevel, 2, 1, false));
  EXPECT_EQ(lt.kernel.returned, (std::vector<int>{2}));
  EXPECT_EQ(lt.model.returned, lt.kernel.returned);
  EXPECT_EQ(lt.model.woken, lt.kernel.woken);
  const Both et = run_both(make(Source::kSocketpair, Wait::kShared, Trigger::kEdge, 2, 1, false));
  EXPECT_EQ(et.kernel.returned, (std::vector<int>{1}));
  EXPECT_EQ(et.model.returned, et.kernel.returned);
  EXPECT_EQ(et.model.handler, et.kernel.handler);
}

// Racy ones by distribution: SO_REUSEPORT spreads by hash on both (no listener empty).
TEST(HerdAnchors, ReuseportSpreadsByHash) {
  const Both b = run_both(make(Source::kTcp, Wait::kReuseport, Trigger::kLevel, 3, 60));
  for (const eo::herd::Run* r : {&b.model, &b.kernel}) {
    ASSERT_EQ(r->handled.size(), 3u);
    for (int64_t h : r->handled) EXPECT_GT(h, 0) << r->executor;
  }
}

TEST(HerdKernel, RefusesMoreThan64Workers) {
  const eo::herd::Run r = real::run_herd(make(Source::kUnix, Wait::kBlocking, Trigger::kLevel, 65, 1));
  EXPECT_EQ(r.error, "the kernel executor runs at most 64 workers");
}

}  // namespace
