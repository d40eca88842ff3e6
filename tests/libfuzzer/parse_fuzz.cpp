// libFuzzer target for the trace parser (oracle/trace): any bytes must give a Program or a
// positioned error, never a crash. For a Program, two properties of the printer are
// checked: print_trace reproduces the text as written, and the canonical print parses
// back to the same steps.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "oracle/trace/parser.h"
#include "oracle/trace/printer.h"
#include "tests/libfuzzer/strip_positions.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  eo::ParseResult parsed = eo::parse_trace(text, "fuzz.trace");
  if (!parsed) {
    const eo::ParseError& e = parsed.error();
    if (e.line < 1 || e.col < 1 || e.message.empty()) std::abort();  // every error has a position
    return 0;
  }
  const eo::Program& p = parsed.program();
  // print_trace keeps the source; a source without a final newline gets one.
  const std::string again = eo::print_trace(p);
  if (again != text && again != std::string(text) + "\n") std::abort();
  eo::ParseResult canonical = eo::parse_trace(eo::print_trace_canonical(p), "canonical.trace");
  if (!canonical) std::abort();
  if (eo::fuzz::steps_without_positions(canonical.program()) != eo::fuzz::steps_without_positions(p)) std::abort();
  return 0;
}
