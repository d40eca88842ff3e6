#include "oracle/trace/parser.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "oracle/trace/directive_syntax.h"
#include "oracle/trace/lexer.h"
#include "oracle/trace/step_syntax.h"
#include "oracle/trace/trace_file.h"

namespace eo {
namespace {

Line::Kind classify(std::string_view line) {
  for (const char c : line) {
    if (c == ' ' || c == '\t' || c == '\r') continue;
    if (c == '#') return Line::Kind::kComment;
    if (c == '@') return Line::Kind::kDirective;
    return Line::Kind::kStep;
  }
  return Line::Kind::kBlank;
}

void set_directive(Program& p, Directive& d) {
  switch (d.kind) {
    case Directive::Kind::kTitle:
      p.title = std::move(d.title);
      break;
    case Directive::Kind::kKernel:
      p.kernel = std::move(d.kernel);
      p.kernel_text = std::move(d.kernel_text);
      break;
    case Directive::Kind::kTags:
      p.tags = std::move(d.tags);
      break;
    case Directive::Kind::kBelief:
      p.belief_verdict = std::move(d.verdict);
      p.belief_why = std::move(d.why);
      break;
  }
}

// Parses line by line; throws SyntaxError at the first problem.
class TraceReader {
 public:
  explicit TraceReader(Program& p) : p_(p) {}

  void add_line(std::string_view text, int line_no) {
    Line line;
    line.kind = classify(text);
    line.text = std::string(text);
    if (line.kind == Line::Kind::kDirective) {
      add_directive(text, line_no);
    } else if (line.kind == Line::Kind::kStep) {
      ParsedStep parsed = parse_step_line(text, line_no, scope_);
      apply_step(scope_, parsed.step, parsed.binds);
      line.step = static_cast<int>(p_.steps.size());
      p_.steps.push_back(std::move(parsed.step));
    }
    p_.lines.push_back(std::move(line));
  }

 private:
  void add_directive(std::string_view text, int line_no) {
    if (!p_.steps.empty()) {
      const Pos first = p_.steps.front().pos;
      const int at = static_cast<int>(text.find('@')) + 1;
      throw SyntaxError{
          line_no, at,
          fmt::format("directive after the first step (at {}:{}); directives come first", first.line, first.col)};
    }
    Directive d = parse_directive_line(text, line_no);
    const auto [it, added] = seen_.emplace(d.kind, d.pos);
    if (!added) {
      throw SyntaxError{
          line_no, d.pos.col,
          fmt::format("{} given twice (first at {}:{})", directive_name(d.kind), it->second.line, it->second.col)};
    }
    set_directive(p_, d);
  }

  Program& p_;
  Scope scope_;
  std::map<Directive::Kind, Pos> seen_;
};

}  // namespace

std::string ParseError::str() const {
  if (line <= 0) return fmt::format("{}: {}", file, message);
  return fmt::format("{}:{}:{}: {}", file, line, col, message);
}

namespace {

// Messages quote what was written ('name'); a hostile trace may write a name of a
// megabyte. A quoted part longer than kShown bytes is cut, with its length said.
std::string abbreviate_quotes(const std::string& message) {
  constexpr size_t kShown = 60;
  std::string out;
  size_t pos = 0;
  while (pos < message.size()) {
    const size_t open = message.find('\'', pos);
    const size_t close = open == std::string::npos ? open : message.find('\'', open + 1);
    if (close == std::string::npos) break;
    const size_t len = close - open - 1;
    out.append(message, pos, open + 1 - pos);
    if (len > kShown) {
      out.append(message, open + 1, kShown);
      out += fmt::format("...' ({} bytes)", len);
    } else {
      out.append(message, open + 1, len + 1);
    }
    pos = close + 1;
  }
  out.append(message, std::min(pos, message.size()));
  return out;
}

}  // namespace

ParseResult parse_trace(std::string_view text, std::string file_name) {
  Program p;
  p.file = file_name;
  TraceReader reader(p);
  int line_no = 0;
  try {
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string_view::npos) end = text.size();
      reader.add_line(text.substr(start, end - start), ++line_no);
      start = end + 1;
    }
  } catch (const SyntaxError& e) {
    return ParseError{std::move(file_name), e.line, e.col, abbreviate_quotes(e.message)};
  }
  link_resumes(p);
  return p;
}

ParseResult parse_trace_file(const std::string& path) {
  std::string text, error;
  if (!read_trace_file(path, &text, &error)) return ParseError{path, 0, 0, error};
  return parse_trace(text, path);
}

}  // namespace eo
