// ModelExecutor: runs a trace program on the model (the Kernel facade), one simulated task
// per trace task, and reports what each step returned (common/executor.h).
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/executor.h"
#include "model/observer.h"
#include "model/profile.h"

namespace model {

class ModelExecutor : public eo::Executor {
 public:
  explicit ModelExecutor(KernelProfile profile, bool explain = false) : profile_(std::move(profile)), explain_(explain) {}
  std::string name() const override { return "model"; }
  std::string version() const override { return profile_.version.str(); }
  eo::RunResult run(const eo::Program& p) override;
  // The same with another order among tasks woken together (Scheduler::set_schedule_seed).
  eo::RunResult run_schedule(const eo::Program& p, uint64_t seed);
  // Every schedule of wakees at wake points (Scheduler::wake_point) the program meets, by
  // depth-first search over the decisions, the default run (schedule 0) first, at most
  // `limit` runs. visit(result, schedule number, the wakees run at points in the order they
  // ran, empty for schedule 0) returns true to stop.
  // Returns the number of runs made. A profile with one CPU and no preemption has only
  // schedule 0.
  struct WakeeRun {
    std::string task;  // "t1"
    std::string site;  // "unix_release_sock after sk_state_change"
  };
  using ScheduleVisitor = std::function<bool(const eo::RunResult&, int schedule, const std::vector<WakeeRun>& ran)>;
  // "t1 ran at unix_release_sock after sk_state_change; ..." or "every wakee after its waker".
  static std::string describe(const std::vector<WakeeRun>& ran);
  int for_each_schedule(const eo::Program& p, int limit, const ScheduleVisitor& visit);
  // An extra observer (rule coverage) that sees every event of every run.
  void set_observer(Observer* o) { extra_ = o; }
  const KernelProfile& profile() const { return profile_; }

 private:
  KernelProfile profile_;
  bool explain_;
  Observer* extra_ = nullptr;
};

}  // namespace model
