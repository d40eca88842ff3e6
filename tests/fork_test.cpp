// Processes (TRACE_FORMAT.md v1.1 "Processes"): the model's kernel/fork.c and exit_files
// (dup_fd takes one more reference per open file; close_files closes each descriptor as
// close(2) does, so a registration goes at the last fput), the parser's per-process
// names, and the kernel executor's child processes (every child killed and reaped, no
// descriptor left, whatever happens).
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/harness.h"
#include "model/eventpoll.h"
#include "model/executor.h"
#include "model_fixture.h"
#include "oracle/trace/parser.h"
#include "real/executor.h"

namespace {

using namespace eo_test;

// ---- model: kernel/fork.c, exit_files ----------------------------------------------------

TEST(ModelFork, DupFdCopiesTheTableTakingOneReferencePerFile) {
  ModelSys s;
  auto [r, w] = s.pipe();
  const int ep = s.epoll();
  File* rf = s.k.fdtable().fget(r);
  ASSERT_EQ(rf->f_count, 1);
  const long pid = s.k.fork(s.main(), "c");
  EXPECT_GT(pid, 0);
  Task* c = s.k.find_task("c");
  ASSERT_NE(c, nullptr);
  EXPECT_NE(c->proc, s.main().proc);
  FdTable& ct = s.k.files(*c);
  EXPECT_EQ(ct.fget(r), rf);  // the same open file under the same number
  EXPECT_EQ(ct.fget(w), s.k.fdtable().fget(w));
  EXPECT_EQ(ct.fget(ep), s.k.fdtable().fget(ep));
  EXPECT_EQ(rf->f_count, 2);  // one reference per table
  // Both tables allocate the same lowest free number next.
  EXPECT_EQ(s.k.eventfd2(*c, 0, 0), s.k.eventfd2(s.main(), 0, 0));
}

TEST(ModelFork, ParentCloseKeepsTheRegistrationChildCloseRemovesIt) {
  ModelSys s;
  auto [r, w] = s.pipe();
  const int ep = s.epoll();
  ASSERT_EQ(s.add(ep, r, EPOLLIN, 7), 0);
  s.k.fork(s.main(), "c");
  Task& c = *s.k.find_task("c");
  ASSERT_EQ(s.close(r), 0);  // not the last reference: no __fput, no eventpoll_release
  ASSERT_EQ(s.write(w, 1), 1);
  EXPECT_EQ(s.wait(ep), evs({{7, EPOLLIN}}));
  EXPECT_EQ(s.del(ep, r), -EBADF);
  ASSERT_EQ(s.k.close(c, r), 0);  // the last one: the item goes with the file
  EXPECT_TRUE(s.wait(ep).empty());
}

TEST(ModelFork, ExitClosesTheTableAsCloseDoes) {
  ModelSys s;
  auto [r, w] = s.pipe();
  const int ep = s.epoll();
  ASSERT_EQ(s.add(ep, r, EPOLLIN, 7), 0);
  s.k.fork(s.main(), "c");
  Task& c = *s.k.find_task("c");
  ASSERT_EQ(s.close(w), 0);  // the child's copy is now the only writer
  EXPECT_TRUE(s.wait(ep).empty());
  const long live = s.k.globals().live_files;
  EXPECT_EQ(s.k.exit(c), 0);
  EXPECT_TRUE(c.proc->exited);
  EXPECT_EQ(s.k.files(c).open_count(), 0);
  // The child's r, w and ep went; only w had no other reference, so only it was released.
  EXPECT_EQ(s.k.globals().live_files, live - 1);
  EXPECT_EQ(s.wait(ep), evs({{7, EPOLLHUP}}));  // pipe_release of the last writer
}

TEST(ModelFork, ExitEndsTheProcessOtherTasksCalls) {
  ModelSys s;
  auto [r, w] = s.pipe(0);  // blocking
  (void)w;
  std::vector<char> buf(8);
  ASSERT_EQ(s.k.read(s.t("t1"), r, buf.data(), buf.size()), kBlocked);
  EXPECT_EQ(s.k.exit(s.main()), 0);
  EXPECT_FALSE(s.t("t1").pending);  // interrupted: its call ended
  EXPECT_EQ(s.k.fdtable().open_count(), 0);
}

// ---- the parser: one namespace, descriptors per process ----------------------------------

std::string parse_error(const std::string& text) {
  const eo::ParseResult r = eo::parse_trace(text, "t.trace");
  return r.ok() ? "" : r.error().str();
}

TEST(ParseFork, ANameBoundAfterTheForkExistsOnlyInItsProcess) {
  const std::string head = "pipe2(0) = [r, w]\nfork() = c\n";
  EXPECT_EQ(parse_error(head + "c: close(r) = 0\nclose(r) = 0\n"), "");  // both tables have r
  EXPECT_EQ(parse_error(head + "eventfd2(0, 0) = e\nc: close(e) = 0\n"),
            "t.trace:4:10: descriptor 'e' (bound at 3:18) does not exist in process 'c' of task 'c': a name bound "
            "after a fork exists only in its own process");
  EXPECT_EQ(parse_error(head + "c: eventfd2(0, 0) = e\nt1: close(e) = 0\n"),
            "t.trace:4:11: descriptor 'e' (bound at 3:21) does not exist in process 'main' of task 't1': a name "
            "bound after a fork exists only in its own process");
  // A resume line binds in its task's process.
  EXPECT_EQ(parse_error(head + "t1: dup(r) ...\nt1: ... = d\nc: close(d) = 0\n"),
            "t.trace:5:10: descriptor 'd' (bound at 4:11) does not exist in process 'c' of task 'c': a name bound "
            "after a fork exists only in its own process");
}

TEST(ParseFork, OneNamespaceForTasksAndDescriptors) {
  EXPECT_EQ(parse_error("pipe2(0) = [r, w]\nfork() = r\n"), "t.trace:2:10: name 'r' is already bound (at 1:13)");
  EXPECT_EQ(parse_error("t1: pipe2(0) = [t1, w]\n"), "t.trace:1:17: name 't1' is already a task");
  EXPECT_EQ(parse_error("pipe2(0) = [r, w]\nr: close(w) = 0\n"),
            "t.trace:2:1: 'r' is a descriptor (bound at 1:13), not a task: tasks and descriptors share one namespace");
  EXPECT_EQ(parse_error("fork() = c\nclose(c) = 0\n"), "t.trace:2:7: 'c' is a task, not a descriptor");
}

TEST(ParseFork, ForkBindsAndExitEndsTheProcess) {
  EXPECT_EQ(parse_error("fork()\n"), "t.trace:1:7: expected '= TASK' after fork(): it binds the name of the new "
                                     "process's task, found the end of the line");
  EXPECT_NE(parse_error("fork() = *\n"), "");
  EXPECT_NE(parse_error("fork() ...\n"), "");
  EXPECT_NE(parse_error("fork() = c\nc: exit() ...\n"), "");
  EXPECT_EQ(parse_error("fork() = c\nc: exit() = 0\nc: exit() = 0\n"),
            "t.trace:3:1: task 'c' belongs to process 'c', which exited at 2:1: no step follows in it");
  EXPECT_EQ(parse_error("pipe2(0) = [r, w]\nt1: read(r, 1) ...\nexit() = 0\nt1: ... = 1\n"),
            "t.trace:4:1: task 't1' belongs to process 'main', which exited at 3:1: no step follows in it");
  EXPECT_EQ(parse_error("fork() = c\nexit() = 0\nsleep(1) = 0\nc: exit() = 0\n"), "");
  EXPECT_EQ(parse_error("fork() = c\nexit() = 0\nt2: exit() = 0\n"),
            "t.trace:3:1: task 't2' belongs to process 'main', which exited at 2:1: no step follows in it");
}

// ---- the kernel executor: child processes -----------------------------------------------

int count_fds() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (readdir(d)) ++n;
    closedir(d);
  }
  return n;
}
// Children of this process, zombies or not (waitid with WNOWAIT reaps nothing).
bool has_children() {
  siginfo_t info{};
  return waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid != 0;
}
int count_threads() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/task")) {
    while (readdir(d)) ++n;
    closedir(d);
  }
  return n;
}

