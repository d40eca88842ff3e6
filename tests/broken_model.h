#pragma once
#include <memory>

#include "common/executor.h"

// The model with a planted bug (level-triggered items are not requeued after delivery).
std::unique_ptr<eo::Executor> make_broken_model();
