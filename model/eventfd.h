// eventfd: fs/eventfd.c as of 6.16+ (eventfd_read, eventfd_write, eventfd_poll).
#pragma once
#include <cstdint>

#include "file.h"
#include "sched.h"

namespace model {

struct EventfdFile final : File {
  EventfdFile(Globals& g, uint64_t initval, int flags);
  WaitQueueHead wqh;
  uint64_t count;
  bool semaphore;
  poll_t poll(PollTable* pt) override;                      // eventfd_poll
  MaySleep read(Task& t, void* buf, size_t n) override;         // eventfd_read
  MaySleep write(Task& t, const void* buf, size_t n) override;  // eventfd_write
  void release() override;                                  // eventfd_release
  std::string describe() const override { return "eventfd"; }
};

// eventfd2: flags other than EFD_CLOEXEC|EFD_NONBLOCK|EFD_SEMAPHORE give -EINVAL.
long do_eventfd2(Globals& g, FdTable& fdt, unsigned initval, int flags);

}  // namespace model
