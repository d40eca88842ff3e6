#include "oracle/trace/lexer.h"

#include <fmt/format.h>

#include <limits>

namespace eo {
namespace {

bool is_name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }
bool is_mq_name_char(char c) { return is_name_char(c) || c == '.' || c == '-'; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 99;
}

}  // namespace

std::vector<Token> lex_line(std::string_view line) {
  std::vector<Token> out;
  size_t i = 0;
  auto push = [&](Tok kind, size_t start, size_t len) {
    out.push_back(Token{kind, line.substr(start, len), static_cast<int>(start) + 1, 0, {}});
  };
  auto bad = [&](size_t start, std::string message) {
    out.push_back(Token{Tok::kBad, line.substr(start, 1), static_cast<int>(start) + 1, 0, std::move(message)});
  };
  while (i < line.size()) {
    const char c = line[i];
    if (is_space(c)) {
      ++i;
      continue;
    }
    if (c == '#') {
      push(Tok::kComment, i + 1, line.size() - i - 1);
      i = line.size();
      break;
    }
    if (is_name_start(c)) {
      size_t j = i;
      while (j < line.size() && is_name_char(line[j])) ++j;
      push(Tok::kName, i, j - i);
      i = j;
      continue;
    }
    if (c >= '0' && c <= '9') {
      size_t j = i;
      int base = 10;
      if (c == '0' && i + 1 < line.size() && (line[i + 1] == 'x' || line[i + 1] == 'X')) {
        base = 16;
        j += 2;
      }
      const size_t digits = j;
      uint64_t value = 0;
      bool overflow = false;
      while (j < line.size() && digit_value(line[j]) < base) {
        const uint64_t d = static_cast<uint64_t>(digit_value(line[j]));
        if (value > (std::numeric_limits<uint64_t>::max() - d) / static_cast<uint64_t>(base)) overflow = true;
        value = value * static_cast<uint64_t>(base) + d;
        ++j;
      }
      if (j == digits || (j < line.size() && is_name_char(line[j]))) {
        while (j < line.size() && is_name_char(line[j])) ++j;
        bad(i,
            fmt::format("malformed number '{}' (expected decimal digits or 0x and hex digits)", line.substr(i, j - i)));
        break;
      }
      if (overflow) {
        bad(i, fmt::format("number '{}' is too large", line.substr(i, j - i)));
        break;
      }
      push(Tok::kNumber, i, j - i);
      out.back().number = value;
      i = j;
      continue;
    }
    if (c == '/') {
      size_t j = i + 1;
      while (j < line.size() && is_mq_name_char(line[j])) ++j;
      if (j == i + 1) {
        bad(i, "expected a queue name after '/' (letters, digits, '_', '.', '-')");
        break;
      }
      push(Tok::kMqName, i, j - i);
      i = j;
      continue;
    }
    if (c == '.') {
      if (line.substr(i, 3) == "...") {
        push(Tok::kEllipsis, i, 3);
        i += 3;
        continue;
      }
      bad(i, "expected '...'");
      break;
    }
    Tok kind = Tok::kBad;
    switch (c) {
      case '(':
        kind = Tok::kLParen;
        break;
      case ')':
        kind = Tok::kRParen;
        break;
      case '[':
        kind = Tok::kLBracket;
        break;
      case ']':
        kind = Tok::kRBracket;
        break;
      case ',':
        kind = Tok::kComma;
        break;
      case ':':
        kind = Tok::kColon;
        break;
      case '|':
        kind = Tok::kPipe;
        break;
      case '=':
        kind = Tok::kEquals;
        break;
      case '*':
        kind = Tok::kStar;
        break;
      case '-':
        kind = Tok::kMinus;
        break;
      default: {
        const auto u = static_cast<unsigned char>(c);
        if (u > ' ' && u < 0x7f) {
          bad(i, fmt::format("unexpected character '{}'", c));
        } else {
          bad(i, fmt::format("unexpected byte 0x{:02x}", u));
        }
        break;
      }
    }
    if (kind == Tok::kBad) break;
    push(kind, i, 1);
    ++i;
  }
  out.push_back(Token{Tok::kEnd, {}, static_cast<int>(line.size()) + 1, 0, {}});
  return out;
}

std::string describe(const Token& t) {
  switch (t.kind) {
    case Tok::kEnd:
      return "the end of the line";
    case Tok::kComment:
      return "a comment";
    case Tok::kBad:
      return t.message;
    default:
      return fmt::format("'{}'", t.text);
  }
}

const Token& TokenCursor::peek(size_t ahead) const {
  const size_t k = std::min(i_ + ahead, tokens_.size() - 1);
  return tokens_[k];
}

const Token& TokenCursor::next() {
  const Token& t = tokens_[i_];
  if (i_ + 1 < tokens_.size()) ++i_;
  return t;
}

bool TokenCursor::accept(Tok kind) {
  if (!at(kind)) return false;
  next();
  return true;
}

const Token& TokenCursor::expect(Tok kind, std::string_view what) {
  if (!at(kind)) fail_expected(what);
  return next();
}

void TokenCursor::fail_expected(std::string_view what) const {
  const Token& t = peek();
  if (t.kind == Tok::kBad) fail_at(t.col, t.message);
  fail_at(t.col, fmt::format("expected {}, found {}", what, describe(t)));
}

void TokenCursor::fail_at(int col, std::string message) const { throw SyntaxError{line_, col, std::move(message)}; }

}  // namespace eo
