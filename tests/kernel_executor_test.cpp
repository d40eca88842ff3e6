// real::KernelExecutor on this machine's kernel. Programs are built as structs (the text
// parser lives elsewhere); expected values are what Linux does, with the kernel function
// that decides it named where it is not obvious.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/executor.h"
#include "common/program.h"
#include "real/executor.h"

namespace {

using eo::Outcome;
using eo::ResultAlt;
using eo::Step;
using Clock = std::chrono::steady_clock;

// Builds an eo::Program step by step: b.pipe2(O_NONBLOCK, "r", "w"); b.on("t1").pending()
// .epoll_wait("ep", 1, -1); b.resume("t1"). on()/pending() apply to the next step only.
class Builder {
 public:
  Builder& on(const std::string& task) {
    task_ = task;
    return *this;
  }
  Builder& pending() {
    pending_ = true;
    return *this;
  }

  Builder& pipe2(int flags, const std::string& r, const std::string& w) {
    add(eo::Pipe2{{flags, {}}});
    binds({r, w});
    return *this;
  }
  Builder& socketpair(int type, const std::string& a, const std::string& b) {
    add(eo::Socketpair{AF_UNIX, {type, {}}});
    binds({a, b});
    return *this;
  }
  Builder& eventfd2(int initval, int flags, const std::string& name) {
    add(eo::Eventfd2{initval, {flags, {}}});
    binds({name});
    return *this;
  }
  Builder& epoll_create1(int flags, const std::string& name) {
    add(eo::EpollCreate1{{flags, {}}});
    binds({name});
    return *this;
  }
  Builder& dup(const std::string& fd, const std::string& name) {
    add(eo::Dup{ref(fd)});
    binds({name});
    return *this;
  }
  Builder& close(const std::string& fd) { return add(eo::Close{ref(fd)}); }
  Builder& read(const std::string& fd, int64_t n) { return add(eo::Read{ref(fd), n}); }
  Builder& write(const std::string& fd, int64_t n) { return add(eo::Write{ref(fd), n}); }
  Builder& fill(const std::string& fd, int64_t chunk = 0) { return add(eo::Fill{ref(fd), chunk}); }
  Builder& drain(const std::string& fd, int64_t chunk = 0) { return add(eo::Drain{ref(fd), chunk}); }
  Builder& eventfd_write(const std::string& fd, int64_t v) { return add(eo::EventfdWrite{ref(fd), v}); }
  Builder& eventfd_read(const std::string& fd) { return add(eo::EventfdRead{ref(fd)}); }
  Builder& shutdown(const std::string& fd, int how) { return add(eo::Shutdown{ref(fd), how}); }
  Builder& epoll_ctl(const std::string& ep, int op, const std::string& fd, uint32_t events) {
    eo::EpollCtl c{ref(ep), op, ref(fd), std::nullopt, {}};
    if (op != EPOLL_CTL_DEL) c.events = eo::FlagArg{events, {}};
    return add(std::move(c));
  }
  Builder& epoll_wait(const std::string& ep, int64_t maxevents, int64_t timeout) {
    return add(eo::EpollWait{ref(ep), maxevents, timeout});
  }
  // poll([FD: EVENTS, ...], TIMEOUT): each entry's name and events.
  Builder& poll(std::vector<eo::EventSpec> fds, int64_t timeout) {
    eo::Poll c;
    for (const eo::EventSpec& e : fds) c.fds.push_back({ref(e.name), {e.mask, {}}});
    c.timeout_ms = timeout;
    return add(std::move(c));
  }
  Builder& sleep(int64_t ms) { return add(eo::Sleep{ms}); }
  Builder& resume(const std::string& task) {
    add(eo::Sleep{});
    Step& s = p_.steps.back();
    s.kind = Step::Kind::kResume;
    s.task = task;
    s.expect.alts = {ResultAlt{}};  // `= *`
    return *this;
  }
  Builder& still_blocked(const std::string& task) {
    add(eo::Sleep{});
    Step& s = p_.steps.back();
    s.kind = Step::Kind::kResumeBlocked;
    s.task = task;
    return *this;
  }

