// Tests of the trace language front end (oracle/trace): every construct of
// docs/LANGUAGE.md, every kind of error with its exact position, the printers (exact
// round trip of the source, canonical form), and RapidCheck properties: garbage never
// crashes the parser and always gets an error inside the input; generated valid programs
// print canonically and parse back to themselves.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "common/calls.h"
#include "oracle/trace/flags.h"
#include "oracle/trace/parser.h"
#include "oracle/trace/printer.h"
#include "oracle/trace/step_syntax.h"

namespace {

using namespace eo;

// ---- the examples of TRACE_FORMAT.md ------------------------------------------------

const std::string kExample =
    "@title  ET on a pipe fires again on every write, even when data is already queued\n"
    "@kernel >=5.15\n"
    "@tags   pipe et belief\n"
    "\n"
    "pipe2(O_NONBLOCK) = [r, w]\n"
    "epoll_create1(0) = ep\n"
    "epoll_ctl(ep, EPOLL_CTL_ADD, r, EPOLLIN|EPOLLET) = 0\n"
    "epoll_wait(ep, 8, 0) = []\n"
    "write(w, 10) = 10\n"
    "epoll_wait(ep, 8, 0) = [r: EPOLLIN]\n"
    "write(w, 10) = 10            # the pipe was not empty, yet the reader is woken again\n"
    "epoll_wait(ep, 8, 0) = [r: EPOLLIN]\n"
    "epoll_wait(ep, 8, 0) = []\n"
    "read(r, 64) = 20\n"
    "close(w) = 0\n"
    "epoll_wait(ep, 8, 0) = [r: EPOLLHUP]\n";

// The Tasks example, with the steps that create what it uses.
const std::string kTasksExample =
    "pipe2(O_NONBLOCK) = [r, w]\n"
    "epoll_create1(0) = ep\n"
    "epoll_ctl(ep, EPOLL_CTL_ADD, r, EPOLLIN|EPOLLET) = 0\n"
    "t1: epoll_wait(ep, 1, -1) ...\n"
    "t2: epoll_wait(ep, 1, -1) ...\n"
    "write(w, 1) = 1\n"
    "t2: ... = [r: EPOLLIN]        # edge-triggered: only the waiter that blocked last (LIFO)\n"
    "write(w, 1) = 1\n"
    "t1: ... = [r: EPOLLIN]\n";

// Every call, result form and directive at least once.
const std::string kEverything =
    "# a comment line before the directives\n"
    "  @title   every construct of the language   # a comment after the title\n"
    "@kernel >=5.5, <5.15 | >=6.16 | >=6.12.40, <6.13\n"
    "@tags pipe et  sockets\n"
    "@belief partly: it wakes one or more\n"
    "\n"
    "pipe2(O_NONBLOCK|O_CLOEXEC) = [r, w]\n"
    "socketpair(AF_UNIX, SOCK_STREAM|SOCK_NONBLOCK) = [a, b]\n"
    "socketpair(1, SOCK_DGRAM) = [c, d] or -1 EMFILE\n"
    "eventfd2(3, EFD_NONBLOCK|EFD_SEMAPHORE) = efd\n"
    "epoll_create1(EPOLL_CLOEXEC) = ep\n"
    "dup(r) = r2\n"
    "\tepoll_ctl( ep , ADD , r , EPOLLIN | EPOLLET , data = lr ) = 0   \n"
    "epoll_ctl(ep, EPOLL_CTL_MOD, r, EPOLLIN|EPOLLOUT|0x800) = 0\n"
    "epoll_ctl(ep, DEL, r2) = -1 ENOENT\n"
    "epoll_ctl(ep, 7, r2, 0) = -1 EINVAL\n"
    "write(w, 0x10) = 16\n"
    "read(r, 64) = *\n"
    "read(r, 64)\n"
    "fill(w) = 65536\n"
    "fill(w, 4096) = -1 EAGAIN or 0\n"
    "drain(r)\n"
    "drain(a, 1) = -1 ECONNRESET\n"
    "eventfd_write(efd, 0xfffffffffffffffe) = 0\n"
    "eventfd_read(efd) = 18446744073709551614\n"
    "shutdown(a, SHUT_WR) = 0\n"
    "epoll_wait(ep, 8, 0) = [lr: EPOLLIN|EPOLLOUT] or [] or -1 EINTR\n"
    "poll([r: POLLIN, w: POLLOUT|POLLWRNORM, a: 0], 0) = [r: POLLIN, w: POLLOUT]\n"
    "poll([], 10) = []\n"
    "main: epoll_wait(ep, 1, -1) ...   # main blocks\n"
    "sleep(100) = 0\n"
    "worker_1: read(r, 1) ...\n"
    "worker_1: ... blocked\n"
    "t4: write(w, 1)\n"
    "worker_1: ... = 1\n"
    "main: ... = [] or -1 EINTR\n"
    "t3: pipe2(0) ...\n"
    "t3: ... = [x, y]\n"
    "close(x) = 0\n"
    "# a comment line at the end\n";

// ---- helpers ------------------------------------------------------------------------

Program parse_ok(const std::string& text) {
  ParseResult r = parse_trace(text, "t.trace");
  if (!r) {
    ADD_FAILURE() << "unexpected error: " << r.error().str() << "\n" << text;
    return {};
  }
  return std::move(r).program();
}

ParseError parse_err(const std::string& text) {
  ParseResult r = parse_trace(text, "t.trace");
  if (r) {
    ADD_FAILURE() << "parsed, but an error was expected:\n" << text;
    return {};
  }
  return r.error();
}

// A step's call as the struct it must be.
template <class C>
const C& as(const Step& s) {
  EXPECT_TRUE(std::holds_alternative<C>(s.call)) << format_step(s);
  static const C none{};
  return std::holds_alternative<C>(s.call) ? std::get<C>(s.call) : none;
}

// What printing must give back: the text, with a newline at the end.
std::string with_final_newline(std::string text) {
  if (!text.empty() && text.back() != '\n') text += '\n';
  return text;
}

// Directives and steps equal (positions aside); on failure says what differs.
::testing::AssertionResult same_program(const Program& a, const Program& b) {
  if (a.title != b.title) return ::testing::AssertionFailure() << "title: '" << a.title << "' vs '" << b.title << "'";
  if (a.kernel != b.kernel) return ::testing::AssertionFailure() << "kernel differs";
  if (a.tags != b.tags) return ::testing::AssertionFailure() << "tags differ";
  if (a.belief_verdict != b.belief_verdict || a.belief_why != b.belief_why) {
    return ::testing::AssertionFailure() << "belief differs";
  }
  if (a.steps.size() != b.steps.size()) {
    return ::testing::AssertionFailure() << a.steps.size() << " steps vs " << b.steps.size();
  }
  for (size_t i = 0; i < a.steps.size(); ++i) {
    if (!same_step(a.steps[i], b.steps[i]) || a.steps[i].resumes != b.steps[i].resumes) {
      return ::testing::AssertionFailure()
             << "step " << i << ": '" << format_step(a.steps[i]) << "' #" << a.steps[i].comment << " vs '"
             << format_step(b.steps[i]) << "' #" << b.steps[i].comment;
    }
  }
  return ::testing::AssertionSuccess();
}

// The two round trips every valid trace must pass.
void expect_round_trips(const std::string& text) {
  const Program p = parse_ok(text);
  EXPECT_EQ(print_trace(p), with_final_newline(text));
  const std::string canonical = print_trace_canonical(p);
  const Program q = parse_ok(canonical);
  EXPECT_TRUE(same_program(p, q)) << canonical;
  EXPECT_EQ(print_trace_canonical(q), canonical);
  EXPECT_EQ(print_trace(q), canonical);
}

// ---- the examples -------------------------------------------------------------------

TEST(TraceParser, ParsesTheExampleOfTheFormat) {
  const Program p = parse_ok(kExample);
  EXPECT_EQ(p.file, "t.trace");
  EXPECT_EQ(p.title, "ET on a pipe fires again on every write, even when data is already queued");
  ASSERT_EQ(p.kernel.size(), 1u);
  EXPECT_EQ(p.kernel[0], (std::vector<VersionBound>{{">=", 5, 15, 0}}));
  EXPECT_EQ(p.kernel_text, ">=5.15");
  EXPECT_EQ(p.tags, (std::vector<std::string>{"pipe", "et", "belief"}));
  EXPECT_EQ(p.belief_verdict, "");
  ASSERT_EQ(p.steps.size(), 12u);
  ASSERT_EQ(p.lines.size(), 16u);
  EXPECT_EQ(p.lines[0].kind, Line::Kind::kDirective);
  EXPECT_EQ(p.lines[3].kind, Line::Kind::kBlank);
  EXPECT_EQ(p.lines[4].kind, Line::Kind::kStep);
  EXPECT_EQ(p.lines[4].step, 0);
  EXPECT_EQ(p.lines[15].step, 11);
  EXPECT_EQ(p.lines[10].text, "write(w, 10) = 10            # the pipe was not empty, yet the reader is woken again");

  const Step& pipe = p.steps[0];
  EXPECT_EQ(pipe.kind, Step::Kind::kCall);
  EXPECT_EQ(pipe.task, "main");
  EXPECT_FALSE(pipe.task_written);
  EXPECT_EQ(as<eo::Pipe2>(pipe).flags.value, 04000);
  EXPECT_EQ(pipe.pos, (Pos{5, 1}));
  ASSERT_EQ(pipe.expect.alts.size(), 1u);
  EXPECT_EQ(pipe.expect.alts[0].kind, ResultAlt::Kind::kBind);
  EXPECT_EQ(pipe.expect.alts[0].names, (std::vector<std::string>{"r", "w"}));
  EXPECT_EQ(pipe.expect.pos, (Pos{5, 21}));

  const Step& ctl = p.steps[2];
  const auto& ctl_args = as<eo::EpollCtl>(ctl);
  EXPECT_EQ(ctl_args.ep, (eo::FdRef{"ep", {7, 11}}));
  EXPECT_EQ(ctl_args.fd, (eo::FdRef{"r", {7, 30}}));
  EXPECT_EQ(ctl_args.op, 1);
  ASSERT_TRUE(ctl_args.events);
  EXPECT_EQ(ctl_args.events->value, 0x80000001u);
  EXPECT_EQ(ctl_args.label, "");
  EXPECT_EQ(ctl.expect.alts[0].kind, ResultAlt::Kind::kValue);
  EXPECT_EQ(ctl.expect.alts[0].value, 0);

  EXPECT_EQ(p.steps[3].expect.alts[0].kind, ResultAlt::Kind::kEvents);
  EXPECT_TRUE(p.steps[3].expect.alts[0].events.empty());
  EXPECT_EQ(p.steps[5].expect.alts[0].events, (std::vector<EventSpec>{{"r", 1}}));
  EXPECT_EQ(p.steps[6].comment, " the pipe was not empty, yet the reader is woken again");
  EXPECT_EQ(p.steps[11].expect.alts[0].events, (std::vector<EventSpec>{{"r", 0x10}}));
  expect_round_trips(kExample);
}

TEST(TraceParser, ParsesTheTasksExampleOfTheFormat) {
  const Program p = parse_ok(kTasksExample);
  ASSERT_EQ(p.steps.size(), 9u);
  const Step& t1 = p.steps[3];
  EXPECT_EQ(t1.kind, Step::Kind::kPendingCall);
  EXPECT_EQ(t1.task, "t1");
  EXPECT_TRUE(t1.task_written);
  EXPECT_EQ(as<eo::EpollWait>(t1).maxevents, 1);
  EXPECT_EQ(as<eo::EpollWait>(t1).timeout_ms, -1);
  EXPECT_FALSE(t1.expect.checked());
  const Step& resume = p.steps[6];
  EXPECT_EQ(resume.kind, Step::Kind::kResume);
  EXPECT_EQ(resume.task, "t2");
  EXPECT_EQ(as<eo::EpollWait>(resume), eo::EpollWait{});  // the pending call's, blank
  EXPECT_EQ(resume.resumes, 4);                            // t2's pending step
  EXPECT_EQ(resume.expect.alts[0].events, (std::vector<EventSpec>{{"r", 1}}));
  EXPECT_EQ(resume.expect.pos, (Pos{7, 11}));
  EXPECT_EQ(resume.comment, " edge-triggered: only the waiter that blocked last (LIFO)");
  expect_round_trips(kTasksExample);
}

TEST(TraceParser, ParsesEveryConstruct) {
  const Program p = parse_ok(kEverything);
  EXPECT_EQ(p.title, "every construct of the language");
  EXPECT_EQ(p.kernel_text, ">=5.5, <5.15 | >=6.16 | >=6.12.40, <6.13");
  ASSERT_EQ(p.kernel.size(), 3u);
  EXPECT_EQ(p.kernel[0], (std::vector<VersionBound>{{">=", 5, 5, 0}, {"<", 5, 15, 0}}));
  EXPECT_EQ(p.kernel[1], (std::vector<VersionBound>{{">=", 6, 16, 0}}));
  EXPECT_EQ(p.kernel[2], (std::vector<VersionBound>{{">=", 6, 12, 40}, {"<", 6, 13, 0}}));
  EXPECT_EQ(p.tags, (std::vector<std::string>{"pipe", "et", "sockets"}));
  EXPECT_EQ(p.belief_verdict, "partly");
  EXPECT_EQ(p.belief_why, "it wakes one or more");

  std::map<std::string, const Step*> by_text;  // the first step of each call
  for (const Step& s : p.steps) by_text.emplace(format_call(s), &s);
  auto step = [&](size_t i) -> const Step& { return p.steps.at(i); };

  EXPECT_EQ(as<eo::Pipe2>(step(0)).flags.value, 04000 | 02000000);
  EXPECT_EQ(as<eo::Socketpair>(step(1)).domain, 1);
  EXPECT_EQ(as<eo::Socketpair>(step(1)).type.value, 1 | 04000);
  EXPECT_EQ(as<eo::Socketpair>(step(2)).type.value, 2);
  ASSERT_EQ(step(2).expect.alts.size(), 2u);
  EXPECT_EQ(step(2).expect.alts[1].kind, ResultAlt::Kind::kError);
  EXPECT_EQ(step(2).expect.alts[1].value, 24);  // EMFILE
  EXPECT_EQ(as<eo::Eventfd2>(step(3)).initval, 3);
  EXPECT_EQ(as<eo::Eventfd2>(step(3)).flags.value, 04000 | 1);
  EXPECT_EQ(step(3).expect.alts[0].names, std::vector<std::string>{"efd"});
  EXPECT_EQ(as<eo::EpollCreate1>(step(4)).flags.value, 02000000);
  EXPECT_EQ(as<eo::Dup>(step(5)).fd.name, "r");
  const Step& add = step(6);
  EXPECT_EQ(add.pos, (Pos{13, 2}));
  EXPECT_EQ(as<eo::EpollCtl>(add).label, "lr");
  EXPECT_EQ(as<eo::EpollCtl>(add).events, (eo::FlagArg{0x80000001u, ""}));
  EXPECT_EQ(add.comment, "");
  EXPECT_EQ(as<eo::EpollCtl>(step(7)).op, 3);
  EXPECT_EQ(as<eo::EpollCtl>(step(7)).events->value, 0x805u);
  EXPECT_EQ(as<eo::EpollCtl>(step(8)).op, 2);
  EXPECT_FALSE(as<eo::EpollCtl>(step(8)).events);
  EXPECT_EQ(step(8).expect.alts[0].value, 2);  // ENOENT
  EXPECT_EQ(as<eo::EpollCtl>(step(9)).op, 7);
  EXPECT_TRUE(as<eo::EpollCtl>(step(9)).events);
  EXPECT_EQ(as<eo::Write>(step(10)).count, 16);
  EXPECT_EQ(step(11).expect.alts[0].kind, ResultAlt::Kind::kAny);
  EXPECT_FALSE(step(12).expect.checked());
  EXPECT_EQ(as<eo::Fill>(step(13)).chunk, 0);
  EXPECT_EQ(as<eo::Fill>(step(14)).chunk, 4096);
  EXPECT_EQ(step(14).expect.alts[0].value, 11);  // EAGAIN
  EXPECT_EQ(step(14).expect.alts[1].kind, ResultAlt::Kind::kValue);
  EXPECT_TRUE(std::holds_alternative<eo::Drain>(step(15).call));
  EXPECT_EQ(step(16).expect.alts[0].value, 104);  // ECONNRESET
  EXPECT_EQ(static_cast<uint64_t>(as<eo::EventfdWrite>(step(17)).value), 0xfffffffffffffffeull);
  EXPECT_EQ(static_cast<uint64_t>(step(18).expect.alts[0].value), 0xfffffffffffffffeull);
  EXPECT_EQ(as<eo::Shutdown>(step(19)).how, 1);  // SHUT_WR
  ASSERT_EQ(step(20).expect.alts.size(), 3u);
  EXPECT_EQ(step(20).expect.alts[0].events, (std::vector<EventSpec>{{"lr", 5}}));
  const Step& poll = step(21);
  EXPECT_EQ(as<eo::Poll>(poll).fds, (std::vector<eo::PollEntry>{{{"r", {28, 7}}, {1, ""}},
                                                                 {{"w", {28, 18}}, {0x104, ""}},
                                                                 {{"a", {28, 41}}, {0, ""}}}));
  EXPECT_EQ(poll.expect.alts[0].events, (std::vector<EventSpec>{{"r", 1}, {"w", 4}}));
  EXPECT_TRUE(as<eo::Poll>(step(22)).fds.empty());
  EXPECT_EQ(as<eo::Poll>(step(22)).timeout_ms, 10);
  EXPECT_EQ(step(23).kind, Step::Kind::kPendingCall);
  EXPECT_EQ(step(23).task, "main");
  EXPECT_TRUE(step(23).task_written);
  EXPECT_EQ(as<eo::Sleep>(step(24)).ms, 100);
  EXPECT_EQ(step(26).kind, Step::Kind::kResumeBlocked);
  EXPECT_TRUE(std::holds_alternative<eo::Read>(step(26).call));
  EXPECT_EQ(step(26).resumes, 25);
  EXPECT_EQ(step(28).resumes, 25);
  EXPECT_EQ(step(28).kind, Step::Kind::kResume);
  EXPECT_EQ(step(27).task, "t4");
  EXPECT_EQ(step(28).expect.alts[0].value, 1);
  EXPECT_TRUE(std::holds_alternative<eo::EpollWait>(step(29).call));
  EXPECT_EQ(step(29).resumes, 23);
  EXPECT_EQ(step(31).expect.alts[0].names, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(as<eo::Close>(step(32)).fd.name, "x");
  EXPECT_EQ(p.steps.size(), 33u);
  EXPECT_EQ(p.lines.back().kind, Line::Kind::kComment);
  expect_round_trips(kEverything);
}

// Sockets with addresses (v1.1): OTHER is a socket's name, bind's is optional, the
// options keep their level, getsockopt's result is an errno name or 0.
TEST(TraceParser, ParsesTheSocketCallsOfV11) {
  const std::string text =
      "socket(AF_UNIX, SOCK_SEQPACKET|SOCK_NONBLOCK) = l\n"
      "bind(l)\n"
      "listen(l, -1) = 0\n"
      "socket(AF_INET, SOCK_STREAM) = c\n"
      "bind(c, l) = -1 EADDRINUSE\n"
      "t1: connect(c, l) ...\n"
      "t2: accept4(l, SOCK_NONBLOCK|SOCK_CLOEXEC) ...\n"
      "t2: ... = a\n"
      "t1: ... = 0\n"
      "setsockopt(a, SO_LINGER, -1) = 0\n"
      "setsockopt(a, TCP_NODELAY, 1) = 0\n"
      "setsockopt(a, 1, 1) = 0  # a number is a SOL_SOCKET option\n"
      "getsockopt(c, SO_ERROR) = ECONNREFUSED or 0\n"
      "getsockopt(c, 4) = 0\n"
      "close(l) = 0\n"
      "connect(a, l) = -1 ECONNREFUSED  # a closed socket's address is remembered\n";
  expect_round_trips(text);
  const Program p = parse_ok(text);
  EXPECT_TRUE(std::get<Bind>(p.steps[1].call).other.name.empty());
  EXPECT_EQ(std::get<Bind>(p.steps[4].call).other.name, "l");
  EXPECT_EQ(eo::sockopt_of(std::get<Setsockopt>(p.steps[10].call).opt).level, 6);
  EXPECT_EQ(eo::sockopt_of(std::get<Setsockopt>(p.steps[11].call).opt).level, 1);
  EXPECT_EQ(p.steps[12].expect.alts[0].value, ECONNREFUSED);
  EXPECT_TRUE(eo::fd_args(p.steps[4].call).size() == 1) << "OTHER is not a descriptor";
  EXPECT_EQ(eo::sock_ref_of(p.steps[4].call)->name, "l");
}

TEST(TraceParser, EmptyAndCommentOnlyTraces) {
  for (const std::string text : {"", "\n", "# nothing\n", "   \n\t\n", "@title  only a title\n"}) {
    const Program p = parse_ok(text);
    EXPECT_TRUE(p.steps.empty());
    expect_round_trips(text);
  }
}

TEST(TraceParser, KeepsCarriageReturnsAndAMissingFinalNewline) {
  const std::string text = "pipe2(0) = [r, w]\r\nclose(r) = 0\r\nclose(w) = 0";
  const Program p = parse_ok(text);
  ASSERT_EQ(p.steps.size(), 3u);
  EXPECT_EQ(p.lines[0].text, "pipe2(0) = [r, w]\r");
  EXPECT_EQ(print_trace(p), text + "\n");
}

TEST(TraceParser, NameBoundByAFailedCreationIsStillBound) {
  // names.h: a name whose creating call failed denotes -1, and uses get EBADF.
  const Program p = parse_ok("epoll_create1(0) = -1 EMFILE or ep\nclose(ep) = -1 EBADF or 0\n");
  EXPECT_EQ(p.steps.size(), 2u);
}

TEST(TraceParser, AcceptsErrnoAliasesAndPrintsThePrimaryName) {
  const Program p = parse_ok("pipe2(O_NONBLOCK) = [r, w]\nread(r, 1) = -1 EWOULDBLOCK\n");
  EXPECT_EQ(p.steps[1].expect.alts[0].value, 11);
  EXPECT_EQ(format_step(p.steps[1]), "read(r, 1) = -1 EAGAIN");
}

TEST(TraceParser, ANameIsUsableFromTheStepAfterItsBinding) {
  parse_ok("pipe2(0) = [r, w]\nt1: read(r, 1) ...\nt1: ... = 0\n");
  parse_ok("pipe2(0) = [r, w]\nt1: pipe2(0) ...\nt1: ... = [a, b]\nclose(a) = 0\nclose(r) = 0\n");
  const ParseError e = parse_err("t1: pipe2(0) ...\nclose(a) = 0\nt1: ... = [a, b]\n");
  EXPECT_EQ(e.str(), "t.trace:2:7: name 'a' is not bound");
}

TEST(TraceParser, SleepRunsWhileMainIsPending) {
  parse_ok("epoll_create1(0) = ep\nepoll_wait(ep, 1, 100) ...\nsleep(200)\nmain: ... = []\n");
}

// ---- errors: each with its position and message -------------------------------------

struct ErrorCase {
  std::string text;
  int line;
  int col;
  std::string message;  // the whole message
};

const std::string kPrelude = "pipe2(O_NONBLOCK) = [r, w]\nepoll_create1(0) = ep\n";  // lines 1-2

std::vector<ErrorCase> error_cases() {
  return {
      // lexical
      {"pipe2(0) = [r, w]\nread(r, 64) = 2x0\n", 2, 15,
       "malformed number '2x0' (expected decimal digits or 0x and hex digits)"},
      {"pipe2(0) = [r, w]\nread(r, 0x) = 1\n", 2, 9,
       "malformed number '0x' (expected decimal digits or 0x and hex digits)"},
      {"pipe2(0) = [r, w]\nread(r, 99999999999999999999) = 1\n", 2, 9, "number '99999999999999999999' is too large"},
      {"pipe2(0) = [r, w]\nread(r, 1) = 1 ; x\n", 2, 16, "unexpected character ';'"},
      {"pipe2(0) = [r, w]\nread(r, 1) = 1 \x01\n", 2, 16, "unexpected byte 0x01"},
      {"pipe2(0) = [r, w]\nt1: read(r, 1) ..\n", 2, 16, "expected '...'"},
      // calls and arguments
      {"epol_wait(ep, 1, 0) = []\n", 1, 1, "unknown call 'epol_wait' (did you mean 'epoll_wait'?)"},
      {"frobnicate(1)\n", 1, 1, "unknown call 'frobnicate'"},
      {"42\n", 1, 1, "expected a call such as epoll_wait(...), or a task name and ':', found '42'"},
      {"pipe2 O_NONBLOCK\n", 1, 7, "expected '(' after 'pipe2', found 'O_NONBLOCK'"},
      {kPrelude + "epoll_wait(ep, 1, 0, 5) = []\n", 3, 20,
       "expected ')' after the last argument (epoll_wait(EP, MAXEVENTS, TIMEOUT_MS)), found ','"},
      {kPrelude + "epoll_wait(ep, 1) = []\n", 3, 17,
       "expected ',' and TIMEOUT_MS (epoll_wait(EP, MAXEVENTS, TIMEOUT_MS)), found ')'"},
      {kPrelude + "read(r 1) = 1\n", 3, 8, "expected ',' and N (read(FD, N)), found '1'"},
      {kPrelude + "read(r, 1 = 1\n", 3, 11, "expected ')' after the arguments (read(FD, N)), found '='"},
      {kPrelude + "read(3, 1) = 1\n", 3, 6, "expected a descriptor name for FD (read(FD, N)), found '3'"},
      {kPrelude + "read(r, x) = 1\n", 3, 9, "expected a number for N, found 'x'"},
      {kPrelude + "read(r, -) = 1\n", 3, 10, "expected a number after '-', found ')'"},
      {kPrelude + "epoll_wait(ep, 1, 2147483648) = []\n", 3, 19,
       "TIMEOUT_MS out of range: expected a number from -2147483648 to 2147483647"},
      {kPrelude + "sleep(-1)\n", 3, 7, "MS out of range: expected a number from 0 to 9223372036854775807"},
      {kPrelude + "fill(w, 0) = 0\n", 3, 9, "CHUNK out of range: expected a number from 1 to 9223372036854775807"},
      {kPrelude + "eventfd2(-1, 0) = e\n", 3, 10, "INITVAL out of range: expected a number from 0 to 4294967295"},
      // flags
      {"pipe2(O_NONBLOK) = [r, w]\n", 1, 7,
       "unknown flag 'O_NONBLOK' (expected O_NONBLOCK, O_CLOEXEC, O_DIRECT, other flag names or a number)"},
      {kPrelude + "epoll_wait(ep, 1, 0) = [r: POLLIN]\n", 3, 28,
       "'POLLIN' is not allowed in a result (expected EPOLL* names or a number)"},
      {kPrelude + "poll([r: POLLIN], 0) = [r: EPOLLIN]\n", 3, 28,
       "'EPOLLIN' is not allowed in a result (expected POLL* names or a number)"},
      {kPrelude + "poll([r: EPOLLET], 0) = []\n", 3, 10,
       "'EPOLLET' is 0x80000000, out of range here (from 0 to 0xffff)"},
      {kPrelude + "poll([r: POLLIN|O_CLOEXEC], 0) = []\n", 3, 17,
       "'O_CLOEXEC' is 0x80000, out of range here (from 0 to 0xffff)"},
      {"pipe2(O_NONBLOCK|ADD) = [r, w]\n", 1, 18,
       "'ADD' is not allowed here (expected O_NONBLOCK, O_CLOEXEC, O_DIRECT, other flag names or a number)"},
      {kPrelude + "shutdown(r, O_NONBLOCK) = 0\n", 3, 13,
       "'O_NONBLOCK' is not allowed here (expected SHUT_RD, SHUT_WR, SHUT_RDWR or a number)"},
      {kPrelude + "epoll_ctl(ep, EPOLLIN, r, EPOLLIN) = 0\n", 3, 15,
       "'EPOLLIN' is not allowed here (expected EPOLL_CTL_ADD, EPOLL_CTL_MOD, EPOLL_CTL_DEL (or ADD, MOD, DEL) or a "
       "number)"},
      {"socketpair(SOCK_STREAM, SOCK_STREAM) = [a, b]\n", 1, 12,
       "'SOCK_STREAM' is not allowed here (expected AF_UNIX, AF_INET or a number)"},
      {kPrelude + "epoll_ctl(ep, ADD, r, EPOLLIN|) = 0\n", 3, 31,
       "expected EPOLL* names, other flag names or a number, found ')'"},
      {kPrelude + "epoll_ctl(ep, ADD, r, -1) = 0\n", 3, 23,
       "expected EPOLL* names, other flag names or a number, found a negative number"},
      {kPrelude + "epoll_ctl(ep, ADD, r, 0x100000000) = 0\n", 3, 23, "number out of range (from 0 to 0xffffffff)"},
      {kPrelude + "poll([r: 0x10000], 0) = []\n", 3, 10, "number out of range (from 0 to 0xffff)"},
      {"epoll_create1(EPOLL_CLOEXEC|O_CLOEXECC) = ep\n", 1, 29,
       "unknown flag 'O_CLOEXECC' (expected EPOLL_CLOEXEC, other flag names or a number)"},
      {"socketpair(AF_INET6, SOCK_STREAM) = [a, b]\n", 1, 12,
       "unknown flag 'AF_INET6' (expected AF_UNIX, AF_INET or a number)"},
      {"socket(AF_UNIX, SOCK_STREAM) = s\nconnect(s, q) = 0\n", 2, 12, "name 'q' is not bound"},
      {"socket(AF_UNIX, SOCK_STREAM) = s\nbind(s, ) = 0\n", 2, 9,
       "expected a socket's name for OTHER (bind(S[, OTHER])), found ')'"},
      {"socket(AF_UNIX, SOCK_STREAM) = s\ngetsockopt(s, SO_RCVBUF) = 0\n", 2, 15,
       "'SO_RCVBUF' is not allowed here (expected SO_ERROR or a number)"},
      {"socket(AF_UNIX, SOCK_STREAM) = s\ngetsockopt(s, SO_ERROR) = EBOGUS\n", 2, 27, "unknown errno name 'EBOGUS'"},
      {"socket(AF_UNIX, SOCK_STREAM) = s\nsetsockopt(s, SO_NOPE, 1) = 0\n", 2, 15,
       "unknown flag 'SO_NOPE' (expected SO_LINGER, SO_RCVLOWAT, SO_SNDBUF, SO_RCVBUF, SO_REUSEADDR, SO_REUSEPORT, "
       "SO_ERROR, TCP_NODELAY or a number)"},
      {"socketpair(AF_UNIX, EFD_NONBLOK) = [a, b]\n", 1, 21,
       "unknown flag 'EFD_NONBLOK' (expected SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_NONBLOCK, "
       "SOCK_CLOEXEC, other flag names or a number)"},
      {kPrelude + "shutdown(r, SHUT_RD|SHUT_WR) = 0\n", 3, 20,
       "expected ')' after the arguments (shutdown(FD, HOW)), found '|'"},
      {kPrelude + "epoll_ctl(ep, EPOLL_CTL_FOO, r, EPOLLIN) = 0\n", 3, 15,
       "unknown flag 'EPOLL_CTL_FOO' (expected EPOLL_CTL_ADD, EPOLL_CTL_MOD, EPOLL_CTL_DEL (or ADD, MOD, DEL) or a "
       "number)"},
      // epoll_ctl
      {kPrelude + "epoll_ctl(ep, EPOLL_CTL_DEL, r, EPOLLIN) = 0\n", 3, 33, "EPOLL_CTL_DEL takes no EVENTS"},
      {kPrelude + "epoll_ctl(ep, DEL, r, data=x) = 0\n", 3, 23, "DEL takes no data=LABEL"},
      {kPrelude + "epoll_ctl(ep, 2, r, 0) = 0\n", 3, 21, "EPOLL_CTL_DEL takes no EVENTS"},
      {kPrelude + "epoll_ctl(ep, EPOLL_CTL_ADD, r) = 0\n", 3, 31, "EVENTS required for EPOLL_CTL_ADD"},
      {kPrelude + "epoll_ctl(ep, MOD, r, data=x) = 0\n", 3, 21, "EVENTS required for MOD"},
      {kPrelude + "epoll_ctl(ep, 9, r) = -1 EINVAL\n", 3, 19, "EVENTS required for op 9"},
      {kPrelude + "epoll_ctl(ep, ADD, r, EPOLLIN, x) = 0\n", 3, 32,
       "expected 'data=LABEL' or ')' after EVENTS, found 'x'"},
      {kPrelude + "epoll_ctl(ep, ADD, r, EPOLLIN, data=3) = 0\n", 3, 37, "expected a label after 'data=', found '3'"},
      // names
      {"close(x) = 0\n", 1, 7, "name 'x' is not bound"},
      {kPrelude + "pipe2(0) = [a, r]\n", 3, 16, "name 'r' is already bound (at 1:22)"},
      {kPrelude + "pipe2(0) = [a, a]\n", 3, 16, "name 'a' is already bound (at 3:13)"},
      {kPrelude + "dup(r) = ep\n", 3, 10, "name 'ep' is already bound (at 2:20)"},
      {kPrelude + "dup(r) = or\n", 3, 10, "'or' cannot be a name: it separates alternative results"},
      {kPrelude + "dup(r) = a or b\n", 3, 15, "every alternative must bind the same names as the first"},
      {kPrelude + "dup(d) = d\n", 3, 5, "name 'd' is not bound"},
      {kPrelude + "poll([r: POLLIN, x: POLLIN], 0) = []\n", 3, 18, "name 'x' is not bound"},
      {kPrelude + "poll([r: POLLIN, r: POLLOUT], 0) = []\n", 3, 18,
       "descriptor 'r' appears twice in the poll list (at 3:7)"},
      // results
      {kPrelude + "pipe2(0) = a\n", 3, 12, "expected '[READ_END, WRITE_END]', '*' or '-1 ERRNO', found 'a'"},
      {kPrelude + "socketpair(AF_UNIX, SOCK_STREAM) = [a]\n", 3, 38,
       "expected ',' and the second name of '[A, B]', found ']'"},
      {kPrelude + "dup(r) = [a]\n", 3, 10, "expected a name for the new descriptor, '*' or '-1 ERRNO', found '['"},
      {kPrelude + "epoll_wait(ep, 1, 0) = 0\n", 3, 24,
       "expected the events returned '[LABEL: MASK, ...]' or '[]', '*' or '-1 ERRNO', found '0'"},
      {kPrelude + "epoll_wait(ep, 1, 0) = [r EPOLLIN]\n", 3, 27,
       "expected ':' and the mask after 'r', found 'EPOLLIN'"},
      {kPrelude + "epoll_wait(ep, 1, 0) = [r: EPOLLIN\n", 3, 35,
       "expected ',' or ']' after the mask, found the end of the line"},
      {kPrelude + "epoll_wait(ep, 1, 0) = [r: EPOLLIN] [w: EPOLLIN]\n", 3, 37,
       "expected 'or' or the end of the line after the result, found '['"},
      {kPrelude + "epoll_wait(ep, 1, 0) = [] or\n", 3, 29,
       "expected the events returned '[LABEL: MASK, ...]' or '[]', '*' or '-1 ERRNO', found the end of the line"},
      {kPrelude + "poll([r: POLLIN], 0) = [w: POLLIN]\n", 3, 25, "'w' is not in the poll list"},
      {kPrelude + "poll([r: POLLIN, w: POLLOUT], 0) = [w: POLLOUT, r: POLLIN]\n", 3, 49,
       "'r' is out of order: poll results list descriptors in argument order, each once"},
      {kPrelude + "close(r) = 1\n", 3, 12, "expected 0, '*' or '-1 ERRNO' (close returns 0), found '1'"},
      {kPrelude + "read(r, 1) = r\n", 3, 14, "expected the number of bytes, '*' or '-1 ERRNO', found 'r'"},
      {kPrelude + "read(r, 1) = -2 EBADF\n", 3, 14, "a failing call is written '-1 ERRNO' (like -1 EBADF)"},
      {kPrelude + "read(r, 1) = -1\n", 3, 16,
       "expected an errno name after '-1' (like EBADF), found the end of the line"},
      {kPrelude + "read(r, 1) = -1 EBDAF\n", 3, 17, "unknown errno name 'EBDAF'"},
      {kPrelude + "read(r, 1) 5\n", 3, 12, "expected '= RESULT', '...' or the end of the line after ')', found '5'"},
      {kPrelude + "read(r, 1) =\n", 3, 13,
       "expected the number of bytes, '*' or '-1 ERRNO', found the end of the line"},
      {kPrelude + "t1: read(r, 1) ... = 1\n", 3, 20, "expected the end of the line after '...', found '='"},
      // tasks
      {kPrelude + "t1: read(r, 1) ...\nt1: read(r, 1) = 1\n", 4, 1, "task 't1' already has a pending call (at 3:1)"},
      {kPrelude + "read(r, 1) ...\nread(r, 1)\n", 4, 1, "task 'main' already has a pending call (at 3:1)"},
      {kPrelude + "t2: ... = 1\n", 3, 1, "resume line for task 't2' which has no pending call"},
      {kPrelude + "t1: read(r, 1) ...\nt1: ... = 1\nt1: ... blocked\n", 5, 1,
       "resume line for task 't1' which has no pending call"},
      {kPrelude + "t1: read(r, 1) ...\n... = 1\n", 4, 1, "a resume line names its task: 'TASK: ... = RESULT'"},
      {kPrelude + "t1: read(r, 1) ...\nt1: ...\n", 4, 8,
       "expected '= RESULT' or 'blocked' after '...', found the end of the line"},
      {kPrelude + "t1: read(r, 1) ...\nt1: ... blocked = 1\n", 4, 17,
       "expected the end of the line after 'blocked', found '='"},
      {kPrelude + "t1: sleep(10)\n", 3, 1, "sleep takes no task prefix (it advances the time of every task)"},
      {kPrelude + "sleep(10) ...\n", 3, 11, "sleep is never pending: expected '= 0' or the end of the line"},
      {kPrelude + "t1: pipe2(0) ...\nt1: ... = 0\n", 4, 11,
       "expected '[READ_END, WRITE_END]', '*' or '-1 ERRNO', found '0'"},
      {kPrelude + "t1: poll([r: POLLIN], -1) ...\nt1: ... = [w: POLLIN]\n", 4, 12, "'w' is not in the poll list"},
      // directives
      {"@titel x\n", 1, 1, "unknown directive '@titel' (expected @title, @kernel, @tags or @belief)"},
      {"@\n", 1, 1, "unknown directive '@' (expected @title, @kernel, @tags or @belief)"},
      {"@title\n", 1, 7, "@title: expected a line of text saying what the trace shows"},
      {"@title   # only a comment\n", 1, 10, "@title: expected a line of text saying what the trace shows"},
      {"@title a\n@title b\n", 2, 1, "@title given twice (first at 1:1)"},
      {"pipe2(0) = [r, w]\n  @title late\n", 2, 3, "directive after the first step (at 1:1); directives come first"},
      {"@kernel 5.15\n", 1, 9, "@kernel: expected a bound like >=5.15 (one of >=, >, <=, <, == and a version)"},
      {"@kernel >=5\n", 1, 11, "@kernel: expected a version like 5.15 or 6.1.12"},
      {"@kernel >=5.15.1.2\n", 1, 11, "@kernel: expected a version like 5.15 or 6.1.12"},
      {"@kernel >= x\n", 1, 12, "@kernel: expected a version like 5.15 or 6.1.12"},
      {"@kernel >=6.1rc1\n", 1, 11, "@kernel: expected a version like 5.15 or 6.1.12"},
      {"@kernel >=5.15 <6.1\n", 1, 16, "@kernel: expected ',' (and), '|' (or) or the end of the line after a version"},
      {"@kernel >=5.15,\n", 1, 16, "@kernel: expected a bound like >=5.15 (one of >=, >, <=, <, == and a version)"},
      {"@kernel >=5.15 | \n", 1, 18, "@kernel: expected a bound like >=5.15 (one of >=, >, <=, <, == and a version)"},
      {"@kernel =>5.15\n", 1, 9, "@kernel: expected a bound like >=5.15 (one of >=, >, <=, <, == and a version)"},
      {"@kernel >=5.99999\n", 1, 11, "@kernel: version part too large (at most 65535)"},
      {"@kernel\n", 1, 8, "@kernel: expected a bound like >=5.15 (one of >=, >, <=, <, == and a version)"},
      {"@tags\n", 1, 6, "@tags: expected one or more words"},
      {"@tags pipe,et\n", 1, 11, "@tags: expected words separated by spaces"},
      {"@belief maybe: x\n", 1, 9, "@belief: expected true, false or partly"},
      {"@belief true x\n", 1, 14, "@belief: expected ':' and the reason after the verdict"},
      {"@belief false:   \n", 1, 18, "@belief: expected the reason after ':'"},
  };
}

TEST(TraceParser, EveryErrorNamesItsPositionAndWhatWasExpected) {
  for (const ErrorCase& c : error_cases()) {
    SCOPED_TRACE(c.text);
    const ParseError e = parse_err(c.text);
    EXPECT_EQ(e.file, "t.trace");
    EXPECT_EQ(e.line, c.line);
    EXPECT_EQ(e.col, c.col);
    EXPECT_EQ(e.message, c.message);
    EXPECT_EQ(e.str(), "t.trace:" + std::to_string(c.line) + ":" + std::to_string(c.col) + ": " + c.message);
  }
}

TEST(TraceParser, ReadsFiles) {
  const auto dir = std::filesystem::temp_directory_path() / ("eo_trace_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "a.trace").string();
  std::ofstream(path) << kExample;
  const ParseResult ok = parse_trace_file(path);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok.program().file, path);
  const ParseResult missing = parse_trace_file((dir / "missing.trace").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().line, 0);
  EXPECT_EQ(missing.error().str(),
            (dir / "missing.trace").string() + ": cannot open: No such file or directory");
  std::filesystem::remove_all(dir);
}

// ---- flags and errno names ----------------------------------------------------------

TEST(TraceFlags, FormatsMasksInTheOrderOfTheBitValues) {
  EXPECT_EQ(format_flags(FlagContext::kEpollEvents, 0), "0");
  EXPECT_EQ(format_flags(FlagContext::kEpollEvents, 0x2005), "EPOLLIN|EPOLLOUT|EPOLLRDHUP");
  EXPECT_EQ(format_flags(FlagContext::kEpollEvents, 0x80000001), "EPOLLIN|EPOLLET");
  EXPECT_EQ(format_flags(FlagContext::kEpollEvents, 0xffffffff),
            "EPOLLIN|EPOLLPRI|EPOLLOUT|EPOLLERR|EPOLLHUP|EPOLLNVAL|EPOLLRDNORM|EPOLLRDBAND|EPOLLWRNORM|"
            "EPOLLWRBAND|EPOLLMSG|EPOLLRDHUP|EPOLLEXCLUSIVE|EPOLLWAKEUP|EPOLLONESHOT|EPOLLET|0xfffd800");
  EXPECT_EQ(format_flags(FlagContext::kEpollEvents, 0x800), "0x800");
  EXPECT_EQ(format_flags(FlagContext::kPollEvents, 0x2019), "POLLIN|POLLERR|POLLHUP|POLLRDHUP");
  EXPECT_EQ(format_flags(FlagContext::kPollEvents, 0x7ff),
            "POLLIN|POLLPRI|POLLOUT|POLLERR|POLLHUP|POLLNVAL|POLLRDNORM|POLLRDBAND|POLLWRNORM|POLLWRBAND|POLLMSG");
  EXPECT_EQ(format_flags(FlagContext::kPipe2, 02004000), "O_NONBLOCK|O_CLOEXEC");
  EXPECT_EQ(format_flags(FlagContext::kPipe2, 040000), "O_DIRECT");
  EXPECT_EQ(format_flags(FlagContext::kPipe2, -1), "-1");
  EXPECT_EQ(format_flags(FlagContext::kEventfd2, 02004001), "EFD_SEMAPHORE|EFD_NONBLOCK|EFD_CLOEXEC");
  EXPECT_EQ(format_flags(FlagContext::kEpollCreate1, 02000000), "EPOLL_CLOEXEC");
  EXPECT_EQ(format_flags(FlagContext::kEpollCreate1, 1), "0x1");
  EXPECT_EQ(format_flags(FlagContext::kSocketType, 1 | 04000), "SOCK_STREAM|SOCK_NONBLOCK");
  EXPECT_EQ(format_flags(FlagContext::kSocketType, 5 | 02000000), "SOCK_SEQPACKET|SOCK_CLOEXEC");
  EXPECT_EQ(format_flags(FlagContext::kSocketType, 04000), "SOCK_NONBLOCK");
  EXPECT_EQ(format_flags(FlagContext::kSocketType, 3 | 0x10), "3|0x10");
  EXPECT_EQ(format_flags(FlagContext::kSocketDomain, 1), "AF_UNIX");
  EXPECT_EQ(format_flags(FlagContext::kSocketDomain, 2), "AF_INET");
  EXPECT_EQ(format_flags(FlagContext::kSocketDomain, 10), "10");
  EXPECT_EQ(format_flags(FlagContext::kSockOpt, eo::kIpprotoTcpOpt | 1), "TCP_NODELAY");
  EXPECT_EQ(format_flags(FlagContext::kSockOpt, 1), "1");  // a number is a SOL_SOCKET option (SO_DEBUG)
  EXPECT_EQ(format_flags(FlagContext::kEpollCtlOp, 1), "EPOLL_CTL_ADD");
  EXPECT_EQ(format_flags(FlagContext::kEpollCtlOp, 2), "EPOLL_CTL_DEL");
  EXPECT_EQ(format_flags(FlagContext::kEpollCtlOp, 3), "EPOLL_CTL_MOD");
  EXPECT_EQ(format_flags(FlagContext::kEpollCtlOp, 0), "0");
  EXPECT_EQ(format_flags(FlagContext::kEpollCtlOp, -5), "-5");
  EXPECT_EQ(format_flags(FlagContext::kShutdownHow, 0), "SHUT_RD");
  EXPECT_EQ(format_flags(FlagContext::kShutdownHow, 2), "SHUT_RDWR");
  EXPECT_EQ(format_flags(FlagContext::kShutdownHow, 3), "3");
}

TEST(TraceFlags, ParsesFlagSetsInTheirContext) {
  auto value = [](FlagContext ctx, std::string_view text) { return parse_flags(ctx, FlagUse::kResult, text).value; };
  EXPECT_EQ(value(FlagContext::kEpollEvents, "EPOLLIN|EPOLLET"), 0x80000001);
  EXPECT_EQ(value(FlagContext::kEpollEvents, " EPOLLIN | 0x10 | 3 "), 0x13);
  EXPECT_EQ(value(FlagContext::kEpollEvents, "0"), 0);
  EXPECT_EQ(value(FlagContext::kPollEvents, "POLLIN|POLLRDHUP"), 0x2001);
  EXPECT_EQ(value(FlagContext::kPipe2, "O_NONBLOCK|O_CLOEXEC|O_DIRECT"), 02044000);
  EXPECT_EQ(value(FlagContext::kPipe2, "-1"), -1);
  EXPECT_EQ(value(FlagContext::kEventfd2, "EFD_SEMAPHORE"), 1);
  EXPECT_EQ(value(FlagContext::kEpollCreate1, "EPOLL_CLOEXEC"), 02000000);
  EXPECT_EQ(value(FlagContext::kSocketType, "SOCK_DGRAM|SOCK_CLOEXEC"), 02000002);
  EXPECT_EQ(value(FlagContext::kSocketDomain, "AF_UNIX"), 1);
  EXPECT_EQ(value(FlagContext::kEpollCtlOp, "MOD"), 3);
  EXPECT_EQ(value(FlagContext::kEpollCtlOp, "EPOLL_CTL_DEL"), 2);
  EXPECT_EQ(value(FlagContext::kShutdownHow, "SHUT_RDWR"), 2);

  const FlagParse bad = parse_flags(FlagContext::kEpollEvents, FlagUse::kResult, "EPOLLIN|POLLOUT");
  EXPECT_FALSE(bad.value);
  EXPECT_EQ(bad.offset, 8u);
  EXPECT_EQ(bad.message, "'POLLOUT' is not allowed in a result (expected EPOLL* names or a number)");
  const FlagParse single = parse_flags(FlagContext::kEpollCtlOp, FlagUse::kArgument, "ADD|MOD");
  EXPECT_FALSE(single.value);
  EXPECT_EQ(single.offset, 3u);
  EXPECT_EQ(single.message, "expected '|' or the end of the flags, found '|'");
  EXPECT_FALSE(parse_flags(FlagContext::kEpollEvents, FlagUse::kArgument, "").value);
  EXPECT_FALSE(parse_flags(FlagContext::kEpollEvents, FlagUse::kArgument, "EPOLLIN EPOLLOUT").value);
}

// TRACE_FORMAT.md v1.1: any flag name in any flag-set argument, with its own value.
TEST(TraceFlags, ArgumentsTakeTheNamesOfEveryFamily) {
  auto arg = [](FlagContext ctx, std::string_view text) { return parse_flags(ctx, FlagUse::kArgument, text); };
  EXPECT_EQ(arg(FlagContext::kEpollCreate1, "O_NONBLOCK").value, 0x800);
  EXPECT_EQ(arg(FlagContext::kEpollCreate1, "O_CLOEXEC").value, 02000000);
  EXPECT_EQ(arg(FlagContext::kEventfd2, "EPOLLIN").value, 1);
  EXPECT_EQ(arg(FlagContext::kEventfd2, "SOCK_NONBLOCK|EFD_SEMAPHORE").value, 04001);
  EXPECT_EQ(arg(FlagContext::kPipe2, "EPOLLET").value, int64_t{1} << 31);
  EXPECT_EQ(arg(FlagContext::kPipe2, "SHUT_RD|EPOLL_CTL_MOD|AF_UNIX").value, 3);
  EXPECT_EQ(arg(FlagContext::kSocketType, "SOCK_STREAM|O_NONBLOCK").value, 04001);
  EXPECT_EQ(arg(FlagContext::kSocketType, "EPOLLIN").value, 1);  // the type SOCK_STREAM
  EXPECT_EQ(arg(FlagContext::kEpollEvents, "POLLIN|POLLRDHUP|O_NONBLOCK").value, 0x2801);
  EXPECT_EQ(arg(FlagContext::kPollEvents, "EPOLLIN|EFD_NONBLOCK").value, 0x801);
  // The spelling is kept only when a foreign name is in it; elements as written.
  EXPECT_EQ(arg(FlagContext::kEpollCreate1, " O_NONBLOCK | 0x1 ").written, "O_NONBLOCK|0x1");
  EXPECT_EQ(arg(FlagContext::kPipe2, "-1|EPOLLIN").written, "-1|EPOLLIN");
  EXPECT_EQ(arg(FlagContext::kPipe2, "O_CLOEXEC|O_NONBLOCK").written, "");
  EXPECT_EQ(arg(FlagContext::kEpollEvents, "EPOLLIN|0x10").written, "");
  // Results and single values keep to their own names.
  EXPECT_FALSE(parse_flags(FlagContext::kPollEvents, FlagUse::kResult, "EPOLLIN").value);
  EXPECT_FALSE(arg(FlagContext::kShutdownHow, "EPOLLIN").value);
  EXPECT_FALSE(arg(FlagContext::kSocketDomain, "SOCK_STREAM").value);
  EXPECT_FALSE(arg(FlagContext::kEpollCtlOp, "SHUT_WR").value);
  // The trace's shorthands are not Linux names.
  EXPECT_FALSE(any_flag_value("ADD"));
  EXPECT_EQ(any_flag_value("EPOLL_CTL_ADD"), 1);
}

// A name means one number wherever it is written: no name of two tables differs in value.
TEST(TraceFlags, NoNameHasTwoValues) {
  std::map<std::string_view, int64_t> seen;
  for (const auto ctx : {FlagContext::kEpollEvents, FlagContext::kPollEvents, FlagContext::kPipe2,
                         FlagContext::kEventfd2, FlagContext::kEpollCreate1, FlagContext::kSocketDomain,
                         FlagContext::kSocketType, FlagContext::kEpollCtlOp, FlagContext::kShutdownHow}) {
    for (const FlagName& f : flag_names(ctx)) {
      const auto [it, fresh] = seen.emplace(f.name, f.value);
      EXPECT_EQ(it->second, f.value) << f.name << " has two values";
      const bool shorthand = f.name == "ADD" || f.name == "DEL" || f.name == "MOD";
      EXPECT_EQ(any_flag_value(f.name), shorthand ? std::nullopt : std::optional<int64_t>(f.value)) << f.name;
    }
  }
}

TEST(TraceFlags, AnArgumentPrintsItsForeignNamesAsWritten) {
  EXPECT_EQ(format_flag_argument(FlagContext::kEpollCreate1, 0x800, "O_NONBLOCK"), "O_NONBLOCK");
  EXPECT_EQ(format_flag_argument(FlagContext::kEventfd2, 1, "EPOLLIN"), "EPOLLIN");
  EXPECT_EQ(format_flag_argument(FlagContext::kEventfd2, 1, ""), "EFD_SEMAPHORE");
  // A spelling that no longer says the value (a step changed by a program) is dropped.
  EXPECT_EQ(format_flag_argument(FlagContext::kEpollCreate1, 0, "O_NONBLOCK"), "0");
  EXPECT_EQ(format_flag_argument(FlagContext::kEpollCreate1, 0x800, "O_NONBLOK"), "0x800");
}

// Steps with names of other families: the value is the name's, and every printer
// (format_call, print_trace_canonical, print_trace) keeps the names as written.
TEST(TraceFlags, StepsKeepForeignNamesThroughEveryPrinter) {
  const std::string text =
      "epoll_create1(O_NONBLOCK) = -1 EINVAL\n"
      "epoll_create1(O_CLOEXEC) = ep\n"
      "pipe2(EFD_NONBLOCK) = [r, w]\n"
      "eventfd2(0, EPOLLIN) = e\n"
      "socketpair(AF_UNIX, SOCK_STREAM|O_NONBLOCK) = [a, b]\n"
      "epoll_ctl(ep, EPOLL_CTL_ADD, r, POLLIN|EPOLLET) = 0\n"
      "poll([r: EPOLLIN|POLLOUT, e: POLLIN], 0) = [e: POLLIN]\n";
  const Program p = parse_ok(text);
  ASSERT_EQ(p.steps.size(), 7u);
  EXPECT_EQ(as<eo::EpollCreate1>(p.steps[0]).flags, (eo::FlagArg{0x800, "O_NONBLOCK"}));
  EXPECT_EQ(as<eo::EpollCreate1>(p.steps[1]).flags, (eo::FlagArg{02000000, "O_CLOEXEC"}));
  EXPECT_EQ(as<eo::Pipe2>(p.steps[2]).flags, (eo::FlagArg{04000, "EFD_NONBLOCK"}));
  EXPECT_EQ(as<eo::Eventfd2>(p.steps[3]).flags, (eo::FlagArg{1, "EPOLLIN"}));
  EXPECT_EQ(as<eo::Socketpair>(p.steps[4]).type, (eo::FlagArg{04001, "SOCK_STREAM|O_NONBLOCK"}));
  EXPECT_EQ(as<eo::EpollCtl>(p.steps[5]).events, (eo::FlagArg{0x80000001u, "POLLIN|EPOLLET"}));
  EXPECT_EQ(as<eo::Poll>(p.steps[6]).fds[0].events, (eo::FlagArg{0x5u, "EPOLLIN|POLLOUT"}));
  EXPECT_EQ(as<eo::Poll>(p.steps[6]).fds[1].events, (eo::FlagArg{0x1u, ""}));
  EXPECT_EQ(format_call(p.steps[0]), "epoll_create1(O_NONBLOCK)");
  EXPECT_EQ(format_call(p.steps[3]), "eventfd2(0, EPOLLIN)");  // not EFD_SEMAPHORE
  EXPECT_EQ(format_call(p.steps[6]), "poll([r: EPOLLIN|POLLOUT, e: POLLIN], 0)");
  EXPECT_EQ(print_trace_canonical(p), text);
  EXPECT_EQ(print_trace(p), text);
  expect_round_trips(text);
  // A changed step is reprinted canonically, its other arguments as written.
  Program changed = p;
  changed.steps[5].expect.alts[0] = ResultAlt{ResultAlt::Kind::kError, 9, {}, {}, {}};
  EXPECT_NE(print_trace(changed).find("epoll_ctl(ep, EPOLL_CTL_ADD, r, POLLIN|EPOLLET) = -1 EBADF\n"),
            std::string::npos);
}

TEST(TraceFlags, EveryNameFormatsAndParsesBack) {
  for (const auto ctx : {FlagContext::kEpollEvents, FlagContext::kPollEvents, FlagContext::kPipe2,
                         FlagContext::kEventfd2, FlagContext::kEpollCreate1, FlagContext::kSocketDomain,
                         FlagContext::kSocketType, FlagContext::kEpollCtlOp, FlagContext::kShutdownHow}) {
    for (const FlagName& f : flag_names(ctx)) {
      for (const auto use : {FlagUse::kArgument, FlagUse::kResult}) {
        EXPECT_EQ(parse_flags(ctx, use, f.name).value, f.value) << f.name;
        EXPECT_EQ(parse_flags(ctx, use, format_flags(ctx, f.value)).value, f.value) << f.name;
      }
    }
  }
}

TEST(TraceFlags, ErrnoNames) {
  EXPECT_EQ(errno_name(9), "EBADF");
  EXPECT_EQ(errno_name(11), "EAGAIN");
  EXPECT_EQ(errno_name(22), "EINVAL");
  EXPECT_EQ(errno_name(40), "ELOOP");
  EXPECT_EQ(errno_name(104), "ECONNRESET");
  EXPECT_EQ(errno_name(133), "EHWPOISON");
  EXPECT_EQ(errno_name(0), "");
  EXPECT_EQ(errno_name(134), "");
  EXPECT_EQ(errno_name(-9), "");
  EXPECT_EQ(errno_number("EPIPE"), 32);
  EXPECT_EQ(errno_number("EWOULDBLOCK"), 11);
  EXPECT_EQ(errno_number("EDEADLOCK"), 35);
  EXPECT_EQ(errno_number("ENOTSUP"), 95);
  EXPECT_EQ(errno_number("EFOO"), std::nullopt);
  for (int e = 1; e <= 133; ++e) {
    const std::string_view name = errno_name(e);
    if (name.empty()) continue;  // 41 and 58 have no name on Linux
    EXPECT_EQ(errno_number(name), e) << name;
  }
}

TEST(TraceCalls, NamesAndSuggestions) {
  for (size_t i = 0; i < eo::kCallCount; ++i) {
    const auto call = call_by_name(eo::kCallInfos[i]->name);
    ASSERT_TRUE(call) << eo::kCallInfos[i]->name;
    EXPECT_EQ(call->index(), i);
  }
  EXPECT_EQ(closest_call_name("epol_wait"), "epoll_wait");
  EXPECT_EQ(closest_call_name("socketpairs"), "socketpair");
  EXPECT_EQ(closest_call_name("xyzzy"), std::nullopt);
  EXPECT_EQ(eo::names_bound(eo::Pipe2::info.result), 2);
  EXPECT_EQ(eo::names_bound(eo::Dup::info.result), 1);
  EXPECT_EQ(eo::names_bound(eo::Close::info.result), 0);
}

// The signatures the messages quote, generated from the fields.
TEST(TraceCalls, SignaturesFromTheSchema) {
  EXPECT_EQ(eo::call_signature(eo::Pipe2{}), "pipe2(FLAGS)");
  EXPECT_EQ(eo::call_signature(eo::Fill{}), "fill(FD[, CHUNK])");
  EXPECT_EQ(eo::call_signature(eo::EpollCtl{}), "epoll_ctl(EP, OP, FD, EVENTS[, data=LABEL])");
  EXPECT_EQ(eo::call_signature(eo::EpollWait{}), "epoll_wait(EP, MAXEVENTS, TIMEOUT_MS)");
  EXPECT_EQ(eo::call_signature(eo::Poll{}), "poll([FD: EVENTS, ...], TIMEOUT_MS)");
  EXPECT_EQ(eo::call_signature(eo::Sleep{}), "sleep(MS)");
  EXPECT_EQ(eo::call_signature(eo::EpollPwait2{}), "epoll_pwait2(EP, MAXEVENTS, TIMEOUT_NS)");
}

// epoll_pwait2's TIMEOUT_NS: -1 is a null timespec; any other value is the timespec it
// denotes with the seconds rounded down (negative seconds: the kernel's EINVAL); the
// executor's wait for a finite one is rounded up to milliseconds.
TEST(TraceCalls, EpollPwait2Timespec) {
  const auto ts = [](int64_t ns) { return EpollPwait2{FdRef{}, 1, ns}.timespec(); };
  EXPECT_FALSE(ts(-1));
  EXPECT_EQ(ts(0)->sec, 0);
  EXPECT_EQ(ts(0)->nsec, 0);
  EXPECT_EQ(ts(1500000000)->sec, 1);
  EXPECT_EQ(ts(1500000000)->nsec, 500000000);
  EXPECT_EQ(ts(-2)->sec, -1);
  EXPECT_EQ(ts(-2)->nsec, 999999998);
  EXPECT_EQ(ts(std::numeric_limits<int64_t>::min())->sec, -9223372037);
  EXPECT_EQ(ts(std::numeric_limits<int64_t>::min())->nsec, 145224192);
  EXPECT_EQ(finite_timeout_ms(EpollPwait2{FdRef{}, 1, 1}), 1);
  EXPECT_EQ(finite_timeout_ms(EpollPwait2{FdRef{}, 1, 2000000}), 2);
  EXPECT_EQ(finite_timeout_ms(EpollPwait2{FdRef{}, 1, -1}), std::nullopt);
  EXPECT_EQ(finite_timeout_ms(EpollPwait2{FdRef{}, 1, -2}), std::nullopt);
  const Program p = parse_ok("epoll_create1(0) = ep\nepoll_pwait2(ep, 8, -9223372036854775808) = -1 EINVAL\n");
  EXPECT_EQ(as<EpollPwait2>(p.steps[1]).timeout_ns, std::numeric_limits<int64_t>::min());
  EXPECT_EQ(parse_err("epoll_create1(0) = ep\nepoll_pwait2(ep, 8, 9223372036854775808)\n").message,
            "TIMEOUT_NS out of range: expected a number from -9223372036854775808 to 9223372036854775807");
}

// ---- @kernel ranges -----------------------------------------------------------------

TEST(TraceParser, KernelRanges) {
  const Program p = parse_ok("@kernel >=6.16 | >=6.12.40, <6.13 | ==5.10.1 | >4.19, <=5.4\n");
  EXPECT_TRUE(p.kernel_matches(6, 16, 0));
  EXPECT_TRUE(p.kernel_matches(6, 18, 3));
  EXPECT_TRUE(p.kernel_matches(6, 12, 40));
  EXPECT_TRUE(p.kernel_matches(6, 12, 41));
  EXPECT_FALSE(p.kernel_matches(6, 12, 39));
  EXPECT_FALSE(p.kernel_matches(6, 13, 0));
  EXPECT_FALSE(p.kernel_matches(6, 15, 0));
  EXPECT_TRUE(p.kernel_matches(5, 10, 1));
  EXPECT_FALSE(p.kernel_matches(5, 10, 2));
  EXPECT_FALSE(p.kernel_matches(4, 19, 0));
  EXPECT_TRUE(p.kernel_matches(4, 19, 1));
  EXPECT_TRUE(p.kernel_matches(5, 4, 0));
  EXPECT_FALSE(p.kernel_matches(5, 4, 1));
  EXPECT_TRUE(parse_ok("pipe2(0) = [r, w]\n").kernel_matches(2, 6, 0));
  EXPECT_EQ(print_trace_canonical(p), "@kernel >=6.16 | >=6.12.40, <6.13 | ==5.10.1 | >4.19, <=5.4\n");
}

// ---- printing -----------------------------------------------------------------------

TEST(TracePrinter, CanonicalForm) {
  const Program p = parse_ok(
      "  @tags  a   b\n"
      "@belief  false :  closing an fd removes it   \n"
      "@title x\n"
      "# dropped\n"
      "pipe2( 0x800 )=[r,w]\n"
      "epoll_create1(0)=ep   #  c  \n"
      "epoll_ctl(ep,ADD,r,3,data=x)=0\n"
      "t1:epoll_wait(ep,1,-1)...\n"
      "t1:...=[x:EPOLLIN|EPOLLOUT]or[]\n"
      "main: read(r, 1)\n"
      "fill(w, 0x1000)\n"
      "socketpair(1, 0x801) = [a, b]\n"
      "poll([a:POLLIN|POLLOUT,b:1],-1)=[b:POLLIN]\n"
      "t2: poll([a: 5], -1) ...\n"
      "t2: ... blocked\n");
  EXPECT_EQ(print_trace_canonical(p),
            "@title  x\n"
            "@tags   a b\n"
            "@belief false: closing an fd removes it\n"
            "\n"
            "pipe2(O_NONBLOCK) = [r, w]\n"
            "epoll_create1(0) = ep  #  c  \n"
            "epoll_ctl(ep, EPOLL_CTL_ADD, r, EPOLLIN|EPOLLPRI, data=x) = 0\n"
            "t1: epoll_wait(ep, 1, -1) ...\n"
            "t1: ... = [x: EPOLLIN|EPOLLOUT] or []\n"
            "main: read(r, 1)\n"
            "fill(w, 4096)\n"
            "socketpair(AF_UNIX, SOCK_STREAM|SOCK_NONBLOCK) = [a, b]\n"
            "poll([a: POLLIN|POLLOUT, b: POLLIN], -1) = [b: POLLIN]\n"
            "t2: poll([a: POLLIN|POLLOUT], -1) ...\n"
            "t2: ... blocked\n");
}

TEST(TracePrinter, ReprintsOnlyChangedStepsKeepingTheCommentColumn) {
  const std::string text =
      "@title  t\n"
      "\n"
      "pipe2(O_NONBLOCK) = [r, w]\n"
      "write(w, 10)               # fill in\n"
      "read( r , 64 )             # a much longer comment\n"
      "read(r, 1)#tight\n"
      "close(w)   # keep\n";
  Program p = parse_ok(text);
  ResultAlt ten;
  ten.kind = ResultAlt::Kind::kValue;
  ten.value = 10;
  p.steps[1].expect.alts = {ten};  // as `record` fills in a result
  p.steps[2].expect.alts = {ten};
  ResultAlt again;
  again.kind = ResultAlt::Kind::kError;
  again.value = 11;
  p.steps[3].expect.alts = {again};
  Step extra;  // a step without a source line goes after the step before it
  extra.call = Close{FdRef{"r", {}}};
  extra.expect.alts = {ResultAlt{}};
  extra.expect.alts[0].kind = ResultAlt::Kind::kValue;
  p.steps.push_back(extra);
  EXPECT_EQ(print_trace(p),
            "@title  t\n"
            "\n"
            "pipe2(O_NONBLOCK) = [r, w]\n"
            "write(w, 10) = 10          # fill in\n"
            "read(r, 64) = 10           # a much longer comment\n"
            "read(r, 1) = -1 EAGAIN  #tight\n"
            "close(w)   # keep\n"
            "close(r) = 0\n");
  p.title = "new title";
  p.tags = {"x"};
  EXPECT_EQ(print_trace(p).substr(0, 31), "@title  new title\n@tags   x\n\npi");
  p.title.clear();
  EXPECT_EQ(print_trace(p).substr(0, 11), "@tags   x\n\n");
}

TEST(TracePrinter, FormatsStepsResultsAndOutcomes) {
  const Program p = parse_ok(kTasksExample);
  EXPECT_EQ(format_step(p.steps[2]), "epoll_ctl(ep, EPOLL_CTL_ADD, r, EPOLLIN|EPOLLET) = 0");
  EXPECT_EQ(format_step(p.steps[3]), "t1: epoll_wait(ep, 1, -1) ...");
  EXPECT_EQ(format_step(p.steps[6]), "t2: ... = [r: EPOLLIN]");
  EXPECT_EQ(format_call(p.steps[5]), "write(w, 1)");
  EXPECT_EQ(format_expect(Pipe2{}, p.steps[0].expect), "[r, w]");
  EXPECT_EQ(format_expect(Read{}, Expect{}), "");

  Outcome o;
  EXPECT_EQ(format_outcome(Read{}, o), "not run");
  o.kind = Outcome::Kind::kBlocked;
  EXPECT_EQ(format_outcome(Read{}, o), "blocked");
  o.kind = Outcome::Kind::kStuck;
  EXPECT_EQ(format_outcome(Read{}, o), "stuck");
  o.kind = Outcome::Kind::kError;
  o.ret = 9;
  EXPECT_EQ(format_outcome(Read{}, o), "-1 EBADF");
  o.kind = Outcome::Kind::kValue;
  o.ret = 20;
  EXPECT_EQ(format_outcome(Read{}, o), "20");
  o.ret = 0;
  o.fds = {3, 4};
  EXPECT_EQ(format_outcome(Pipe2{}, o), "[fd 3, fd 4]");
  o.fds = {5};
  EXPECT_EQ(format_outcome(Dup{}, o), "fd 5");
  o.fds.clear();
  o.events = {{"r", 0x2001}, {"w", 4}};
  EXPECT_EQ(format_outcome(EpollWait{}, o), "[r: EPOLLIN|EPOLLRDHUP, w: EPOLLOUT]");
  EXPECT_EQ(format_outcome(Poll{}, o), "[r: POLLIN|POLLRDHUP, w: POLLOUT]");
  o.ret = -2;
  EXPECT_EQ(format_outcome(EventfdRead{}, o), "18446744073709551614");
}

// ---- the corpus ---------------------------------------------------------------------

TEST(TraceCorpus, EveryTraceParsesAndPrintsBackExactly) {
  const std::filesystem::path root = std::filesystem::path(EO_SOURCE_DIR) / "traces";
  int count = 0;
  if (std::filesystem::exists(root)) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
      if (!entry.is_regular_file() || entry.path().extension() != ".trace") continue;
      SCOPED_TRACE(entry.path().string());
      std::ifstream in(entry.path(), std::ios::binary);
      std::stringstream text;
      text << in.rdbuf();
      const ParseResult r = parse_trace(text.str(), entry.path().string());
      ASSERT_TRUE(r.ok()) << r.error().str();
      expect_round_trips(text.str());
      ++count;
    }
  }
  RecordProperty("traces", count);
  std::cout << "[ corpus   ] " << count << " traces under " << root.string() << "\n";
}

