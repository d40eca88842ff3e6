// Compiled with the model's sources under -Dmodel=model_broken and
// -DEO_TEST_BREAK_LT_REQUEUE (tests/CMakeLists.txt): a model whose ep_send_events forgets
// to requeue level-triggered items, for the shrinking test.
#include "tests/broken_model.h"

#include "model/executor.h"

std::unique_ptr<eo::Executor> make_broken_model() {
  return std::make_unique<model::ModelExecutor>(model::KernelProfile{}, false);
}
