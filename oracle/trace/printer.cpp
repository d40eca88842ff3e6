#include "oracle/trace/printer.h"

#include <fmt/format.h>

#include "common/calls.h"
#include "oracle/trace/directive_syntax.h"
#include "oracle/trace/flags.h"
#include "oracle/trace/lexer.h"
#include "oracle/trace/step_syntax.h"

namespace eo {
namespace {

FlagContext events_context(const CallArgs& call) {
  return call_info(call).result == ResultShape::kPollEvents ? FlagContext::kPollEvents : FlagContext::kEpollEvents;
}

// A result's events.
std::string format_events(const CallArgs& call, const std::vector<EventSpec>& events) {
  std::string out = "[";
  for (size_t i = 0; i < events.size(); ++i) {
    if (i > 0) out += ", ";
    out += events[i].name + ": " + format_flags(events_context(call), events[i].mask);
  }
  return out + "]";
}

// getsockopt(S, SO_ERROR)'s value: 0, or the errno it names (a number if it names none).
std::string format_sock_error(int64_t value) {
  const std::string_view name = errno_name(value);
  return value == 0 || name.empty() ? std::to_string(value) : std::string(name);
}

std::string format_errno(int64_t number) {
  const std::string_view name = errno_name(number);
  return name.empty() ? fmt::format("-1 {}", number) : fmt::format("-1 {}", name);
}

// One argument, as its field says; "" for one left out.
template <class S, class T>
std::string format_field(const S& a, const Field<S, T>& f) {
  const T& v = a.*f.member;
  if constexpr (std::is_same_v<T, FdRef>) {
    return v.name.empty() ? "?" : v.name;
  } else if constexpr (std::is_same_v<T, SockRef>) {
    return v.name;  // "" only when optional and not written
  } else if constexpr (std::is_same_v<T, FlagArg>) {
    return format_flag_argument(f.family, v.value, v.written);
  } else if constexpr (std::is_same_v<T, std::optional<FlagArg>>) {
    return v ? format_flag_argument(f.family, v->value, v->written) : "";
  } else if constexpr (std::is_same_v<T, std::vector<PollEntry>>) {
    std::string out = "[";
    for (size_t i = 0; i < v.size(); ++i) {
      if (i > 0) out += ", ";
      out += v[i].fd.name + ": " + format_flag_argument(FlagContext::kPollEvents, v[i].events.value, v[i].events.written);
    }
    return out + "]";
  } else if constexpr (std::is_same_v<T, std::string>) {
    return v.empty() ? "" : fmt::format("{}={}", f.keyword, v);
  } else if constexpr (std::is_same_v<T, MqName>) {
    return "/" + v.name;
  } else if constexpr (std::is_same_v<T, std::optional<int64_t>>) {
    if (!v) return "";
    return f.kind == ArgKind::kValue ? format_flags(f.family, *v) : std::to_string(*v);
  } else {
    static_assert(std::is_same_v<T, int64_t>);
    if (f.kind == ArgKind::kValue) return format_flags(f.family, v);
    if (f.kind == ArgKind::kU64) return std::to_string(static_cast<uint64_t>(v));
    if (f.optional && v == 0) return "";
    return std::to_string(v);
  }
}

std::string format_args(const CallArgs& call) {
  return std::visit(
      [](const auto& a) {
        std::string out;
        for_each_field<std::decay_t<decltype(a)>>([&](const auto& f, int i) {
          const std::string text = format_field(a, f);
          if (text.empty() && (f.optional || f.absent_if_field >= 0)) return;
          out += (i > 0 ? ", " : "") + text;
        });
        return out;
      },
      call);
}

// A step as one canonical line, with its comment.
std::string canonical_line(const Step& s) {
  std::string out = format_step(s);
  if (!s.comment.empty()) out += "  #" + s.comment;
  return out;
}

// A changed step that had a source line: canonical, its comment at the old column if the
// new text leaves room.
std::string reprinted_line(const Step& s, const std::string& old_line) {
  std::string out = format_step(s);
  if (s.comment.empty()) return out;
  size_t hash = 0;
  for (const Token& t : lex_line(old_line)) {
    if (t.kind == Tok::kComment) hash = static_cast<size_t>(t.col) - 2;
  }
  out += out.size() + 2 <= hash ? std::string(hash - out.size(), ' ') : std::string(2, ' ');
  return out + "#" + s.comment;
}

// A resume step formatted with the call its task is pending in, when known.
Step with_pending_call(const Step& s, const Scope& scope) {
  Step copy = s;
  if (s.kind == Step::Kind::kResume || s.kind == Step::Kind::kResumeBlocked) {
    const auto it = scope.pending.find(s.task);
    if (it != scope.pending.end()) copy.call = blank_call(it->second.call);
  }
  return copy;
}

std::string directive_line(const Program& p, Directive::Kind kind) {
  switch (kind) {
    case Directive::Kind::kTitle:
      return p.title.empty() ? "" : "@title  " + p.title;
    case Directive::Kind::kKernel:
      return p.kernel.empty() ? "" : "@kernel " + format_kernel_range(p.kernel);
    case Directive::Kind::kTags:
      return p.tags.empty() ? "" : fmt::format("@tags   {}", fmt::join(p.tags, " "));
    case Directive::Kind::kBelief:
      return p.belief_verdict.empty() ? "" : fmt::format("@belief {}: {}", p.belief_verdict, p.belief_why);
  }
  return {};
}

constexpr Directive::Kind kDirectiveKinds[] = {Directive::Kind::kTitle, Directive::Kind::kKernel,
                                               Directive::Kind::kTags, Directive::Kind::kBelief};

// Prints a program that has source lines.
class SourcePrinter {
 public:
  explicit SourcePrinter(const Program& p) : p_(p), line_of_step_(p.steps.size(), -1), printed_(p.steps.size()) {
    scope_.check = false;
    for (size_t li = 0; li < p.lines.size(); ++li) {
      const Line& l = p.lines[li];
      if (l.kind == Line::Kind::kStep && l.step >= 0 && static_cast<size_t>(l.step) < p.steps.size() &&
          line_of_step_[static_cast<size_t>(l.step)] < 0) {
        line_of_step_[static_cast<size_t>(l.step)] = static_cast<int>(li);
      }
      if (l.kind == Line::Kind::kDirective) last_directive_line_ = static_cast<int>(li);
    }
  }