// ---- properties ---------------------------------------------------------------------

// Garbage never crashes the parser; an error lies inside the input and says something;
// whatever parses prints back exactly and survives the canonical round trip.
void check_any_text(const std::string& text) {
  const ParseResult r = parse_trace(text, "g.trace");
  RC_CLASSIFY(r.ok(), "parses");
  if (!r) {
    const ParseError& e = r.error();
    const int lines = static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1;
    RC_ASSERT(e.file == "g.trace");
    RC_ASSERT(e.line >= 1);
    RC_ASSERT(e.line <= lines);
    RC_ASSERT(e.col >= 1);
    RC_ASSERT(!e.message.empty());
    return;
  }
  const Program& p = r.program();
  RC_ASSERT(print_trace(p) == with_final_newline(text));
  const std::string canonical = print_trace_canonical(p);
  const ParseResult q = parse_trace(canonical, "c.trace");
  if (!q) RC_FAIL("the canonical print does not parse: " + q.error().str() + "\n" + canonical);
  const auto same = same_program(p, q.program());
  if (!same) RC_FAIL(std::string(same.message()) + "\n" + text + "\n---\n" + canonical);
}

// Strings made of the characters traces are made of.
rc::Gen<std::string> trace_like_text() {
  return rc::gen::container<std::string>(rc::gen::weightedOneOf<char>({
      {6, rc::gen::elementOf(std::string("abcdefghijklmnopqrstuvwxyz_ABCDEILNOPRSTUVW"))},
      {3, rc::gen::elementOf(std::string("0123456789x"))},
      {6, rc::gen::elementOf(std::string("()[],:|=*-.#@ \n\t\r"))},
      {1, rc::gen::arbitrary<char>()},
  }));
}