  size_t size() const { return p_.steps.size(); }
  // The program, its resume lines linked to their pending calls as the parser links them.
  const eo::Program& program() {
    eo::link_resumes(p_);
    return p_;
  }

 private:
  static eo::FdRef ref(const std::string& name) { return eo::FdRef{name, {}}; }
  Builder& add(eo::CallArgs c) {
    Step s;
    s.kind = pending_ ? Step::Kind::kPendingCall : Step::Kind::kCall;
    s.task = task_;
    s.task_written = task_ != "main";
    s.call = std::move(c);
    s.pos.line = static_cast<int>(p_.steps.size()) + 1;
    s.pos.col = 1;
    p_.steps.push_back(std::move(s));
    task_ = "main";
    pending_ = false;
    return *this;
  }
  // A creating call's names live in its written result (`= [r, w]`), as the parser makes it.
  void binds(std::vector<std::string> names) {
    ResultAlt a;
    a.kind = ResultAlt::Kind::kBind;
    a.names = std::move(names);
    p_.steps.back().expect.alts = {a};
  }

  eo::Program p_;
  std::string task_ = "main";
  bool pending_ = false;
};

Outcome value(int64_t v) {
  Outcome o;
  o.kind = Outcome::Kind::kValue;
  o.ret = v;
  return o;
}
Outcome error(int e) {
  Outcome o;
  o.kind = Outcome::Kind::kError;
  o.ret = e;
  return o;
}
Outcome events(std::vector<eo::EventSpec> evs) {
  Outcome o = value(static_cast<int64_t>(evs.size()));
  o.events = std::move(evs);
  return o;
}

// Compares what the trace cares about: kind, value, events (not the raw fd numbers).
void expect_outcome(const Outcome& got, const Outcome& want, size_t step) {
  EXPECT_EQ(static_cast<int>(got.kind), static_cast<int>(want.kind)) << "step " << step;
  EXPECT_EQ(got.ret, want.ret) << "step " << step;
  EXPECT_EQ(got.events, want.events) << "step " << step;
}

int count_entries(const char* dir) {
  DIR* d = opendir(dir);
  if (!d) return -1;
  int n = 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(d);
  return n;
}

std::vector<std::string> returned_tasks(const eo::StepObservation& o) {
  std::vector<std::string> v;
  for (const auto& r : o.returned) v.push_back(r.task);
  return v;
}

long ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

TEST(KernelExecutor, NameAndVersion) {
  real::KernelExecutor k;
  EXPECT_EQ(k.name(), "kernel");
  EXPECT_FALSE(k.version().empty());
  EXPECT_TRUE(isdigit(static_cast<unsigned char>(k.version()[0]))) << k.version();
}

// TRACE_FORMAT.md's example: ET on a pipe fires again on every write (pipe_write wakes
// the reader on every write since 5.5; ep_poll_callback queues the item again).
TEST(KernelExecutor, PipeEdgeTriggeredExample) {
  Builder b;
  b.pipe2(O_NONBLOCK, "r", "w")
      .epoll_create1(0, "ep")
      .epoll_ctl("ep", EPOLL_CTL_ADD, "r", EPOLLIN | EPOLLET)
      .epoll_wait("ep", 8, 0)
      .write("w", 10)
      .epoll_wait("ep", 8, 0)
      .write("w", 10)
      .epoll_wait("ep", 8, 0)
      .epoll_wait("ep", 8, 0)
      .read("r", 64)
      .close("w")
      .epoll_wait("ep", 8, 0);
  real::KernelExecutor k;
  const eo::RunResult r = k.run(b.program());
  ASSERT_EQ(r.stopped_at, -1) << r.error;
  ASSERT_EQ(r.steps.size(), b.size());
  const std::vector<Outcome> want = {
      value(0), value(0), value(0), events({}), value(10), events({{"r", EPOLLIN}}), value(10),
      events({{"r", EPOLLIN}}), events({}), value(20), value(0), events({{"r", EPOLLHUP}}),
  };
  for (size_t i = 0; i < want.size(); ++i) {
    if (i == 1) continue;  // epoll_create1 returns a number: checked below
    expect_outcome(r.steps[i].outcome, want[i], i);
    EXPECT_TRUE(r.steps[i].returned.empty());
    EXPECT_TRUE(r.steps[i].still_blocked.empty());
  }
  ASSERT_EQ(r.steps[0].outcome.fds.size(), 2u);
  ASSERT_EQ(r.steps[1].outcome.fds.size(), 1u);
  EXPECT_EQ(r.steps[1].outcome.ret, r.steps[1].outcome.fds[0]);
  EXPECT_EQ(r.steps[1].outcome.fds[0], r.steps[0].outcome.fds[1] + 1);  // lowest free number
}

// Four tasks in epoll_wait(ep, 1, -1) on an eventfd; one write from main.
eo::RunResult herd(uint32_t et) {
  Builder b;
  b.eventfd2(0, EFD_NONBLOCK, "e").epoll_create1(0, "ep").epoll_ctl("ep", EPOLL_CTL_ADD, "e", EPOLLIN | et);
  for (const char* t : {"t1", "t2", "t3", "t4"}) b.on(t).pending().epoll_wait("ep", 1, -1);
  b.eventfd_write("e", 1);
  real::KernelExecutor k;
  return k.run(b.program());
}

// LT: the woken waiter puts the still-ready item back on the ready list and, finding it
// non-empty with waiters left, wakes the next (ep_send_events, ep_done_scan): all 4 return.
TEST(KernelExecutor, LevelTriggeredHerdWakesAll) {
  const eo::RunResult r = herd(0);
  ASSERT_EQ(r.stopped_at, -1) << r.error;
  for (size_t i = 3; i < 7; ++i) {
    EXPECT_EQ(r.steps[i].outcome.kind, Outcome::Kind::kBlocked) << i;
    EXPECT_EQ(r.steps[i].still_blocked.size(), i - 2) << i;
    EXPECT_TRUE(r.steps[i].returned.empty()) << i;
  }
  const eo::StepObservation& w = r.steps[7];
  expect_outcome(w.outcome, value(0), 7);
  EXPECT_EQ(returned_tasks(w), (std::vector<std::string>{"t1", "t2", "t3", "t4"}));
  for (const auto& ret : w.returned) expect_outcome(ret.outcome, events({{"e", EPOLLIN}}), 7);
  EXPECT_TRUE(w.still_blocked.empty());
}

// ET: the item is not put back; one exclusive waiter is woken (ep_poll_callback, wake_up
// of ep->wq with the waiters added exclusive): exactly 1 returns, 3 stay blocked (and are
// interrupted at the end).
TEST(KernelExecutor, EdgeTriggeredHerdWakesOne) {
  const eo::RunResult r = herd(EPOLLET);
  ASSERT_EQ(r.stopped_at, -1) << r.error;
  const eo::StepObservation& w = r.steps[7];
  ASSERT_EQ(w.returned.size(), 1u);
  expect_outcome(w.returned[0].outcome, events({{"e", EPOLLIN}}), 7);
  EXPECT_EQ(w.still_blocked.size(), 3u);
}

// TRACE_FORMAT.md's Tasks example: waiters are added at the head of ep->wq
// (__add_wait_queue_exclusive), so an ET wakeup goes to the one that blocked last.
TEST(KernelExecutor, EdgeTriggeredWakesLastBlockedFirst) {
  Builder b;
  b.pipe2(O_NONBLOCK, "r", "w").epoll_create1(0, "ep").epoll_ctl("ep", EPOLL_CTL_ADD, "r", EPOLLIN | EPOLLET);
  b.on("t1").pending().epoll_wait("ep", 1, -1);
  b.on("t2").pending().epoll_wait("ep", 1, -1);
  b.write("w", 1).resume("t2").write("w", 1).resume("t1");
  real::KernelExecutor k;
  const eo::RunResult r = k.run(b.program());
  ASSERT_EQ(r.stopped_at, -1) << r.error;
  EXPECT_EQ(returned_tasks(r.steps[5]), std::vector<std::string>{"t2"});
  EXPECT_EQ(r.steps[5].still_blocked, std::vector<std::string>{"t1"});
  EXPECT_EQ(r.steps[6].outcome.kind, Outcome::Kind::kNone);  // a resume line runs nothing
  EXPECT_EQ(returned_tasks(r.steps[7]), std::vector<std::string>{"t1"});
  expect_outcome(r.steps[7].returned[0].outcome, events({{"r", EPOLLIN}}), 7);
  EXPECT_TRUE(r.steps[7].still_blocked.empty());
}

// Pending read/write/poll block in their own system calls; a pending call that cannot
// block returns at once and is reported as returned.
TEST(KernelExecutor, PendingCallsOfEveryKind) {
  Builder b;
  b.pipe2(0, "r", "w").pipe2(O_NONBLOCK, "nr", "nw");
  b.on("reader").pending().read("r", 5);                                   // 2
  b.on("poller").pending().poll({{"nr", POLLIN}}, -1);                     // 3
  b.on("quick").pending().read("nr", 5);                                   // 4: EAGAIN at once
  b.write("w", 3);                                                          // 5
  b.write("nw", 1);                                                         // 6
  b.on("writer").pending().fill("w", 4096);                                 // 7: blocks once full
  real::KernelExecutor k;
  const eo::RunResult r = k.run(b.program());
  ASSERT_EQ(r.stopped_at, -1) << r.error;
  EXPECT_EQ(r.steps[2].outcome.kind, Outcome::Kind::kBlocked);
  EXPECT_EQ(r.steps[3].outcome.kind, Outcome::Kind::kBlocked);
  expect_outcome(r.steps[4].outcome, error(EAGAIN), 4);
  EXPECT_EQ(returned_tasks(r.steps[4]), std::vector<std::string>{"quick"});
  EXPECT_EQ(returned_tasks(r.steps[5]), std::vector<std::string>{"reader"});
  expect_outcome(r.steps[5].returned[0].outcome, value(3), 5);
  EXPECT_EQ(returned_tasks(r.steps[6]), std::vector<std::string>{"poller"});
  expect_outcome(r.steps[6].returned[0].outcome, events({{"nr", POLLIN}}), 6);
  EXPECT_EQ(r.steps[7].outcome.kind, Outcome::Kind::kBlocked);
  EXPECT_EQ(r.steps[7].still_blocked, std::vector<std::string>{"writer"});
}

TEST(KernelExecutor, PendingReadBlockingForeverIsInterruptedAtTheEnd) {
  Builder b;
  b.pipe2(0, "r", "w");
  b.on("t1").pending().read("r", 10);
  b.pending().epoll_create1(0, "ep");  // never blocks: returns at once
  b.still_blocked("t1");
  real::KernelExecutor k;
  const auto t0 = Clock::now();
  const eo::RunResult r = k.run(b.program());
  const long elapsed = ms_since(t0);
  EXPECT_EQ(r.stopped_at, -1) << r.error;
  EXPECT_EQ(r.steps[1].outcome.kind, Outcome::Kind::kBlocked);
  EXPECT_EQ(r.steps[1].still_blocked, std::vector<std::string>{"t1"});
  EXPECT_EQ(r.steps[2].outcome.kind, Outcome::Kind::kValue);
  EXPECT_EQ(returned_tasks(r.steps[2]), std::vector<std::string>{"main"});
  EXPECT_EQ(r.steps[3].still_blocked, std::vector<std::string>{"t1"});
  EXPECT_LT(elapsed, 1000);
  std::printf("[ info ] pending-forever run: %ld ms\n", elapsed);
}

// The interrupt reaches the task threads even when the caller blocks SIGUSR1 (threads
// inherit the creator's signal mask; each task unblocks it for itself).
TEST(KernelExecutor, InterruptWorksWhenCallerBlocksTheSignal) {
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &set, &old), 0);
  Builder b;
  b.pipe2(0, "r", "w");
  b.on("t1").pending().epoll_create1(0, "ep");
  b.on("t1").pending().read("r", 1);
  real::KernelExecutor k;
  const auto t0 = Clock::now();
  const eo::RunResult r = k.run(b.program());
  EXPECT_LT(ms_since(t0), 1000);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  EXPECT_EQ(r.stopped_at, -1) << r.error;
  EXPECT_EQ(r.steps[2].still_blocked, std::vector<std::string>{"t1"});
}

