#include "kernel.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "af_inet.h"
#include "af_unix.h"
#include "eventfd.h"
#include "eventpoll.h"
#include "pipe.h"
#include "select.h"
#include "socket.h"
#include "udp.h"

namespace model {

namespace {
// MAX_RW_COUNT (include/linux/fs.h): INT_MAX rounded down to a page.
constexpr size_t kMaxRwCount = 0x7fffffffUL & ~size_t{4095};

void check_idle(const Task& t) {
  if (t.pending) throw std::logic_error("task " + t.name + " already has a pending call");
}

}  // namespace

Kernel::Kernel(KernelProfile profile)
    : g_(std::move(profile)), sched_(g_) {
  g_.sched = &sched_;
  procs_.push_back(std::make_unique<Process>("main", FdTable(std::min(g_.profile.rlimit_nofile, g_.profile.nr_open))));
}

Kernel::~Kernel() {
  g_.observer = nullptr;  // teardown is not observed: the observer may already be gone
  for (auto& t : tasks_) {  // destroys the frames (wait entries, file references), then the fdget
    t->pending.reset();
    t->fdget.reset();
  }
  for (auto& p : procs_) p->files.close_all();
}

Task& Kernel::task(std::string_view name) {
  if (Task* t = find_task(name)) return *t;
  return new_task(name, *procs_.front());
}

Task& Kernel::new_task(std::string_view name, Process& p) {
  tasks_.push_back(std::make_unique<Task>(std::string(name), static_cast<int>(tasks_.size()) + 1, sched_));
  tasks_.back()->proc = &p;
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
  return enter(t, do_pipe2(g_, files(t), fds, flags));
}

long Kernel::socketpair(Task& t, int domain, int type, int protocol, int sv[2]) {
  check_idle(t);
  return enter(t, do_socketpair(g_, files(t), domain, type, protocol, sv));
}

long Kernel::eventfd2(Task& t, unsigned initval, int flags) {
  check_idle(t);
  return enter(t, do_eventfd2(g_, files(t), initval, flags));
}

// epoll_create: size only has to be positive.
long Kernel::epoll_create(Task& t, int size) {
  check_idle(t);
  return enter(t, size <= 0 ? g_.fail(Rule::kEpCreateSizeEinval, -EINVAL) : do_epoll_create(g_, files(t), 0));
}

long Kernel::epoll_create1(Task& t, int flags) {
  check_idle(t);
  return enter(t, do_epoll_create(g_, files(t), flags));
}

long Kernel::epoll_ctl(Task& t, int epfd, int op, int fd, const EpollEvent* event) {
  check_idle(t);
  return enter(t, do_epoll_ctl(g_, files(t), epfd, op, fd, event));
}

long Kernel::epoll_wait(Task& t, int epfd, int maxevents, int timeout_ms) {
  check_idle(t);
  File* const ep_file = files(t).fget(epfd);  // do_epoll_wait's CLASS(fd), pinned if it sleeps
  return enter(t, sys_epoll_wait(g_, files(t), t, epfd, maxevents, timeout_ms), ep_file);
}

long Kernel::epoll_pwait2(Task& t, int epfd, int maxevents, const Timespec64* timeout) {
  check_idle(t);
  if (!g_.profile.has_epoll_pwait2) return -ENOSYS;  // before 5.11: no such entry in sys_call_table
  File* const ep_file = files(t).fget(epfd);
  return enter(t, sys_epoll_pwait2(g_, files(t), t, epfd, maxevents, timeout), ep_file);
}

long Kernel::poll(Task& t, std::vector<PollFd> fds, int timeout_ms) {
  check_idle(t);
  return enter(t, sys_poll(g_, files(t), t, std::move(fds), timeout_ms), nullptr);
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
  File* f = files(t).fget(fd);
  if (!f || !(f->f_mode & FMODE_READ)) return enter(t, g_.fail(Rule::kReadEbadf, -EBADF));
  if (!(f->f_mode & FMODE_CAN_READ)) return enter(t, g_.fail(Rule::kReadEinval, -EINVAL));
  if (!access_ok(buf, n)) return enter(t, g_.fail(Rule::kReadEfault, -EFAULT));
  return enter(t, f->read(t, buf, std::min(n, kMaxRwCount)), f);
}

// ksys_write -> vfs_write: the same checks as vfs_read, for writing.
long Kernel::write(Task& t, int fd, const void* buf, size_t n) {
  check_idle(t);
  File* f = files(t).fget(fd);
  if (!f || !(f->f_mode & FMODE_WRITE)) return enter(t, g_.fail(Rule::kWriteEbadf, -EBADF));
  if (!(f->f_mode & FMODE_CAN_WRITE)) return enter(t, g_.fail(Rule::kWriteEinval, -EINVAL));
  if (!access_ok(buf, n)) return enter(t, g_.fail(Rule::kWriteEfault, -EFAULT));
  return enter(t, f->write(t, buf, std::min(n, kMaxRwCount)), f);
}

long Kernel::close(Task& t, int fd) {
  check_idle(t);
  const long r = files(t).close(fd, *t.proc);
  return enter(t, r < 0 ? g_.fail(Rule::kCloseEbadf, r) : r);
}

// dup: the new descriptor shares the open file (one more reference).
long Kernel::dup(Task& t, int fd) {
  check_idle(t);
  File* f = files(t).fget(fd);
  if (!f) return enter(t, g_.fail(Rule::kDupEbadf, -EBADF));
  if (!files(t).has_free(1)) return enter(t, g_.fail(Rule::kFdEmfile, -EMFILE));
  return enter(t, files(t).install(get_file(f)));
}

long Kernel::shutdown(Task& t, int fd, int how) {
  check_idle(t);
  if (TcpSocketFile* f = tcp_file(files(t).fget(fd))) return enter(t, tcp_inet_shutdown(*f->sk, how));  // inet_shutdown
  if (UdpSocketFile* f = udp_file(files(t).fget(fd))) return enter(t, udp_inet_shutdown(*f->sk, how));
  return enter(t, do_shutdown(g_, files(t), fd, how));
}

// kernel/fork.c copy_process -> copy_files: without CLONE_FILES the child gets dup_fd's
// copy of the caller's table, every file referenced once more; nothing else the model
// knows is copied (a forked process has exactly one task).
long Kernel::fork(Task& t, const std::string& child) {
  check_idle(t);
  g_.rule(Rule::kForkDupFd);
  procs_.push_back(std::make_unique<Process>(child, files(t).dup_fd()));
  return enter(t, new_task(child, *procs_.back()).tid);
}

// exit() as exit_group (kernel/exit.c do_group_exit -> zap_other_threads, then do_exit):
// the other tasks die first, and their calls with them (the model ends them with a
// signal; they never return to the trace); then exit_files -> put_files_struct ->
// close_files closes every descriptor through filp_close, as close(2) does, so each file
// is released at its last fput (eventpoll_release: registrations follow the open file).
long Kernel::exit(Task& t) {
  check_idle(t);
  Process& p = *t.proc;
  for (auto& u : tasks_) {
    if (u.get() == &t || u->proc != &p || !u->pending) continue;
    g_.rule(Rule::kExitEndsTasks);
    interrupt(*u);
  }
  g_.rule(Rule::kExitFiles);
  p.files.close_files(p);
  p.exited = true;
  return enter(t, 0);
}

long Kernel::socket(Task& t, int domain, int type, int protocol) {
  check_idle(t);
  return enter(t, do_socket(g_, files(t), domain, type, protocol));
}

long Kernel::bind(Task& t, int fd, const std::vector<uint8_t>& addr) {
  check_idle(t);
  return enter(t, do_bind(g_, files(t), fd, addr));
}

long Kernel::listen(Task& t, int fd, int backlog) {
  check_idle(t);
  return enter(t, do_listen(g_, files(t), fd, backlog));
}

// The socket's file is pinned (fdget) while the call sleeps.
long Kernel::connect(Task& t, int fd, const std::vector<uint8_t>& addr) {
  check_idle(t);
  return enter(t, do_connect(g_, files(t), t, fd, addr), files(t).fget(fd));
}

long Kernel::accept4(Task& t, int fd, int flags) {
  check_idle(t);
  return enter(t, do_accept4(g_, files(t), t, fd, flags), files(t).fget(fd));
}

long Kernel::setsockopt(Task& t, int fd, int level, int optname, const void* optval, int optlen) {
  check_idle(t);
  return enter(t, do_setsockopt(g_, files(t), fd, level, optname, optval, optlen));
}

long Kernel::getsockopt(Task& t, int fd, int level, int optname) {
  check_idle(t);
  int v = 0;
  const long r = do_getsockopt(g_, files(t), fd, level, optname, &v);
  t.value = static_cast<uint64_t>(static_cast<uint32_t>(v));
  return enter(t, r);
}

long Kernel::getsockname(Task& t, int fd, std::vector<uint8_t>* addr) { return do_getsockname(g_, files(t), fd, addr); }

long Kernel::mq_open(Task& t, const std::string& name, int oflag, const long* attr) {
  check_idle(t);
  return enter(t, do_mq_open(g_, mq_ns_, files(t), name, oflag, attr));
}

long Kernel::mq_unlink(Task& t, const std::string& name) {
  check_idle(t);
  return enter(t, do_mq_unlink(g_, mq_ns_, name));
}

long Kernel::mq_timedsend(Task& t, int mqdes, size_t len, unsigned prio) {
  check_idle(t);
  File* const f = files(t).fget(mqdes);  // CLASS(fd), pinned if the call sleeps
  return enter(t, do_mq_timedsend(t, files(t), mqdes, len, prio), f);
}

long Kernel::mq_timedreceive(Task& t, int mqdes, size_t len) {
  check_idle(t);
  File* const f = files(t).fget(mqdes);
  return enter(t, do_mq_timedreceive(t, files(t), mqdes, len), f);
}

long Kernel::mq_getattr(Task& t, int mqdes) {
  check_idle(t);
  return enter(t, do_mq_getattr(g_, files(t), mqdes));
}

long Kernel::mq_notify(Task& t, int mqdes, const int* notify) {
  check_idle(t);
  return enter(t, do_mq_notify(g_, *t.proc, mqdes, notify));
}

long Kernel::notifications(Task& t) {
  check_idle(t);
  return enter(t, std::exchange(t.proc->mq_notify_signals, 0));
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