const std::vector<std::string> kTokens = {
    "pipe2",
    "epoll_create1",
    "epoll_ctl",
    "epoll_wait",
    "poll",
    "read",
    "write",
    "close",
    "dup",
    "sleep",
    "eventfd2",
    "socketpair",
    "fill",
    "drain",
    "shutdown",
    "eventfd_read",
    "eventfd_write",
    "(",
    ")",
    "[",
    "]",
    ",",
    ":",
    "|",
    "=",
    "*",
    "...",
    " ... = ",
    " or ",
    "-1 EBADF",
    "-1",
    "0",
    "1",
    "0x10",
    "r",
    "w",
    "ep",
    "t1: ",
    "t2: ",
    "main: ",
    "blocked",
    "data=x",
    "EPOLLIN",
    "EPOLLET",
    "POLLIN",
    "ADD",
    "DEL",
    "EPOLL_CTL_MOD",
    "O_NONBLOCK",
    "# c",
    "\n",
    "@title x\n",
    "@kernel >=5.15",
    "@tags a b",
    "@belief true: y",
    "[r, w]",
    "[r: EPOLLIN]",
    "99999999999999999999",
    "\r",
    "\t",
    " ",
};

// Applies a few random edits: characters and tokens inserted, deleted or replaced.
std::string mutate(std::string text) {
  const int edits = *rc::gen::inRange(1, 6);
  for (int i = 0; i < edits; ++i) {
    const size_t at = *rc::gen::inRange<size_t>(0, text.size() + 1);
    switch (*rc::gen::inRange(0, 5)) {
      case 0:  // insert a character
        text.insert(at, 1, *rc::gen::arbitrary<char>());
        break;
      case 1:  // insert a token
        text.insert(at, *rc::gen::elementOf(kTokens));
        break;
      case 2:  // delete a few characters
        if (at < text.size()) text.erase(at, *rc::gen::inRange<size_t>(1, 8));
        break;
      case 3:  // replace a character
        if (at < text.size()) text[at] = *rc::gen::elementOf(std::string("()[],:|=*-.#@ \nx0rw"));
        break;
      case 4: {  // replace the word at `at` by a token
        size_t end = at;
        while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_')) ++end;
        text.replace(at, end - at, *rc::gen::elementOf(kTokens));
        break;
      }
    }
  }
  return text;
}

