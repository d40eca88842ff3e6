// Reading a trace file when the path may be anything: only a regular file (or `-`,
// standard input) is read, never more than a cap, and opening never blocks (a FIFO).
#pragma once
#include <cstddef>
#include <string>

namespace eo {

// The largest trace read: far above any real trace, far below what hurts the machine.
inline constexpr size_t kMaxTraceBytes = size_t{64} << 20;

// Reads the trace at `path` ("-": standard input) into *text. On failure *error says why
// (without the path), e.g. "a directory, not a trace file".
bool read_trace_file(const std::string& path, std::string* text, std::string* error,
                     size_t max_bytes = kMaxTraceBytes);

}  // namespace eo