  std::string print() {
    if (last_directive_line_ < 0) print_missing_directives();
    for (size_t li = 0; li < p_.lines.size(); ++li) {
      const Line& l = p_.lines[li];
      switch (l.kind) {
        case Line::Kind::kBlank:
        case Line::Kind::kComment:
          emit(l.text);
          break;
        case Line::Kind::kDirective:
          print_directive(l);
          break;
        case Line::Kind::kStep:
          if (l.step >= 0 && static_cast<size_t>(l.step) < p_.steps.size() &&
              line_of_step_[static_cast<size_t>(l.step)] == static_cast<int>(li)) {
            print_steps_before(static_cast<size_t>(l.step));
            print_step(static_cast<size_t>(l.step));
          }
          break;
      }
      if (static_cast<int>(li) == last_directive_line_) print_missing_directives();
    }
    print_steps_before(p_.steps.size());
    return std::move(out_);
  }

 private:
  void emit(const std::string& line) {
    out_ += line;
    out_ += '\n';
  }

  void print_directive(const Line& l) {
    try {
      const Directive d = parse_directive_line(l.text, 1);
      if (directive_done_[static_cast<int>(d.kind)]) return;
      directive_done_[static_cast<int>(d.kind)] = true;
      if (program_has(p_, d)) {
        emit(l.text);
      } else if (const std::string text = directive_line(p_, d.kind); !text.empty()) {
        emit(text);
      }
    } catch (const SyntaxError&) {
      // Not a directive any more: the program cannot have it.
    }
  }

  // Directives the program has but no line gave.
  void print_missing_directives() {
    for (const auto kind : kDirectiveKinds) {
      if (directive_done_[static_cast<int>(kind)]) continue;
      directive_done_[static_cast<int>(kind)] = true;
      if (const std::string text = directive_line(p_, kind); !text.empty()) emit(text);
    }
  }

  // The steps without a line before `end` that are not printed yet.
  void print_steps_before(size_t end) {
    for (size_t k = 0; k < end; ++k) {
      if (!printed_[k] && line_of_step_[k] < 0) print_step(k);
    }
  }

  void print_step(size_t k) {
    printed_[k] = true;
    const Step& s = p_.steps[k];
    const int li = line_of_step_[k];
    if (li >= 0) {
      const std::string& text = p_.lines[static_cast<size_t>(li)].text;
      if (same_as_written(s, text)) {
        emit(text);
      } else {
        emit(reprinted_line(with_pending_call(s, scope_), text));
      }
    } else {
      emit(canonical_line(with_pending_call(s, scope_)));
    }
    apply_step(scope_, s);
  }

