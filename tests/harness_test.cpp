// The step harness both executors share (common/harness.h) and the resume links the
// parser computes (common/program.h link_resumes): the trace's conventions around a raw
// call, checked without an executor.
#include <gtest/gtest.h>

#include "common/harness.h"
#include "oracle/trace/parser.h"

namespace {

using eo::Outcome;
using eo::RawResult;

eo::Program parse(const std::string& text) {
  eo::ParseResult r = eo::parse_trace(text, "t.trace");
  EXPECT_TRUE(r.ok()) << r.error().str();
  return r.ok() ? std::move(r).program() : eo::Program{};
}

RawResult ret(long r) {
  RawResult raw;
  raw.ret = r;
  return raw;
}

TEST(StepHarness, ResultConventionsOfEachShape) {
  const eo::Program p = parse(
      "pipe2(0) = [r, w]\n"
      "eventfd2(0, 0) = e\n"
      "eventfd_write(e, 5) = 0\n"
      "eventfd_read(e) = 5\n"
      "epoll_create1(0) = ep\n"
      "epoll_ctl(ep, ADD, r, EPOLLIN, data=lr) = 0\n"
      "epoll_wait(ep, 4, 0)\n"
      "poll([r: POLLIN, w: POLLOUT, e: POLLIN], 0)\n"
      "close(w) = 0\n");
  eo::StepHarness h(p);
  RawResult pipe = ret(0);
  pipe.fds[0] = 3, pipe.fds[1] = 4;
  Outcome o = h.finish(0, pipe);
  EXPECT_EQ(o.kind, Outcome::Kind::kValue);
  EXPECT_EQ(o.ret, 0);
  EXPECT_EQ(o.fds, (std::vector<int>{3, 4}));
  EXPECT_EQ(h.fd(eo::FdRef{"w", {}}), 4);
  EXPECT_EQ(h.finish(1, ret(5)).fds, std::vector<int>{5});
  EXPECT_EQ(h.finish(2, ret(8)).ret, 0);  // eventfd_write: 0 whenever a count came back
  RawResult counter = ret(8);
  counter.value = 5;
  EXPECT_EQ(h.finish(3, counter).ret, 5);  // eventfd_read: the value read
  h.finish(4, ret(6));
  EXPECT_EQ(h.data_of(std::get<eo::EpollCtl>(p.steps[5].call)), 0u);  // the first label
  RawResult ready = ret(1);
  ready.events = {{0x1, 0}};
  EXPECT_EQ(h.finish(6, ready).events, (std::vector<eo::EventSpec>{{"lr", 0x1}}));
  RawResult polled = ret(2);
  polled.events = {{0x1, 0}, {0x4, 1}, {0, 2}};  // revents 0: not in the result
  EXPECT_EQ(h.finish(7, polled).events, (std::vector<eo::EventSpec>{{"r", 0x1}, {"w", 0x4}}));
  EXPECT_EQ(h.open_fds(), (std::vector<int>{3, 4, 5, 6}));
  h.finish(8, ret(0));
  EXPECT_EQ(h.open_fds(), (std::vector<int>{3, 5, 6}));  // a successful close lets its number go
  const Outcome err = h.finish(8, ret(-9));
  EXPECT_EQ(err.kind, Outcome::Kind::kError);
  EXPECT_EQ(err.ret, 9);
}

// A creating call that fails binds its names to -1: later uses get EBADF.
TEST(StepHarness, FailedCreationBindsMinusOne) {
  const eo::Program p = parse("pipe2(0x10) = [r, w] or -1 EINVAL\n");
  eo::StepHarness h(p);
  const Outcome o = h.finish(0, ret(-22));
  EXPECT_TRUE(o.fds.empty());
  EXPECT_EQ(h.fd(eo::FdRef{"r", {}}), -1);
  EXPECT_EQ(h.fd(eo::FdRef{"w", {}}), -1);
  EXPECT_TRUE(h.open_fds().empty());
}

// Returns are reported in task order with the pending step they belong to; the tasks
// still in their calls are listed.
TEST(StepHarness, PendingCallsAndTheOrderOfReturns) {
  const eo::Program p = parse(
      "pipe2(0) = [r, w]\n"
      "t2: read(r, 1) ...\n"
      "t1: read(r, 1) ...\n"
      "t3: read(r, 1) ...\n"
      "write(w, 2) = 2\n"
      "t1: ... = 1\n"
      "t2: ... = 1\n");
  eo::StepHarness h(p);
  h.finish(0, ret(0));
  for (size_t i = 1; i <= 3; ++i) h.sleeping(i);
  eo::StepObservation obs;
  h.returned(obs, "t2", ret(1));
  h.returned(obs, "t1", ret(1));
  h.end_step(obs);
  ASSERT_EQ(obs.returned.size(), 2u);
  EXPECT_EQ(obs.returned[0].task, "t1");
  EXPECT_EQ(obs.returned[0].step, 2);
  EXPECT_EQ(obs.returned[1].task, "t2");
  EXPECT_EQ(obs.returned[1].step, 1);
  EXPECT_EQ(obs.still_blocked, std::vector<std::string>{"t3"});
  EXPECT_EQ(p.steps[5].resumes, 2);  // the parser's links: t1's line is about step 2
  EXPECT_EQ(p.steps[6].resumes, 1);
}

TEST(StepHarness, IoCounts) {
  EXPECT_EQ(eo::io_count(10), 10u);
  EXPECT_EQ(eo::io_count(int64_t{1} << 40), eo::kMaxIoBytes);
  EXPECT_EQ(eo::io_count(-1), static_cast<size_t>(-1));  // access_ok refuses it
  EXPECT_EQ(eo::chunk_count(0), eo::kDefaultChunk);
  EXPECT_EQ(eo::io_buffer_size(0), 1u);
  EXPECT_EQ(eo::io_buffer_size(static_cast<size_t>(-1)), 1u);
  EXPECT_EQ(eo::io_buffer_size(eo::kMaxIoBytes), eo::kMaxIoBytes);
}

// fill/drain: until EAGAIN or 0; an error is the result only if nothing moved; the loop
// may be ended by its caller.
TEST(StepHarness, FillDrainLoop) {
  const auto run = [](std::vector<long> results, long stop_after = -1) {
    size_t k = 0;
    return eo::fill_drain_loop([&] { return results.at(k++); },
                               [&](long calls, long total) -> std::optional<long> {
                                 if (calls == stop_after) return -total - 1;
                                 return std::nullopt;
                               });
  };
  EXPECT_EQ(run({10, 20, -EAGAIN}), 30);
  EXPECT_EQ(run({10, 0}), 10);
  EXPECT_EQ(run({-EPIPE}), -EPIPE);
  EXPECT_EQ(run({5, -EPIPE}), 5);
  EXPECT_EQ(run({5, 5, 5}, 2), -11);
}

// Links from resume lines to their pending steps, also for programs built by hand.
TEST(LinkResumes, EachResumeLineToItsTasksLastPendingCall) {
  const eo::Program p = parse(
      "pipe2(0) = [r, w]\n"
      "t1: read(r, 1) ...\n"
      "t1: ... blocked\n"
      "write(w, 1) = 1\n"
      "t1: ... = 1\n"
      "t1: eventfd_read(r) ...\n"
      "write(w, 8) = 8\n"
      "t1: ... = 0\n");
  EXPECT_EQ(p.steps[2].resumes, 1);
  EXPECT_EQ(p.steps[4].resumes, 1);
  EXPECT_EQ(p.steps[7].resumes, 5);
  EXPECT_TRUE(std::holds_alternative<eo::EventfdRead>(p.steps[7].call));
  eo::Program copy = p;
  for (eo::Step& s : copy.steps) s.resumes = -1, s.call = s.kind == eo::Step::Kind::kResume ? eo::Sleep{} : s.call;
  eo::link_resumes(copy);
  EXPECT_EQ(copy.steps, p.steps);
}

}  // namespace

