#include "oracle/trace/step_syntax.h"

#include <fmt/format.h>

#include <limits>

#include "oracle/trace/calls.h"
#include "oracle/trace/flags.h"

namespace eo {
namespace {

constexpr int64_t kInt32Min = std::numeric_limits<int32_t>::min();
constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
constexpr int64_t kUint32Max = std::numeric_limits<uint32_t>::max();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

// Reads one step line; holds what it needs to check names and tasks.
class StepReader {
 public:
  StepReader(std::string_view line, int line_no, const Scope& scope)
      : cur_(lex_line(line), line_no), line_no_(line_no), scope_(scope) {}

  ParsedStep read() {
    Step& s = out_.step;
    s.pos = pos(cur_.peek());
    if (cur_.at(Tok::kName) && cur_.peek(1).kind == Tok::kColon) {
      s.task = std::string(cur_.next().text);
      s.task_written = true;
      cur_.next();
    }
    std::string_view after;  // what may follow the step, for the message at its end
    if (cur_.at(Tok::kEllipsis)) {
      after = read_resume();
    } else {
      after = read_call();
    }
    if (cur_.at(Tok::kComment)) s.comment = std::string(cur_.next().text);
    if (!cur_.at(Tok::kEnd)) cur_.fail_expected(after);
    return std::move(out_);
  }

 private:
  Pos pos(const Token& t) const { return Pos{line_no_, t.col}; }

  std::string_view read_resume() {
    Step& s = out_.step;
    const Token& dots = cur_.next();
    if (!s.task_written) {
      cur_.fail_at(dots.col, "a resume line names its task: 'TASK: ... = RESULT'");
    }
    const auto it = scope_.pending.find(s.task);
    if (it == scope_.pending.end()) {
      cur_.fail_at(s.pos.col, fmt::format("resume line for task '{}' which has no pending call", s.task));
    }
    const Step& pending = it->second;
    s.call = pending.call;
    if (cur_.accept(Tok::kEquals)) {
      s.kind = Step::Kind::kResume;
      read_results(pending.args);
      return "'or' or the end of the line after the result";
    }
    if (cur_.at(Tok::kName) && cur_.peek().text == "blocked") {
      cur_.next();
      s.kind = Step::Kind::kResumeBlocked;
      return "the end of the line after 'blocked'";
    }
    cur_.fail_expected("'= RESULT' or 'blocked' after '...'");
  }

  std::string_view read_call() {
    Step& s = out_.step;
    const Token& name = cur_.expect(Tok::kName, "a call such as epoll_wait(...), or a task name and ':'");
    const auto call = call_by_name(name.text);
    if (!call) {
      const auto guess = closest_call_name(name.text);
      cur_.fail_at(name.col, guess ? fmt::format("unknown call '{}' (did you mean '{}'?)", name.text, *guess)
                                   : fmt::format("unknown call '{}'", name.text));
    }
    s.call = *call;
    if (s.call == Call::kSleep && s.task_written) {
      cur_.fail_at(s.pos.col, "sleep takes no task prefix (it advances the time of every task)");
    }
    if (scope_.check && s.call != Call::kSleep) {
      const auto it = scope_.pending.find(s.task);
      if (it != scope_.pending.end()) {
        cur_.fail_at(s.pos.col, fmt::format("task '{}' already has a pending call (at {}:{})", s.task,
                                            it->second.pos.line, it->second.pos.col));
      }
    }
    cur_.expect(Tok::kLParen, fmt::format("'(' after '{}'", name.text));
    read_args();
    if (cur_.accept(Tok::kEquals)) {
      read_results(s.args);
      return "'or' or the end of the line after the result";
    }
    if (cur_.at(Tok::kEllipsis)) {
      if (s.call == Call::kSleep) {
        cur_.fail_at(cur_.peek().col, "sleep is never pending: expected '= 0' or the end of the line");
      }
      cur_.next();
      s.kind = Step::Kind::kPendingCall;
      return "the end of the line after '...'";
    }
    return "'= RESULT', '...' or the end of the line after ')'";
  }

  // ---- arguments -------------------------------------------------------------------

