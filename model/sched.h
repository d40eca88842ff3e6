// Simulated tasks and a deterministic scheduler with a virtual clock: enough of
// kernel/sched/core.c (try_to_wake_up) and kernel/time (hrtimers) for sleeping syscalls.
#pragma once
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "file.h"
#include "uapi.h"
#include "wait.h"

namespace model {

struct File;
struct Task;

// The rest of a syscall that went to sleep: resume() runs when the task is woken and
// returns the result, or kBlocked after arranging to sleep again.
struct PendingCall {
  virtual ~PendingCall() = default;
  virtual long resume(Task& t) = 0;
  // Appends the files whose references the sleeping call holds (its fdget or get_file),
  // one entry per reference: tests account every f_count with it.
  virtual void held_files(std::vector<File*>& out) const { (void)out; }
};

// A sleeping call on one file holds a reference to it for as long as it lasts, as the
// syscall's fdget does. Wait entries of the derived call are members: they unlink
// themselves when destroyed, before the reference is dropped here.
template <typename F>
struct FileCall : PendingCall {
  explicit FileCall(F* f) : file(get_file(f)) {}
  ~FileCall() override { fput(file); }
  FileCall(const FileCall&) = delete;
  FileCall& operator=(const FileCall&) = delete;
  F* const file;
  void held_files(std::vector<File*>& out) const override { out.push_back(file); }
};

enum class TaskState { kIdle, kRunnable, kSleeping };

class Scheduler;

struct Task {
  Task(std::string name, int tid, Scheduler& sched) : name(std::move(name)), tid(tid), sched(&sched) {}
  std::string name;
  int tid;
  Scheduler* sched;
  TaskState state = TaskState::kIdle;
  std::unique_ptr<PendingCall> pending;
  bool signal_pending = false;  // a signal whose handler does not restart calls
  bool timed_out = false;       // the hrtimer of the current sleep fired
  bool has_timer = false;
  long result = 0;              // result of the last completed call
  bool completed = false;       // the last pending call has returned

  // Output buffers of the task's calls (they outlive a sleeping call).
  std::vector<EpollEvent> events;
  std::vector<PollFd> pollfds;
  uint64_t value = 0;  // eventfd_read value
};

class Scheduler {
 public:
  explicit Scheduler(Globals& g) : g_(g) {}

  int64_t now_ns() const { return now_ns_; }
  Globals& globals() const { return g_; }
  // try_to_wake_up: 1 if the task was asleep and is now runnable, 0 otherwise.
  int try_to_wake_up(Task& t);
  // Puts the task to sleep with the given continuation (set_current_state + schedule).
  void sleep(Task& t, std::unique_ptr<PendingCall> call);
  void sleep_again(Task& t);  // the continuation stays, the task sleeps again
  // hrtimer for the current sleep, absolute virtual time.
  void arm_timer(Task& t, int64_t deadline_ns);
  void cancel_timer(Task& t);
  // Runs every runnable task until all are asleep or idle. Returns how many ran.
  int run_until_idle();
  // Advances the virtual clock, firing timers in deadline order, running tasks after each.
  void advance(int64_t ns);
  // Advances the clock to the earliest armed timer and fires every timer due then, as
  // advance() does; false if none is armed. Equal deadlines fire in the order they were
  // armed, as lib/timerqueue.c timerqueue_add orders them (strict `expires <`, so an equal
  // expiry goes after those already queued); the multimap keeps that order.
  bool advance_to_next_timer();
  // Sends a non-restarting signal: wakes the task if it sleeps interruptibly.
  void signal(Task& t);
  // 0 (the default): woken tasks run in the order they were woken. Otherwise each choice
  // among several runnable tasks is made by a generator with this seed: on a real machine
  // tasks woken together run in parallel, and which one gets to a shared resource first
  // is not fixed.
  void set_schedule_seed(uint64_t seed);

 private:
  Globals& g_;
  int64_t now_ns_ = 0;
  std::deque<Task*> runqueue_;
  uint64_t rng_ = 0;  // xorshift state; 0 = FIFO
  std::multimap<int64_t, Task*> timers_;
};

// default_wake_function: the entry's private is the task.
int default_wake_function(WaitQueueEntry* e, unsigned mode, int wake_flags, poll_t key);
// autoremove_wake_function: removes the entry if the task was woken.
int autoremove_wake_function(WaitQueueEntry* e, unsigned mode, int wake_flags, poll_t key);

}  // namespace model

namespace model {

// wait_event_interruptible_exclusive (include/linux/wait.h) split at schedule(): the
// entry is exclusive at the tail with autoremove_wake_function; after each wakeup the
// caller re-tests its condition and either finishes or prepares again.
struct ExclusiveWait {
  WaitQueueEntry wait;
  WaitQueueHead* head = nullptr;
  // prepare_to_wait_event: (re)queue the entry if a wakeup removed it.
  void prepare(Task& t, WaitQueueHead& h) {
    head = &h;
    if (!wait.queued()) {
      wait.flags = WQ_FLAG_EXCLUSIVE;
      wait.priv = &t;
      wait.func = autoremove_wake_function;
      __add_wait_queue_entry_tail(h, wait);
    }
  }
  void finish() { wait.del_init(); }  // finish_wait
};

}  // namespace model