// A task with a call still blocked cannot take another: the run stops (the parser
// forbids such traces; the model stops the same way).
TEST(KernelExecutor, CallOnABlockedTaskStops) {
  Builder b;
  b.pipe2(0, "r", "w");
  b.on("t1").pending().read("r", 1);
  b.on("t1").write("w", 1);
  real::KernelExecutor k;
  const eo::RunResult r = k.run(b.program());
  EXPECT_EQ(r.stopped_at, 2);
  EXPECT_NE(r.error.find("already has a pending call"), std::string::npos) << r.error;
}

TEST(KernelExecutor, CallThatBlocksIsStuckWithinTheWatchdog) {
  Builder b;
  b.pipe2(0, "r", "w").read("r", 10).write("w", 1);
  real::KernelOptions o;
  o.watchdog_ms = 200;
  real::KernelExecutor k(o);
  const auto t0 = Clock::now();
  const eo::RunResult r = k.run(b.program());
  const long elapsed = ms_since(t0);
  EXPECT_EQ(r.stopped_at, 1);
  EXPECT_FALSE(r.error.empty());
  EXPECT_EQ(r.steps[1].outcome.kind, Outcome::Kind::kStuck);
  EXPECT_EQ(r.steps[2].outcome.kind, Outcome::Kind::kNone);  // not run
  EXPECT_GE(elapsed, 200);
  EXPECT_LT(elapsed, 200 + 500);
  std::printf("[ info ] stuck run with a 200 ms watchdog: %ld ms, error: %s\n", elapsed, r.error.c_str());
}