  void read_args() {
    Step& s = out_.step;
    Args& a = s.args;
    switch (s.call) {
      case Call::kPipe2:
        a.n = arg_flag_set(FlagContext::kPipe2, "FLAGS", true);
        break;
      case Call::kSocketpair:
        a.op = arg_value(FlagContext::kSocketDomain, "DOMAIN", true);
        a.n2 = arg_flag_set(FlagContext::kSocketType, "TYPE", false);
        break;
      case Call::kEventfd2:
        a.n = arg_number("INITVAL", true, 0, kUint32Max);
        a.n2 = arg_flag_set(FlagContext::kEventfd2, "FLAGS", false);
        break;
      case Call::kEpollCreate1:
        a.n = arg_flag_set(FlagContext::kEpollCreate1, "FLAGS", true);
        break;
      case Call::kDup:
      case Call::kClose:
      case Call::kEventfdRead:
        arg_fd("FD", true);
        break;
      case Call::kRead:
      case Call::kWrite:
        arg_fd("FD", true);
        a.n = arg_number("N", false, std::numeric_limits<int64_t>::min(), kInt64Max);
        break;
      case Call::kFill:
      case Call::kDrain:
        arg_fd("FD", true);
        if (cur_.at(Tok::kComma)) a.n = arg_number("CHUNK", false, 1, kInt64Max);
        break;
      case Call::kEventfdWrite:
        arg_fd("FD", true);
        a.n = arg_u64("VALUE");
        break;
      case Call::kShutdown:
        arg_fd("FD", true);
        a.op = arg_value(FlagContext::kShutdownHow, "HOW", false);
        break;
      case Call::kEpollCtl:
        read_epoll_ctl_args();
        return;  // checks its own end
      case Call::kEpollWait:
        arg_fd("EP", true);
        a.n = arg_number("MAXEVENTS", false, kInt32Min, kInt32Max);
        a.n2 = arg_number("TIMEOUT_MS", false, kInt32Min, kInt32Max);
        break;
      case Call::kPoll:
        read_poll_list();
        a.n2 = arg_number("TIMEOUT_MS", false, kInt32Min, kInt32Max);
        break;
      case Call::kSleep:
        a.n = arg_number("MS", true, 0, kInt64Max);
        break;
    }
    close_args();
  }

  std::string signature() const { return std::string(call_signature(out_.step.call)); }

  // The ',' before an argument (none before the first).
  void before_arg(std::string_view what, bool first) {
    if (first) return;
    cur_.expect(Tok::kComma, fmt::format("',' and {} ({})", what, signature()));
  }

  void close_args() {
    if (cur_.at(Tok::kComma)) {
      cur_.fail_expected(fmt::format("')' after the last argument ({})", signature()));
    }
    cur_.expect(Tok::kRParen, fmt::format("')' after the arguments ({})", signature()));
  }

  void arg_fd(std::string_view what, bool first) {
    before_arg(what, first);
    if (!cur_.at(Tok::kName)) cur_.fail_expected(fmt::format("a descriptor name for {} ({})", what, signature()));
    use_fd(cur_.next());
  }

  void use_fd(const Token& t) {
    const std::string name(t.text);
    if (scope_.check && !scope_.names.contains(name)) {
      cur_.fail_at(t.col, fmt::format("name '{}' is not bound", name));
    }
    out_.step.args.fds.push_back(name);
    out_.step.args.fd_pos.push_back(pos(t));
  }

  // The call's flag-set argument: names of any family; a foreign spelling is kept.
  int64_t arg_flag_set(FlagContext ctx, std::string_view what, bool first) {
    before_arg(what, first);
    FlagSet set = read_flags(ctx, FlagUse::kArgument, cur_);
    out_.step.args.flags_written = std::move(set.written);
    return set.value;
  }

  // A single value with its own names: OP, HOW, DOMAIN.
  int64_t arg_value(FlagContext ctx, std::string_view what, bool first) {
    before_arg(what, first);
    return read_flags(ctx, FlagUse::kArgument, cur_).value;
  }

  // [-]NUMBER within [min, max].
  int64_t number(std::string_view what, int64_t min, int64_t max) {
    const Token& start = cur_.peek();
    if (start.kind != Tok::kNumber && start.kind != Tok::kMinus)
      cur_.fail_expected(fmt::format("a number for {}", what));
    const bool negative = cur_.accept(Tok::kMinus);
    const Token& n = cur_.expect(Tok::kNumber, negative ? "a number after '-'" : fmt::format("a number for {}", what));
    const bool fits = negative ? (min < 0 && n.number <= static_cast<uint64_t>(-(min + 1)) + 1)
                               : n.number <= static_cast<uint64_t>(max);
    const int64_t v = negative ? static_cast<int64_t>(-n.number) : static_cast<int64_t>(n.number);
    if (!fits || v < min || v > max) {
      cur_.fail_at(start.col, fmt::format("{} out of range: expected a number from {} to {}", what, min, max));
    }
    return v;
  }