// ---- a generator of valid programs --------------------------------------------------

rc::Gen<std::string> gen_text(const std::string& alphabet, int min_size, int max_size) {
  return rc::gen::map(rc::gen::pair(rc::gen::inRange(min_size, max_size + 1), rc::gen::arbitrary<uint64_t>()),
                      [alphabet](const std::pair<int, uint64_t>& seed) {
                        std::string s;
                        uint64_t x = seed.second | 1;
                        for (int i = 0; i < seed.first; ++i) {
                          x ^= x << 13;
                          x ^= x >> 7;
                          x ^= x << 17;
                          s += alphabet[x % alphabet.size()];
                        }
                        return s;
                      });
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.erase(0, 1);
  return s;
}

const std::string kTextAlphabet = "abcdefghijklmnopqrstuvwxyzABCXYZ0123456789 ,.;:!?()[]{}<>=|*-+/'\"\t";

int64_t gen_int_flags(FlagContext ctx) {
  std::vector<int64_t> named = {0};
  for (const FlagName& f : flag_names(ctx)) named.push_back(f.value);
  switch (*rc::gen::inRange(0, 4)) {
    case 0:
      return *rc::gen::elementOf(named);
    case 1:
      return *rc::gen::elementOf(named) | *rc::gen::elementOf(named);
    case 2:
      return *rc::gen::arbitrary<int32_t>();
    default:
      return *rc::gen::arbitrary<uint32_t>();
  }
}

