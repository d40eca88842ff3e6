// Comparing two runs of one program step by step: what the differential search calls a
// divergence, and the kernel's own nondeterminism that is allowed.
#pragma once
#include <optional>
#include <string>

#include "common/executor.h"
#include "common/program.h"

namespace eo {

struct Divergence {
  int step = -1;
  std::string what;   // "result", "returned tasks", "still blocked", "stopped"
  std::string left;   // first run's observation, as a trace would write it
  std::string right;  // second run's
  std::string str(const Program& p) const;
};

// The first step where the runs differ, if any. Descriptor numbers are not compared.
std::optional<Divergence> first_divergence(const Program& p, const RunResult& a, const RunResult& b);

}  // namespace eo