  int64_t arg_number(std::string_view what, bool first, int64_t min, int64_t max) {
    before_arg(what, first);
    return number(what, min, max);
  }

  // A 64-bit unsigned value (eventfd_write VALUE), kept bit for bit in an int64_t; a
  // negative number is taken modulo 2^64 as C does.
  int64_t arg_u64(std::string_view what) {
    before_arg(what, false);
    const bool negative = cur_.accept(Tok::kMinus);
    const Token& n = cur_.expect(Tok::kNumber, negative ? "a number after '-'" : fmt::format("a number for {}", what));
    return static_cast<int64_t>(negative ? -n.number : n.number);
  }

  void read_epoll_ctl_args() {
    Args& a = out_.step.args;
    arg_fd("EP", true);
    const Token& op_token = cur_.peek(1);
    a.op = arg_value(FlagContext::kEpollCtlOp, "OP", false);
    arg_fd("FD", false);
    std::string op_name =
        op_token.kind == Tok::kName ? std::string(op_token.text) : format_flags(FlagContext::kEpollCtlOp, a.op);
    if (!flag_value(FlagContext::kEpollCtlOp, op_name)) op_name = fmt::format("op {}", a.op);
    if (a.op == 2) {  // EPOLL_CTL_DEL
      if (cur_.accept(Tok::kComma)) {
        cur_.fail_at(cur_.peek().col, fmt::format("{} takes no {}", op_name, is_data(0) ? "data=LABEL" : "EVENTS"));
      }
      close_args();
      return;
    }
    if (cur_.at(Tok::kRParen) || (cur_.at(Tok::kComma) && is_data(1))) {
      cur_.fail_at(cur_.peek().col, fmt::format("EVENTS required for {}", op_name));
    }
    a.events = static_cast<uint32_t>(arg_flag_set(FlagContext::kEpollEvents, "EVENTS", false));
    a.has_events = true;
    if (cur_.accept(Tok::kComma)) {
      if (!is_data(0)) cur_.fail_expected("'data=LABEL' or ')' after EVENTS");
      cur_.next();
      cur_.next();
      a.label = std::string(cur_.expect(Tok::kName, "a label after 'data='").text);
    }
    close_args();
  }

  bool is_data(size_t ahead) const {
    return cur_.peek(ahead).kind == Tok::kName && cur_.peek(ahead).text == "data" &&
           cur_.peek(ahead + 1).kind == Tok::kEquals;
  }

  void read_poll_list() {
    Args& a = out_.step.args;
    cur_.expect(Tok::kLBracket, "'[' and the descriptors to poll ([FD: EVENTS, ...])");
    if (cur_.accept(Tok::kRBracket)) return;
    do {
      if (!cur_.at(Tok::kName)) cur_.fail_expected("a descriptor name in the poll list");
      const Token& fd = cur_.next();
      for (size_t i = 0; i < a.poll.size(); ++i) {
        if (a.poll[i].name == fd.text) {
          cur_.fail_at(fd.col, fmt::format("descriptor '{}' appears twice in the poll list (at {}:{})", fd.text,
                                           a.fd_pos[i].line, a.fd_pos[i].col));
        }
      }
      use_fd(fd);
      cur_.expect(Tok::kColon, fmt::format("':' and the events after '{}'", fd.text));
      FlagSet events = read_flags(FlagContext::kPollEvents, FlagUse::kArgument, cur_);
      a.poll.push_back(EventSpec{std::string(fd.text), static_cast<uint32_t>(events.value), std::move(events.written)});
    } while (cur_.accept(Tok::kComma));
    cur_.expect(Tok::kRBracket, "',' or ']' after the events");
  }

  // ---- results -----------------------------------------------------------------------

  // RESULT ('or' RESULT)*; call_args are the arguments of the call the result is for.
  void read_results(const Args& call_args) {
    Expect& e = out_.step.expect;
    e.pos = pos(cur_.peek());
    do {
      e.alts.push_back(read_result(call_args));
    } while (accept_or());
    check_binds();
  }

