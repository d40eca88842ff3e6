// `epoll-oracle kernels guest-run DIR`: what a guest of `kernels` runs (guest/init.cpp
// starts it). Every trace under DIR on this kernel's executor, whatever its @kernel; the
// results as guest_wire.h lines on standard output.
#pragma once
#include <ostream>
#include <string>

#include "real/executor.h"

namespace eo {

// Exit 0 when every trace was read and run (a run that stopped is a result, not a failure).
int cmd_guest_run(const std::string& dir, const real::KernelOptions& options, std::ostream& out, std::ostream& err);

}  // namespace eo
