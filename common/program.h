// The in-memory form of a trace (docs/LANGUAGE.md): directives, steps, expected results.
// Parsed by oracle/trace, consumed by both executors. The calls and their arguments are
// the schema's (common/calls.h).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/calls.h"
#include "common/pos.h"

namespace eo {

// One reported event: an epoll label with its mask, or a poll fd name with its revents.
struct EventSpec {
  std::string name;
  uint32_t mask = 0;
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
    kNumbers, // a list of numbers: [LEN, PRIO] (mq_receive)
  };
  Kind kind = Kind::kAny;
  int64_t value = 0;                // kValue; for kError the errno number
  std::vector<std::string> names;   // kBind
  std::vector<EventSpec> events;    // kEvents
  std::vector<int64_t> numbers;     // kNumbers
  friend bool operator==(const ResultAlt&, const ResultAlt&) = default;
};

// An expected result: empty alts means "not checked" (the step had no `= RESULT`).
struct Expect {
  std::vector<ResultAlt> alts;  // `A or B`: any of them
  Pos pos;                      // of the result text, for messages
  bool checked() const { return !alts.empty(); }
  friend bool operator==(const Expect&, const Expect&) = default;
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
  // kCall/kPendingCall: the call and its arguments. Resume lines: the pending call's, with
  // its arguments zero (its identity gives the shape of the result).
  CallArgs call = Sleep{};
  int resumes = -1;           // resume lines: index of the pending step they are about
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

// Links every resume line to the pending step it is about (Step::resumes: the last
// pending call of its task before it) and gives it that call (blank). The parser does it;
// code that builds or edits the steps of a program calls it again.
void link_resumes(Program& p);

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