  bool accept_or() {
    if (cur_.at(Tok::kName) && cur_.peek().text == "or") {
      cur_.next();
      return true;
    }
    return false;
  }

  ResultAlt read_result(const Args& call_args) {
    const Call call = out_.step.call;
    ResultAlt r;
    if (cur_.accept(Tok::kStar)) {
      r.kind = ResultAlt::Kind::kAny;
      return r;
    }
    if (cur_.at(Tok::kMinus)) {
      const Token& minus = cur_.next();
      const Token& one = cur_.expect(Tok::kNumber, "1 and an errno name after '-' (like -1 EBADF)");
      if (one.number != 1) cur_.fail_at(minus.col, "a failing call is written '-1 ERRNO' (like -1 EBADF)");
      if (!cur_.at(Tok::kName)) cur_.fail_expected("an errno name after '-1' (like EBADF)");
      const Token& name = cur_.next();
      const auto number = errno_number(name.text);
      if (!number) cur_.fail_at(name.col, fmt::format("unknown errno name '{}'", name.text));
      r.kind = ResultAlt::Kind::kError;
      r.value = *number;
      return r;
    }
    switch (call) {
      case Call::kPipe2:
      case Call::kSocketpair:
        return read_bind_pair(call == Call::kPipe2 ? "'[READ_END, WRITE_END]'" : "'[A, B]'");
      case Call::kEventfd2:
      case Call::kEpollCreate1:
      case Call::kDup:
        if (!cur_.at(Tok::kName)) cur_.fail_expected("a name for the new descriptor, '*' or '-1 ERRNO'");
        r.kind = ResultAlt::Kind::kBind;
        r.names.push_back(bind_name());
        return r;
      case Call::kEpollWait:
      case Call::kPoll:
        return read_events(call_args);
      case Call::kClose:
      case Call::kShutdown:
      case Call::kEpollCtl:
      case Call::kEventfdWrite:
      case Call::kSleep: {
        const Token& t = cur_.peek();
        if (t.kind != Tok::kNumber || t.number != 0) {
          cur_.fail_expected(fmt::format("0, '*' or '-1 ERRNO' ({} returns 0)", call_name(call)));
        }
        cur_.next();
        r.kind = ResultAlt::Kind::kValue;
        return r;
      }
      case Call::kEventfdRead: {  // the counter: 64 bits, kept bit for bit
        const Token& t = cur_.expect(Tok::kNumber, "the counter value, '*' or '-1 ERRNO'");
        r.kind = ResultAlt::Kind::kValue;
        r.value = static_cast<int64_t>(t.number);
        return r;
      }
      case Call::kRead:
      case Call::kWrite:
      case Call::kFill:
      case Call::kDrain: {
        const Token& t = cur_.expect(Tok::kNumber, "the number of bytes, '*' or '-1 ERRNO'");
        if (t.number > static_cast<uint64_t>(kInt64Max)) cur_.fail_at(t.col, "number of bytes out of range");
        r.kind = ResultAlt::Kind::kValue;
        r.value = static_cast<int64_t>(t.number);
        return r;
      }
    }
    return r;
  }

  ResultAlt read_bind_pair(std::string_view shape) {
    ResultAlt r;
    r.kind = ResultAlt::Kind::kBind;
    if (!cur_.at(Tok::kLBracket)) cur_.fail_expected(fmt::format("{}, '*' or '-1 ERRNO'", shape));
    cur_.next();
    if (!cur_.at(Tok::kName)) cur_.fail_expected(fmt::format("a name for the first descriptor of {}", shape));
    r.names.push_back(bind_name());
    cur_.expect(Tok::kComma, fmt::format("',' and the second name of {}", shape));
    if (!cur_.at(Tok::kName)) cur_.fail_expected(fmt::format("a name for the second descriptor of {}", shape));
    r.names.push_back(bind_name());
    cur_.expect(Tok::kRBracket, fmt::format("']' after the two names of {}", shape));
    return r;
  }

  // A name a creating call binds; where it was written is kept to check it later.
  std::string bind_name() {
    const Token& t = cur_.next();
    if (t.text == "or") cur_.fail_at(t.col, "'or' cannot be a name: it separates alternative results");
    bind_pos_.emplace_back(std::string(t.text), pos(t));
    return std::string(t.text);
  }

