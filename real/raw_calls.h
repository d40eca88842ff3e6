// The system call of each trace call (the real function of its schema row), prepared by
// the coordinator from numbers it resolved and run on a task's thread, or in a forked
// child process from the same numbers sent to it (real/child.h).
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/calls.h"
#include "common/harness.h"

namespace real {

// One system call of a step, its arguments resolved by the coordinator (which owns the
// names); it runs on the task thread, writes what the call returned into the RawResult
// and gives the return value (-errno on failure). `cancel` ends a loop that a signal
// interrupted between two calls.
using RawCall = std::function<long(eo::RawResult&, const std::atomic<bool>& cancel)>;

// What a call's names denote, resolved by the coordinator (which owns the names): plain
// numbers, so that a forked child can run the call from them.
struct Resolved {
  std::vector<int> fds;         // the descriptor of each name of eo::fd_args(call), in order
  uint64_t data = 0;            // epoll_ctl: the label's epoll_event.data
  std::vector<int> exit_closes;  // exit() in main's process: the descriptors the trace made there
  // bind: the address to bind (fresh or OTHER's); connect: OTHER's; listen: the 127.0.0.1
  // address an unbound AF_INET socket is bound to first (pre_bind set).
  eo::SockAddr addr;
  bool pre_bind = false;
  std::string mq_name;  // mq_open, mq_unlink: the queue's kernel name (RunQueues::kernel_name)
};
Resolved resolve(eo::StepHarness& h, const eo::CallArgs& call);

struct ForkContext;  // real/child.h

// The raw call of `call` (a step's call, the object itself: names are matched by address),
// or nullptr with *error when its buffer cannot be had. fork needs `fork` (nullptr: ENOSYS).
RawCall make_raw_call(const eo::CallArgs& call, const Resolved& r, const ForkContext* fork, std::string* error);

// syscall(2) gives -1 and errno; outcomes want -errno.
long ret_of(long r);

}  // namespace real
