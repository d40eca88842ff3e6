// The trace language front end: text -> Program (the language of docs/LANGUAGE.md). The
// first problem found is returned as "file:line:col: what was expected".
#pragma once
#include <string>
#include <string_view>
#include <variant>

#include "common/program.h"

namespace eo {

struct ParseError {
  std::string file;
  int line = 0;  // 1-based; 0 when the file could not be read
  int col = 0;   // 1-based
  std::string message;
  // "file:line:col: message" ("file: message" when there is no position).
  std::string str() const;
  friend bool operator==(const ParseError&, const ParseError&) = default;
};

// A Program or the error that stopped the parse.
class ParseResult {
 public:
  ParseResult(Program p) : v_(std::move(p)) {}     // NOLINT: implicit on purpose
  ParseResult(ParseError e) : v_(std::move(e)) {}  // NOLINT
  bool ok() const { return std::holds_alternative<Program>(v_); }
  explicit operator bool() const { return ok(); }
  // Only when ok().
  const Program& program() const& { return std::get<Program>(v_); }
  Program&& program() && { return std::get<Program>(std::move(v_)); }
  // Only when !ok().
  const ParseError& error() const { return std::get<ParseError>(v_); }

 private:
  std::variant<Program, ParseError> v_;
};

// Parses a trace. Lines are separated by '\n'; every line is kept in Program::lines so
// that print_trace reproduces the text. A resume step (`t: ... = R`) is linked to the
// task's pending step (Step::resumes) and holds that call with its arguments zero.
// All checks are static: syntax, result shapes per call, names bound once and only used
// after the step that binds them, one pending call per task, resume lines only for
// pending calls, directives once each and before the first step.
ParseResult parse_trace(std::string_view text, std::string file_name);

// Reads and parses a file (a read failure is an error with line 0).
ParseResult parse_trace_file(const std::string& path);

}  // namespace eo
