// poll(2): fs/select.c do_sys_poll / do_poll / __pollwait / pollwake.
#pragma once
#include <vector>

#include "file.h"
#include "sched.h"

namespace model {

// Results in t.pollfds (revents); may return kBlocked.
long do_sys_poll(Globals& g, FdTable& fdt, Task& t, std::vector<PollFd> fds, int timeout_ms);

}  // namespace model
