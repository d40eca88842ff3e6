#include "oracle/trace/step_syntax.h"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <limits>

#include "common/calls.h"
#include "oracle/trace/flags.h"

namespace eo {
namespace {

// A queue name's longest NAME: the kernel executor prefixes it (NAME_MAX is 255).
constexpr size_t kMaxMqNameChars = 200;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Reads one step line; holds what it needs to check names and tasks.
class StepReader {
 public:
  StepReader(std::string_view line, int line_no, const Scope& scope)
      : cur_(lex_line(line), line_no), line_no_(line_no), scope_(scope) {}

  ParsedStep read() {
    Step& s = out_.step;
    s.pos = pos(cur_.peek());
    if (cur_.at(Tok::kName) && cur_.peek(1).kind == Tok::kColon) {
      const Token& task = cur_.next();
      s.task = std::string(task.text);
      s.task_written = true;
      if (scope_.check) check_task(task);
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

  // A task prefix names a task (one namespace: not a descriptor) of a process that has
  // not exited; a name not seen yet starts a v1 task in main's process.
  void check_task(const Token& t) {
    if (!scope_.is_task(t.text)) {
      if (const auto it = scope_.names.find(t.text); it != scope_.names.end()) {
        cur_.fail_at(t.col, fmt::format("'{}' is a descriptor (bound at {}:{}), not a task: tasks and descriptors "
                                        "share one namespace", t.text, it->second.line, it->second.col));
      }
    }
    check_process_alive(t.text, t.col);
  }

  void check_process_alive(std::string_view task, int col) {
    const std::string& proc = scope_.process(task);
    if (const auto it = scope_.exited.find(proc); it != scope_.exited.end()) {
      cur_.fail_at(col, fmt::format("task '{}' belongs to process '{}', which exited at {}:{}: no step follows in it",
                                    task, proc, it->second.line, it->second.col));
    }
  }

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
    s.call = blank_call(pending.call);
    if (cur_.accept(Tok::kEquals)) {
      s.kind = Step::Kind::kResume;
      read_results(pending.call);
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
    s.call = std::move(*call);
    const CallInfo& info = call_info(s.call);
    if (!info.in_task && s.task_written) {
      cur_.fail_at(s.pos.col, fmt::format("{} takes no task prefix (it advances the time of every task)", info.name));
    }
    if (scope_.check && info.in_task && !s.task_written) check_process_alive("main", s.pos.col);
    if (scope_.check && info.in_task) {
      const auto it = scope_.pending.find(s.task);
      if (it != scope_.pending.end()) {
        cur_.fail_at(s.pos.col, fmt::format("task '{}' already has a pending call (at {}:{})", s.task,
                                            it->second.pos.line, it->second.pos.col));
      }
    }
    cur_.expect(Tok::kLParen, fmt::format("'(' after '{}'", name.text));
    std::visit([&](auto& args) { read_fields(args); }, s.call);
    if (binds_task(info.result) && !cur_.at(Tok::kEquals)) {
      cur_.fail_expected(fmt::format("'= TASK' after {}(): it binds the name of the new process's task", info.name));
    }
    if (info.ends_process && cur_.at(Tok::kEllipsis)) {
      cur_.fail_at(cur_.peek().col, fmt::format("{}() is never pending: expected '= 0' or the end of the line", info.name));
    }
    if (cur_.accept(Tok::kEquals)) {
      read_results(s.call);
      return "'or' or the end of the line after the result";
    }
    if (cur_.at(Tok::kEllipsis)) {
      if (!info.in_task) {
        cur_.fail_at(cur_.peek().col, fmt::format("{} is never pending: expected '= 0' or the end of the line", info.name));
      }
      cur_.next();
      s.kind = Step::Kind::kPendingCall;
      return "the end of the line after '...'";
    }
    return "'= RESULT', '...' or the end of the line after ')'";
  }

  // ---- arguments -------------------------------------------------------------------

  // The arguments of call struct S, field by field as its schema row says.
  template <class S>
  void read_fields(S& a) {
    std::array<std::string, std::tuple_size_v<decltype(S::fields())>> spelled;  // single values as written
    for_each_field<S>([&](const auto& f, int i) { read_field(a, f, i, spelled); });
    close_args();
  }

  template <class S, class T, size_t N>
  void read_field(S& a, const Field<S, T>& f, int i, std::array<std::string, N>& spelled) {
    const bool first = i == 0;
    T& v = a.*f.member;
    if (f.absent_if_field >= 0) {
      const std::string& decider = spelled[static_cast<size_t>(f.absent_if_field)];
      if (int_field(a, f.absent_if_field) == f.absent_if_value) {  // must not be written
        if (cur_.accept(Tok::kComma)) {
          const std::string what = keyword_ahead<S>(0).value_or(std::string(f.name));
          cur_.fail_at(cur_.peek().col, fmt::format("{} takes no {}", decider, what));
        }
        return;
      }
      if (!f.optional && (cur_.at(Tok::kRParen) || (cur_.at(Tok::kComma) && keyword_ahead<S>(1)))) {
        cur_.fail_at(cur_.peek().col, fmt::format("{} required for {}", f.name, decider));
      }
    }
    if constexpr (std::is_same_v<T, FdRef>) {
      v = arg_fd(f.name, first);
    } else if constexpr (std::is_same_v<T, SockRef>) {
      if (!f.optional || cur_.at(Tok::kComma)) v = arg_sock_ref(f.name, first);
    } else if constexpr (std::is_same_v<T, MqName>) {
      before_arg(f.name, first);
      const Token& t = cur_.expect(Tok::kMqName, fmt::format("a queue name /NAME ({})", signature()));
      if (t.text.size() > kMaxMqNameChars + 1) {
        cur_.fail_at(t.col, fmt::format("queue name longer than {} characters", kMaxMqNameChars));
      }
      v = MqName{std::string(t.text.substr(1))};
    } else if constexpr (std::is_same_v<T, std::optional<int64_t>>) {  // optional at the end
      if (!cur_.at(Tok::kComma)) return;
      if (f.kind == ArgKind::kValue) {
        const Token& written = cur_.peek(1);
        const int64_t x = arg_value(f.family, f.name, first);
        if (written.kind != Tok::kName || x < f.min || x > f.max) {  // only the names (TRACE_FORMAT.md v1.1)
          std::vector<std::string_view> names;
          for (const FlagName& n : flag_names(f.family)) names.push_back(n.name);
          cur_.fail_at(written.col, fmt::format("{} is one of {}", f.name, fmt::join(names, ", ")));
        }
        v = x;
      } else {
        v = arg_number(f.name, first, f.min, f.max);
      }
    } else if constexpr (std::is_same_v<T, FlagArg> || std::is_same_v<T, std::optional<FlagArg>>) {
      v = arg_flag_set(f.family, f.name, first);
    } else if constexpr (std::is_same_v<T, std::vector<PollEntry>>) {
      before_arg(f.name, first);
      read_poll_list(v);
    } else if constexpr (std::is_same_v<T, std::string>) {  // KEYWORD=LABEL, optional
      if (cur_.accept(Tok::kComma)) {
        if (!is_keyword(0, f.keyword)) {
          cur_.fail_expected(fmt::format("'{}={}' or ')' after {}", f.keyword, f.name, previous_field_name<S>(i)));
        }
        cur_.next();
        cur_.next();
        v = std::string(cur_.expect(Tok::kName, fmt::format("a {} after '{}='", lower(f.name), f.keyword)).text);
      }
    } else {
      static_assert(std::is_same_v<T, int64_t>);
      if (f.kind == ArgKind::kValue) {
        const Token& written = cur_.peek(first ? 0 : 1);
        v = arg_value(f.family, f.name, first);
        std::string name = written.kind == Tok::kName ? std::string(written.text) : format_flags(f.family, v);
        if (!flag_value(f.family, name)) name = fmt::format("{} {}", lower(f.name), v);
        spelled[static_cast<size_t>(i)] = std::move(name);
      } else if (f.kind == ArgKind::kU64) {
        v = arg_u64(f.name, first);
      } else if (!f.optional || cur_.at(Tok::kComma)) {
        v = arg_number(f.name, first, f.min, f.max);
      }
    }
  }

  // The int64_t field at `index` of a call (the one an absent_if depends on).
  template <class S>
  static int64_t int_field(const S& a, int index) {
    int64_t out = 0;
    for_each_field<S>([&](const auto& f, int i) {
      if constexpr (std::is_same_v<std::decay_t<decltype(a.*f.member)>, int64_t>) {
        if (i == index) out = a.*f.member;
      }
    });
    return out;
  }

  template <class S>
  static std::string previous_field_name(int index) {
    std::string out;
    for_each_field<S>([&](const auto& f, int i) {
      if (i == index - 1) out = std::string(f.name);
    });
    return out;
  }

  // A keyword field of S written `ahead` tokens on (`data=`): how it is shown, "data=LABEL".
  template <class S>
  std::optional<std::string> keyword_ahead(size_t ahead) const {
    std::optional<std::string> out;
    for_each_field<S>([&](const auto& f, int) {
      if (!f.keyword.empty() && is_keyword(ahead, f.keyword)) out = fmt::format("{}={}", f.keyword, f.name);
    });
    return out;
  }

  bool is_keyword(size_t ahead, std::string_view keyword) const {
    return cur_.peek(ahead).kind == Tok::kName && cur_.peek(ahead).text == keyword &&
           cur_.peek(ahead + 1).kind == Tok::kEquals;
  }

  const std::string& signature() const { return call_signature(out_.step.call); }

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

  FdRef arg_fd(std::string_view what, bool first) {
    before_arg(what, first);
    if (!cur_.at(Tok::kName)) cur_.fail_expected(fmt::format("a descriptor name for {} ({})", what, signature()));
    return use_fd(cur_.next());
  }

  // A socket reference: a name bound anywhere before (it may be closed since).
  SockRef arg_sock_ref(std::string_view what, bool first) {
    before_arg(what, first);
    if (!cur_.at(Tok::kName)) cur_.fail_expected(fmt::format("a socket's name for {} ({})", what, signature()));
    // Not use_fd: OTHER may name a socket of any process (TRACE_FORMAT.md v1.1 precise points).
    const Token& t = cur_.next();
    std::string name(t.text);
    if (scope_.check) {
      if (scope_.is_task(name)) cur_.fail_at(t.col, fmt::format("'{}' is a task, not a socket", name));
      if (!scope_.names.contains(name)) cur_.fail_at(t.col, fmt::format("name '{}' is not bound", name));
    }
    return SockRef{std::move(name), pos(t)};
  }

  // A descriptor name bound in the calling task's process (or copied into it by fork).
  FdRef use_fd(const Token& t) {
    std::string name(t.text);
    if (scope_.check) {
      const auto bound = scope_.names.find(name);
      if (bound == scope_.names.end() && !scope_.is_task(name)) {
        cur_.fail_at(t.col, fmt::format("name '{}' is not bound", name));
      }
      if (scope_.is_task(name)) cur_.fail_at(t.col, fmt::format("'{}' is a task, not a descriptor", name));
      const std::string& proc = scope_.process(out_.step.task);
      const auto fds = scope_.fds_of.find(proc);
      if (fds == scope_.fds_of.end() || !fds->second.contains(name)) {
        cur_.fail_at(t.col, fmt::format("descriptor '{}' (bound at {}:{}) does not exist in process '{}' of task '{}': "
                                        "a name bound after a fork exists only in its own process",
                                        name, bound->second.line, bound->second.col, proc, out_.step.task));
      }
    }
    return FdRef{std::move(name), pos(t)};
  }

  // A flag-set argument: names of any family; a foreign spelling is kept.
  FlagArg arg_flag_set(FlagContext ctx, std::string_view what, bool first) {
    before_arg(what, first);
    FlagSet set = read_flags(ctx, FlagUse::kArgument, cur_);
    return FlagArg{set.value, std::move(set.written)};
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
  int64_t arg_u64(std::string_view what, bool first) {
    before_arg(what, first);
    const bool negative = cur_.accept(Tok::kMinus);
    const Token& n = cur_.expect(Tok::kNumber, negative ? "a number after '-'" : fmt::format("a number for {}", what));
    return static_cast<int64_t>(negative ? -n.number : n.number);
  }

  void read_poll_list(std::vector<PollEntry>& list) {
    cur_.expect(Tok::kLBracket, "'[' and the descriptors to poll ([FD: EVENTS, ...])");
    if (cur_.accept(Tok::kRBracket)) return;
    do {
      if (!cur_.at(Tok::kName)) cur_.fail_expected("a descriptor name in the poll list");
      const Token& fd = cur_.next();
      for (const PollEntry& e : list) {
        if (e.fd.name == fd.text) {
          cur_.fail_at(fd.col, fmt::format("descriptor '{}' appears twice in the poll list (at {}:{})", fd.text,
                                           e.fd.pos.line, e.fd.pos.col));
        }
      }
      FdRef ref = use_fd(fd);
      cur_.expect(Tok::kColon, fmt::format("':' and the events after '{}'", fd.text));
      FlagSet events = read_flags(FlagContext::kPollEvents, FlagUse::kArgument, cur_);
      list.push_back(PollEntry{std::move(ref), FlagArg{events.value, std::move(events.written)}});
    } while (cur_.accept(Tok::kComma));
    cur_.expect(Tok::kRBracket, "',' or ']' after the events");
  }

  // ---- results -----------------------------------------------------------------------

  // RESULT ('or' RESULT)*; call is the call the result is for (with its arguments).
  void read_results(const CallArgs& call) {
    Expect& e = out_.step.expect;
    e.pos = pos(cur_.peek());
    do {
      e.alts.push_back(read_result(call));
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

  ResultAlt read_result(const CallArgs& call) {
    const CallInfo& info = call_info(call);
    ResultAlt r;
    if (binds_task(info.result)) {
      if (!cur_.at(Tok::kName) || cur_.peek().text == "or") {
        cur_.fail_expected(fmt::format("a name for the new process's task ({}() must bind one)", info.name));
      }
      r.kind = ResultAlt::Kind::kBind;
      r.names.push_back(bind_name());
      return r;
    }
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
    switch (info.result) {
      case ResultShape::kNamePair:
        return read_bind_pair(fmt::format("'{}'", info.result_form));
      case ResultShape::kName:
        if (!cur_.at(Tok::kName)) cur_.fail_expected("a name for the new descriptor, '*' or '-1 ERRNO'");
        r.kind = ResultAlt::Kind::kBind;
        r.names.push_back(bind_name());
        return r;
      case ResultShape::kEpollEvents:
      case ResultShape::kPollEvents:
        return read_events(call);
      case ResultShape::kTask:  // read above
        break;
      case ResultShape::kLenPrio: {
        if (!cur_.at(Tok::kLBracket)) cur_.fail_expected("'[LEN, PRIO]', '*' or '-1 ERRNO'");
        cur_.next();
        r.kind = ResultAlt::Kind::kNumbers;
        for (const char* what : {"the message length", "the priority"}) {
          if (!r.numbers.empty()) cur_.expect(Tok::kComma, fmt::format("',' and {} of [LEN, PRIO]", what));
          const Token& t = cur_.expect(Tok::kNumber, fmt::format("{} of [LEN, PRIO]", what));
          if (t.number > static_cast<uint64_t>(kInt64Max)) cur_.fail_at(t.col, "number out of range");
          r.numbers.push_back(static_cast<int64_t>(t.number));
        }
        cur_.expect(Tok::kRBracket, "']' after [LEN, PRIO]");
        return r;
      }
      case ResultShape::kZero: {
        const Token& t = cur_.peek();
        if (t.kind != Tok::kNumber || t.number != 0) {
          cur_.fail_expected(fmt::format("0, '*' or '-1 ERRNO' ({} returns 0)", info.name));
        }
        cur_.next();
        r.kind = ResultAlt::Kind::kValue;
        return r;
      }
      case ResultShape::kSockError: {  // an errno name or 0 (a number for a value without a name)
        const Token& t = cur_.peek();
        r.kind = ResultAlt::Kind::kValue;
        if (t.kind == Tok::kName) {
          const auto number = errno_number(t.text);
          if (!number) cur_.fail_at(t.col, fmt::format("unknown errno name '{}'", t.text));
          r.value = *number;
        } else {
          const Token& n = cur_.expect(Tok::kNumber, "an errno name or 0 (the pending error), '*' or '-1 ERRNO'");
          if (n.number > static_cast<uint64_t>(kInt32Max)) cur_.fail_at(n.col, "error value out of range");
          r.value = static_cast<int64_t>(n.number);
          return r;
        }
        cur_.next();
        return r;
      }
      case ResultShape::kCounter: {  // 64 bits, kept bit for bit
        const Token& t = cur_.expect(Tok::kNumber, "the counter value, '*' or '-1 ERRNO'");
        r.kind = ResultAlt::Kind::kValue;
        r.value = static_cast<int64_t>(t.number);
        return r;
      }
      case ResultShape::kCount: {
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

  ResultAlt read_events(const CallArgs& call) {
    const bool is_poll = call_info(call).result == ResultShape::kPollEvents;
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
      if (is_poll) next_poll = check_poll_result(*poll_list_of(call), name, next_poll);
      cur_.expect(Tok::kColon, fmt::format("':' and the mask after '{}'", name.text));
      // Results keep to their own family: they are compared and printed by bit value.
      const auto mask = read_flags(is_poll ? FlagContext::kPollEvents : FlagContext::kEpollEvents, FlagUse::kResult, cur_);
      r.events.push_back(EventSpec{std::string(name.text), static_cast<uint32_t>(mask.value)});
    } while (cur_.accept(Tok::kComma));
    cur_.expect(Tok::kRBracket, "',' or ']' after the mask");
    return r;
  }

  // A poll result names a descriptor of the poll list, after the one before it.
  size_t check_poll_result(const std::vector<PollEntry>& list, const Token& name, size_t next) {
    for (size_t i = 0; i < list.size(); ++i) {
      if (list[i].fd.name != name.text) continue;
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
            if (scope_.is_task(name) || name == out_.step.task) {
              cur_.fail_at(where.col, fmt::format("name '{}' is already a task", name));
            }
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
  s.resumes = -1;  // the parser links resume lines once it has every step
  clear_positions(s.call);
  return s;
}

}  // namespace

ParsedStep parse_step_line(std::string_view line, int line_no, const Scope& scope) {
  return StepReader(line, line_no, scope).read();
}

const std::string& Scope::process(std::string_view task) const {
  static const std::string kMain = "main";
  const auto it = process_of.find(task);
  return it == process_of.end() ? kMain : it->second;
}

void apply_step(Scope& scope, const Step& step, const std::vector<std::pair<std::string, Pos>>& binds) {
  const CallInfo& info = call_info(step.call);
  if (info.in_task && !scope.is_task(step.task)) {  // a v1 task's first step: a thread of main's process
    scope.process_of.emplace(step.task, "main");
    scope.names.emplace(step.task, step.pos);
  }
  const std::string proc = scope.process(step.task);
  for (const auto& [name, where] : binds) {
    scope.names.emplace(name, where);
    if (binds_task(info.result)) {  // fork: the new process starts with a copy of the caller's table
      scope.process_of.emplace(name, name);
      scope.fds_of[name] = scope.fds_of[proc];
    } else {
      scope.fds_of[proc].insert(name);
    }
  }
  if (step.kind == Step::Kind::kPendingCall) scope.pending[step.task] = step;
  if (step.kind == Step::Kind::kResume) scope.pending.erase(step.task);
  if (info.ends_process && step.kind == Step::Kind::kCall) {  // its other tasks' pending calls end unchecked
    scope.exited.emplace(proc, step.pos);
    std::erase_if(scope.pending, [&](const auto& kv) { return scope.process(kv.first) == proc; });
  }
}

bool same_step(const Step& a, const Step& b) { return without_positions(a) == without_positions(b); }

}  // namespace eo
