#include "oracle/herd_model.h"

#include <chrono>
#include <cstring>
#include <deque>
#include <queue>
#include <random>
#include <vector>

#include "common/sock_addr.h"
#include "model/af_inet.h"
#include "model/kernel.h"
#include "model/observer.h"
#include "model/uapi.h"
#include "model/wait.h"

namespace eo::herd {

namespace {

using model::Kernel;
using model::Task;

model::poll_t flags_of(Trigger t) {
  switch (t) {
    case Trigger::kLevel: return model::EPOLLIN;
    case Trigger::kEdge: return model::EPOLLIN | model::EPOLLET;
    case Trigger::kOneshot: return model::EPOLLIN | model::EPOLLONESHOT;
    case Trigger::kExclusive: return model::EPOLLIN | model::EPOLLEXCLUSIVE;
  }
  return model::EPOLLIN;
}

bool is_listener(Source s) { return s == Source::kUnix || s == Source::kTcp; }

// The driver. Worker i is task tid first_tid_ + i; the observer counts its successful
// try_to_wake_up calls, the scheduler hands back each worker whose call returned: no
// scan of all workers anywhere.
class ModelHerd : public model::Observer {
 public:
  ModelHerd(const Scenario& s, model::KernelProfile p) : s_(s), k_(raise_limits(std::move(p))) { k_.set_observer(this); }

  Run run() {
    const auto t0 = std::chrono::steady_clock::now();
    r_.executor = "model";
    if (s_.wait == Wait::kWait14) {
      wait14();
    } else if (setup()) {
      drive();
    }
    r_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return std::move(r_);
  }

  void on_event(const model::Event& e) override {
    if (e.kind != model::EventKind::kTaskWake || e.arg != 1 || !e.task) return;
    const int i = worker_of(*e.task);
    if (i < 0) return;
    ++r_.wakeups[i];
    ++event_woken_;
  }

 private:
  struct Worker {
    Task* t = nullptr;
    int ep = -1;   // what it waits on (its epoll, or the source itself when blocking)
    int src = -1;  // what it consumes from
    int watched = -1;  // the fd registered in its epoll (the source, or the inner epoll)
    bool in_call = false;  // its waiting call sleeps
    bool done = false;     // consume = false: it waited once
    uint64_t buf = 0;      // read's buffer
  };

  static model::KernelProfile raise_limits(model::KernelProfile p) {
    // The model has no per-process limit of its own to honour: 10,000 epolls and sockets.
    p.rlimit_nofile = p.nr_open = 1L << 22;
    return p;
  }

  bool fail(const std::string& what, long rc) {
    r_.error = what + " failed: " + (rc < 0 ? std::strerror(static_cast<int>(-rc)) : std::to_string(rc));
    return false;
  }