  ResultAlt read_events(const Args& call_args) {
    const bool is_poll = out_.step.call == Call::kPoll;
    const std::string_view shape = is_poll ? "'[FD: REVENTS, ...]'" : "'[LABEL: MASK, ...]'";
    ResultAlt r;
    r.kind = ResultAlt::Kind::kEvents;
    if (!cur_.at(Tok::kLBracket)) {
      cur_.fail_expected(fmt::format("the events returned {} or '[]', '*' or '-1 ERRNO'", shape));
    }
    cur_.next();
    if (cur_.accept(Tok::kRBracket)) return r;
    size_t next_poll = 0;  // poll results follow the argument order
    do {
      if (!cur_.at(Tok::kName)) cur_.fail_expected(is_poll ? "a descriptor name" : "a label");
      const Token& name = cur_.next();
      if (is_poll) next_poll = check_poll_result(call_args, name, next_poll);
      cur_.expect(Tok::kColon, fmt::format("':' and the mask after '{}'", name.text));
      // Results keep to their own family: they are compared and printed by bit value.
      const auto mask = read_flags(is_poll ? FlagContext::kPollEvents : FlagContext::kEpollEvents, FlagUse::kResult, cur_);
      r.events.push_back(EventSpec{std::string(name.text), static_cast<uint32_t>(mask.value)});
    } while (cur_.accept(Tok::kComma));
    cur_.expect(Tok::kRBracket, "',' or ']' after the mask");
    return r;
  }

  // A poll result names a descriptor of the poll list, after the one before it.
  size_t check_poll_result(const Args& call_args, const Token& name, size_t next) {
    for (size_t i = 0; i < call_args.poll.size(); ++i) {
      if (call_args.poll[i].name != name.text) continue;
      if (i < next) {
        cur_.fail_at(
            name.col,
            fmt::format("'{}' is out of order: poll results list descriptors in argument order, each once", name.text));
      }
      return i + 1;
    }
    cur_.fail_at(name.col, fmt::format("'{}' is not in the poll list", name.text));
  }

  // Every alternative binds the same names; none of them was bound before.
  void check_binds() {
    const Expect& e = out_.step.expect;
    const ResultAlt* first = nullptr;
    size_t k = 0;  // index into bind_pos_, in the order the names were read
    for (const auto& alt : e.alts) {
      if (alt.kind != ResultAlt::Kind::kBind) continue;
      if (first == nullptr) {
        first = &alt;
        for (size_t i = 0; i < alt.names.size(); ++i) {
          const auto& [name, where] = bind_pos_[k + i];
          for (size_t j = 0; j < i; ++j) {
            if (alt.names[j] == name) cur_.fail_at(where.col, already_bound(name, bind_pos_[k + j].second));
          }
          if (scope_.check) {
            const auto it = scope_.names.find(name);
            if (it != scope_.names.end()) cur_.fail_at(where.col, already_bound(name, it->second));
          }
          out_.binds.push_back(bind_pos_[k + i]);
        }
      } else if (alt.names != first->names) {
        cur_.fail_at(bind_pos_[k].second.col, "every alternative must bind the same names as the first");
      }
      k += alt.names.size();
    }
  }

  static std::string already_bound(const std::string& name, Pos at) {
    return fmt::format("name '{}' is already bound (at {}:{})", name, at.line, at.col);
  }

  TokenCursor cur_;
  int line_no_;
  const Scope& scope_;
  ParsedStep out_;
  std::vector<std::pair<std::string, Pos>> bind_pos_;  // every bound name read, in order
};

Step without_positions(Step s) {
  s.task_written = false;  // `main: ` or not: the same task
  s.pos = {};
  s.expect.pos = {};
  s.args.fd_pos.clear();
  return s;
}

}  // namespace

ParsedStep parse_step_line(std::string_view line, int line_no, const Scope& scope) {
  return StepReader(line, line_no, scope).read();
}

void apply_step(Scope& scope, const Step& step, const std::vector<std::pair<std::string, Pos>>& binds) {
  for (const auto& [name, where] : binds) scope.names.emplace(name, where);
  if (step.kind == Step::Kind::kPendingCall) scope.pending[step.task] = step;
  if (step.kind == Step::Kind::kResume) scope.pending.erase(step.task);
}

bool same_step(const Step& a, const Step& b) { return without_positions(a) == without_positions(b); }

}  // namespace eo