// A call step with a finite timeout gets that timeout on top of the watchdog.
TEST(KernelExecutor, CallWithTimeoutIsNotStuck) {
  Builder b;
  b.epoll_create1(0, "ep").epoll_wait("ep", 1, 300);
  real::KernelOptions o;
  o.watchdog_ms = 100;
  real::KernelExecutor k(o);
  const eo::RunResult r = k.run(b.program());
  ASSERT_EQ(r.stopped_at, -1) << r.error;
  expect_outcome(r.steps[1].outcome, events({}), 1);
}

// A pending call with a finite timeout returns by itself; a sleep lets it happen and the
// next step reports it.
TEST(KernelExecutor, PendingTimeoutReturnsDuringSleep) {
  Builder b;
  b.epoll_create1(0, "ep");
  b.on("t1").pending().epoll_wait("ep", 1, 100);
  b.sleep(300).resume("t1");
  real::KernelExecutor k;
  const eo::RunResult r = k.run(b.program());
  ASSERT_EQ(r.stopped_at, -1) << r.error;
  EXPECT_EQ(r.steps[1].outcome.kind, Outcome::Kind::kBlocked);
  expect_outcome(r.steps[2].outcome, value(0), 2);
  EXPECT_EQ(returned_tasks(r.steps[2]), std::vector<std::string>{"t1"});
  expect_outcome(r.steps[2].returned[0].outcome, events({}), 2);
}

