#pragma once
#include <memory>

#include "common/executor.h"
#include "oracle/schedules.h"

// The model with a planted bug (level-triggered items are not requeued after delivery).
std::unique_ptr<eo::Executor> make_broken_model();
// Its other schedules, searched as the CLI searches the correct model's (`m` must come
// from make_broken_model).
eo::ScheduleSearch broken_schedule_search(eo::Executor& m);