uint32_t gen_mask(FlagContext ctx) {
  std::vector<uint32_t> named = {0};
  for (const FlagName& f : flag_names(ctx)) named.push_back(static_cast<uint32_t>(f.value));
  const uint32_t max = static_cast<uint32_t>(flag_context_max(ctx));
  switch (*rc::gen::inRange(0, 3)) {
    case 0:
      return *rc::gen::elementOf(named);
    case 1:
      return *rc::gen::elementOf(named) | *rc::gen::elementOf(named) | *rc::gen::elementOf(named);
    default:
      return *rc::gen::arbitrary<uint32_t>() & max;
  }
}

// A flag-set argument spelled with one to three names of any family, one of them not the
// context's own (eventfd2(0, EPOLLIN|O_CLOEXEC)): its value and its spelling.
std::pair<int64_t, std::string> gen_foreign_flags(FlagContext ctx) {
  std::vector<FlagName> fitting, foreign;
  for (const auto other : {FlagContext::kEpollEvents, FlagContext::kPollEvents, FlagContext::kPipe2,
                           FlagContext::kEventfd2, FlagContext::kEpollCreate1, FlagContext::kSocketDomain,
                           FlagContext::kSocketType, FlagContext::kEpollCtlOp, FlagContext::kShutdownHow}) {
    for (const FlagName& f : flag_names(other)) {
      if (!any_flag_value(f.name) || f.value > flag_context_max(ctx)) continue;
      fitting.push_back(f);
      if (!flag_value(ctx, f.name)) foreign.push_back(f);
    }
  }
  std::vector<FlagName> names = {*rc::gen::elementOf(foreign)};
  const int more = *rc::gen::inRange(0, 3);
  for (int i = 0; i < more; ++i) names.insert(names.begin() + *rc::gen::inRange<size_t>(0, names.size() + 1), *rc::gen::elementOf(fitting));
  int64_t value = 0;
  std::string written;
  for (const FlagName& f : names) {
    value |= f.value;
    written += (written.empty() ? "" : "|") + std::string(f.name);
  }
  return {value, written};
}