namespace sock_addresses {

eo::SockAddr inet(uint16_t port) {
  eo::SockAddr a = eo::loopback_any_port();
  a[2] = static_cast<uint8_t>(port >> 8), a[3] = static_cast<uint8_t>(port);  // sin_port, network order
  return a;
}
const eo::SockAddr kUnixUnbound = {1, 0};  // AF_UNIX alone: what getsockname gives unbound

// OTHER names a socket: a dup shares its address, a closed one keeps its last, a name
// whose number was given to another socket still means the first one.
TEST(SocketAddresses, OtherMeansTheLastAddressOfTheSocketItsNameWasBoundTo) {
  const eo::Program p = parse(
      "socket(AF_INET, SOCK_STREAM) = s\n"
      "dup(s) = d\n"
      "bind(d) = 0\n"
      "close(s) = 0\n"
      "close(d) = 0\n"
      "socket(AF_UNIX, SOCK_STREAM) = u\n"  // takes s's number
      "pipe2(0) = [r, w]\n");
  eo::StepHarness h(p);
  RawResult made = ret(3);
  made.addr[0] = inet(0);
  h.finish(0, made);
  h.finish(1, ret(4));
  RawResult bound = ret(0);
  bound.addr[0] = inet(4242);
  h.finish(2, bound);
  EXPECT_EQ(h.address_of({"s", {}}), inet(4242)) << "bind through a dup changes the socket's address";
  h.finish(3, ret(0));
  h.finish(4, ret(0));
  RawResult u = ret(3);
  u.addr[0] = kUnixUnbound;
  h.finish(5, u);
  EXPECT_EQ(h.address_of({"s", {}}), inet(4242)) << "closed, and its number reused: still its last address";
  EXPECT_EQ(h.address_of({"u", {}}), kUnixUnbound);
  RawResult pipe = ret(0);
  pipe.fds[0] = 4, pipe.fds[1] = 5;
  h.finish(6, pipe);
  EXPECT_TRUE(h.address_of({"r", {}}).empty()) << "a non-socket passes an empty address";
}

// bind(S) picks by S's family; listen binds only an AF_INET socket without a port.
TEST(SocketAddresses, FreshAddressesAndTheBindBeforeListen) {
  const eo::Program p = parse(
      "socket(AF_INET, SOCK_STREAM) = t\n"
      "socket(AF_UNIX, SOCK_STREAM) = u\n"
      "pipe2(0) = [r, w]\n"
      "bind(t) = 0\n");
  eo::StepHarness h(p, "tag");
  RawResult t = ret(3), u = ret(4), pipe = ret(0);
  t.addr[0] = eo::SockAddr(16, 0);
  t.addr[0][0] = 2;  // AF_INET 0.0.0.0:0
  u.addr[0] = kUnixUnbound;
  pipe.fds[0] = 5, pipe.fds[1] = 6;
  h.finish(0, t);
  h.finish(1, u);
  h.finish(2, pipe);
  EXPECT_EQ(h.fresh_address({"t", {}}), inet(0));
  const eo::SockAddr a = h.fresh_address({"u", {}}), b = h.fresh_address({"u", {}});
  EXPECT_EQ(a, eo::abstract_unix("tag" + std::string(eo::SocketAddresses::kTagWidth - 3, '.') + ".000000"))
      << "one length on every executor: the tag padded to kTagWidth";
  EXPECT_NE(a, b) << "each fresh AF_UNIX name is new";
  EXPECT_TRUE(h.fresh_address({"r", {}}).empty());
  EXPECT_EQ(h.bind_before_listen({"t", {}}), inet(0));
  EXPECT_EQ(h.bind_before_listen({"u", {}}), std::nullopt);
  RawResult bound = ret(0);
  bound.addr[0] = inet(5000);
  h.finish(3, bound);
  EXPECT_EQ(h.bind_before_listen({"t", {}}), std::nullopt) << "a socket with a port is left alone";
}

}  // namespace sock_addresses