// A joined thread leaves /proc/self/task a little after pthread_join returns (its futex
// wake comes before release_task): the count, once it is at most `want` within 200 ms.
int settled_threads(int want) {
  int n = count_threads();
  for (int i = 0; i < 200 && n > want; ++i) {
    usleep(1000);
    n = count_threads();
  }
  return n;
}
// The baseline: the count once it has not changed for 50 ms (a thread of the warm-up run
// may still be leaving; CI once took 4 and then saw 3).
int stable_threads() {
  int n = count_threads();
  for (int same = 0, i = 0; same < 50 && i < 1000; ++i) {
    usleep(1000);
    const int now = count_threads();
    same = now == n ? same + 1 : 0;
    n = now;
  }
  return n;
}

eo::Program parsed(const std::string& text) {
  eo::ParseResult r = eo::parse_trace(text, "t.trace");
  EXPECT_TRUE(r.ok()) << r.error().str();
  return std::move(r).program();
}

TEST(KernelFork, ChildrenAreReapedAndNothingLeftWhateverHappens) {
  real::KernelOptions o;
  o.watchdog_ms = 300;
  real::KernelExecutor kernel(o);
  // One run first: a sanitizer's runtime starts a thread of its own at the first fork.
  (void)kernel.run(parsed("fork() = c\nc: exit() = 0\n"));
  const int fds = count_fds(), threads = stable_threads();
  ASSERT_FALSE(has_children());
  // A run that passes, one whose child is stuck (a blocking read written as a call step:
  // the watchdog), one that ends with a child blocked, one with a failing step.
  const char* traces[] = {
      ("pipe2(O_NONBLOCK) = [r, w]\nepoll_create1(0) = ep\nepoll_ctl(ep, ADD, r, EPOLLIN) = 0\nfork() = c\n"
       "close(r) = 0\nwrite(w, 1) = 1\nepoll_wait(ep, 8, 0) = [r: EPOLLIN]\nc: exit() = 0\nepoll_wait(ep, 8, 0) = []\n"),
      "pipe2(0) = [r, w]\nfork() = c\nc: read(r, 1) = 1\n",
      "pipe2(0) = [r, w]\nfork() = c\nfork() = d\nc: read(r, 1) ...\nd: epoll_create1(0) = ep\n",
      "pipe2(0) = [r, w]\nfork() = c\nc: close(w) = 0\nc: write(w, 1) = 1\n",
      // Sockets: a TCP listener whose child connects and exits, and an AF_UNIX listener
      // with a child blocked in accept4 when a step fails.
      ("socket(AF_INET, SOCK_STREAM|SOCK_NONBLOCK) = l\nlisten(l, 4) = 0\nfork() = c\n"
       "c: socket(AF_INET, SOCK_STREAM) = s\nc: connect(s, l) = 0\nc: exit() = 0\naccept4(l, 0) = a\nread(a, 1) = 0\n"),
      ("socket(AF_UNIX, SOCK_STREAM) = u\nbind(u) = 0\nlisten(u, 1) = 0\nfork() = c\nc: accept4(u, 0) ...\n"
       "socket(AF_UNIX, SOCK_STREAM) = v\nconnect(v, u) = 0\nwrite(v, 1) = 2\n"),
  };
  // EO_FORK_ROUNDS=250 makes it 1500 runs (the leak count of the processes work).
  const char* env = std::getenv("EO_FORK_ROUNDS");
  const int rounds = env ? std::max(1, std::atoi(env)) : 1;
  for (int round = 0; round < rounds; ++round) {
    for (const char* text : traces) {
      SCOPED_TRACE(text);
      const eo::Program p = parsed(text);
      const eo::RunResult r = kernel.run(p);
      ASSERT_FALSE(has_children());
      ASSERT_EQ(count_fds(), fds);
      ASSERT_LE(settled_threads(threads), threads) << r.error;
    }
  }
  if (rounds > 1) {
    std::printf("%d runs: fds %d -> %d, threads %d -> %d, children left: %d\n", static_cast<int>(std::size(traces)) * rounds, fds, count_fds(), threads,
                count_threads(), has_children() ? 1 : 0);
  }
  const eo::RunResult ok = kernel.run(parsed(traces[0]));
  EXPECT_TRUE(ok.error.empty()) << ok.error;
  EXPECT_EQ(ok.steps[6].outcome.events.size(), 1u);
  EXPECT_TRUE(ok.steps[8].outcome.events.empty());
  const eo::RunResult stuck = kernel.run(parsed(traces[1]));
  EXPECT_EQ(stuck.stopped_at, 2);
  EXPECT_EQ(stuck.steps[2].outcome.kind, eo::Outcome::Kind::kStuck);
}

TEST(KernelFork, AForkInAForkedProcessIsBeyondTheKernelExecutor) {
  real::KernelExecutor kernel;
  EXPECT_EQ(kernel.limit(parsed("fork() = c\nc: fork() = g\n")),
            "fork() in a forked process at line 2: the kernel executor forks from main's process only");
  EXPECT_EQ(kernel.limit(parsed("fork() = c\nfork() = d\n")), "");
  std::string many;
  for (int i = 0; i <= 64; ++i) many += "fork() = c" + std::to_string(i) + "\n";
  EXPECT_EQ(kernel.limit(parsed(many)), "fork() at line 65 makes more than the kernel executor's 64 child processes");
  // The model runs it: the grandchild has the child's table.
  model::ModelExecutor m{model::KernelProfile{}};
  const eo::RunResult r = m.run(parsed("pipe2(0) = [r, w]\nfork() = c\nc: fork() = g\nclose(r) = 0\nc: close(r) = 0\n"
                                       "g: close(r) = 0\ng: close(r) = -1 EBADF\n"));
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.steps[5].outcome.kind, eo::Outcome::Kind::kValue);
  EXPECT_EQ(r.steps[6].outcome.ret, EBADF);
}

}  // namespace
