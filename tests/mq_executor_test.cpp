// The kernel executor's message queues (real/mq_names.*, real/executor.cpp): names unique
// to a run, every queue of a run unlinked when it ends (normally, stopped by the watchdog,
// or with the process ended by SIGINT or SIGTERM), and the notification signal counted.
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "oracle/trace/parser.h"
#include "real/executor.h"
#include "real/mq_names.h"

namespace {

eo::Program parse(const std::string& text) {
  eo::ParseResult r = eo::parse_trace(text, "test");
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return std::move(r).program();
}

// Whether the kernel has a queue of that name (opened and closed at once).
bool queue_exists(const std::string& kernel_name) {
  const long fd = syscall(SYS_mq_open, kernel_name.c_str(), O_RDONLY, 0, nullptr);
  if (fd >= 0) close(static_cast<int>(fd));
  return fd >= 0;
}

std::string run_prefix(pid_t pid, unsigned run) { return "eo." + std::to_string(pid) + "." + std::to_string(run) + "."; }

const char* kTwoQueues = R"(mq_open(/a, O_RDWR|O_CREAT|O_NONBLOCK) = a
mq_open(/b, O_RDWR|O_CREAT) = b
mq_send(a, 1, 0) = 0
)";

TEST(MqExecutor, TheQueuesOfARunAreGoneWhenItEnds) {
  const eo::Program p = parse(kTwoQueues);
  const unsigned run = real::RunQueues::runs_started();
  real::KernelExecutor k;
  const eo::RunResult r = k.run(p);
  EXPECT_EQ(r.stopped_at, -1) << r.error;
  for (const char* n : {"a", "b"}) EXPECT_FALSE(queue_exists(run_prefix(getpid(), run) + n)) << n;
}

TEST(MqExecutor, TheQueuesOfAStoppedRunAreGoneToo) {
  // main blocks in mq_receive on an empty blocking queue: the watchdog stops the run.
  const eo::Program p = parse(std::string(kTwoQueues) + "mq_receive(b, 8192) = [1, 0]\n");
  const unsigned run = real::RunQueues::runs_started();
  real::KernelOptions o;
  o.watchdog_ms = 200;
  real::KernelExecutor k(o);
  const eo::RunResult r = k.run(p);
  EXPECT_EQ(r.stopped_at, 3);
  for (const char* n : {"a", "b"}) EXPECT_FALSE(queue_exists(run_prefix(getpid(), run) + n)) << n;
}

TEST(MqExecutor, NotificationsAreCountedAndNoneLeakIntoTheNextRun) {
  const eo::Program p = parse(R"(mq_open(/n, O_RDWR|O_CREAT|O_NONBLOCK) = q
mq_notify(q, SIGEV_SIGNAL) = 0
mq_send(q, 1, 0) = 0
notifications() = 1
mq_receive(q, 8192) = [1, 0]
mq_notify(q, SIGEV_SIGNAL) = 0
mq_send(q, 1, 0) = 0
)");
  real::KernelExecutor k;
  for (int i = 0; i < 2; ++i) {  // the second signal is left pending at the end, then dropped
    const eo::RunResult r = k.run(p);
    EXPECT_EQ(r.stopped_at, -1) << r.error;
    ASSERT_EQ(r.steps[3].outcome.kind, eo::Outcome::Kind::kValue);
    EXPECT_EQ(r.steps[3].outcome.ret, 1) << "run " << i;
    EXPECT_EQ(r.steps[4].outcome.numbers, (std::vector<int64_t>{1, 0}));
  }
  sigset_t pending;
  sigpending(&pending);
  EXPECT_FALSE(sigismember(&pending, SIGRTMIN + 2));
}

// A child runs a trace whose task blocks in mq_receive; the signal ends the child while the
// queue exists, and the queue is gone after it.
void ends_the_run_with(int sig) {
  const unsigned run = real::RunQueues::runs_started();  // the child's next run
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const eo::Program p = parse(std::string(kTwoQueues) + "t1: mq_receive(b, 8192) ...\nsleep(10000) = 0\n");
    real::KernelExecutor k;
    k.run(p);
    _exit(0);  // not reached: the signal ends the process
  }
  const std::string b = run_prefix(child, run) + "b";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!queue_exists(b) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(queue_exists(b));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // t1 blocked in mq_timedreceive
  kill(child, sig);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == sig) << status;
  for (const char* n : {"a", "b"}) EXPECT_FALSE(queue_exists(run_prefix(child, run) + n)) << n;
}

TEST(MqExecutor, SigintEndsTheRunWithoutLeavingItsQueues) { ends_the_run_with(SIGINT); }

// A process that ignores SIGINT (a background job of a shell) keeps ignoring it: the run
// goes on, its queues stay until it ends.
TEST(MqExecutor, AnIgnoredSigintChangesNothing) {
  const unsigned run = real::RunQueues::runs_started();
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    signal(SIGINT, SIG_IGN);
    const eo::Program p = parse(std::string(kTwoQueues) + "sleep(400) = 0\nmq_getattr(a) = 1\n");
    real::KernelExecutor k;
    const eo::RunResult r = k.run(p);
    _exit(r.stopped_at == -1 && r.steps[4].outcome.ret == 1 ? 0 : 3);
  }
  const std::string a = run_prefix(child, run) + "a";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!queue_exists(a) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill(child, SIGINT);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(queue_exists(a));
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_FALSE(queue_exists(a));
}
TEST(MqExecutor, SigtermEndsTheRunWithoutLeavingItsQueues) { ends_the_run_with(SIGTERM); }

}  // namespace