  bool setup() {
    main_ = &k_.task("main");
    const int n = s_.workers;
    r_.handled.assign(n, 0);
    r_.wakeups.assign(n, 0);
    r_.returns.assign(n, 0);
    r_.empty.assign(n, 0);
    w_.resize(n);
    for (int i = 0; i < n; ++i) w_[i].t = &k_.task("w" + std::to_string(i));
    first_tid_ = w_[0].t->tid;
    const bool blocking = s_.wait == Wait::kBlocking || s_.wait == Wait::kReuseport;
    const int nb = blocking ? 0 : model::O_NONBLOCK_;
    long rc = 0;
    if (s_.wait == Wait::kReuseport) {
      for (int i = 0; i < n; ++i) {
        const int l = static_cast<int>(k_.socket(*main_, model::AF_INET_, model::SOCK_STREAM_, 0));
        const int one = 1;
        if (l < 0) return fail("socket", l);
        if ((rc = k_.setsockopt(*main_, l, model::SOL_SOCKET_, model::SO_REUSEPORT_, &one, sizeof one)) < 0)
          return fail("setsockopt(SO_REUSEPORT)", rc);
        if ((rc = k_.bind(*main_, l, i == 0 ? loopback_any_port() : addr_)) < 0) return fail("bind", rc);
        if (i == 0) k_.getsockname(*main_, l, &addr_);
        if ((rc = k_.listen(*main_, l, kBacklog)) < 0) return fail("listen", rc);
        w_[i].ep = w_[i].src = l;
      }
    } else if (is_listener(s_.source)) {
      const bool tcp = s_.source == Source::kTcp;
      src_ = static_cast<int>(k_.socket(*main_, tcp ? model::AF_INET_ : model::AF_UNIX_, model::SOCK_STREAM_ | nb, 0));
      if (src_ < 0) return fail("socket", src_);
      if ((rc = k_.bind(*main_, src_, tcp ? loopback_any_port() : abstract_unix("eo-herd"))) < 0) return fail("bind", rc);
      k_.getsockname(*main_, src_, &addr_);
      if ((rc = k_.listen(*main_, src_, kBacklog)) < 0) return fail("listen", rc);
    } else if (s_.source == Source::kPipe) {
      int fds[2];
      if ((rc = k_.pipe2(*main_, fds, nb)) < 0) return fail("pipe2", rc);
      src_ = fds[0];
      sink_ = fds[1];
    } else if (s_.source == Source::kEventfd) {
      src_ = sink_ = static_cast<int>(k_.eventfd2(*main_, 0, model::EFD_SEMAPHORE | nb));
      if (src_ < 0) return fail("eventfd2", src_);
    } else {
      int sv[2];
      if ((rc = k_.socketpair(*main_, model::AF_UNIX_, model::SOCK_STREAM_ | nb, 0, sv)) < 0) return fail("socketpair", rc);
      sink_ = sv[0];
      src_ = sv[1];
    }
    if (s_.wait == Wait::kReuseport) return true;
    const model::poll_t flags = flags_of(s_.trigger);
    int shared = -1, inner = -1;
    if (s_.wait == Wait::kShared) {
      shared = static_cast<int>(k_.epoll_create1(*main_, 0));
      if ((rc = ctl(*main_, shared, model::EPOLL_CTL_ADD, src_, flags)) < 0) return fail("epoll_ctl", rc);
    }
    if (s_.wait == Wait::kNested) {
      inner = static_cast<int>(k_.epoll_create1(*main_, 0));
      if ((rc = ctl(*main_, inner, model::EPOLL_CTL_ADD, src_, model::EPOLLIN)) < 0) return fail("epoll_ctl", rc);
    }
    for (size_t i = 0; i < w_.size(); ++i) {
      Worker& w = w_[i];
      w.src = src_;
      w.watched = s_.wait == Wait::kNested ? inner : src_;
      if (s_.wait == Wait::kBlocking) {
        w.ep = src_;
      } else if (s_.wait == Wait::kShared) {
        w.ep = shared;
      } else {
        w.ep = static_cast<int>(k_.epoll_create1(*main_, 0));
        // Nested: reverse_path_check allows 500 paths of two levels from the source.
        if ((rc = ctl(*main_, w.ep, model::EPOLL_CTL_ADD, w.watched, flags)) < 0)
          return fail("epoll_ctl(ADD) into worker " + std::to_string(i) + "'s epoll", rc);
      }
    }
    return true;
  }

  long ctl(Task& t, int ep, int op, int fd, model::poll_t events) {
    model::EpollEvent ev{events, static_cast<uint64_t>(fd)};
    return k_.epoll_ctl(t, ep, op, fd, &ev);
  }

  // ---- the run ---------------------------------------------------------------------

  struct Due {
    int64_t at;
    int seq;     // ties: in the order they were planned
    int worker;  // -1: the next arrival
    bool operator>(const Due& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };

