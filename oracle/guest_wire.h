// The results a guest of `epoll-oracle kernels` sends to the host, one JSON object a line:
// first the guest kernel (uname, calibration, socket families), then one line per trace
// with the kernel executor's whole run. The host replays these runs against the model.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "common/executor.h"
#include "real/calibrate.h"

namespace eo {

nlohmann::json to_json(const RunResult& r);
RunResult run_from_json(const nlohmann::json& j);  // throws nlohmann::json::exception on a malformed object

nlohmann::json to_json(const real::Calibration& c);
real::Calibration calibration_from_json(const nlohmann::json& j);

nlohmann::json to_json(const real::SocketpairErrnos& table);
real::SocketpairErrnos families_from_json(const nlohmann::json& j);

}  // namespace eo
