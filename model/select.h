// poll(2): fs/select.c (SYSCALL_DEFINE3(poll), do_sys_poll, do_poll, do_pollfd,
// __pollwait, pollwake, poll_schedule_timeout, poll_select_set_timeout).
#pragma once
#include <vector>

#include "file.h"
#include "sched.h"

namespace model {

// SYSCALL_DEFINE3(poll): the revents go to t.pollfds; the call may sleep.
MaySleep sys_poll(Globals& g, FdTable& fdt, Task& t, std::vector<PollFd> fds, int timeout_ms);

// poll_select_set_timeout: -EINVAL for an invalid timespec; else *to = {0, 0} for a zero
// timeout, or the absolute end time now + {sec, nsec} (saturating), and 0.
int poll_select_set_timeout(const Task& t, Timespec64* to, int64_t sec, int64_t nsec);

}  // namespace model