// Builds a valid program step by step, keeping the names bound and the pending calls.
class ProgramGen {
 public:
  Program build() {
    Program p;
    if (*rc::gen::arbitrary<bool>()) p.title = trimmed(*gen_text(kTextAlphabet, 1, 40));
    if (*rc::gen::arbitrary<bool>()) {
      const int alts = *rc::gen::inRange(1, 4);
      for (int i = 0; i < alts; ++i) {
        std::vector<VersionBound> conj;
        const int n = *rc::gen::inRange(1, 3);
        for (int j = 0; j < n; ++j) {
          VersionBound b;
          b.op = *rc::gen::elementOf(std::vector<std::string>{">=", ">", "<=", "<", "=="});
          b.major = *rc::gen::inRange(2, 8);
          b.minor = *rc::gen::inRange(0, 30);
          b.patch = *rc::gen::arbitrary<bool>() ? 0 : *rc::gen::inRange(1, 400);
          conj.push_back(b);
        }
        p.kernel.push_back(conj);
      }
    }
    if (*rc::gen::arbitrary<bool>()) {
      const int n = *rc::gen::inRange(1, 4);
      for (int i = 0; i < n; ++i) p.tags.push_back(*gen_text("abcdefghijklmnopqrstuvwxyz0123456789-._", 1, 8));
    }
    if (*rc::gen::arbitrary<bool>()) {
      p.belief_verdict = *rc::gen::elementOf(std::vector<std::string>{"true", "false", "partly"});
      p.belief_why = trimmed(*gen_text(kTextAlphabet, 1, 40));
      if (p.belief_why.empty()) p.belief_why = "why";
    }
    const int steps = *rc::gen::inRange(0, 25);
    for (int i = 0; i < steps; ++i) p.steps.push_back(step());
    link_resumes(p);
    return p;
  }