  void drive() {
    const int n = s_.workers;
    const bool per_event = s_.arrival == Arrival::kOneAtATime;
    // From here every call runs without settling; drain() runs the woken tasks.
    k_.set_auto_settle(false);
    k_.scheduler().set_on_return([this](Task& t) { on_return(t); });
    for (int i = 0; i < n; ++i) start_wait(i);
    std::mt19937_64 rng(s_.seed);
    std::exponential_distribution<double> gap(s_.rate_per_ms);
    int produced = 0;
    while (produced < s_.events && r_.error.empty()) {
      // The next events: one, a burst, or one Poisson arrival; then everything they cause
      // (services ending at their virtual times) until every worker sleeps again, or, for
      // Poisson, until the next arrival is due.
      int64_t next_arrival = now_;
      if (s_.arrival == Arrival::kPoisson && produced > 0)
        next_arrival = now_poisson_ += static_cast<int64_t>(gap(rng) * 1e6);
      run_until(next_arrival);
      now_ = std::max(now_, next_arrival);
      const int k = s_.arrival == Arrival::kBurst ? std::min(s_.burst, s_.events - produced) : 1;
      event_woken_ = event_returned_ = 0;
      for (int j = 0; j < k && r_.error.empty(); ++j, ++produced) produce(produced);
      drain();
      if (s_.arrival != Arrival::kPoisson) run_until(INT64_MAX);
      if (per_event) {
        r_.woken.push_back(event_woken_);
        r_.returned.push_back(event_returned_);
      }
    }
    run_until(INT64_MAX);
  }

  // Runs the services that end before `until`, in time order.
  void run_until(int64_t until) {
    while (!due_.empty() && due_.top().at <= until && r_.error.empty()) {
      const Due d = due_.top();
      due_.pop();
      now_ = std::max(now_, d.at);
      start_wait(d.worker);
      drain();
    }
  }

  void produce(int event) {
    arrival_.push_back(now_);
    r_.handler.push_back(-1);
    r_.latency_ns.push_back(-1);
    long rc = 0;
    if (is_listener(s_.source) || s_.wait == Wait::kReuseport) {
      const bool tcp = s_.source == Source::kTcp || s_.wait == Wait::kReuseport;
      const int c = static_cast<int>(k_.socket(*main_, tcp ? model::AF_INET_ : model::AF_UNIX_, model::SOCK_STREAM_, 0));
      if (c < 0) return void(fail("socket", c));
      if ((rc = k_.connect(*main_, c, addr_)) < 0) return void(fail("connect of event " + std::to_string(event), rc));
      clients_.push_back(c);
    } else if (s_.source == Source::kEventfd) {
      const uint64_t one = 1;
      rc = k_.write(*main_, sink_, &one, sizeof one);
    } else {
      const char byte = 'x';
      rc = k_.write(*main_, sink_, &byte, 1);
    }
    if (rc < 0) fail("write of event " + std::to_string(event), rc);
  }

  int worker_of(const Task& t) const {
    const int i = t.tid - first_tid_;
    return i >= 0 && i < static_cast<int>(w_.size()) ? i : -1;
  }

  // Runs the woken tasks. A worker whose waiting call returns goes on in user space at
  // once (Scheduler::set_on_return), before the next woken task runs, as it does on a
  // machine with a CPU free for it: a shared LT epoll's second waiter, re-woken by the
  // first one's ep_done_scan, then finds the connection already taken (as the kernel here
  // mostly shows) instead of every waiter returning before anyone accepts.
  void drain() { k_.settle(); }

  void on_return(Task& t) {
    const int i = worker_of(t);
    if (i < 0 || !w_[i].in_call) return;
    w_[i].in_call = false;
    ++r_.returns[i];
    ++event_returned_;
    if (returned(i, t.result)) start_wait(i);
  }

  // The worker's waiting call: epoll_wait, or the blocking consuming call itself.
  void start_wait(int i) {
    Worker& w = w_[i];
    for (;;) {
      long rc;
      if (s_.wait == Wait::kBlocking || s_.wait == Wait::kReuseport) {
        rc = consume_call(w);
      } else {
        rc = k_.epoll_wait(*w.t, w.ep, 1, -1);
      }
      if (rc == model::kBlocked) {
        w.in_call = true;
        return;
      }
      // Returned at once (something was ready): no wakeup, a return all the same.
      if (!returned(i, rc)) return;
    }
  }

  long consume_call(Worker& w) {
    if (is_listener(s_.source) || s_.wait == Wait::kReuseport) return k_.accept4(*w.t, w.src, 0);
    // The buffer outlives a read that sleeps: the model copies into it when it returns.
    return k_.read(*w.t, w.src, &w.buf, s_.source == Source::kEventfd ? 8 : 1);
  }

