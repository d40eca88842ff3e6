// Compiled with the model's sources under -Dmodel=model_broken, with
// broken_ep_requeue.cpp for model/ep_requeue.cpp (tests/CMakeLists.txt): a model whose
// ep_send_events forgets to requeue level-triggered items, for the fuzz tests.
#include "tests/broken_model.h"

#include "model/executor.h"

std::unique_ptr<eo::Executor> make_broken_model() {
  return std::make_unique<model::ModelExecutor>(model::KernelProfile{}, false);
}

eo::ScheduleSearch broken_schedule_search(eo::Executor& m) {
  return eo::schedule_search(dynamic_cast<model::ModelExecutor&>(m));
}
