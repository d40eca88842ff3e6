// `record`: fill in the results a trace leaves out, from a kernel run.
#pragma once
#include <ostream>
#include <string>

#include "common/executor.h"
#include "common/program.h"

namespace eo {

// Fills unchecked call results and adds resume lines for pending calls that returned,
// from one run. Written results stay as they are. Returns how many results were added.
int fill_in_results(Program& p, const RunResult& run);

// The command: exit 0 when done, 1 when written results disagree with the kernel (they
// are kept, a warning names each) or the run stopped, 2 on bad input or a failed write,
// 3 when the trace is beyond the kernel executor's limits (not run, nothing written).
// `in_place` replaces the file whole (a temporary file renamed over it).
int cmd_record(const std::string& path, bool in_place, Executor& kernel, std::ostream& out, std::ostream& err);

}  // namespace eo
