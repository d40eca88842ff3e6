#include "real/raw_calls.h"

#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>
#include <optional>

#include "real/child.h"
#include "real/mq_names.h"

namespace real {

namespace {

// x86-64 packs struct epoll_event (12 bytes), and fs/eventpoll.c caps maxevents at
// EP_MAX_EVENTS = INT_MAX / sizeof(struct epoll_event).
static_assert(sizeof(epoll_event) == 12, "traces describe x86-64's packed epoll_event");
constexpr long kEpMaxEvents = INT_MAX / static_cast<long>(sizeof(epoll_event));
// epoll_wait buffers up to this many entries are plain heap memory; larger ones reserve
// address space only (see EventBuffer).
constexpr int kHeapEvents = 4096;

// The memory epoll_wait writes events into. The kernel rejects maxevents <= 0 and
// > EP_MAX_EVENTS with EINVAL before it looks at the buffer (do_epoll_wait), and checks
// access_ok(events, maxevents * 12) next: a valid maxevents needs a buffer that covers
// all of it. Up to kHeapEvents it is heap memory; beyond, an anonymous MAP_NORESERVE
// mapping of maxevents * 12 bytes (at most 2 GiB of address space, backed only where the
// kernel writes events), so a hostile maxevents costs no memory.
class EventBuffer {
 public:
  explicit EventBuffer(int maxevents) {
    if (maxevents > kHeapEvents && maxevents <= kEpMaxEvents) {
      map_len_ = static_cast<size_t>(maxevents) * sizeof(epoll_event);
      void* m = mmap(nullptr, map_len_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (m == MAP_FAILED) {
        map_len_ = 0;
      } else {
        map_ = static_cast<epoll_event*>(m);
      }
    } else {
      heap_.resize(static_cast<size_t>(std::clamp(maxevents, 1, kHeapEvents)));
    }
  }
  ~EventBuffer() {
    if (map_) munmap(map_, map_len_);
  }
  EventBuffer(const EventBuffer&) = delete;
  EventBuffer& operator=(const EventBuffer&) = delete;
  bool ok() const { return map_ || !heap_.empty(); }
  epoll_event* data() { return map_ ? map_ : heap_.data(); }

 private:
  std::vector<epoll_event> heap_;
  epoll_event* map_ = nullptr;
  size_t map_len_ = 0;
};

// The schema's x86-64 numbers are this machine's.
static_assert(eo::nr::kRead == SYS_read && eo::nr::kWrite == SYS_write && eo::nr::kClose == SYS_close &&
              eo::nr::kPoll == SYS_poll && eo::nr::kDup == SYS_dup && eo::nr::kNanosleep == SYS_nanosleep &&
              eo::nr::kShutdown == SYS_shutdown && eo::nr::kSocketpair == SYS_socketpair &&
              eo::nr::kEpollWait == SYS_epoll_wait && eo::nr::kEpollCtl == SYS_epoll_ctl &&
              eo::nr::kEventfd2 == SYS_eventfd2 && eo::nr::kEpollCreate1 == SYS_epoll_create1 &&
              eo::nr::kPipe2 == SYS_pipe2 && eo::nr::kEpollPwait2 == SYS_epoll_pwait2 &&
              eo::nr::kFork == SYS_fork && eo::nr::kExitGroup == SYS_exit_group &&
              eo::nr::kSocket == SYS_socket && eo::nr::kConnect == SYS_connect && eo::nr::kBind == SYS_bind &&
              eo::nr::kListen == SYS_listen && eo::nr::kSetsockopt == SYS_setsockopt &&
              eo::nr::kGetsockopt == SYS_getsockopt && eo::nr::kAccept4 == SYS_accept4 &&
              eo::nr::kRtSigtimedwait == SYS_rt_sigtimedwait && eo::nr::kMqOpen == SYS_mq_open &&
              eo::nr::kMqUnlink == SYS_mq_unlink && eo::nr::kMqTimedsend == SYS_mq_timedsend &&
              eo::nr::kMqTimedreceive == SYS_mq_timedreceive && eo::nr::kMqNotify == SYS_mq_notify &&
              eo::nr::kMqGetsetattr == SYS_mq_getsetattr);

// The address of fd's socket (getsockname), empty if it has none to give.
eo::SockAddr local_address(long fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (syscall(SYS_getsockname, fd, &ss, &len) != 0) return {};
  const auto* b = reinterpret_cast<const uint8_t*>(&ss);
  return eo::SockAddr(b, b + std::min<size_t>(len, sizeof ss));
}

// An address as a system call takes it: a sockaddr_storage and a length (0 for none).
struct UserAddr {
  sockaddr_storage ss{};
  socklen_t len = 0;
  explicit UserAddr(const eo::SockAddr& a) : len(static_cast<socklen_t>(std::min(a.size(), sizeof ss))) {
    if (len) std::memcpy(&ss, a.data(), len);  // an empty address has no data()
  }
};

// Raw syscall(2) throughout: the number the task sleeps in is then exactly the schema's,
// and libc adds nothing (no cancellation points, no fd bookkeeping).
template <class... A>
long sys(long nr, A... args) {
  return ret_of(syscall(nr, args...));
}

// The system call of each trace call: the real function of its schema row. The kernel
// reads int/unsigned arguments from the low 32 bits; the casts give the values the model
// gets from its own.
class RawCalls {
 public:
  RawCalls(const eo::CallArgs& call, const Resolved& r, const ForkContext* fork)
      : args_(eo::fd_args(call)), r_(r), fork_(fork) {}
  std::string error;  // why a call could not be prepared (its buffer cannot be had)

