// The in-memory form of a trace (docs/LANGUAGE.md): directives, steps,
// expected results. Parsed by oracle/trace, consumed by both executors. Header only, no
// dependencies beyond the standard library.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace eo {

// Where something was written: 1-based line and column.
struct Pos {
  int line = 0;
  int col = 0;
  friend bool operator==(const Pos&, const Pos&) = default;
};

enum class Call {
  kPipe2,          // pipe2(FLAGS) = [R, W]
  kSocketpair,     // socketpair(DOMAIN, TYPE) = [A, B]
  kEventfd2,       // eventfd2(INITVAL, FLAGS) = NAME
  kEpollCreate1,   // epoll_create1(FLAGS) = NAME
  kDup,            // dup(FD) = NAME
  kClose,          // close(FD) = 0
  kRead,           // read(FD, N) = bytes
  kWrite,          // write(FD, N) = bytes
  kFill,           // fill(FD[, CHUNK]) = total bytes
  kDrain,          // drain(FD[, CHUNK]) = total bytes
  kEventfdWrite,   // eventfd_write(FD, VALUE) = 0
  kEventfdRead,    // eventfd_read(FD) = value
  kShutdown,       // shutdown(FD, HOW) = 0
  kEpollCtl,       // epoll_ctl(EP, OP, FD[, EVENTS][, data=LABEL]) = 0
  kEpollWait,      // epoll_wait(EP, MAXEVENTS, TIMEOUT) = [LABEL: MASK, ...]
  kPoll,           // poll([FD: EVENTS, ...], TIMEOUT) = [FD: REVENTS, ...]
  kSleep,          // sleep(MS) = 0
};

// One reported event: an epoll label with its mask, or a poll fd name with its revents.
struct EventSpec {
  std::string name;
  uint32_t mask = 0;
  std::string written = {};  // poll EVENTS: the mask as written if it names another family's flags, else ""
  friend bool operator==(const EventSpec&, const EventSpec&) = default;
};

// One allowed result.
struct ResultAlt {
  enum class Kind {
    kAny,     // *: succeeded, value not checked
    kValue,   // a number (bytes, 0, counter value)
    kError,   // -1 ERRNO
    kBind,    // names bound by a creating call: "ep" or "[r, w]"
    kEvents,  // [LABEL: MASK, ...] (epoll_wait) or [FD: REVENTS, ...] (poll)
  };
  Kind kind = Kind::kAny;
  int64_t value = 0;                // kValue; for kError the errno number
  std::vector<std::string> names;   // kBind
  std::vector<EventSpec> events;    // kEvents
  friend bool operator==(const ResultAlt&, const ResultAlt&) = default;
};

// An expected result: empty alts means "not checked" (the step had no `= RESULT`).
struct Expect {
  std::vector<ResultAlt> alts;  // `A or B`: any of them
  Pos pos;                      // of the result text, for messages
  bool checked() const { return !alts.empty(); }
  friend bool operator==(const Expect&, const Expect&) = default;
};

// The arguments of a call; which fields are used depends on the call (see Call).
struct Args {
  std::vector<std::string> fds;  // descriptor names in argument order (EP before FD)
  std::vector<Pos> fd_pos;       // where each was written
  int64_t n = 0;                 // flags, N, CHUNK (0 = default), VALUE, MAXEVENTS, MS, INITVAL
  int64_t n2 = 0;                // second number: eventfd2 FLAGS, socketpair TYPE, epoll_wait TIMEOUT, poll TIMEOUT
  int64_t op = 0;                // epoll_ctl OP; shutdown HOW; socketpair DOMAIN
  // The flag-set argument (pipe2 and eventfd2 FLAGS, socketpair TYPE, epoll_create1 FLAGS,
  // epoll_ctl EVENTS) as written when it names another family's flags, e.g. O_NONBLOCK in
  // epoll_create1; printers keep it. "" = printed canonically.
  std::string flags_written;
  bool has_events = false;       // epoll_ctl: EVENTS given
  uint32_t events = 0;           // epoll_ctl EVENTS
  std::string label;             // epoll_ctl data=LABEL ("" = the fd's name)
  std::vector<EventSpec> poll;   // poll: [FD: EVENTS, ...]
  friend bool operator==(const Args&, const Args&) = default;
};

struct Step {
  enum class Kind {
    kCall,           // [TASK:] CALL(ARGS) [= RESULT]
    kPendingCall,    // [TASK:] CALL(ARGS) ...      (expected to block)
    kResume,         // TASK: ... = RESULT          (the pending call has returned)
    kResumeBlocked,  // TASK: ... blocked           (the pending call is still blocked)
  };
  Kind kind = Kind::kCall;
  std::string task = "main";
  bool task_written = false;  // the task prefix was written (for printing)
  Call call = Call::kSleep;   // kCall/kPendingCall
  Args args;
  Expect expect;              // kCall/kResume
  Pos pos;                    // start of the step
  std::string comment;        // trailing "# ..." text without the '#', or ""
  friend bool operator==(const Step&, const Step&) = default;
};

// One line of the source as written, so that printing reproduces it exactly: a directive,
// a step (index into steps), a blank line or a comment line.
struct Line {
  enum class Kind { kBlank, kComment, kDirective, kStep };
  Kind kind = Kind::kBlank;
  std::string text;  // the line as written (without the newline)
  int step = -1;     // kStep: index into Program::steps
  friend bool operator==(const Line&, const Line&) = default;
};

// One bound of an @kernel range: OP VERSION, e.g. >=5.15.
struct VersionBound {
  std::string op;  // ">=", ">", "<=", "<", "=="
  int major = 0, minor = 0, patch = 0;
  friend bool operator==(const VersionBound&, const VersionBound&) = default;
};

struct Program {
  std::string file;   // where it was read from, for messages
  std::string title;  // @title
  // @kernel: alternatives (|) of conjunctions (,); empty = every kernel.
  std::vector<std::vector<VersionBound>> kernel;
  std::string kernel_text;          // @kernel as written
  std::vector<std::string> tags;    // @tags
  // @belief VERDICT: WHY (docs/LANGUAGE.md "Directives").
  std::string belief_verdict;       // "true", "false", "partly" or ""
  std::string belief_why;
  std::vector<Step> steps;
  std::vector<Line> lines;          // the source, line by line
  // Whether the kernel version (major, minor, patch) is inside @kernel.
  bool kernel_matches(int major, int minor, int patch) const;
};

inline bool Program::kernel_matches(int major, int minor, int patch) const {
  if (kernel.empty()) return true;
  auto cmp = [&](const VersionBound& b) {
    const long v = (long{major} << 32) | (long{minor} << 16) | patch;
    const long w = (long{b.major} << 32) | (long{b.minor} << 16) | b.patch;
    if (b.op == ">=") return v >= w;
    if (b.op == ">") return v > w;
    if (b.op == "<=") return v <= w;
    if (b.op == "<") return v < w;
    return v == w;
  };
  for (const auto& conj : kernel) {
    bool all = true;
    for (const auto& b : conj) all = all && cmp(b);
    if (all) return true;
  }
  return false;
}

}  // namespace eo