  // The worker's call returned rc. Consumes, serves, re-arms; true if it should wait again
  // at once (the caller loops), false if it is busy (a service is due) or done.
  bool returned(int i, long rc) {
    Worker& w = w_[i];
    if (!s_.consume) {  // LTP's and kselftest's shape: each worker waits once, reads nothing
      w.done = true;
      ++r_.handled[i];
      if (!r_.handler.empty() && r_.handler.back() == -1) r_.handler.back() = i;
      return false;
    }
    int got = 0;
    if (s_.wait == Wait::kBlocking || s_.wait == Wait::kReuseport) {
      if (rc >= 0) consumed(i, rc), ++got;
    } else if (rc > 0) {
      // ET drains until EAGAIN (its event will not come again); the others take one.
      for (;;) {
        const long c = consume_call(w);
        if (c < 0) break;
        consumed(i, c);
        ++got;
        if (s_.trigger != Trigger::kEdge) break;
      }
      if (s_.trigger == Trigger::kOneshot) {
        const long m = ctl(*w.t, w.ep, model::EPOLL_CTL_MOD, w.watched, flags_of(s_.trigger));
        if (m < 0) fail("epoll_ctl(MOD)", m);
      }
    }
    if (got == 0) ++r_.empty[i];
    if (got > 0 && s_.service_ns > 0) {
      due_.push({now_ + got * s_.service_ns, seq_++, i});
      return false;
    }
    return r_.error.empty();
  }

  void consumed(int i, long fd) {
    ++r_.handled[i];
    const size_t e = next_consumed_++;
    if (e < r_.handler.size()) {
      r_.handler[e] = i;
      r_.latency_ns[e] = now_ - arrival_[e];
    }
    if (is_listener(s_.source) || s_.wait == Wait::kReuseport) {
      k_.close(*w_[i].t, static_cast<int>(fd));
      if (e < clients_.size()) k_.close(*main_, clients_[e]);
    }
  }

  // LTP epoll_wait14: F pipes with a byte each, level-triggered in one epoll; R calls of
  // epoll_wait(M, 0): the ready list is rotated (ep_send_events requeues a delivered LT
  // item at the tail), so every fd is reported in turn.
  void wait14() {
    main_ = &k_.task("main");
    const int ep = static_cast<int>(k_.epoll_create1(*main_, 0));
    r_.fd_reports.assign(s_.fds, 0);
    for (int f = 0; f < s_.fds; ++f) {
      int fds[2];
      long rc = k_.pipe2(*main_, fds, model::O_NONBLOCK_);
      if (rc < 0) return void(fail("pipe2", rc));
      const char byte = 'x';
      k_.write(*main_, fds[1], &byte, 1);
      model::EpollEvent ev{model::EPOLLIN, static_cast<uint64_t>(f)};
      if ((rc = k_.epoll_ctl(*main_, ep, model::EPOLL_CTL_ADD, fds[0], &ev)) < 0) return void(fail("epoll_ctl", rc));
    }
    for (int round = 0; round < s_.rounds; ++round) {
      const long n = k_.epoll_wait(*main_, ep, s_.maxevents, 0);
      if (n < 0) return void(fail("epoll_wait", n));
      std::vector<int> got;
      for (long j = 0; j < n; ++j) {
        const int f = static_cast<int>(main_->events[j].data);
        got.push_back(f);
        ++r_.fd_reports[f];
      }
      r_.rounds.push_back(std::move(got));
    }
  }

  static constexpr int kBacklog = 4096;
  const Scenario& s_;
  Kernel k_;
  Run r_;
  Task* main_ = nullptr;
  std::vector<Worker> w_;
  int first_tid_ = 0;
  int src_ = -1, sink_ = -1;
  SockAddr addr_;
  std::vector<int> clients_;       // per event: the connecting socket (listeners)
  std::vector<int64_t> arrival_;   // per event: its virtual arrival time
  size_t next_consumed_ = 0;       // events are consumed in arrival order (FIFO queues)
  std::priority_queue<Due, std::vector<Due>, std::greater<>> due_;  // services in progress
  int seq_ = 0;
  int64_t now_ = 0, now_poisson_ = 0;
  int event_woken_ = 0, event_returned_ = 0;
};

}  // namespace

Run run_on_model(const Scenario& s, const model::KernelProfile& profile) {
  ModelHerd h(s, profile);
  return h.run();
}

}  // namespace eo::herd
