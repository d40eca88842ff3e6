// KernelExecutor: runs a trace program (common/program.h) as real system calls on the
// kernel this process runs on, one real thread per trace task, and reports what every step
// returned (common/executor.h). See README.md for how "blocked" and "settled" are decided.
#pragma once
#include <cstddef>
#include <string>

#include "common/executor.h"

namespace real {

struct KernelOptions {
  // Bound for a call step to return, for a pending call to be seen blocked and for the
  // system to settle after any step. A call step with a positive timeout (epoll_wait,
  // poll) gets its timeout on top. A call that misses it is reported kStuck and the run
  // stops there.
  int watchdog_ms = 2000;
  // The longest sleep(MS), and the longest finite epoll_wait/poll timeout a call step may
  // have to wait out; a trace beyond it is not run (KernelExecutor::limit).
  long max_sleep_ms = 60'000;
  // Bound for a signal to get a pending (or stuck) call out of the kernel at the end.
  int interrupt_ms = 2000;
};

class KernelExecutor : public eo::Executor {
 public:
  // read/write(N) and fill/drain CHUNKs larger than this move at most this many bytes per
  // system call (the buffer is allocated per call and must be real memory). Pipes and
  // AF_UNIX sockets never hold this much with default limits, so only a blocking call
  // that a concurrent reader keeps draining could tell the difference.
  static constexpr size_t kMaxIoBytes = size_t{16} << 20;

  explicit KernelExecutor(KernelOptions options = {});
  std::string name() const override { return "kernel"; }
  // uname release, e.g. "6.18.44-fc-v657".
  std::string version() const override { return version_; }

  // Runs p. While it runs, the executor owns the process's descriptor numbering and the
  // dispositions of SIGUSR1 (a no-op handler without SA_RESTART, used to interrupt calls)
  // and SIGPIPE (ignored); both are restored afterwards. Runs in one process are
  // serialised; nothing else in the process may open descriptors meanwhile, or the
  // trace's lowest-free-number allocation would see them.
  // On return every thread it started is joined and every descriptor it or the trace
  // opened is closed.
  eo::RunResult run(const eo::Program& p) override;
  // A sleep over max_sleep_ms, or a call step (not pending) whose finite timeout is over it
  // and whose written results allow the timeout to expire (unchecked, `*`, `[]`): the
  // watchdog would report it stuck although the kernel is right.
  std::string limit(const eo::Program& p) const override;

 private:
  KernelOptions options_;
  std::string version_;
};

}  // namespace real
