#include "executor.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <vector>

#include "common/harness.h"
#include "explain.h"
#include "kernel.h"

namespace model {

namespace {

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

Outcome with_kind(Outcome::Kind k) {
  Outcome o;
  o.kind = k;
  return o;
}

class Run {
 public:
  Run(const KernelProfile& profile, const eo::Program& p, bool explain, Observer* extra, uint64_t schedule_seed,
      const std::vector<int>* wake_script = nullptr)
      : k_(profile), p_(p), h_(p), rng_(schedule_seed ? schedule_seed * 0x9e3779b97f4a7c15ULL : 0) {
    k_.set_auto_settle(false);
    k_.scheduler().set_schedule_seed(schedule_seed);
    if (wake_script) k_.scheduler().set_wake_script(*wake_script);
    if (explain) {
      explainer_ = std::make_unique<Explainer>(
          k_, [this](const File* f) { return names_of(f); }, [this](uint64_t d) { return h_.names().label(d); });
    }
    fan_.a = explainer_.get();
    fan_.b = extra;
    if (fan_.a || fan_.b) k_.set_observer(&fan_);
  }

  eo::RunResult run() {
    eo::RunResult res;
    res.steps.resize(p_.steps.size());
    task_of_.assign(p_.steps.size(), nullptr);
    for (size_t i = 0; i < p_.steps.size(); ++i) {
      const Step& s = p_.steps[i];
      eo::StepObservation& obs = res.steps[i];
      if (s.kind == Step::Kind::kCall && !eo::call_info(s.call).in_task) {
        // sleep belongs to no task: it only advances the clock, whoever has a call pending.
        obs.outcome = call(k_.task(s.task), i);
      } else if (s.kind == Step::Kind::kCall || s.kind == Step::Kind::kPendingCall) {
        Task& t = k_.task(s.task);
        if (t.pending) {  // the parser forbids this; keep the run sane anyway
          res.error = "task " + s.task + " already has a pending call";
          res.stopped_at = static_cast<int>(i);
          break;
        }
        obs.outcome = call(t, i);
        if (obs.outcome.kind == Outcome::Kind::kBlocked && s.kind == Step::Kind::kCall && k_.wait_out(t)) {
          // A call step with a finite timeout: virtual time passed until it returned (other
          // tasks' calls that returned on the way are reported after this step by collect).
          obs.outcome = finish(t, i, t.result);
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
          h_.sleeping(i);
          task_of_[i] = &t;
        } else if (s.kind == Step::Kind::kPendingCall) {
          h_.returned_at_once(obs, i, obs.outcome);  // instead of blocking
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
    const auto& pending = h_.pending();
    for (auto it = pending.begin(); it != pending.end();) {
      const auto next = std::next(it);  // returned() erases it
      Task& t = *task_of_[it->second];
      if (!t.pending) h_.returned(obs, it->first, raw_of(t, p_.steps[it->second], t.result));
      it = next;
    }
    h_.end_step(obs);
    if (explainer_) obs.explain = explainer_->take();
  }

  // Runs step i's call; a call that sleeps gives kBlocked and finishes later in finish().
  Outcome call(Task& t, size_t i) {
    raw_.fds[0] = raw_.fds[1] = -1;
    stuck_ = false;
    step_ = i;
    const long r = std::visit([&](const auto& a) { return sys(t, a); }, p_.steps[i].call);
    if (stuck_) return with_kind(Outcome::Kind::kStuck);
    if (r == kBlocked) return with_kind(Outcome::Kind::kBlocked);
    return finish(t, i, r);
  }

  // The outcome of step i's call, which returned r (at once or after sleeping).
  Outcome finish(Task& t, size_t i, long r) { return h_.finish(i, raw_of(t, p_.steps[i], r)); }

  // What the call left in the task, as its result shape needs it.
  const eo::RawResult& raw_of(Task& t, const Step& s, long r) {
    raw_.ret = r;
    raw_.events.clear();
    switch (eo::call_info(s.call).result) {
      case eo::ResultShape::kEpollEvents:
        for (const EpollEvent& e : t.events) raw_.events.push_back({e.events, e.data});
        break;
      case eo::ResultShape::kPollEvents:
        for (size_t k = 0; k < t.pollfds.size(); ++k) {
          raw_.events.push_back({static_cast<uint16_t>(t.pollfds[k].revents), k});
        }
        break;
      case eo::ResultShape::kCounter:
      case eo::ResultShape::kSockError:
        raw_.value = t.value;
        break;
      case eo::ResultShape::kLenPrio:
        raw_.prio = t.msg_prio;
        break;
      default:
        break;
    }
    if (eo::call_info(s.call).notes_address) note_addresses(t, s, r);
    return raw_;
  }

  // The addresses the harness keeps: of the socket(s) a call made, else of its S.
  void note_addresses(Task& t, const Step& s, long r) {
    raw_.addr[0].clear();
    raw_.addr[1].clear();
    const eo::ResultShape shape = eo::call_info(s.call).result;
    if (shape == eo::ResultShape::kNamePair) {
      for (int k = 0; k < 2; ++k) k_.getsockname(t, raw_.fds[k], &raw_.addr[k]);
    } else if (shape == eo::ResultShape::kName) {
      if (r >= 0) k_.getsockname(t, static_cast<int>(r), &raw_.addr[0]);
    } else if (const auto fds = eo::fd_args(s.call); !fds.empty()) {
      k_.getsockname(t, fd(*fds[0]), &raw_.addr[0]);
    }
  }

  int fd(const eo::FdRef& f) const { return h_.fd(f); }

  // ---- the raw calls: the Kernel function of each call --------------------------------
  long sys(Task& t, const eo::Pipe2& a) { return k_.pipe2(t, raw_.fds, static_cast<int>(a.flags.value)); }
  long sys(Task& t, const eo::Socketpair& a) {
    return k_.socketpair(t, static_cast<int>(a.domain), static_cast<int>(a.type.value), 0, raw_.fds);
  }
  long sys(Task& t, const eo::Eventfd2& a) {
    return k_.eventfd2(t, static_cast<unsigned>(a.initval), static_cast<int>(a.flags.value));
  }
  long sys(Task& t, const eo::EpollCreate1& a) { return k_.epoll_create1(t, static_cast<int>(a.flags.value)); }
  long sys(Task& t, const eo::Dup& a) { return k_.dup(t, fd(a.fd)); }
  long sys(Task& t, const eo::Close& a) { return k_.close(t, fd(a.fd)); }
  long sys(Task& t, const eo::Shutdown& a) { return k_.shutdown(t, fd(a.fd), static_cast<int>(a.how)); }
  long sys(Task& t, const eo::Read& a) {
    const size_t count = eo::io_count(a.count);
    return k_.read(t, fd(a.fd), io(t, count, false), count);
  }
  long sys(Task& t, const eo::Write& a) {
    const size_t count = eo::io_count(a.count);
    return k_.write(t, fd(a.fd), io(t, count, true), count);
  }
  // The 8-byte eventfd_write and eventfd_read (which on other files write or read those 8
  // bytes; a short read leaves the rest of the value 0).
  long sys(Task& t, const eo::EventfdWrite& a) {
    char* b = io(t, sizeof(uint64_t), false);
    const uint64_t v = static_cast<uint64_t>(a.value);
    std::memcpy(b, &v, sizeof v);
    return k_.write(t, fd(a.fd), b, sizeof v);
  }
  long sys(Task& t, const eo::EventfdRead& a) {
    t.value = 0;
    return k_.read(t, fd(a.fd), &t.value, sizeof t.value);
  }
  long sys(Task& t, const eo::Fill& a) { return fill_drain(t, fd(a.fd), eo::chunk_count(a.chunk), true); }
  long sys(Task& t, const eo::Drain& a) { return fill_drain(t, fd(a.fd), eo::chunk_count(a.chunk), false); }
  long sys(Task& t, const eo::EpollCtl& a) {
    EpollEvent ev{static_cast<poll_t>(a.events ? a.events->value : 0), h_.data_of(a)};
    return k_.epoll_ctl(t, fd(a.ep), static_cast<int>(a.op), fd(a.fd), a.events ? &ev : nullptr);
  }
  long sys(Task& t, const eo::EpollWait& a) {
    return k_.epoll_wait(t, fd(a.ep), static_cast<int>(a.maxevents), static_cast<int>(a.timeout_ms));
  }
  long sys(Task& t, const eo::EpollPwait2& a) {
    const std::optional<eo::EpollPwait2::Timespec> ts = a.timespec();
    const Timespec64 timeout{ts ? ts->sec : 0, ts ? ts->nsec : 0};
    return k_.epoll_pwait2(t, fd(a.ep), static_cast<int>(a.maxevents), ts ? &timeout : nullptr);
  }
  long sys(Task& t, const eo::Poll& a) {
    std::vector<PollFd> fds;
    for (const eo::PollEntry& e : a.fds) fds.push_back({fd(e.fd), static_cast<short>(e.events.value), 0});
    return k_.poll(t, std::move(fds), static_cast<int>(a.timeout_ms));
  }
  long sys(Task& t, const eo::Socket& a) {
    return k_.socket(t, static_cast<int>(a.domain), static_cast<int>(a.type.value), 0);
  }
  long sys(Task& t, const eo::Bind& a) {
    return k_.bind(t, fd(a.sock), a.other.name.empty() ? h_.fresh_address(a.sock) : h_.address_of(a.other));
  }
  long sys(Task& t, const eo::Listen& a) {
    // An AF_INET socket without a port is bound to 127.0.0.1 first (v1.1 "Loopback only").
    if (const std::optional<eo::SockAddr> pre = h_.bind_before_listen(a.sock)) k_.bind(t, fd(a.sock), *pre);
    return k_.listen(t, fd(a.sock), static_cast<int>(a.backlog));
  }
  long sys(Task& t, const eo::Connect& a) { return k_.connect(t, fd(a.sock), h_.address_of(a.other)); }
  long sys(Task& t, const eo::Accept4& a) { return k_.accept4(t, fd(a.sock), static_cast<int>(a.flags.value)); }
  long sys(Task& t, const eo::Setsockopt& a) {
    const eo::SockOptName o = eo::sockopt_of(a.opt);
    const int value = static_cast<int>(a.value);
    if (o.level == SOL_SOCKET_ && o.optname == eo::kSoLinger) {
      const int linger[2] = {value != -1, value == -1 ? 0 : value};  // struct linger
      return k_.setsockopt(t, fd(a.sock), o.level, o.optname, linger, sizeof linger);
    }
    return k_.setsockopt(t, fd(a.sock), o.level, o.optname, &value, sizeof value);
  }
  long sys(Task& t, const eo::Getsockopt& a) {
    const eo::SockOptName o = eo::sockopt_of(a.opt);
    return k_.getsockopt(t, fd(a.sock), o.level, o.optname);
  }
  long sys(Task& t, const eo::MqOpen& a) {
    const long attr[2] = {a.maxmsg.value_or(0), a.msgsize.value_or(0)};
    return k_.mq_open(t, a.name.name, static_cast<int>(a.flags.value), a.maxmsg || a.msgsize ? attr : nullptr);
  }
  long sys(Task& t, const eo::MqUnlink& a) { return k_.mq_unlink(t, a.name.name); }
  long sys(Task& t, const eo::MqSend& a) {
    return k_.mq_timedsend(t, fd(a.q), static_cast<size_t>(a.len), static_cast<unsigned>(a.prio));
  }
  long sys(Task& t, const eo::MqReceive& a) { return k_.mq_timedreceive(t, fd(a.q), static_cast<size_t>(a.buflen)); }
  long sys(Task& t, const eo::MqGetattr& a) { return k_.mq_getattr(t, fd(a.q)); }
  long sys(Task& t, const eo::MqNotify& a) {
    const int notify = static_cast<int>(a.notify.value_or(0));
    return k_.mq_notify(t, fd(a.q), a.notify ? &notify : nullptr);
  }
  long sys(Task& t, const eo::Notifications&) { return k_.notifications(t); }
  long sys(Task&, const eo::Sleep& a) {
    k_.advance_ms(a.ms);
    return 0;
  }
  long sys(Task& t, const eo::Fork&) { return k_.fork(t, h_.forked_task(step_)); }
  // The other tasks' pending calls of the exiting process end unchecked: never reported.
  long sys(Task& t, const eo::Exit&) {
    std::vector<std::string> others;
    for (const auto& [task, step] : h_.pending()) {
      if (task != t.name && h_.process(task) == h_.process(t.name)) others.push_back(task);
    }
    for (const std::string& task : others) h_.forget(task);
    return k_.exit(t);
  }

  // The buffer of a task's read or write of `count` bytes: it outlives a call that sleeps.
  // Writes send filler bytes, as the real executor does.
  char* io(Task& t, size_t count, bool fill) {
    std::vector<char>& b = io_[&t];
    const size_t size = eo::io_buffer_size(count);
    if (fill) b.assign(size, eo::kFiller);
    else b.resize(size);
    return b.data();
  }

  // fill/drain (eo::fill_drain_loop). A call that sleeps ends the loop: the step is
  // pending and its result is that call's. A loop that would go on for ever (a semaphore
  // eventfd holding 2^64 - 2) is what the kernel executor's watchdog reports as stuck; so
  // does the model, after far more calls than a kernel makes before its watchdog fires.
  long fill_drain(Task& t, int fd, size_t chunk, bool fill) {
    char* b = io(t, chunk, true);
    bool blocked = false;
    const long r = eo::fill_drain_loop(
        [&] {
          const long r = fill ? k_.write(t, fd, b, chunk) : k_.read(t, fd, b, chunk);
          blocked = r == kBlocked;
          return r;
        },
        [&](long calls, long) -> std::optional<long> {
          // Tasks woken by one of the calls may run before the next on a real machine:
          // another schedule (seed > 0) lets them, sometimes.
          if (calls > 0 && rng_ && (next_random() & 1)) k_.settle();
          if (calls == kMaxFillCalls) stuck_ = true;
          return stuck_ ? std::optional<long>(0) : std::nullopt;
        });
    return blocked ? kBlocked : r;
  }

  std::string names_of(const File* f) const {
    std::string s;
    for (const auto& [name, num] : h_.names().fds()) {
      bool held = false;  // in some process's table under that number
      for (const auto& proc : k_.processes()) held = held || (num >= 0 && proc->files.fget(num) == f);
      if (held) s += (s.empty() ? "" : "/") + name;
    }
    return s.empty() ? "(closed " + f->describe() + ")" : s;
  }

  static constexpr long kMaxFillCalls = 1L << 24;
  uint64_t next_random() {
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    return rng_;
  }

  Kernel k_;
  const eo::Program& p_;
  eo::StepHarness h_;
  uint64_t rng_;  // schedule seed: 0 = settle only between steps
  std::unique_ptr<Explainer> explainer_;
  Fanout fan_;
  std::map<Task*, std::vector<char>> io_;
  std::vector<Task*> task_of_;  // the task of each pending step
  eo::RawResult raw_;   // of the call being finished (its buffers reused)
  size_t step_ = 0;     // the step whose call runs
  bool stuck_ = false;  // the call's loop would never end
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