// Descriptor numbering: the trace sees the lowest free numbers (executor descriptors sit
// high), and a closed number is reused by the next creating call (__alloc_fd/alloc_fd).
TEST(KernelExecutor, LowestFreeNumberReused) {
  const int probe = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(probe, 0);
  ::close(probe);
  Builder b;
  b.on("t1").pipe2(0, "r", "w").close("r").on("t2").eventfd2(0, 0, "e").close("e").dup("w", "d");
  real::KernelExecutor k;
  const eo::RunResult r = k.run(b.program());
  ASSERT_EQ(r.stopped_at, -1) << r.error;
  ASSERT_EQ(r.steps[0].outcome.fds.size(), 2u);
  const int rfd = r.steps[0].outcome.fds[0];
  EXPECT_EQ(rfd, probe);
  ASSERT_EQ(r.steps[2].outcome.fds.size(), 1u);
  EXPECT_EQ(r.steps[2].outcome.fds[0], rfd);
  EXPECT_EQ(r.steps[4].outcome.ret, rfd);
}

// Names whose creating call failed denote -1: later uses get EBADF. Closed names too.
TEST(KernelExecutor, FailedCreateBindsMinusOne) {
  Builder b;
  b.epoll_create1(-1, "ep").epoll_wait("ep", 1, 0).pipe2(0, "r", "w").close("r").close("r");
  real::KernelExecutor k;
  const eo::RunResult r = k.run(b.program());
  ASSERT_EQ(r.stopped_at, -1) << r.error;
  expect_outcome(r.steps[0].outcome, error(EINVAL), 0);
  expect_outcome(r.steps[1].outcome, error(EBADF), 1);
  expect_outcome(r.steps[4].outcome, error(EBADF), 4);
}

