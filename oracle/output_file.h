// Writing a file the oracle produces (record -i, fuzz --out): whole or not at all.
#pragma once
#include <string>

namespace eo {

// Writes `text` to `path` through a temporary file in the same directory renamed over it,
// so that `path` holds its old content or the new one, never a part of either. A file that
// exists keeps its mode and owner. False with *error saying why (without the path).
bool write_file_atomically(const std::string& path, const std::string& text, std::string* error);

// Makes `dir` (and its parents) if needed and checks that a file can be created in it.
// False with *error saying why (without the path).
bool prepare_output_dir(const std::string& dir, std::string* error);

}  // namespace eo
