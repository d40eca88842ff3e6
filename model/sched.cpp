#include "sched.h"

#include <algorithm>

namespace model {

FileRef::FileRef(Task& t, File* f) : file_(f) {
  if (!f) return;
  get_file(f);
  t.held_files.push_back(*this);
}

FileRef::~FileRef() {
  if (!file_) return;
  hook.unlink();
  fput(file_);
}

int Scheduler::try_to_wake_up(Task& t) {
  const bool asleep = t.state == TaskState::kSleeping;
  g_.emit({.kind = EventKind::kTaskWake, .rule = asleep ? Rule::kTtwuWoken : Rule::kTtwuRunning,
           .site = "try_to_wake_up", .task = &t, .arg = asleep ? 1 : 0});
  if (!asleep) return 0;
  t.state = TaskState::kRunnable;
  t.woken_in = points_passed_;
  runqueue_.push_back(&t);
  return 1;
}

void Scheduler::schedule(Task& t, std::coroutine_handle<> resume_at) {
  t.state = TaskState::kSleeping;
  t.sleeping_at = resume_at;
  g_.emit({.kind = EventKind::kTaskSleep, .site = "schedule", .task = &t});
}

void Scheduler::arm_timer(Task& t, int64_t deadline_ns) {
  cancel_timer(t);
  t.timed_out = false;
  t.has_timer = true;
  timers_.emplace(deadline_ns, &t);
}

void Scheduler::cancel_timer(Task& t) {
  if (!t.has_timer) return;
  for (auto it = timers_.begin(); it != timers_.end(); ++it) {
    if (it->second == &t) {
      timers_.erase(it);
      break;
    }
  }
  t.has_timer = false;
}

void Scheduler::run_one(Task& t, const char* site) {
  g_.emit({.kind = EventKind::kTaskRun, .site = site, .task = &t});
  std::exchange(t.sleeping_at, nullptr).resume();  // returns at the next schedule() or the end
  if (!t.pending.done()) return;                    // asleep again
  t.result = t.pending.result();
  t.pending.reset();
  t.fdget.reset();  // fdput
  t.state = TaskState::kIdle;
  t.completed = true;
  t.signal_pending = false;  // delivered on the way out of the syscall
  if (on_return_) on_return_(t);
}

void Scheduler::run_at_wake_point(const char* site) {
  in_wake_point_ = true;
  std::vector<Task*> runnable;
  for (;;) {
    runnable.clear();
    for (Task* t : runqueue_) {
      if (t->state == TaskState::kRunnable && t->sleeping_at && t->woken_in == points_passed_) runnable.push_back(t);
    }
    if (runnable.empty()) break;
    const int choice = decide(static_cast<int>(runnable.size()) + 1);
    if (choice == 0) break;  // the rest run after the waker
    Task& t = *runnable[static_cast<size_t>(choice - 1)];
    if (scripted_) met_.back().task = t.name, met_.back().site = site;
    runqueue_.erase(std::find(runqueue_.begin(), runqueue_.end(), &t));
    run_one(t, site);
  }
  ++points_passed_;  // the wakees deferred here run after the waker
  in_wake_point_ = false;
}

int Scheduler::decide(int options) {
  if (scripted_) {
    const size_t i = met_.size();
    const int chosen = i < script_.size() ? script_[i] : 0;
    met_.push_back({chosen, options, {}, {}});
    return chosen;
  }
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 7;
  rng_ ^= rng_ << 17;
  return static_cast<int>(rng_ % static_cast<uint64_t>(options));
}

void Scheduler::update_points_live() {
  points_live_ = (scripted_ || rng_) && g_.profile.wakee_may_run_at_once();
}

void Scheduler::set_wake_script(std::vector<int> script) {
  script_ = std::move(script);
  scripted_ = true;
  met_.clear();
  update_points_live();
}

int Scheduler::run_until_idle() {
  int ran = 0;
  while (!runqueue_.empty()) {
    size_t pick = 0;
    if (rng_ && runqueue_.size() > 1) {
      rng_ ^= rng_ << 13;
      rng_ ^= rng_ >> 7;
      rng_ ^= rng_ << 17;
      pick = static_cast<size_t>(rng_ % runqueue_.size());
    }
    Task& t = *runqueue_[pick];
    runqueue_.erase(runqueue_.begin() + static_cast<long>(pick));
    if (t.state != TaskState::kRunnable || !t.sleeping_at) continue;
    ++ran;
    run_one(t, "schedule");
  }
  return ran;
}

void Scheduler::advance(int64_t ns) {
  const int64_t until = ns > INT64_MAX - now_ns_ ? INT64_MAX : now_ns_ + ns;  // saturates
  while (!timers_.empty() && timers_.begin()->first <= until) {
    auto [deadline, t] = *timers_.begin();
    timers_.erase(timers_.begin());
    now_ns_ = deadline;
    t->has_timer = false;
    t->timed_out = true;
    g_.emit({.kind = EventKind::kTaskTimeout, .site = "hrtimer_wakeup", .task = t});
    try_to_wake_up(*t);
    run_until_idle();
  }
  now_ns_ = until;
}

bool Scheduler::advance_to_next_timer() {
  if (timers_.empty()) return false;
  advance(std::max<int64_t>(timers_.begin()->first - now_ns_, 0));
  return true;
}

void Scheduler::set_schedule_seed(uint64_t seed) {
  // splitmix64, so that neighbouring seeds give unrelated choices; 0 stays FIFO.
  uint64_t z = seed + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  rng_ = seed ? (z ^ (z >> 31)) | 1 : 0;
  update_points_live();
}

void Scheduler::signal(Task& t) {
  t.signal_pending = true;
  try_to_wake_up(t);
}

// default_wake_function -> try_to_wake_up(curr->private).
int default_wake_function(WaitQueueEntry* e, unsigned, int, poll_t) {
  Task& t = *static_cast<Task*>(e->priv);
  return t.sched->try_to_wake_up(t);
}

}  // namespace model