  RawCall operator()(const eo::Pipe2& a) {
    const long flags = static_cast<int>(a.flags.value);
    return [=](eo::RawResult& r, const auto&) { return sys(SYS_pipe2, r.fds, flags); };
  }
  RawCall operator()(const eo::Socketpair& a) {
    const long domain = static_cast<int>(a.domain), type = static_cast<int>(a.type.value);
    return [=](eo::RawResult& r, const auto&) {
      const long ret = sys(SYS_socketpair, domain, type, 0L, r.fds);
      if (ret == 0) r.addr[0] = local_address(r.fds[0]), r.addr[1] = local_address(r.fds[1]);
      return ret;
    };
  }
  RawCall operator()(const eo::Socket& a) {
    const long domain = static_cast<int>(a.domain), type = static_cast<int>(a.type.value);
    return [=](eo::RawResult& r, const auto&) {
      const long fd = sys(SYS_socket, domain, type, 0L);
      if (fd >= 0) r.addr[0] = local_address(fd);
      return fd;
    };
  }
  RawCall operator()(const eo::Bind& a) {
    const long fd = num(a.sock);
    const UserAddr addr(r_.addr);
    return [=](eo::RawResult& r, const auto&) {
      const long ret = sys(SYS_bind, fd, &addr.ss, long{addr.len});
      r.addr[0] = local_address(fd);
      return ret;
    };
  }
  // An AF_INET socket without a port is bound to 127.0.0.1 first (v1.1 "Loopback only").
  RawCall operator()(const eo::Listen& a) {
    const long fd = num(a.sock), backlog = static_cast<int>(a.backlog);
    const bool pre = r_.pre_bind;
    const UserAddr addr(r_.addr);
    return [=](eo::RawResult& r, const auto&) {
      if (pre) sys(SYS_bind, fd, &addr.ss, long{addr.len});
      const long ret = sys(SYS_listen, fd, backlog);
      r.addr[0] = local_address(fd);
      return ret;
    };
  }
  RawCall operator()(const eo::Connect& a) {
    const long fd = num(a.sock);
    const UserAddr addr(r_.addr);
    return [=](eo::RawResult& r, const auto&) {
      const long ret = sys(SYS_connect, fd, &addr.ss, long{addr.len});
      r.addr[0] = local_address(fd);
      return ret;
    };
  }
  RawCall operator()(const eo::Accept4& a) {
    const long fd = num(a.sock), flags = static_cast<int>(a.flags.value);
    return [=](eo::RawResult& r, const auto&) {
      const long s = sys(SYS_accept4, fd, nullptr, nullptr, flags);
      if (s >= 0) r.addr[0] = local_address(s);
      return s;
    };
  }
  // SO_LINGER takes a struct linger: VALUE seconds with lingering on, -1 off.
  RawCall operator()(const eo::Setsockopt& a) {
    const long fd = num(a.sock);
    const eo::SockOptName o = eo::sockopt_of(a.opt);
    const int value = static_cast<int>(a.value);
    const bool linger = o.level == SOL_SOCKET && o.optname == SO_LINGER;
    const struct linger l{value != -1, value == -1 ? 0 : value};
    return [=](eo::RawResult&, const auto&) {
      if (linger) return sys(SYS_setsockopt, fd, long{o.level}, long{o.optname}, &l, long{sizeof l});
      return sys(SYS_setsockopt, fd, long{o.level}, long{o.optname}, &value, long{sizeof value});
    };
  }
  RawCall operator()(const eo::Getsockopt& a) {
    const long fd = num(a.sock);
    const eo::SockOptName o = eo::sockopt_of(a.opt);
    return [=](eo::RawResult& r, const auto&) {
      int v = 0;
      socklen_t len = sizeof v;
      const long ret = sys(SYS_getsockopt, fd, long{o.level}, long{o.optname}, &v, &len);
      r.value = static_cast<uint32_t>(v);
      return ret;
    };
  }
  RawCall operator()(const eo::Eventfd2& a) {
    const long initval = static_cast<unsigned>(a.initval), flags = static_cast<int>(a.flags.value);
    return [=](eo::RawResult&, const auto&) { return sys(SYS_eventfd2, initval, flags); };
  }
  RawCall operator()(const eo::EpollCreate1& a) {
    const long flags = static_cast<int>(a.flags.value);
    return [=](eo::RawResult&, const auto&) { return sys(SYS_epoll_create1, flags); };
  }
  RawCall operator()(const eo::Dup& a) {
    const long fd = num(a.fd);
    return [=](eo::RawResult&, const auto&) { return sys(SYS_dup, fd); };
  }
  RawCall operator()(const eo::Close& a) {
    const long fd = num(a.fd);
    return [=](eo::RawResult&, const auto&) { return sys(SYS_close, fd); };
  }
  RawCall operator()(const eo::Shutdown& a) {
    const long fd = num(a.fd), how = static_cast<int>(a.how);
    return [=](eo::RawResult&, const auto&) { return sys(SYS_shutdown, fd, how); };
  }
  // A negative N is passed as the size_t it converts to (the kernel's answer: EFAULT or
  // EINVAL); a valid pointer is needed all the same.
  RawCall operator()(const eo::Read& a) { return io(SYS_read, num(a.fd), eo::io_count(a.count)); }
  RawCall operator()(const eo::Write& a) { return io(SYS_write, num(a.fd), eo::io_count(a.count)); }
  RawCall operator()(const eo::Fill& a) { return fill_drain(SYS_write, num(a.fd), eo::chunk_count(a.chunk)); }
  RawCall operator()(const eo::Drain& a) { return fill_drain(SYS_read, num(a.fd), eo::chunk_count(a.chunk)); }
  RawCall operator()(const eo::EventfdWrite& a) {
    const long fd = num(a.fd);
    const uint64_t value = static_cast<uint64_t>(a.value);
    return [=](eo::RawResult&, const auto&) {
      uint64_t v = value;
      return sys(SYS_write, fd, &v, sizeof v);
    };
  }
  RawCall operator()(const eo::EventfdRead& a) {
    const long fd = num(a.fd);
    return [=](eo::RawResult& r, const auto&) {
      r.value = 0;
      return sys(SYS_read, fd, &r.value, sizeof r.value);
    };
  }
  RawCall operator()(const eo::EpollCtl& a) {
    const long ep = num(a.ep), op = static_cast<int>(a.op), fd = num(a.fd);
    const bool has_ev = a.events.has_value();
    epoll_event ev{};
    ev.events = static_cast<uint32_t>(a.events ? a.events->value : 0);
    ev.data.u64 = r_.data;
    return [=](eo::RawResult&, const auto&) mutable { return sys(SYS_epoll_ctl, ep, op, fd, has_ev ? &ev : nullptr); };
  }
  RawCall operator()(const eo::EpollWait& a) {
    const long timeout = static_cast<int>(a.timeout_ms);
    return epoll_events(num(a.ep), static_cast<int>(a.maxevents), [=](long ep, epoll_event* events, long maxevents) {
      return sys(SYS_epoll_wait, ep, events, maxevents, timeout);
    });
  }
  // With a null sigmask, as the trace language defines it (set_user_sigmask does nothing).
  RawCall operator()(const eo::EpollPwait2& a) {
    const std::optional<eo::EpollPwait2::Timespec> ts = a.timespec();
    const struct timespec timeout{ts ? ts->sec : 0, ts ? ts->nsec : 0};
    const bool has_timeout = ts.has_value();
    return epoll_events(num(a.ep), static_cast<int>(a.maxevents), [=](long ep, epoll_event* events, long maxevents) {
      return sys(SYS_epoll_pwait2, ep, events, maxevents, has_timeout ? &timeout : nullptr, nullptr, 0L);
    });
  }
  RawCall operator()(const eo::Poll& a) {
    std::vector<pollfd> pfds;
    for (const eo::PollEntry& e : a.fds) pfds.push_back({static_cast<int>(num(e.fd)), static_cast<short>(e.events.value), 0});
    const long timeout = static_cast<int>(a.timeout_ms);
    return [=](eo::RawResult& r, const auto&) mutable {
      const long n = sys(SYS_poll, pfds.data(), static_cast<unsigned long>(pfds.size()), timeout);
      for (size_t k = 0; k < pfds.size(); ++k) r.events.push_back({static_cast<uint16_t>(pfds[k].revents), k});
      return n;
    };
  }
  // Queue names are the run's (RunQueues, resolved by the coordinator); a queue is created
  // with mode 0600.
  RawCall operator()(const eo::MqOpen& a) {
    const std::string name = r_.mq_name;
    const long flags = static_cast<int>(a.flags.value);
    const bool has_attr = a.maxmsg || a.msgsize;
    mq_attr attr{};
    attr.mq_maxmsg = a.maxmsg.value_or(0);
    attr.mq_msgsize = a.msgsize.value_or(0);
    return [=](eo::RawResult&, const auto&) mutable {
      return sys(SYS_mq_open, name.c_str(), flags, 0600L, has_attr ? &attr : nullptr);
    };
  }
  RawCall operator()(const eo::MqUnlink&) {
    const std::string name = r_.mq_name;
    return [=](eo::RawResult&, const auto&) { return sys(SYS_mq_unlink, name.c_str()); };
  }
  // LEN as given: the kernel refuses one above mq_msgsize (at most HARD_MSGSIZEMAX, 16 MiB)
  // before it reads the buffer, which covers every length it accepts.
  RawCall operator()(const eo::MqSend& a) {
    const long fd = num(a.q), prio = static_cast<unsigned>(a.prio);
    const size_t len = static_cast<size_t>(a.len);
    auto buf = std::make_shared<std::vector<char>>(eo::io_buffer_size(len), eo::kFiller);
    return [=](eo::RawResult&, const auto&) { return sys(SYS_mq_timedsend, fd, buf->data(), len, prio, nullptr); };
  }
  // BUFLEN as given; the buffer holds any message the kernel may store (<= 16 MiB).
  RawCall operator()(const eo::MqReceive& a) {
    const long fd = num(a.q);
    const size_t len = static_cast<size_t>(a.buflen);
    auto buf = std::make_shared<std::vector<char>>(std::clamp<size_t>(len, 1, eo::kMaxIoBytes));
    return [=](eo::RawResult& r, const auto&) {
      unsigned prio = 0;
      const long n = sys(SYS_mq_timedreceive, fd, buf->data(), len, &prio, nullptr);
      r.prio = prio;
      return n;
    };
  }
  RawCall operator()(const eo::MqGetattr& a) {
    const long fd = num(a.q);
    return [=](eo::RawResult&, const auto&) {
      mq_attr old{};
      const long r = sys(SYS_mq_getsetattr, fd, nullptr, &old);
      return r < 0 ? r : static_cast<long>(old.mq_curmsgs);
    };
  }
  RawCall operator()(const eo::MqNotify& a) {
    const long fd = num(a.q);
    const bool has = a.notify.has_value();
    sigevent sev{};
    sev.sigev_notify = static_cast<int>(a.notify.value_or(0));
    sev.sigev_signo = notify_signal();
    return [=](eo::RawResult&, const auto&) mutable { return sys(SYS_mq_notify, fd, has ? &sev : nullptr); };
  }
  // In the calling task's process (a forked child counts its own).
  RawCall operator()(const eo::Notifications&) {
    return [](eo::RawResult&, const auto&) { return take_notifications(); };
  }
  RawCall operator()(const eo::Sleep&) {  // runs on the coordinator (Run::sleep), never on a task
    return [](eo::RawResult&, const auto&) { return 0L; };
  }
  // fork(2) by the task's thread: the child runs child_main (real/child.h); the parent gets
  // the child's pid.
  RawCall operator()(const eo::Fork&) {
    const ForkContext* ctx = fork_;
    return [=](eo::RawResult&, const auto&) { return ctx ? fork_child(*ctx) : -ENOSYS; };
  }
  // exit() of main's process (a child's exit is child_main's _exit): the other tasks'
  // calls were ended by the coordinator; this closes what the trace made in the process.
  RawCall operator()(const eo::Exit&) {
    const std::vector<int> fds = r_.exit_closes;
    return [=](eo::RawResult&, const auto&) {
      for (const int fd : fds) sys(SYS_close, long{fd});
      return 0L;
    };
  }

