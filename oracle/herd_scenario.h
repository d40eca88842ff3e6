// The herd lab's scenario files (docs/HERD.md): `scenario NAME` starts a scenario, then one
// `key value...` per line, `#` to the end of a line is a comment.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "common/herd.h"

namespace eo::herd {

// Parses `text` (read from `file`, which only names it in errors). On bad input: nullopt and
// *error is "FILE:LINE:COL: what was expected".
std::optional<std::vector<Scenario>> parse_scenarios(const std::string& text, const std::string& file,
                                                     std::string* error);

// One setting, as a file line says it (`key value...`), applied to s; false and *error
// (without a position) if it is not valid. The CLI's flags go through it too.
bool apply_setting(Scenario& s, const std::string& key, const std::vector<std::string>& values, std::string* error,
                   size_t* bad_value = nullptr);

// What a scenario may not combine (nested with EPOLLEXCLUSIVE...); empty if it is valid.
std::string check_scenario(const Scenario& s);

}  // namespace eo::herd
