// The herd lab on this machine's kernel: a scenario's workers as real threads (at most
// kMaxHerdWorkers), events made by the calling thread, every worker known to be blocked
// from /proc/self/task/TID/{syscall,stat,schedstat} (never a sleep), wakeups counted from
// /proc/self/task/TID/status (voluntary_ctxt_switches). Every thread and descriptor is
// gone when it returns, a watchdog bounds every wait.
#pragma once
#include "common/herd.h"

namespace real {

inline constexpr int kMaxHerdWorkers = 64;
inline constexpr int kMaxHerdEvents = 100000;  // about 5 s of connections here

struct HerdOptions {
  int watchdog_ms = 10000;  // the longest the system may take to settle after an event
};

eo::herd::Run run_herd(const eo::herd::Scenario& s, const HerdOptions& opt = {});

}  // namespace real