 private:
  // An epoll wait into an EventBuffer of maxevents entries: wait(ep, buffer, maxevents)
  // gives the count, the events written become the raw result.
  template <class Wait>
  RawCall epoll_events(long ep, int maxevents, Wait wait) {
    auto events = std::make_shared<EventBuffer>(maxevents);
    if (!events->ok()) {
      error = "cannot reserve an epoll_wait buffer for " + std::to_string(maxevents) + " events: " + std::strerror(errno);
      return nullptr;
    }
    return [=](eo::RawResult& r, const auto&) {
      const long n = wait(ep, events->data(), long{maxevents});
      for (long k = 0; k < n; ++k) r.events.push_back({events->data()[k].events, events->data()[k].data.u64});
      return n;
    };
  }
  static RawCall io(long nr, long fd, size_t count) {
    auto buf = std::make_shared<std::vector<char>>(eo::io_buffer_size(count), eo::kFiller);
    return [=](eo::RawResult&, const auto&) { return sys(nr, fd, buf->data(), count); };
  }
  // fill/drain: eo::fill_drain_loop, ended early by a signal (cancel).
  static RawCall fill_drain(long nr, long fd, size_t chunk) {
    auto buf = std::make_shared<std::vector<char>>(eo::io_buffer_size(chunk), eo::kFiller);
    return [=](eo::RawResult&, const std::atomic<bool>& cancel) {
      return eo::fill_drain_loop([&] { return sys(nr, fd, buf->data(), chunk); },
                                 [&](long, long total) -> std::optional<long> {
                                   if (cancel.load()) return total ? total : -EINTR;
                                   return std::nullopt;
                                 });
    };
  }
  // The number a descriptor name of the call denotes (names are matched by address).
  long num(const eo::FdRef& f) const {
    for (size_t k = 0; k < args_.size() && k < r_.fds.size(); ++k) {
      if (args_[k] == &f) return r_.fds[k];
    }
    return -1;
  }
  std::vector<const eo::FdRef*> args_;
  const Resolved& r_;
  const ForkContext* fork_;
};

}  // namespace

// syscall(2) gives -1 and errno; outcomes want -errno.
long ret_of(long r) { return r == -1 ? -errno : r; }

Resolved resolve(eo::StepHarness& h, const eo::CallArgs& call) {
  Resolved r;
  for (const eo::FdRef* f : eo::fd_args(call)) r.fds.push_back(h.fd(*f));
  if (const auto* ctl = std::get_if<eo::EpollCtl>(&call)) r.data = h.data_of(*ctl);
  if (const auto* b = std::get_if<eo::Bind>(&call)) r.addr = b->other.name.empty() ? h.fresh_address(b->sock) : h.address_of(b->other);
  if (const auto* c = std::get_if<eo::Connect>(&call)) r.addr = h.address_of(c->other);
  if (const auto* l = std::get_if<eo::Listen>(&call)) {
    const std::optional<eo::SockAddr> pre = h.bind_before_listen(l->sock);
    r.pre_bind = pre.has_value();
    r.addr = pre.value_or(eo::SockAddr{});
  }
  return r;
}

RawCall make_raw_call(const eo::CallArgs& call, const Resolved& r, const ForkContext* fork, std::string* error) {
  RawCalls calls(call, r, fork);
  RawCall run = std::visit(calls, call);
  if (!run) *error = calls.error;
  return run;
}

}  // namespace real
