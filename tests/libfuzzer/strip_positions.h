// What a trace means, without where it was written: steps with positions and comments
// cleared, so that two spellings of one trace compare equal.
#pragma once
#include <vector>

#include "common/program.h"

namespace eo::fuzz {

inline std::vector<Step> steps_without_positions(const Program& p) {
  std::vector<Step> out = p.steps;
  for (Step& s : out) {
    s.pos = {};
    s.comment.clear();
    s.expect.pos = {};
    clear_positions(s.call);
  }
  return out;
}

}  // namespace eo::fuzz
