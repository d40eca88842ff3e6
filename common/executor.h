// The executor interface both the model and the real kernel implement: run a Program,
// report what every step returned. The checker (oracle/) compares these observations
// with the written results and with each other.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/program.h"

namespace eo {

// What one call returned.
struct Outcome {
  enum class Kind {
    kNone,     // not run (the step is a resume line, or the run stopped before it)
    kValue,    // ret >= 0 (bind names are the fds returned, see fds)
    kError,    // ret = -errno
    kBlocked,  // the call is sleeping
    kStuck,    // the watchdog fired: a call that should have returned did not
  };
  Kind kind = Kind::kNone;
  int64_t ret = 0;                  // value, or errno (positive) for kError
  std::vector<int> fds;             // descriptors a creating call returned
  std::vector<EventSpec> events;    // epoll_wait labels / poll fd names, in order
  std::vector<int64_t> numbers;     // a list-of-numbers result: mq_receive's [LEN, PRIO]
  friend bool operator==(const Outcome&, const Outcome&) = default;
};

// Whether two outcomes are equal as a trace sees them: descriptor numbers are not compared
// (each executor has its own), kinds, values, errors and events are.
inline bool same_outcome(const Outcome& a, const Outcome& b) {
  return a.kind == b.kind && (a.ret == b.ret || !a.fds.empty()) && a.events == b.events && a.numbers == b.numbers &&
         a.fds.size() == b.fds.size();
}

// A pending call that returned while the system settled after a step.
struct TaskReturn {
  std::string task;
  Outcome outcome;
  int step = -1;  // the pending step whose call returned (index into Program::steps)
  friend bool operator==(const TaskReturn&, const TaskReturn&) = default;
};

struct StepObservation {
  Outcome outcome;                      // kCall / kPendingCall: what the call itself did
  std::vector<TaskReturn> returned;     // pending calls (of any task) that returned after this step, by task name
  std::vector<std::string> still_blocked;  // tasks whose call is pending after this step
  std::vector<std::string> explain;     // the model's account of the step (empty on a kernel)
};

struct RunResult {
  std::vector<StepObservation> steps;  // one per Program::steps entry
  std::string error;                   // the run could not go on (setup failure, stuck task)
  int stopped_at = -1;                 // index of the step where it stopped, -1 if it ran to the end
};

class Executor {
 public:
  virtual ~Executor() = default;
  virtual std::string name() const = 0;        // "model", "kernel"
  virtual std::string version() const = 0;     // kernel version run or imitated, "6.18.44"
  virtual RunResult run(const Program& p) = 0;
  // Why this executor cannot run p faithfully (a step beyond one of its limits), said
  // before running it; "" when it can. Not a divergence: the trace is not run there.
  virtual std::string limit(const Program&) const { return ""; }
};

}  // namespace eo