 private:
  Step step() {
    Step s;
    if (names_.empty() || *rc::gen::inRange(0, 6) == 0) return creating_call(task());
    if (*rc::gen::inRange(0, 10) == 0) {
      s.call = Sleep{*rc::gen::inRange<int64_t>(0, std::numeric_limits<int64_t>::max())};
      finish_call(s);
      return s;
    }
    s.task = task();
    s.task_written = s.task != "main" || *rc::gen::arbitrary<bool>();
    if (const auto it = pending_.find(s.task); it != pending_.end()) {
      s.task_written = true;  // a resume line always names its task
      s.call = blank_call(it->second.call);
      s.comment = comment();
      if (*rc::gen::inRange(0, 3) == 0) {
        s.kind = Step::Kind::kResumeBlocked;
        return s;
      }
      s.kind = Step::Kind::kResume;
      s.expect = results(it->second.call, true);
      pending_.erase(it);
      return s;
    }
    const auto fd = [&] { return FdRef{name(), {}}; };
    switch (*rc::gen::inRange(0, 13)) {
      case 0: s.call = Read{fd(), *rc::gen::arbitrary<int64_t>()}; break;
      case 1: s.call = Write{fd(), *rc::gen::arbitrary<int64_t>()}; break;
      case 2: s.call = Fill{fd(), chunk()}; break;
      case 3: s.call = Drain{fd(), chunk()}; break;
      case 4: s.call = EventfdWrite{fd(), *rc::gen::arbitrary<int64_t>()}; break;
      case 5:
        s.call = Shutdown{fd(), *rc::gen::arbitrary<bool>() ? *rc::gen::inRange(0, 3) : *rc::gen::arbitrary<int32_t>()};
        break;
      case 6: {
        EpollCtl c{fd(), *rc::gen::arbitrary<bool>() ? *rc::gen::inRange(1, 4) : *rc::gen::arbitrary<int32_t>(), fd(),
                   std::nullopt, {}};
        if (c.op != EpollCtl::kDel) {
          c.events = FlagArg{gen_mask(FlagContext::kEpollEvents), ""};
          if (*rc::gen::inRange(0, 4) == 0) {
            std::tie(c.events->value, c.events->written) = gen_foreign_flags(FlagContext::kEpollEvents);
          }
          if (*rc::gen::arbitrary<bool>()) c.label = label();
        }
        s.call = std::move(c);
        break;
      }
      case 7: s.call = EpollWait{fd(), *rc::gen::arbitrary<int32_t>(), *rc::gen::arbitrary<int32_t>()}; break;
      case 8: {
        Poll c;
        std::vector<std::string> polled = names_;
        const size_t n = *rc::gen::inRange<size_t>(0, std::min<size_t>(4, polled.size()) + 1);
        for (size_t i = 0; i < n; ++i) {
          c.fds.push_back({FdRef{polled[i], {}}, {gen_mask(FlagContext::kPollEvents), ""}});
          if (*rc::gen::inRange(0, 4) == 0) {
            std::tie(c.fds.back().events.value, c.fds.back().events.written) = gen_foreign_flags(FlagContext::kPollEvents);
          }
        }
        c.timeout_ms = *rc::gen::arbitrary<int32_t>();
        s.call = std::move(c);
        break;
      }
      case 9: s.call = Close{fd()}; break;
      case 11: s.call = EpollPwait2{fd(), *rc::gen::arbitrary<int32_t>(), *rc::gen::arbitrary<int64_t>()}; break;
      case 10: s.call = EventfdRead{fd()}; break;
      default: s.call = Dup{fd()}; break;
    }
    finish_call(s);
    return s;
  }

