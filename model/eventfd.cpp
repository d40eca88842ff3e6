// fs/eventfd.c as of 6.16+ (Kingxukai/linux 0291023e7330).
#include "eventfd.h"

#include <cstring>
#include <limits>

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

// wait_event_interruptible_locked_irq: a non-exclusive entry at the tail of ctx->wqh.
struct EventfdWait final : FileCall<EventfdFile> {
  EventfdWait(EventfdFile* f, bool is_read, uint64_t ucnt, void* out)
      : FileCall(f), is_read(is_read), ucnt(ucnt), out(out) {}
  bool is_read;
  uint64_t ucnt;
  void* out;
  WaitQueueEntry wait;

  bool ready() const { return is_read ? file->count != 0 : ULLONG_MAX_ - file->count > ucnt; }
  void queue(Task& t) {
    if (!wait.queued()) {
      wait.flags = 0;
      wait.priv = &t;
      wait.func = autoremove_wake_function;
      __add_wait_queue_entry_tail(file->wqh, wait);
    }
  }
  long finish(Task& t);
  long resume(Task& t) override {
    if (t.signal_pending) return -EINTR;
    if (!ready()) {
      queue(t);
      t.sched->sleep_again(t);
      return kBlocked;
    }
    wait.del_init();
    return finish(t);
  }
};

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

// The success path of eventfd_write: every successful write wakes with EPOLLIN, even of 0.
long do_write(EventfdFile* f, uint64_t ucnt) {
  f->count += ucnt;
  if (f->wqh.active()) wake_up_locked_poll(f->wqh, EPOLLIN, Rule::kEfdWriteWake);
  return sizeof ucnt;
}

long EventfdWait::finish(Task& t) { return is_read ? do_read(file, t, out) : do_write(file, ucnt); }

}  // namespace

long EventfdFile::read(Task& t, void* buf, size_t n) {
  if (n < sizeof(uint64_t)) return g->fail(Rule::kEfdReadEinval, -EINVAL);
  if (!count) {
    if (nonblock()) return g->fail(Rule::kEfdReadEagain, -EAGAIN);
    if (t.signal_pending) return -EINTR;
    g->rule(Rule::kEfdReadSleeps);
    auto call = std::make_unique<EventfdWait>(this, true, 0, buf);
    call->queue(t);
    t.sched->sleep(t, std::move(call));
    return kBlocked;
  }
  return do_read(this, t, buf);
}

long EventfdFile::write(Task& t, const void* buf, size_t n) {
  if (n != sizeof(uint64_t)) return g->fail(Rule::kEfdWriteEinvalSize, -EINVAL);  // exactly 8: longer is EINVAL too
  uint64_t ucnt;
  std::memcpy(&ucnt, buf, sizeof ucnt);
  if (ucnt == ULLONG_MAX_) return g->fail(Rule::kEfdWriteEinvalMax, -EINVAL);
  if (ULLONG_MAX_ - count > ucnt) return do_write(this, ucnt);
  if (nonblock()) return g->fail(Rule::kEfdWriteEagain, -EAGAIN);
  if (t.signal_pending) return -EINTR;
  g->rule(Rule::kEfdWriteSleeps);
  auto call = std::make_unique<EventfdWait>(this, false, ucnt, nullptr);
  call->queue(t);
  t.sched->sleep(t, std::move(call));
  return kBlocked;
}

// eventfd_release: epitems are already gone (eventpoll_release ran first).
void EventfdFile::release() { wake_up_poll(wqh, EPOLLHUP, Rule::kEfdReleaseWake); }

long do_eventfd2(Globals& g, FdTable& fdt, unsigned initval, int flags) {
  if (flags & ~(EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE)) return g.fail(Rule::kEventfd2Einval, -EINVAL);
  if (!fdt.has_free(1)) return g.fail(Rule::kFdEmfile, -EMFILE);
  return fdt.install(new EventfdFile(g, initval, flags));
}

}  // namespace model