// maxevents: EINVAL for <= 0 and > EP_MAX_EVENTS (do_epoll_wait); EP_MAX_EVENTS itself is
// valid and needs a buffer the kernel can access (reserved, not allocated).
TEST(KernelExecutor, EpollWaitMaxeventsEdges) {
  const int64_t ep_max = INT_MAX / 12;
  Builder b;
  b.pipe2(O_NONBLOCK, "r", "w").epoll_create1(0, "ep").epoll_ctl("ep", EPOLL_CTL_ADD, "w", EPOLLOUT);
  b.epoll_wait("ep", 0, 0).epoll_wait("ep", -1, 0).epoll_wait("ep", ep_max + 1, 0);
  b.epoll_wait("ep", ep_max, 0).epoll_wait("ep", 5000, 0).epoll_wait("ep", 4096, 0);
  b.write("w", int64_t{1} << 40).read("r", int64_t{1} << 40).read("r", -1);
  real::KernelExecutor k;
  const eo::RunResult r = k.run(b.program());
  ASSERT_EQ(r.stopped_at, -1) << r.error;
  expect_outcome(r.steps[3].outcome, error(EINVAL), 3);
  expect_outcome(r.steps[4].outcome, error(EINVAL), 4);
  expect_outcome(r.steps[5].outcome, error(EINVAL), 5);
  for (size_t i : {6, 7, 8}) expect_outcome(r.steps[i].outcome, events({{"w", EPOLLOUT}}), i);
  // A nonblocking write of "2^40" bytes (16 MiB passed) fills the 64 KiB pipe.
  EXPECT_EQ(r.steps[9].outcome.ret, 65536);
  EXPECT_EQ(r.steps[10].outcome.ret, 65536);
  // count (size_t)-1 fails access_ok in vfs_read before anything else.
  expect_outcome(r.steps[11].outcome, error(EFAULT), 11);
}

TEST(KernelExecutor, EventfdPollShutdownAndSigpipe) {
  Builder b;
  b.eventfd2(5, EFD_NONBLOCK, "e").eventfd_write("e", 3).eventfd_read("e").eventfd_read("e");
  b.socketpair(SOCK_STREAM | SOCK_NONBLOCK, "a", "b").write("a", 100);
  b.poll({{"b", POLLIN | POLLOUT}, {"e", POLLIN}, {"a", POLLIN}}, 0);
  b.shutdown("a", SHUT_WR).drain("b", 7);
  b.pipe2(0, "r", "w").close("r").write("w", 1);
  struct sigaction before {};
  sigaction(SIGPIPE, nullptr, &before);
  real::KernelExecutor k;
  const eo::RunResult r = k.run(b.program());
  ASSERT_EQ(r.stopped_at, -1) << r.error;
  expect_outcome(r.steps[1].outcome, value(0), 1);
  expect_outcome(r.steps[2].outcome, value(8), 2);
  expect_outcome(r.steps[3].outcome, error(EAGAIN), 3);
  expect_outcome(r.steps[5].outcome, value(100), 5);
  expect_outcome(r.steps[6].outcome, events({{"b", POLLIN | POLLOUT}}), 6);
  expect_outcome(r.steps[8].outcome, value(100), 8);  // 15 reads of 7, then 0 (EOF)
  expect_outcome(r.steps[11].outcome, error(EPIPE), 11);
  struct sigaction after {};
  sigaction(SIGPIPE, nullptr, &after);
  EXPECT_EQ(after.sa_handler, before.sa_handler);
  sigaction(SIGUSR1, nullptr, &after);
  EXPECT_EQ(after.sa_handler, SIG_DFL);
}