  int64_t chunk() {
    return *rc::gen::arbitrary<bool>() ? 0 : *rc::gen::inRange<int64_t>(1, std::numeric_limits<int64_t>::max());
  }

  // A flag set, now and then spelled with names of other families.
  FlagArg flag_arg(FlagContext ctx) {
    FlagArg f{gen_int_flags(ctx), ""};
    if (*rc::gen::inRange(0, 4) == 0) std::tie(f.value, f.written) = gen_foreign_flags(ctx);
    return f;
  }

  Step creating_call(const std::string& task) {
    Step s;
    s.task = task;
    s.task_written = s.task != "main" || *rc::gen::arbitrary<bool>();
    const int which = *rc::gen::inRange(0, 4);
    if (pending_.contains(s.task)) {  // the task is busy: let main create it
      s.task = "main";
      if (pending_.contains("main")) {
        s.call = Sleep{1};
        s.task_written = false;
        s.comment = comment();
        return s;
      }
    }
    switch (which) {
      case 0: s.call = Pipe2{flag_arg(FlagContext::kPipe2)}; break;
      case 1: {
        const int64_t domain = *rc::gen::arbitrary<bool>() ? 1 : *rc::gen::arbitrary<int32_t>();
        s.call = Socketpair{domain, flag_arg(FlagContext::kSocketType)};
        break;
      }
      case 2: {
        const int64_t initval = *rc::gen::arbitrary<uint32_t>();
        s.call = Eventfd2{initval, flag_arg(FlagContext::kEventfd2)};
        break;
      }
      default: s.call = EpollCreate1{flag_arg(FlagContext::kEpollCreate1)}; break;
    }
    finish_call(s);
    return s;
  }

  // Decides whether the call is checked, unchecked or pending; binds its names.
  void finish_call(Step& s) {
    s.comment = comment();
    const int how = *rc::gen::inRange(0, 6);
    if (how == 0 && call_info(s.call).in_task) {
      s.kind = Step::Kind::kPendingCall;
      pending_[s.task] = s;
    } else if (how != 1) {
      s.expect = results(s.call, true);
    }
  }

  Expect results(const CallArgs& call, bool bind) {
    const ResultShape shape = call_info(call).result;
    Expect e;
    const int alts = *rc::gen::inRange(1, 3);
    std::vector<std::string> fresh;
    for (int i = 0; i < names_bound(shape); ++i) fresh.push_back("n" + std::to_string(next_name_++));
    bool bound = false;
    for (int i = 0; i < alts; ++i) {
      ResultAlt r;
      const int kind = *rc::gen::inRange(0, 6);
      if (kind == 0) {
        r.kind = ResultAlt::Kind::kAny;
      } else if (kind == 1) {
        r.kind = ResultAlt::Kind::kError;
        do {
          r.value = *rc::gen::inRange(1, 134);
        } while (errno_name(r.value).empty());
      } else if (names_bound(shape) > 0) {
        r.kind = ResultAlt::Kind::kBind;
        r.names = fresh;
        bound = true;
      } else if (shape == ResultShape::kEpollEvents) {
        r.kind = ResultAlt::Kind::kEvents;
        const int n = *rc::gen::inRange(0, 4);
        for (int j = 0; j < n; ++j) r.events.push_back(EventSpec{label(), gen_mask(FlagContext::kEpollEvents)});
      } else if (shape == ResultShape::kPollEvents) {
        r.kind = ResultAlt::Kind::kEvents;
        for (const PollEntry& polled : *poll_list_of(call)) {
          if (*rc::gen::arbitrary<bool>())
            r.events.push_back(EventSpec{polled.fd.name, gen_mask(FlagContext::kPollEvents)});
        }
      } else {
        r.kind = ResultAlt::Kind::kValue;
        if (shape == ResultShape::kCounter) {
          r.value = *rc::gen::arbitrary<int64_t>();
        } else if (shape == ResultShape::kCount) {
          r.value = *rc::gen::inRange<int64_t>(0, std::numeric_limits<int64_t>::max());
        }
      }
      e.alts.push_back(r);
    }
    if (bind && bound) {
      for (const auto& n : fresh) names_.push_back(n);
    }
    return e;
  }

  std::string task() { return *rc::gen::elementOf(std::vector<std::string>{"main", "main", "t1", "t2", "worker_3"}); }
  std::string name() { return *rc::gen::elementOf(names_); }
  std::string label() {
    return *rc::gen::arbitrary<bool>() ? name() : *rc::gen::elementOf(std::vector<std::string>{"x", "lbl_2", "data"});
  }
  std::string comment() {
    if (*rc::gen::inRange(0, 3) != 0) return "";
    return *gen_text(kTextAlphabet + "#@", 0, 30);
  }

  std::vector<std::string> names_;
  std::map<std::string, Step> pending_;
  int next_name_ = 0;
};

RC_GTEST_PROP(TraceProperties, RandomBytesNeverCrashTheParser, ()) {
  const std::string text = *rc::gen::arbitrary<std::string>();
  check_any_text(text);
}

RC_GTEST_PROP(TraceProperties, TraceLikeTextNeverCrashesTheParser, ()) {
  const std::string text = *trace_like_text();
  check_any_text(text);
}

RC_GTEST_PROP(TraceProperties, MutatedExamplesNeverCrashTheParser, ()) {
  const std::string base = *rc::gen::elementOf(std::vector<std::string>{kExample, kTasksExample, kEverything});
  check_any_text(mutate(base));
}

RC_GTEST_PROP(TraceProperties, MutatedGeneratedTracesNeverCrashTheParser, ()) {
  const Program p = ProgramGen().build();
  check_any_text(mutate(print_trace_canonical(p)));
}

RC_GTEST_PROP(TraceProperties, GeneratedProgramsPrintAndParseBack, ()) {
  const Program p = ProgramGen().build();
  const std::string text = print_trace_canonical(p);
  const ParseResult r = parse_trace(text, "gen.trace");
  if (!r) RC_FAIL(r.error().str() + "\n" + text);
  const auto same = same_program(p, r.program());
  if (!same) RC_FAIL(std::string(same.message()) + "\n" + text);
  RC_ASSERT(print_trace(r.program()) == text);
  RC_ASSERT(print_trace(p) == text);  // no source lines: canonical
}

}  // namespace

namespace {

// A hostile trace's megabyte name is quoted cut short, with its length, not whole.
TEST(TraceParser, ErrorsQuoteLongNamesCutShort) {
  const std::string name(1000000, 'a');
  const ParseError e = parse_err("read(" + name + ", 1)\n");
  EXPECT_EQ(e.str(), "t.trace:1:6: name '" + name.substr(0, 60) + "...' (1000000 bytes) is not bound");
  EXPECT_EQ(parse_err("read(ab, 1)\n").str(), "t.trace:1:6: name 'ab' is not bound");
}

}  // namespace
