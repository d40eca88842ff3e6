// Where something was written in a trace: 1-based line and column.
#pragma once

namespace eo {

struct Pos {
  int line = 0;
  int col = 0;
  friend bool operator==(const Pos&, const Pos&) = default;
};

}  // namespace eo
