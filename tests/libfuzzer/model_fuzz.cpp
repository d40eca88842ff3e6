// libFuzzer target for the model executor fed by parsed traces: whatever a trace asks,
// the model answers (a value, an errno, blocked or stuck), with explain on, and never
// crashes, leaks or hangs. Inputs that do not parse are the parser's target's business.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "model/executor.h"
#include "oracle/trace/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  eo::ParseResult parsed = eo::parse_trace(text, "fuzz.trace");
  if (!parsed) return 0;
  const eo::Program& p = parsed.program();
  static model::ModelExecutor model(model::KernelProfile{}, /*explain=*/true);
  const eo::RunResult r = model.run(p);
  if (r.steps.size() != p.steps.size()) std::abort();
  return 0;
}
