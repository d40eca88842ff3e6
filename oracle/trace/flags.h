// Names of flags, ops and errno values as the trace language spells them (x86-64 Linux
// values, docs/LANGUAGE.md "Lexical rules"): lookup by name in a context, and formatting
// of a value back to names. A flag-set argument takes the names of every family
// (docs/LANGUAGE.md "Arguments"); results and single values take their own.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/calls.h"  // FlagContext
#include "oracle/trace/lexer.h"

namespace eo {

struct FlagName {
  std::string_view name;
  int64_t value;
};

// What a flag set is: an argument, which takes any flag name of the language with that
// name's own value (epoll_create1(O_NONBLOCK) passes 0x800), or a result mask, which
// takes only its context's names because results are compared and printed by bit value.
// Single-value contexts (OP, HOW, DOMAIN) take only their own names either way.
enum class FlagUse { kArgument, kResult };

// A context's own names, in the order of their values (aliases after).
std::span<const FlagName> flag_names(FlagContext ctx);
// The value of a name in a context, if it is one of the context's own names.
std::optional<int64_t> flag_value(FlagContext ctx, std::string_view name);
// The value of a flag name of any context, spelled as in the Linux headers (the trace's
// shorthands ADD, DEL, MOD are not among them). No name has two values: x86-64 Linux
// gives each one number.
std::optional<int64_t> any_flag_value(std::string_view name);
// What a context accepts, for messages: "EPOLL* names or a number", or for an argument
// "EPOLL* names, other flag names or a number".
std::string flag_context_description(FlagContext ctx, FlagUse use);
// Whether a context holds one value (OP, HOW, DOMAIN) rather than a set of bits.
bool flag_context_is_single(FlagContext ctx);
// The largest value a context accepts: events are 32 bits, poll events 16 bits, int flags
// 32 bits (signed or unsigned).
int64_t flag_context_max(FlagContext ctx);
// Whether negative numbers are accepted (int arguments: flags, op, how, domain).
bool flag_context_allows_negative(FlagContext ctx);

// The canonical spelling of a value: names joined by '|' in the order of the bit values,
// bits without a name as one 0x... at the end, 0 as "0", negative values in decimal.
// Single-value contexts print the name of the value or the number.
std::string format_flags(FlagContext ctx, int64_t value);

// A flag set as read.
struct FlagSet {
  int64_t value = 0;
  // The elements as written, joined by '|', when one of them is a name of another
  // context (`O_NONBLOCK` in epoll_create1): the printers keep that spelling, since the
  // canonical one would rename the bits (`0x800`, or EFD_SEMAPHORE for EPOLLIN). ""
  // when every name is the context's own.
  std::string written;
};

// An argument's spelling: `written` when it still says `value`, else the canonical one.
std::string format_flag_argument(FlagContext ctx, int64_t value, std::string_view written);

// A flag set written as text, e.g. "EPOLLIN | EPOLLET|0x10" (whitespace is free).
struct FlagParse {
  std::optional<int64_t> value;  // set on success
  std::string written;           // on success: as FlagSet::written
  size_t offset = 0;             // on failure: where in the text the problem is
  std::string message;           // on failure: what was expected
};
FlagParse parse_flags(FlagContext ctx, FlagUse use, std::string_view text);
// The same, reading tokens of a line: NAME|NUMBER|... (a single value in single-value
// contexts, where a number may be negative). Throws SyntaxError.
FlagSet read_flags(FlagContext ctx, FlagUse use, TokenCursor& cur);

// errno names of x86-64 Linux: "EBADF" <-> 9. Aliases (EWOULDBLOCK, EDEADLOCK, ENOTSUP)
// are accepted by errno_number; errno_name gives the primary name, "" if unknown.
std::string_view errno_name(int64_t number);
std::optional<int> errno_number(std::string_view name);

}  // namespace eo
