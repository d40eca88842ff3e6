// Kernel: the syscall facade of the model. Every call runs on behalf of a task of one
// process and returns what Linux returns: a value or -errno. A call that sleeps returns
// kBlocked and stays in flight in the task (Task::pending, tested as a bool); its result
// appears later in the task (completed/result). After every call the woken tasks run
// (settle), as they would on an idle machine.
#pragma once
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "file.h"
#include "globals.h"
#include "mqueue.h"
#include "process.h"
#include "sched.h"
#include "uapi.h"

namespace model {

class Kernel {
 public:
  // The descriptor table's limit is the profile's RLIMIT_NOFILE (capped by nr_open).
  explicit Kernel(KernelProfile profile = KernelProfile{});
  ~Kernel();
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;

  const KernelProfile& profile() const { return g_.profile; }
  void set_observer(Observer* o) { g_.observer = o; }

  // The task with this name, created on first use as a thread of main's process.
  Task& task(std::string_view name);
  Task* find_task(std::string_view name);
  const std::deque<std::unique_ptr<Task>>& tasks() const { return tasks_; }

  long pipe2(Task& t, int fds[2], int flags);
  long socketpair(Task& t, int domain, int type, int protocol, int sv[2]);
  long eventfd2(Task& t, unsigned initval, int flags);
  long epoll_create(Task& t, int size);
  long epoll_create1(Task& t, int flags);
  long epoll_ctl(Task& t, int epfd, int op, int fd, const EpollEvent* event);
  long epoll_wait(Task& t, int epfd, int maxevents, int timeout_ms);  // events in t.events
  // epoll_pwait2 without a signal mask: timeout null = for ever, {0, 0} = do not wait, else
  // a relative time (an invalid one is EINVAL before anything else). Events in t.events.
  long epoll_pwait2(Task& t, int epfd, int maxevents, const Timespec64* timeout);
  long poll(Task& t, std::vector<PollFd> fds, int timeout_ms);         // revents in t.pollfds
  long read(Task& t, int fd, void* buf, size_t n);
  long write(Task& t, int fd, const void* buf, size_t n);
  long close(Task& t, int fd);
  long dup(Task& t, int fd);
  long shutdown(Task& t, int fd, int how);
  // Sockets with addresses (net/socket.c); an address is the bytes the user passes.
  long socket(Task& t, int domain, int type, int protocol);
  long bind(Task& t, int fd, const std::vector<uint8_t>& addr);
  long listen(Task& t, int fd, int backlog);
  long connect(Task& t, int fd, const std::vector<uint8_t>& addr);
  long accept4(Task& t, int fd, int flags);
  long setsockopt(Task& t, int fd, int level, int optname, const void* optval, int optlen);
  long getsockopt(Task& t, int fd, int level, int optname);  // the int read in t.value
  // getsockname for the executor's address bookkeeping: not a step, nothing settles.
  long getsockname(Task& t, int fd, std::vector<uint8_t>* addr);
  // fork: a new process whose one task is `child` (kernel/fork.c copy_process, copy_files
  // without CLONE_FILES: dup_fd). Returns the child's pid (its task's tid).
  long fork(Task& t, const std::string& child);
  // exit_group: the other tasks of t's process end (their calls are interrupted and never
  // return to the trace), then exit_files closes its table (close_files). Returns 0.
  long exit(Task& t);
  // POSIX message queues (ipc/mqueue.c). name without the slash; attr {maxmsg, msgsize} or
  // null; send and receive have no timeout; notify SIGEV_SIGNAL/SIGEV_NONE or null.
  long mq_open(Task& t, const std::string& name, int oflag, const long* attr);
  long mq_unlink(Task& t, const std::string& name);
  long mq_timedsend(Task& t, int mqdes, size_t len, unsigned prio);
  long mq_timedreceive(Task& t, int mqdes, size_t len);  // the priority in t.msg_prio
  long mq_getattr(Task& t, int mqdes);                   // mq_curmsgs
  long mq_notify(Task& t, int mqdes, const int* notify);
  // The notification signals the process received since the last call (sigtimedwait with
  // a zero timeout until EAGAIN: the signal is blocked in every thread).
  long notifications(Task& t);

  // Runs woken tasks until every task sleeps or is idle; returns how many ran.
  int settle();
  // Whether each call ends with settle() (the default). An executor that settles once per
  // trace step (a fill is many writes) turns it off.
  void set_auto_settle(bool on) { auto_settle_ = on; }
  // Advances the virtual clock (a `sleep` step), firing timers.
  void advance_ms(int64_t ms);
  // Lets virtual time pass for t's sleeping call as a kernel does while a step waits for
  // it (kernel/time/hrtimer.c __hrtimer_run_queues: expired timers in expiry order): the clock jumps from one armed timer to the next, firing each in deadline order
  // with the woken tasks running after it, until t's call has returned or t has no timer
  // left. Whether the call returned (its result is then in t). Time stops at the instant
  // the call returns: later timers stay armed.
  bool wait_out(Task& t);
  // Sends a signal whose handler does not restart calls (how pending calls end).
  void interrupt(Task& t);
  // Ends every pending call: signal, and as a last resort cancel.
  void interrupt_all();

  Globals& globals() { return g_; }
  Scheduler& scheduler() { return sched_; }
  FdTable& fdtable() { return procs_.front()->files; }  // main's process
  FdTable& files(Task& t) { return t.proc->files; }      // current->files
  const std::deque<std::unique_ptr<Process>>& processes() const { return procs_; }
  int64_t now_ns() const { return sched_.now_ns(); }

 private:
  long enter(Task& t, long r);  // common syscall exit: settle
  // The same for a call that may have slept: the task keeps a call that did not return,
  // and the reference to the file it was called on (fdget) until it returns.
  long enter(Task& t, MaySleep call, File* fdget);
  Globals g_;
  Scheduler sched_;
  Task& new_task(std::string_view name, Process& p);
  MqNamespace mq_ns_;  // before procs_: the files' inodes outlive the names
  std::deque<std::unique_ptr<Process>> procs_;  // main's first
  std::deque<std::unique_ptr<Task>> tasks_;
  std::map<std::string, Task*, std::less<>> by_name_;
  bool auto_settle_ = true;
};

}  // namespace model
