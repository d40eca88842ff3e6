// Directive lines (docs/LANGUAGE.md "Directives"):
//   @title TEXT | @kernel RANGE | @tags WORD... | @belief true|false|partly: WHY
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "common/program.h"

namespace eo {

struct Directive {
  enum class Kind { kTitle, kKernel, kTags, kBelief };
  Kind kind = Kind::kTitle;
  Pos pos;                                        // of the '@'
  std::string title;                              // kTitle
  std::vector<std::vector<VersionBound>> kernel;  // kKernel: alternatives of conjunctions
  std::string kernel_text;                        // kKernel: the range as written
  std::vector<std::string> tags;                  // kTags
  std::string verdict;                            // kBelief: "true", "false" or "partly"
  std::string why;                                // kBelief
};

// Parses a line whose first non-blank character is '@'. Throws SyntaxError.
Directive parse_directive_line(std::string_view line, int line_no);

std::string_view directive_name(Directive::Kind kind);  // "@title"

// Whether the program holds this directive's value (printing keeps a directive line
// as written when it does).
bool program_has(const Program& p, const Directive& d);

// The canonical spelling of a @kernel range: ">=5.5, <5.15 | >=6.1".
std::string format_kernel_range(const std::vector<std::vector<VersionBound>>& range);

}  // namespace eo
