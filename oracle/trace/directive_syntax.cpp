#include "oracle/trace/directive_syntax.h"

#include <fmt/format.h>

#include "oracle/trace/lexer.h"

namespace eo {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_word_char(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

// Reads the characters of one directive line.
class DirectiveReader {
 public:
  DirectiveReader(std::string_view line, int line_no) : line_(line), line_no_(line_no) {
    // A '#' starts a comment, here as everywhere.
    const size_t hash = line_.find('#');
    if (hash != std::string_view::npos) line_ = line_.substr(0, hash);
  }

  Directive read() {
    skip_space();
    Directive d;
    d.pos = Pos{line_no_, col()};
    ++i_;  // '@'
    const size_t start = i_;
    while (i_ < line_.size() && is_word_char(line_[i_])) ++i_;
    const std::string_view name = line_.substr(start - 1, i_ - start + 1);
    if (name == "@title") {
      d.kind = Directive::Kind::kTitle;
      d.title = rest("@title: expected a line of text saying what the trace shows");
    } else if (name == "@kernel") {
      d.kind = Directive::Kind::kKernel;
      read_kernel(d);
    } else if (name == "@tags") {
      d.kind = Directive::Kind::kTags;
      read_tags(d);
    } else if (name == "@belief") {
      d.kind = Directive::Kind::kBelief;
      read_belief(d);
    } else {
      fail(d.pos.col, fmt::format("unknown directive '{}' (expected @title, @kernel, @tags or @belief)", name));
    }
    return d;
  }

 private:
  int col() const { return static_cast<int>(i_) + 1; }
  bool at_end() const { return i_ >= line_.size(); }
  char peek() const { return at_end() ? '\0' : line_[i_]; }
  void skip_space() {
    while (!at_end() && is_space(line_[i_])) ++i_;
  }
  [[noreturn]] void fail(int at, std::string message) const { throw SyntaxError{line_no_, at, std::move(message)}; }

  // The rest of the line without surrounding blanks; must not be empty.
  std::string rest(std::string_view empty_message) {
    skip_space();
    std::string_view r = line_.substr(std::min(i_, line_.size()));
    while (!r.empty() && is_space(r.back())) r.remove_suffix(1);
    if (r.empty()) fail(col(), std::string(empty_message));
    i_ = line_.size();
    return std::string(r);
  }

  void read_kernel(Directive& d) {
    skip_space();
    const size_t start = i_;
    d.kernel.emplace_back();
    for (;;) {
      d.kernel.back().push_back(read_bound());
      skip_space();
      if (at_end()) break;
      if (peek() == ',') {
        ++i_;
      } else if (peek() == '|') {
        ++i_;
        d.kernel.emplace_back();
      } else {
        fail(col(), "@kernel: expected ',' (and), '|' (or) or the end of the line after a version");
      }
    }
    std::string_view text = line_.substr(start);
    while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
    d.kernel_text = std::string(text);
  }

  VersionBound read_bound() {
    skip_space();
    VersionBound b;
    for (const std::string_view op : {">=", "<=", "==", ">", "<"}) {
      if (line_.substr(i_).starts_with(op)) {
        b.op = std::string(op);
        i_ += op.size();
        break;
      }
    }
    if (b.op.empty()) {
      fail(col(), "@kernel: expected a bound like >=5.15 (one of >=, >, <=, <, == and a version)");
    }
    skip_space();
    const int version_col = col();
    int parts[3] = {0, 0, 0};
    int n = 0;
    while (n < 3) {
      if (!is_digit(peek())) break;
      long v = 0;
      while (is_digit(peek())) {
        v = v * 10 + (line_[i_++] - '0');
        if (v > 65535) fail(version_col, "@kernel: version part too large (at most 65535)");
      }
      parts[n++] = static_cast<int>(v);
      if (n == 3 || peek() != '.') break;
      ++i_;
    }
    if (n < 2 || is_digit(peek()) || peek() == '.' || is_word_char(peek())) {
      fail(version_col, "@kernel: expected a version like 5.15 or 6.1.12");
    }
    b.major = parts[0];
    b.minor = parts[1];
    b.patch = parts[2];
    return b;
  }

  void read_tags(Directive& d) {
    for (;;) {
      skip_space();
      if (at_end()) break;
      const size_t start = i_;
      while (!at_end() && !is_space(peek())) {
        const auto u = static_cast<unsigned char>(peek());
        if (u == ',' || u < 0x20 || u == 0x7f) fail(col(), "@tags: expected words separated by spaces");
        ++i_;
      }
      d.tags.emplace_back(line_.substr(start, i_ - start));
    }
    if (d.tags.empty()) fail(col(), "@tags: expected one or more words");
  }

  void read_belief(Directive& d) {
    skip_space();
    const int verdict_col = col();
    const size_t start = i_;
    while (!at_end() && is_word_char(peek())) ++i_;
    d.verdict = std::string(line_.substr(start, i_ - start));
    if (d.verdict != "true" && d.verdict != "false" && d.verdict != "partly") {
      fail(verdict_col, "@belief: expected true, false or partly");
    }
    skip_space();
    if (peek() != ':') fail(col(), "@belief: expected ':' and the reason after the verdict");
    ++i_;
    d.why = rest("@belief: expected the reason after ':'");
  }

  std::string_view line_;
  int line_no_;
  size_t i_ = 0;
};

std::string format_version(const VersionBound& b) {
  return b.patch == 0 ? fmt::format("{}.{}", b.major, b.minor) : fmt::format("{}.{}.{}", b.major, b.minor, b.patch);
}

}  // namespace

Directive parse_directive_line(std::string_view line, int line_no) { return DirectiveReader(line, line_no).read(); }

std::string_view directive_name(Directive::Kind kind) {
  switch (kind) {
    case Directive::Kind::kTitle:
      return "@title";
    case Directive::Kind::kKernel:
      return "@kernel";
    case Directive::Kind::kTags:
      return "@tags";
    case Directive::Kind::kBelief:
      return "@belief";
  }
  return "@";
}

bool program_has(const Program& p, const Directive& d) {
  switch (d.kind) {
    case Directive::Kind::kTitle:
      return p.title == d.title;
    case Directive::Kind::kKernel:
      return p.kernel == d.kernel;
    case Directive::Kind::kTags:
      return p.tags == d.tags;
    case Directive::Kind::kBelief:
      return p.belief_verdict == d.verdict && p.belief_why == d.why;
  }
  return false;
}

std::string format_kernel_range(const std::vector<std::vector<VersionBound>>& range) {
  std::string out;
  for (size_t i = 0; i < range.size(); ++i) {
    if (i > 0) out += " | ";
    for (size_t j = 0; j < range[i].size(); ++j) {
      if (j > 0) out += ", ";
      out += range[i][j].op + format_version(range[i][j]);
    }
  }
  return out;
}

}  // namespace eo
