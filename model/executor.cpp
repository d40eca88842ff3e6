#include "executor.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <vector>

#include "common/names.h"
#include "explain.h"
#include "kernel.h"

namespace model {

namespace {

using eo::Call;
using eo::Outcome;
using eo::Step;

// Sends every event to two observers.
struct Fanout : Observer {
  Observer* a = nullptr;
  Observer* b = nullptr;
  void on_event(const Event& e) override {
    if (a) a->on_event(e);
    if (b) b->on_event(e);
  }
};

Outcome from_ret(long r) {
  Outcome o;
  if (r == kBlocked) o.kind = Outcome::Kind::kBlocked;
  else if (r < 0) o.kind = Outcome::Kind::kError, o.ret = -r;
  else o.kind = Outcome::Kind::kValue, o.ret = r;
  return o;
}

class Run {
 public:
  Run(const KernelProfile& profile, const eo::Program& p, bool explain, Observer* extra, uint64_t schedule_seed,
      const std::vector<int>* wake_script = nullptr)
      : k_(profile), p_(p), rng_(schedule_seed ? schedule_seed * 0x9e3779b97f4a7c15ULL : 0) {
    k_.set_auto_settle(false);
    k_.scheduler().set_schedule_seed(schedule_seed);
    if (wake_script) k_.scheduler().set_wake_script(*wake_script);
    if (explain) {
      explainer_ = std::make_unique<Explainer>(
          k_, [this](const File* f) { return names_of(f); }, [this](uint64_t d) { return names_.label(d); });
    }
    fan_.a = explainer_.get();
    fan_.b = extra;
    if (fan_.a || fan_.b) k_.set_observer(&fan_);
  }

  eo::RunResult run() {
    eo::RunResult res;
    res.steps.resize(p_.steps.size());
    for (size_t i = 0; i < p_.steps.size(); ++i) {
      const Step& s = p_.steps[i];
      eo::StepObservation& obs = res.steps[i];
      if (s.kind == Step::Kind::kCall && s.call == Call::kSleep) {
        // sleep belongs to no task: it only advances the clock, whoever has a call pending.
        obs.outcome = call(k_.task(s.task), s);
      } else if (s.kind == Step::Kind::kCall || s.kind == Step::Kind::kPendingCall) {
        Task& t = k_.task(s.task);
        if (t.pending) {  // the parser forbids this; keep the run sane anyway
          res.error = "task " + s.task + " already has a pending call";
          res.stopped_at = static_cast<int>(i);
          break;
        }
        obs.outcome = call(t, s);
        if (obs.outcome.kind == Outcome::Kind::kBlocked && s.kind == Step::Kind::kCall && k_.wait_out(t)) {
          // A call step with a finite timeout: virtual time passed until it returned (other
          // tasks' calls that returned on the way are reported after this step by collect).
          obs.outcome = finish(t, s, t.result);
        }
        const bool sleeps = obs.outcome.kind == Outcome::Kind::kBlocked;
        if (obs.outcome.kind == Outcome::Kind::kStuck || (sleeps && s.kind == Step::Kind::kCall)) {
          // The trace expects a return, but the call sleeps with no timer or never ends: on
          // a kernel the watchdog fires. Stop here as the real executor does.
          obs.outcome.kind = Outcome::Kind::kStuck;
          if (t.pending) k_.interrupt(t);
          res.error = "step did not return: " + std::to_string(s.pos.line) + ":" + std::to_string(s.pos.col);
          res.stopped_at = static_cast<int>(i);
          collect(obs);
          break;
        }
        if (sleeps) {
          pending_[&t] = &s;
        } else if (s.kind == Step::Kind::kPendingCall) {
          obs.returned.push_back({s.task, obs.outcome});  // returned at once instead of blocking
        }
      }
      collect(obs);
    }
    k_.interrupt_all();  // calls still pending are interrupted and not checked
    return res;
  }
  const std::vector<Scheduler::WakeDecision>& decisions_met() { return k_.scheduler().decisions_met(); }

