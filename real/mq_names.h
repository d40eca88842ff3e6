// The message queues of a kernel run (TRACE_FORMAT.md v1.1 "Message queues"): each trace
// name /NAME becomes a kernel name unique to the run, and every one of them is unlinked
// when the run ends, and also if SIGINT or SIGTERM ends the process while it runs.
#pragma once
#include <signal.h>

#include <string>
#include <vector>

#include "common/program.h"

namespace real {

// The message-queue notification signal (SIGEV_SIGNAL), blocked in every thread of a run
// and counted by notifications(): a real-time signal, so that each one is queued.
int notify_signal();
// The signal set of notify_signal().
sigset_t notify_set();
// Takes every pending notification signal (rt_sigtimedwait with a zero timeout until
// EAGAIN) of the calling process; how many there were.
long take_notifications();

class RunQueues {
 public:
  // The names of every mq_open and mq_unlink of p, prefixed "eo.PID.N." (N counts runs).
  explicit RunQueues(const eo::Program& p);
  // Unlinks them all (the trace's own mq_unlink may have done so: ENOENT is fine) and
  // puts the SIGINT/SIGTERM dispositions back.
  ~RunQueues();
  RunQueues(const RunQueues&) = delete;
  RunQueues& operator=(const RunQueues&) = delete;

  // The kernel name of a trace name (NAME without its slash): "eo.PID.N.NAME".
  std::string kernel_name(const std::string& name) const { return prefix_ + name; }
  // While armed, SIGINT and SIGTERM (unless the process ignores them) unlink every queue
  // of the run, then end the process as the disposition before would have.
  void arm();
  // mq_unlink of every name of the run; how many existed.
  int unlink_all() const;
  // How many runs have made their names so far: run N (from 0) uses "eo.PID.N.".
  static unsigned runs_started();

 private:
  std::string prefix_;
  std::vector<std::string> names_;  // kernel names, each once
  bool armed_ = false;
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

}  // namespace real
