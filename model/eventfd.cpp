// fs/eventfd.c as of 6.16+ (Kingxukai/linux 0291023e7330).
#include "eventfd.h"

#include <cstring>
#include <limits>

#include "wait_event.h"

namespace model {

namespace {
constexpr uint64_t ULLONG_MAX_ = std::numeric_limits<uint64_t>::max();
}

EventfdFile::EventfdFile(Globals& g_, uint64_t initval, int flags)
    : File(g_, with_rw_ops(FMODE_READ | FMODE_WRITE), flags & (O_NONBLOCK_ | O_CLOEXEC_)), wqh(g_, "ctx->wqh", this),
      count(initval), semaphore(flags & EFD_SEMAPHORE) {}

// eventfd_poll
poll_t EventfdFile::poll(PollTable* pt) {
  poll_wait(this, wqh, pt);
  poll_t events = 0;
  if (count > 0) events |= EPOLLIN;
  if (count == ULLONG_MAX_) events |= EPOLLERR;
  if (ULLONG_MAX_ - 1 > count) events |= EPOLLOUT;
  return events;
}

namespace {

// eventfd_ctx_do_read + the EPOLLOUT wake of eventfd_read.
long do_read(EventfdFile* f, Task& t, void* buf) {
  if (f->semaphore) f->g->rule(Rule::kEfdReadSemaphore);
  const uint64_t ucnt = f->semaphore ? 1 : f->count;
  f->count -= ucnt;
  if (f->wqh.active()) wake_up_locked_poll(f->wqh, EPOLLOUT, Rule::kEfdReadWake);
  std::memcpy(buf, &ucnt, sizeof ucnt);
  t.value = ucnt;
  return sizeof ucnt;
}

}  // namespace

// eventfd_read: a zero count blocks (wait_event_interruptible_locked_irq) unless O_NONBLOCK.
MaySleep EventfdFile::read(Task& t, void* buf, size_t n) {
  if (n < sizeof(uint64_t)) co_return g->fail(Rule::kEfdReadEinval, -EINVAL);
  if (!count) {
    if (nonblock()) co_return g->fail(Rule::kEfdReadEagain, -EAGAIN);
    if (!t.signal_pending) g->rule(Rule::kEfdReadSleeps);
    if (co_await wait_event_interruptible_locked_irq(t, wqh, [this] { return count != 0; })) co_return -EINTR;
  }
  co_return do_read(this, t, buf);
}

// eventfd_write: every successful write wakes with EPOLLIN, even of 0.
MaySleep EventfdFile::write(Task& t, const void* buf, size_t n) {
  // Exactly 8 since 6.9 (longer is EINVAL too); before, at least 8, of which 8 are written.
  const bool bad_size = g->profile.efd_write_exact_size ? n != sizeof(uint64_t) : n < sizeof(uint64_t);
  if (bad_size) co_return g->fail(Rule::kEfdWriteEinvalSize, -EINVAL);
  uint64_t ucnt;
  std::memcpy(&ucnt, buf, sizeof ucnt);
  if (ucnt == ULLONG_MAX_) co_return g->fail(Rule::kEfdWriteEinvalMax, -EINVAL);
  long res = -EAGAIN;
  if (ULLONG_MAX_ - count > ucnt) {
    res = sizeof ucnt;
  } else if (!nonblock()) {
    if (!t.signal_pending) g->rule(Rule::kEfdWriteSleeps);
    res = co_await wait_event_interruptible_locked_irq(t, wqh, [this, ucnt] { return ULLONG_MAX_ - count > ucnt; });
    if (!res) res = sizeof ucnt;
  } else {
    g->rule(Rule::kEfdWriteEagain);
  }
  if (res > 0) {
    count += ucnt;
    if (wqh.active()) wake_up_locked_poll(wqh, EPOLLIN, Rule::kEfdWriteWake);
  }
  co_return res;
}

// eventfd_release: epitems are already gone (eventpoll_release ran first).
void EventfdFile::release() { wake_up_poll(wqh, EPOLLHUP, Rule::kEfdReleaseWake); }

long do_eventfd2(Globals& g, FdTable& fdt, unsigned initval, int flags) {
  if (flags & ~(EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE)) return g.fail(Rule::kEventfd2Einval, -EINVAL);
  if (!fdt.has_free(1)) return g.fail(Rule::kFdEmfile, -EMFILE);
  return fdt.install(new EventfdFile(g, initval, flags));
}

}  // namespace model