 private:
  // The pending calls that returned while the system settled, and those still blocked.
  void collect(eo::StepObservation& obs) {
    k_.settle();  // after every step the system settles
    for (auto it = pending_.begin(); it != pending_.end();) {
      Task& t = *it->first;
      if (!t.pending) {
        obs.returned.push_back({t.name, finish(t, *it->second, t.result)});
        it = pending_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto& [t, s] : pending_) obs.still_blocked.push_back(t->name);
    std::sort(obs.still_blocked.begin(), obs.still_blocked.end());
    if (explainer_) obs.explain = explainer_->take();
  }

  int fd(const Step& s, size_t i) const { return i < s.args.fds.size() ? names_.fd(s.args.fds[i]) : -1; }

  // Runs one call; a call that sleeps gives kBlocked and finishes later in finish().
  Outcome call(Task& t, const Step& s) {
    const eo::Args& a = s.args;
    switch (s.call) {
      case Call::kPipe2: {
        int fds[2] = {-1, -1};
        const long r = k_.pipe2(t, fds, static_cast<int>(a.n));
        return bind(s, r, {fds[0], fds[1]});
      }
      case Call::kSocketpair: {
        int sv[2] = {-1, -1};
        const long r = k_.socketpair(t, static_cast<int>(a.op), static_cast<int>(a.n2), 0, sv);
        return bind(s, r, {sv[0], sv[1]});
      }
      case Call::kEventfd2: {
        const long r = k_.eventfd2(t, static_cast<unsigned>(a.n), static_cast<int>(a.n2));
        return bind(s, r, {static_cast<int>(r)});
      }
      case Call::kEpollCreate1: {
        const long r = k_.epoll_create1(t, static_cast<int>(a.n));
        return bind(s, r, {static_cast<int>(r)});
      }
      case Call::kDup: {
        const long r = k_.dup(t, fd(s, 0));
        return bind(s, r, {static_cast<int>(r)});
      }
      case Call::kClose:
        return from_ret(k_.close(t, fd(s, 0)));
      case Call::kShutdown:
        return from_ret(k_.shutdown(t, fd(s, 0), static_cast<int>(a.op)));
      case Call::kRead:
      case Call::kWrite:
      case Call::kEventfdRead:
      case Call::kEventfdWrite:
        return finish(t, s, rw(t, s));
      case Call::kFill:
      case Call::kDrain:
        return fill_drain(t, s);
      case Call::kEpollCtl: {
        EpollEvent ev{static_cast<poll_t>(a.events), names_.label_id(eo::label_of(s))};
        return from_ret(k_.epoll_ctl(t, fd(s, 0), static_cast<int>(a.op), fd(s, 1), a.has_events ? &ev : nullptr));
      }
      case Call::kEpollWait:
        return finish(t, s, k_.epoll_wait(t, fd(s, 0), static_cast<int>(a.n), static_cast<int>(a.n2)));
      case Call::kPoll: {
        std::vector<PollFd> fds;
        for (const eo::EventSpec& e : a.poll) fds.push_back({names_.fd(e.name), static_cast<short>(e.mask), 0});
        return finish(t, s, k_.poll(t, std::move(fds), static_cast<int>(a.n2)));
      }
      case Call::kSleep:
        k_.advance_ms(a.n);
        return from_ret(0);
    }
    return from_ret(-ENOSYS);
  }

  // The count of read/write(N) and of a fill/drain CHUNK, the one real::KernelExecutor
  // passes (real/executor.cpp prepare): a negative N as the size_t it converts to (which
  // access_ok refuses: EFAULT), a positive one at most kMaxBuf.
  static size_t io_count(int64_t n) {
    return n < 0 ? static_cast<size_t>(n) : std::min(static_cast<size_t>(n), kMaxBuf);
  }

  // The buffer of a task's read or write of `count` bytes: it outlives a call that sleeps.
  // Writes send filler bytes, as the real executor does. A count above kMaxBuf never
  // reaches a copy (Kernel::read/write refuse it in access_ok), so it gets one byte: no
  // count from a trace sizes this buffer beyond kMaxBuf.
  char* io(Task& t, size_t count, bool fill) {
    std::vector<char>& b = io_[&t];
    const size_t size = count <= kMaxBuf ? std::max<size_t>(count, 1) : 1;
    if (fill) b.assign(size, kFiller);
    else b.resize(size);
    return b.data();
  }

  // read/write of N bytes, and the 8-byte eventfd_read/eventfd_write (which on other
  // files read or write those 8 bytes; a short read leaves the rest of the value 0).
  long rw(Task& t, const Step& s) {
    switch (s.call) {
      case Call::kRead: {
        const size_t count = io_count(s.args.n);
        return k_.read(t, fd(s, 0), io(t, count, false), count);
      }
      case Call::kWrite: {
        const size_t count = io_count(s.args.n);
        return k_.write(t, fd(s, 0), io(t, count, true), count);
      }
      case Call::kEventfdWrite: {
        char* b = io(t, sizeof(uint64_t), false);
        const uint64_t v = static_cast<uint64_t>(s.args.n);
        std::memcpy(b, &v, sizeof v);
        return k_.write(t, fd(s, 0), b, sizeof v);
      }
      default:
        t.value = 0;
        return k_.read(t, fd(s, 0), &t.value, sizeof t.value);
    }
  }

  // fill/drain: CHUNK-sized calls until EAGAIN (drain: or end of file); another error is
  // the result if nothing moved yet. CHUNK 0 (or none) means 65536; a negative CHUNK is
  // passed as its size_t value, as the real executor does, and fails at once with EFAULT.
  Outcome fill_drain(Task& t, const Step& s) {
    const size_t chunk = s.args.n == 0 ? 65536 : io_count(s.args.n);
    char* b = io(t, chunk, true);
    long total = 0;
    for (long calls = 0;; ++calls) {
      // A fill or drain that would go on for ever (a semaphore eventfd holding 2^64 - 2)
      // is what the kernel executor's watchdog reports as stuck; so does the model, after
      // far more calls than a kernel makes before its watchdog fires.
      if (calls == kMaxFillCalls) {
        Outcome o;
        o.kind = Outcome::Kind::kStuck;
        return o;
      }
      const long r = s.call == Call::kFill ? k_.write(t, fd(s, 0), b, chunk) : k_.read(t, fd(s, 0), b, chunk);
      if (r == kBlocked) return from_ret(kBlocked);
      if (r == -EAGAIN || r == 0) return from_ret(total);
      if (r < 0) return from_ret(total ? total : r);
      total += r;
      // Tasks woken by one of the calls may run before the next on a real machine: another
      // schedule (seed > 0) lets them, sometimes.
      if (rng_ && (next_random() & 1)) k_.settle();
    }
  }

  // The outcome of a call that returned r (at once or after sleeping).
  Outcome finish(Task& t, const Step& s, long r) {
    Outcome o = from_ret(r);
    if (o.kind != Outcome::Kind::kValue) return o;
    switch (s.call) {
      case Call::kEpollWait:
        for (const EpollEvent& e : t.events) o.events.push_back({names_.label(e.data), e.events});
        break;
      case Call::kPoll:
        for (size_t i = 0; i < t.pollfds.size(); ++i) {
          if (t.pollfds[i].revents) {
            o.events.push_back({s.args.poll[i].name, static_cast<uint16_t>(t.pollfds[i].revents)});
          }
        }
        break;
      case Call::kEventfdWrite:
        o.ret = 0;
        break;
      case Call::kEventfdRead:
        o.ret = static_cast<int64_t>(t.value);
        break;
      default:
        break;
    }
    return o;
  }

  // A creating call: on success its descriptors get the names the trace gives them; on
  // failure those names denote -1 (EBADF on use).
  Outcome bind(const Step& s, long r, std::vector<int> fds) {
    Outcome o = from_ret(r);
    const std::vector<std::string> names = eo::names_bound_by(s);
    if (o.kind == Outcome::Kind::kValue) {
      o.fds = fds;
      if (s.call == Call::kPipe2 || s.call == Call::kSocketpair) o.ret = 0;
    }
    for (size_t i = 0; i < names.size(); ++i) {
      names_.bind(names[i], o.kind == Outcome::Kind::kValue && i < fds.size() ? fds[i] : -1);
    }
    return o;
  }

  std::string names_of(const File* f) const {
    std::string s;
    for (const auto& [name, num] : names_.fds()) {
      if (num >= 0 && k_fdt().fget(num) == f) s += (s.empty() ? "" : "/") + name;
    }
    return s.empty() ? "(closed " + f->describe() + ")" : s;
  }
  FdTable& k_fdt() const { return const_cast<Kernel&>(k_).fdtable(); }

  static constexpr size_t kMaxBuf = size_t{16} << 20;  // as real::KernelExecutor::kMaxIoBytes
  static constexpr char kFiller = 'x';
  static constexpr long kMaxFillCalls = 1L << 24;
  uint64_t next_random() {
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    return rng_;
  }

  Kernel k_;
  const eo::Program& p_;
  uint64_t rng_;  // schedule seed: 0 = settle only between steps
  eo::NameTable names_;
  std::unique_ptr<Explainer> explainer_;
  Fanout fan_;
  std::map<Task*, const Step*> pending_;
  std::map<Task*, std::vector<char>> io_;
};

}  // namespace

eo::RunResult ModelExecutor::run(const eo::Program& p) { return Run(profile_, p, explain_, extra_, 0).run(); }

eo::RunResult ModelExecutor::run_schedule(const eo::Program& p, uint64_t seed) {
  return Run(profile_, p, explain_, extra_, seed).run();
}

std::string ModelExecutor::describe(const std::vector<WakeeRun>& ran) {
  std::string s;
  for (const WakeeRun& w : ran) s += (s.empty() ? "" : "; ") + w.task + " ran at " + w.site;
  return s.empty() ? "every wakee after its waker" : s;
}

int ModelExecutor::for_each_schedule(const eo::Program& p, int limit, const ScheduleVisitor& visit) {
  // Depth-first over the decisions the runs meet: each run follows `script`, then takes
  // 0 (defer) at every later point; the next script moves the deepest decision that has
  // options left one on and drops those after it. Run 0 is the default run.
  std::vector<int> script;
  for (int runs = 0; runs < limit;) {
    Run r(profile_, p, explain_, extra_, 0, &script);
    const eo::RunResult res = r.run();
    const std::vector<Scheduler::WakeDecision>& met = r.decisions_met();
    std::vector<WakeeRun> ran;
    for (const Scheduler::WakeDecision& d : met) {
      if (!d.task.empty()) ran.push_back({d.task, d.site});
    }
    ++runs;
    if (visit(res, runs - 1, ran)) return runs;
    size_t i = met.size();
    while (i > 0 && met[i - 1].chosen + 1 >= met[i - 1].options) --i;
    if (i == 0) return runs;  // every schedule visited
    script.assign(met.size(), 0);
    for (size_t j = 0; j < i; ++j) script[j] = met[j].chosen;
    script.resize(i);
    ++script[i - 1];
  }
  return limit;
}

}  // namespace model
