#include "kernel.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "af_unix.h"
#include "eventfd.h"
#include "eventpoll.h"
#include "pipe.h"
#include "select.h"
#include "socket.h"

namespace model {

namespace {
// MAX_RW_COUNT (include/linux/fs.h): INT_MAX rounded down to a page.
constexpr size_t kMaxRwCount = 0x7fffffffUL & ~size_t{4095};

void check_idle(const Task& t) {
  if (t.pending) throw std::logic_error("task " + t.name + " already has a pending call");
}

}  // namespace

Kernel::Kernel(KernelProfile profile)
    : g_(std::move(profile)), sched_(g_), fdt_(std::min(g_.profile.rlimit_nofile, g_.profile.nr_open)) {
  g_.sched = &sched_;
}

Kernel::~Kernel() {
  g_.observer = nullptr;  // teardown is not observed: the observer may already be gone
  for (auto& t : tasks_) {  // destroys the frames (wait entries, file references), then the fdget
    t->pending.reset();
    t->fdget.reset();
  }
  fdt_.close_all();
}

Task& Kernel::task(std::string_view name) {
  if (Task* t = find_task(name)) return *t;
  tasks_.push_back(std::make_unique<Task>(std::string(name), static_cast<int>(tasks_.size()) + 1, sched_));
  by_name_.emplace(tasks_.back()->name, tasks_.back().get());
  return *tasks_.back();
}

Task* Kernel::find_task(std::string_view name) {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

long Kernel::enter(Task& t, long r) {
  t.result = r;
  t.completed = true;
  if (auto_settle_) settle();
  return r;
}

long Kernel::enter(Task& t, MaySleep call, File* fdget) {
  if (call.done()) return enter(t, call.result());
  t.pending = std::move(call);  // asleep in schedule(): the scheduler resumes it
  if (fdget) t.fdget.emplace(t, fdget);
  t.completed = false;
  if (auto_settle_) settle();
  return kBlocked;
}

long Kernel::pipe2(Task& t, int fds[2], int flags) {
  check_idle(t);
  return enter(t, do_pipe2(g_, fdt_, fds, flags));
}

long Kernel::socketpair(Task& t, int domain, int type, int protocol, int sv[2]) {
  check_idle(t);
  return enter(t, do_socketpair(g_, fdt_, domain, type, protocol, sv));
}

long Kernel::eventfd2(Task& t, unsigned initval, int flags) {
  check_idle(t);
  return enter(t, do_eventfd2(g_, fdt_, initval, flags));
}

// epoll_create: size only has to be positive.
long Kernel::epoll_create(Task& t, int size) {
  check_idle(t);
  return enter(t, size <= 0 ? g_.fail(Rule::kEpCreateSizeEinval, -EINVAL) : do_epoll_create(g_, fdt_, 0));
}

long Kernel::epoll_create1(Task& t, int flags) {
  check_idle(t);
  return enter(t, do_epoll_create(g_, fdt_, flags));
}

long Kernel::epoll_ctl(Task& t, int epfd, int op, int fd, const EpollEvent* event) {
  check_idle(t);
  return enter(t, do_epoll_ctl(g_, fdt_, epfd, op, fd, event));
}

long Kernel::epoll_wait(Task& t, int epfd, int maxevents, int timeout_ms) {
  check_idle(t);
  File* const ep_file = fdt_.fget(epfd);  // do_epoll_wait's CLASS(fd), pinned if it sleeps
  return enter(t, sys_epoll_wait(g_, fdt_, t, epfd, maxevents, timeout_ms), ep_file);
}

long Kernel::epoll_pwait2(Task& t, int epfd, int maxevents, const Timespec64* timeout) {
  check_idle(t);
  File* const ep_file = fdt_.fget(epfd);
  return enter(t, sys_epoll_pwait2(g_, fdt_, t, epfd, maxevents, timeout), ep_file);
}

long Kernel::poll(Task& t, std::vector<PollFd> fds, int timeout_ms) {
  check_idle(t);
  return enter(t, sys_poll(g_, fdt_, t, std::move(fds), timeout_ms), nullptr);
}

// ksys_read -> vfs_read (fs/read_write.c), in its order: EBADF (no fd, or not open for
// reading), EINVAL (no FMODE_CAN_READ), EFAULT (access_ok(buf, n)), rw_verify_area, then
// the count clamped to MAX_RW_COUNT and the file's read. rw_verify_area cannot fail here:
// its (ssize_t)count < 0 check needs a count access_ok already refused, pipes and sockets
// pass no position (FMODE_STREAM) and eventfd's stays 0. Once access_ok passed, the model
// trusts that [buf, buf + n) is the caller's memory (the executor allocates what it passes).
// The fdget_pos reference is pinned while the read sleeps.
long Kernel::read(Task& t, int fd, void* buf, size_t n) {
  check_idle(t);
  File* f = fdt_.fget(fd);
  if (!f || !(f->f_mode & FMODE_READ)) return enter(t, g_.fail(Rule::kReadEbadf, -EBADF));
  if (!(f->f_mode & FMODE_CAN_READ)) return enter(t, g_.fail(Rule::kReadEinval, -EINVAL));
  if (!access_ok(buf, n)) return enter(t, g_.fail(Rule::kReadEfault, -EFAULT));
  return enter(t, f->read(t, buf, std::min(n, kMaxRwCount)), f);
}

// ksys_write -> vfs_write: the same checks as vfs_read, for writing.
long Kernel::write(Task& t, int fd, const void* buf, size_t n) {
  check_idle(t);
  File* f = fdt_.fget(fd);
  if (!f || !(f->f_mode & FMODE_WRITE)) return enter(t, g_.fail(Rule::kWriteEbadf, -EBADF));
  if (!(f->f_mode & FMODE_CAN_WRITE)) return enter(t, g_.fail(Rule::kWriteEinval, -EINVAL));
  if (!access_ok(buf, n)) return enter(t, g_.fail(Rule::kWriteEfault, -EFAULT));
  return enter(t, f->write(t, buf, std::min(n, kMaxRwCount)), f);
}

long Kernel::close(Task& t, int fd) {
  check_idle(t);
  const long r = fdt_.close(fd);
  return enter(t, r < 0 ? g_.fail(Rule::kCloseEbadf, r) : r);
}

// dup: the new descriptor shares the open file (one more reference).
long Kernel::dup(Task& t, int fd) {
  check_idle(t);
  File* f = fdt_.fget(fd);
  if (!f) return enter(t, g_.fail(Rule::kDupEbadf, -EBADF));
  if (!fdt_.has_free(1)) return enter(t, g_.fail(Rule::kFdEmfile, -EMFILE));
  return enter(t, fdt_.install(get_file(f)));
}

long Kernel::shutdown(Task& t, int fd, int how) {
  check_idle(t);
  return enter(t, do_shutdown(g_, fdt_, fd, how));
}

long Kernel::mq_open(Task& t, const std::string& name, int oflag, const long* attr) {
  check_idle(t);
  return enter(t, do_mq_open(g_, mq_ns_, fdt_, name, oflag, attr));
}

long Kernel::mq_unlink(Task& t, const std::string& name) {
  check_idle(t);
  return enter(t, do_mq_unlink(g_, mq_ns_, name));
}

long Kernel::mq_timedsend(Task& t, int mqdes, size_t len, unsigned prio) {
  check_idle(t);
  File* const f = fdt_.fget(mqdes);  // CLASS(fd), pinned if the call sleeps
  return enter(t, do_mq_timedsend(t, fdt_, mqdes, len, prio), f);
}

long Kernel::mq_timedreceive(Task& t, int mqdes, size_t len) {
  check_idle(t);
  File* const f = fdt_.fget(mqdes);
  return enter(t, do_mq_timedreceive(t, fdt_, mqdes, len), f);
}

long Kernel::mq_getattr(Task& t, int mqdes) {
  check_idle(t);
  return enter(t, do_mq_getattr(g_, fdt_, mqdes));
}

long Kernel::mq_notify(Task& t, int mqdes, const int* notify) {
  check_idle(t);
  return enter(t, do_mq_notify(g_, fdt_, mqdes, notify));
}

long Kernel::notifications(Task& t) {
  check_idle(t);
  return enter(t, std::exchange(g_.mq_notify_signals, 0));
}

int Kernel::settle() { return sched_.run_until_idle(); }

void Kernel::advance_ms(int64_t ms) {
  // A trace may write any sleep up to INT64_MAX ms: virtual time saturates, never wraps.
  constexpr int64_t kNsPerMs = 1000000;
  sched_.advance(ms > INT64_MAX / kNsPerMs ? INT64_MAX : ms * kNsPerMs);
  settle();
}

bool Kernel::wait_out(Task& t) {
  settle();
  while (t.pending && t.has_timer) sched_.advance_to_next_timer();
  settle();
  return !t.pending;
}

void Kernel::interrupt(Task& t) {
  if (!t.pending) return;
  sched_.signal(t);
  settle();
}

void Kernel::interrupt_all() {
  for (auto& t : tasks_) interrupt(*t);
  for (auto& t : tasks_) {
    if (t->pending) {  // a call that ignores signals: abandon it
      t->pending.reset();
      t->fdget.reset();
      t->sleeping_at = nullptr;
      t->state = TaskState::kIdle;
    }
  }
}

}  // namespace model