  bool same_as_written(const Step& s, const std::string& text) const {
    try {
      return same_step(parse_step_line(text, 1, scope_).step, s);
    } catch (const SyntaxError&) {
      return false;
    }
  }

  const Program& p_;
  std::vector<int> line_of_step_;  // the first line of each step, -1 if none
  std::vector<bool> printed_;
  int last_directive_line_ = -1;
  bool directive_done_[4] = {false, false, false, false};
  Scope scope_;  // pending calls, to read resume lines
  std::string out_;
};

}  // namespace

std::string format_call(const Step& s) { return fmt::format("{}({})", call_info(s.call).name, format_args(s.call)); }

std::string format_result(const CallArgs& call, const ResultAlt& r) {
  switch (r.kind) {
    case ResultAlt::Kind::kAny:
      return "*";
    case ResultAlt::Kind::kValue:
      if (call_info(call).result == ResultShape::kSockError) return format_sock_error(r.value);
      return call_info(call).result == ResultShape::kCounter ? std::to_string(static_cast<uint64_t>(r.value))
                                                              : std::to_string(r.value);
    case ResultAlt::Kind::kError:
      return format_errno(r.value);
    case ResultAlt::Kind::kBind:
      return r.names.size() == 1 ? r.names[0] : fmt::format("[{}]", fmt::join(r.names, ", "));
    case ResultAlt::Kind::kEvents:
      return format_events(call, r.events);
    case ResultAlt::Kind::kNumbers:
      return fmt::format("[{}]", fmt::join(r.numbers, ", "));
  }
  return {};
}

std::string format_expect(const CallArgs& call, const Expect& e) {
  std::string out;
  for (size_t i = 0; i < e.alts.size(); ++i) {
    if (i > 0) out += " or ";
    out += format_result(call, e.alts[i]);
  }
  return out;
}

std::string format_step(const Step& s) {
  switch (s.kind) {
    case Step::Kind::kCall:
    case Step::Kind::kPendingCall: {
      std::string out;
      if (call_info(s.call).in_task && (s.task_written || s.task != "main")) out = s.task + ": ";
      out += format_call(s);
      if (s.kind == Step::Kind::kPendingCall) return out + " ...";
      if (s.expect.checked()) out += " = " + format_expect(s.call, s.expect);
      return out;
    }
    case Step::Kind::kResume:
      return fmt::format("{}: ... = {}", s.task, format_expect(s.call, s.expect));
    case Step::Kind::kResumeBlocked:
      return fmt::format("{}: ... blocked", s.task);
  }
  return {};
}

std::string format_outcome(const CallArgs& call, const Outcome& o) {
  const ResultShape shape = call_info(call).result;
  switch (o.kind) {
    case Outcome::Kind::kNone:
      return "not run";
    case Outcome::Kind::kBlocked:
      return "blocked";
    case Outcome::Kind::kStuck:
      return "stuck";
    case Outcome::Kind::kError:
      return format_errno(o.ret);
    case Outcome::Kind::kValue:
      if (has_events(shape)) return format_events(call, o.events);
      if (shape == ResultShape::kLenPrio) return fmt::format("[{}]", fmt::join(o.numbers, ", "));
      if (names_bound(shape) > 0 && !o.fds.empty()) {
        std::vector<std::string> fds;
        for (const int fd : o.fds) fds.push_back(fmt::format("fd {}", fd));
        return fds.size() == 1 ? fds[0] : fmt::format("[{}]", fmt::join(fds, ", "));
      }
      if (shape == ResultShape::kSockError) return format_sock_error(o.ret);
      return shape == ResultShape::kCounter ? std::to_string(static_cast<uint64_t>(o.ret)) : std::to_string(o.ret);
  }
  return {};
}

std::string print_trace_canonical(const Program& p) {
  std::string out;
  for (const auto kind : kDirectiveKinds) {
    if (const std::string line = directive_line(p, kind); !line.empty()) out += line + "\n";
  }
  if (!out.empty() && !p.steps.empty()) out += "\n";
  Scope scope;
  scope.check = false;
  for (const Step& s : p.steps) {
    out += canonical_line(with_pending_call(s, scope)) + "\n";
    apply_step(scope, s);
  }
  return out;
}

std::string print_trace(const Program& p) {
  if (p.lines.empty()) return print_trace_canonical(p);
  return SourcePrinter(p).print();
}

}  // namespace eo
