// The planted bug of eo_model_broken (tests/CMakeLists.txt): linked in the place of
// model/ep_requeue.cpp, it forgets to put a delivered level-triggered item back on
// rdllist, so a level-triggered fd is reported once and then never again until a new
// wakeup queues it.
#include "model/eventpoll.h"

namespace model {

void ep_requeue_level_triggered(Eventpoll*, Epitem&) {}

}  // namespace model