// A mixed trace: every kind of call, pending calls in two tasks, and (when `stuck`) a
// call that blocks midway, after which the run stops.
eo::Program mixed(bool stuck) {
  Builder b;
  b.pipe2(O_NONBLOCK, "r", "w").pipe2(0, "br", "bw");
  b.socketpair(SOCK_STREAM | SOCK_NONBLOCK, "a", "bb").eventfd2(0, EFD_NONBLOCK, "e").epoll_create1(0, "ep");
  b.epoll_ctl("ep", EPOLL_CTL_ADD, "r", EPOLLIN).epoll_ctl("ep", EPOLL_CTL_ADD, "a", EPOLLIN | EPOLLET);
  b.epoll_ctl("ep", EPOLL_CTL_ADD, "e", EPOLLIN);
  b.on("t1").pending().epoll_wait("ep", 8, -1);
  b.on("t2").pending().read("br", 4);
  b.write("w", 10).resume("t1");
  b.dup("r", "d").close("r").fill("bb").drain("a");
  if (stuck) b.read("br", 1);
  b.poll({{"a", POLLIN}, {"w", POLLOUT}}, 0);
  b.eventfd_write("e", 3).eventfd_read("e");
  b.on("t1").pending().epoll_wait("ep", 8, -1);
  b.shutdown("a", SHUT_WR).write("bw", 4).resume("t2").epoll_create1(0, "ep2");
  b.on("t2").pending().epoll_wait("ep2", 1, -1);
  return b.program();
}

// Nothing left behind: descriptors and threads are the same before and after 1000 runs,
// a tenth of them stopped midway by the watchdog. The stuck runs get a 50 ms watchdog to
// stay short; the complete runs the default one, so that a loaded machine (TSan, a
// parallel build) cannot make a settle look stuck.
TEST(KernelExecutor, ThousandRunsLeaveNothingBehind) {
  const eo::Program ok = mixed(false), stuck = mixed(true);
  real::KernelOptions short_watchdog;
  short_watchdog.watchdog_ms = 50;
  real::KernelExecutor k, k_stuck(short_watchdog);
  k.run(ok);  // warm-up (lazily created runtime threads, if any)
  const int fds_before = count_entries("/proc/self/fd");
  const int threads_before = count_entries("/proc/self/task");
  int stopped = 0;
  long steps = 0;
  double ok_ms = 0;
  int ok_runs = 0;
  for (int i = 0; i < 1000; ++i) {
    const bool s = i % 10 == 9;
    const auto t0 = Clock::now();
    const eo::RunResult r = s ? k_stuck.run(stuck) : k.run(ok);
    if (!s) {
      ok_ms += std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      ++ok_runs;
      steps += static_cast<long>(ok.steps.size());
    }
    if (s) {
      ASSERT_NE(r.stopped_at, -1) << i;
      ASSERT_EQ(r.steps[static_cast<size_t>(r.stopped_at)].outcome.kind, Outcome::Kind::kStuck) << i;
      ++stopped;
    } else {
      ASSERT_EQ(r.stopped_at, -1) << i << ": " << r.error;
      ASSERT_EQ(returned_tasks(r.steps[10]), std::vector<std::string>{"t1"}) << i;
    }
  }
  EXPECT_EQ(stopped, 100);
  EXPECT_EQ(count_entries("/proc/self/fd"), fds_before);
  EXPECT_EQ(count_entries("/proc/self/task"), threads_before);
  std::printf("[ info ] %d complete runs of %zu steps: %.2f ms per run, %.1f us per step\n", ok_runs,
              ok.steps.size(), ok_ms / ok_runs, ok_ms * 1000 / static_cast<double>(steps));
}

}  // namespace
