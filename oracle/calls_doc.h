// `calls`: the calls of the trace language as the schema (common/calls.h) has them, and
// the generated calls table of docs/LANGUAGE.md (between kCallsBegin and kCallsEnd).
#pragma once
#include <ostream>
#include <string>

namespace eo {

inline constexpr const char* kCallsBegin = "<!-- calls:begin -->";
inline constexpr const char* kCallsEnd = "<!-- calls:end -->";

// The calls, one a line: signature, result, whether it may block, what it does.
std::string calls_text();

// The document with its calls section replaced by the schema's table; "" (and *error)
// when it has no such section.
std::string with_calls_table(const std::string& doc, std::string* error);

// Prints the calls (markdown: the Markdown table), or checks or updates the section of
// `doc`. Exit status 0, 1 (--check-doc: out of date) or 2 (bad input).
int cmd_calls(bool markdown, const std::string& doc, bool check_only, std::ostream& out, std::ostream& err);

}  // namespace eo
