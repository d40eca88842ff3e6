// herd cost (oracle/herd_cost): the f_op->poll work per wait on the model is exactly N for
// poll and K for epoll_wait, as fs/select.c do_poll calls do_pollfd (vfs_poll) on every fd
// of the array and fs/eventpoll.c ep_send_events calls ep_item_poll only on the items of
// the ready list. The kernel side runs real calls (each must return K). No timing asserted.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "oracle/herd_cost.h"

namespace fs = std::filesystem;

namespace {

eo::CostOptions quick() {
  eo::CostOptions o;
  o.seconds_per_point = 0;
  o.min_calls = 3;
  o.progress = false;
  return o;
}

const eo::CostPoint* find(const std::vector<eo::CostPoint>& v, const std::string& call) {
  for (const auto& p : v) {
    if (p.call == call) return &p;
  }
  return nullptr;
}

TEST(HerdCost, ModelPollsEveryFdForPollAndTheReadyOnesForEpoll) {
  for (const auto& [n, k] : std::vector<std::pair<int, int>>{{10, 1}, {100, 1}, {100, 10}, {1000, 100}, {2000, 2000}}) {
    std::vector<eo::CostPoint> points;
    std::string error;
    ASSERT_TRUE(eo::measure_model(n, k, quick(), &points, &error)) << error;
    ASSERT_EQ(points.size(), 2u);
    EXPECT_EQ(find(points, "poll")->fop_polls, n) << "N " << n << " K " << k;         // do_poll -> do_pollfd
    EXPECT_EQ(find(points, "epoll_wait")->fop_polls, k) << "N " << n << " K " << k;   // ep_send_events
    EXPECT_GT(find(points, "poll")->median_ns, 0);
  }
}

// Each timed call must return K (measure_kernel fails otherwise); the soft RLIMIT_NOFILE
// below N is raised for the run and put back.
TEST(HerdCost, KernelCallsReturnKAndTheLimitIsRestored) {
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  // N fits the hard limit with the run's own descriptors (n + 64), the soft one it does not.
  const int n = static_cast<int>(std::min<rlim_t>(1000, saved.rlim_max - 100));
  ASSERT_GT(n, 100);
  rlimit low = saved;
  low.rlim_cur = static_cast<rlim_t>(n / 4);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  std::vector<eo::CostPoint> points;
  std::string error;
  const bool ok = eo::measure_kernel(n, n / 10, quick(), &points, &error);
  rlimit after{};
  getrlimit(RLIMIT_NOFILE, &after);
  setrlimit(RLIMIT_NOFILE, &saved);
  ASSERT_TRUE(ok) << error;
  EXPECT_EQ(after.rlim_cur, static_cast<rlim_t>(n / 4));
  ASSERT_EQ(points.size(), 2u);
  EXPECT_EQ(find(points, "poll")->fop_polls, -1);  // not observable on a kernel
  EXPECT_GE(find(points, "epoll_wait")->calls, 3);
}

// Run in a child: a hard limit lowered cannot be raised again (without CAP_SYS_RESOURCE).
[[noreturn]] void beyond_the_hard_limit() {
  const rlimit lowered{512, 512};
  if (setrlimit(RLIMIT_NOFILE, &lowered) != 0) _exit(2);
  std::vector<eo::CostPoint> points;
  std::string error;
  if (eo::measure_kernel(512, 1, quick(), &points, &error)) _exit(3);
  _exit(error.find("needs RLIMIT_NOFILE") != std::string::npos ? 0 : 4);
}

TEST(HerdCost, KernelBeyondTheHardLimitIsAnError) {
  EXPECT_EXIT(beyond_the_hard_limit(), testing::ExitedWithCode(0), "");
}

TEST(HerdCost, KSpecs) {
  int k = 0;
  std::string error;
  ASSERT_TRUE(eo::parse_k("1", 100, &k, &error));
  EXPECT_EQ(k, 1);
  ASSERT_TRUE(eo::parse_k("10%", 1000, &k, &error));
  EXPECT_EQ(k, 100);
  ASSERT_TRUE(eo::parse_k("10%", 5, &k, &error));  // at least 1
  EXPECT_EQ(k, 1);
  ASSERT_TRUE(eo::parse_k("50", 10, &k, &error));  // at most N
  EXPECT_EQ(k, 10);
  for (const std::string bad : {"", "0", "-1", "x", "10%%", "150%", "1.5", "%"}) {
    EXPECT_FALSE(eo::parse_k(bad, 100, &k, &error)) << bad;
    EXPECT_NE(error.find("K: expected"), std::string::npos) << bad;
  }
}

TEST(HerdCost, WritesTableCsvJsonAndChart) {
  const fs::path d = fs::temp_directory_path() / ("eo-cost-" + std::to_string(getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  eo::CostOptions o = quick();
  o.n = {10, 100};
  o.k = {"1", "10%"};
  o.on_kernel = false;
  std::ostringstream out, err;
  ASSERT_EQ(eo::cmd_herd_cost(o, (d / "c.csv").string(), (d / "c.json").string(), (d / "c.svg").string(), out, err), 0)
      << err.str();
  EXPECT_NE(out.str().find("model poll"), std::string::npos);
  std::ifstream csv(d / "c.csv");
  std::string header;
  std::getline(csv, header);
  EXPECT_EQ(header, "executor,call,n,k,median_ns,calls,fop_polls_per_wait");
  const auto j = nlohmann::json::parse(std::ifstream(d / "c.json"));
  ASSERT_EQ(j.size(), 6u);  // (10,1), (100,1), (100,10): poll and epoll_wait each
  EXPECT_EQ(j[4]["n"], 100);
  EXPECT_EQ(j[4]["k"], 10);
  EXPECT_EQ(j[4]["fop_polls_per_wait"], 100);
  EXPECT_EQ(j[5]["fop_polls_per_wait"], 10);
  EXPECT_TRUE(fs::file_size(d / "c.svg") > 0);
  fs::remove_all(d);
}

TEST(HerdCost, BadKIsBadInputBeforeAnyMeasurement) {
  eo::CostOptions o = quick();
  o.k = {"1", "many"};
  std::ostringstream out, err;
  EXPECT_EQ(eo::cmd_herd_cost(o, "", "", "", out, err), 2);
  EXPECT_NE(err.str().find("K: expected"), std::string::npos);
  EXPECT_EQ(out.str(), "");
}

TEST(HerdCost, AnOutputThatCannotBeWrittenIsBadInputBeforeAnyMeasurement) {
  eo::CostOptions o = quick();
  std::ostringstream out, err;
  EXPECT_EQ(eo::cmd_herd_cost(o, "", "", "/proc/nope/c.svg", out, err), 2);
  EXPECT_NE(err.str().find("/proc/nope is not a writable directory"), std::string::npos) << err.str();
  EXPECT_EQ(out.str(), "");
}

}  // namespace
