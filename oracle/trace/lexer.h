// Tokens of one line of a trace (docs/LANGUAGE.md "Lexical rules"): names, numbers
// (decimal or 0x hex), punctuation, `...`, queue names `/NAME`, and a trailing `# comment`.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace eo {

enum class Tok {
  kName,      // [A-Za-z_][A-Za-z0-9_]*
  kNumber,    // 123 or 0x7b (no sign: '-' is its own token)
  kLParen,    // (
  kRParen,    // )
  kLBracket,  // [
  kRBracket,  // ]
  kComma,     // ,
  kColon,     // :
  kPipe,      // |
  kEquals,    // =
  kStar,      // *
  kMinus,     // -
  kEllipsis,  // ...
  kMqName,    // /NAME: a message queue name, [A-Za-z0-9_.-]+ after the slash (text has the slash)
  kComment,   // # to the end of the line; text is what follows '#'
  kEnd,       // the end of the line
  kBad,       // a character or number that is not a token; text says why
};

struct Token {
  Tok kind = Tok::kEnd;
  std::string_view text;  // as written (kComment: what follows '#')
  int col = 1;            // 1-based column of the first character
  uint64_t number = 0;    // kNumber: its value
  std::string message;    // kBad: what is wrong
};

// A problem in a line, at a 1-based line and column. Thrown inside the parser and caught
// at its entry points, which turn it into a ParseError.
struct SyntaxError {
  int line = 0;
  int col = 0;
  std::string message;
};

// The tokens of one line, always ending with kEnd (preceded by kComment if the line has
// one). Lexing stops at the first kBad token, which is followed by kEnd.
std::vector<Token> lex_line(std::string_view line);

// How a token is shown in messages: 'foo', ')', "the end of the line".
std::string describe(const Token& t);

// Reads the tokens of one line in order.
class TokenCursor {
 public:
  TokenCursor(std::vector<Token> tokens, int line) : tokens_(std::move(tokens)), line_(line) {}
  const Token& peek(size_t ahead = 0) const;
  const Token& next();
  bool at(Tok kind) const { return peek().kind == kind; }
  // Consumes the next token if it has this kind.
  bool accept(Tok kind);
  // Consumes the next token, which must have this kind; else throws "expected WHAT".
  const Token& expect(Tok kind, std::string_view what);
  // Throws "expected WHAT, found X" at the next token (or the kBad message there).
  [[noreturn]] void fail_expected(std::string_view what) const;
  // Throws a message at a column of this line.
  [[noreturn]] void fail_at(int col, std::string message) const;
  int line() const { return line_; }

 private:
  std::vector<Token> tokens_;
  size_t i_ = 0;
  int line_;
};

}  // namespace eo
