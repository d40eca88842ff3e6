#include "fuzz_gen.h"

#include <algorithm>
#include <string>

#include "common/program.h"

namespace eo {

namespace {

// x86-64 Linux values (the trace language's).
constexpr uint32_t IN = 0x1, PRI = 0x2, OUT = 0x4, ERR = 0x8, HUP = 0x10, RDNORM = 0x40, WRNORM = 0x100,
                   RDHUP = 0x2000, EXCLUSIVE = 1u << 28, WAKEUP = 1u << 29, ONESHOT = 1u << 30, ET = 1u << 31;
constexpr int64_t O_NONBLOCK_ = 04000, O_DIRECT_ = 040000, EFD_SEMAPHORE_ = 1, AF_UNIX_ = 1, SOCK_STREAM_ = 1,
                  SOCK_DGRAM_ = 2, SOCK_RAW_ = 3, SOCK_SEQPACKET_ = 5, AF_INET_ = 2, SO_REUSEADDR_ = 2,
                  SO_ERROR_ = 4, SO_SNDBUF_ = 7, SO_RCVBUF_ = 8, SO_LINGER_ = 13, SO_REUSEPORT_ = 15, SO_RCVLOWAT_ = 18;

using K = FuzzOp::Kind;

rc::Gen<uint32_t> gen_epoll_mask() {
  using namespace rc;
  return gen::apply(
      [](uint32_t base, uint32_t mode, uint32_t extra) { return base | mode | extra; },
      gen::weightedElement<uint32_t>({{6, IN}, {4, OUT}, {3, IN | OUT}, {2, IN | RDHUP}, {1, PRI}, {1, 0}, {1, ERR | HUP}}),
      gen::weightedElement<uint32_t>({{5, 0}, {5, ET}, {2, ONESHOT}, {1, ET | ONESHOT}, {2, EXCLUSIVE}, {1, EXCLUSIVE | ET}}),
      gen::weightedElement<uint32_t>({{20, 0}, {1, WAKEUP}, {1, RDNORM | WRNORM}, {1, 0x0ffff000u}}));
}

rc::Gen<int64_t> gen_size() {
  return rc::gen::weightedElement<int64_t>(
      {{4, 1}, {4, 10}, {2, 100}, {3, 4096}, {1, 4095}, {1, 5000}, {2, 65536}, {1, 100000}, {1, 0}});
}

// main's read/write sizes: now and then a count that cannot be a buffer (EFAULT first).
rc::Gen<int64_t> gen_io_size() {
  return rc::gen::weightedOneOf<int64_t>({{20, gen_size()}, {1, rc::gen::just<int64_t>(-1)}});
}

rc::Gen<FuzzOp> op(K kind, rc::Gen<int64_t> n = rc::gen::just<int64_t>(0),
                   rc::Gen<uint32_t> mask = rc::gen::just<uint32_t>(0)) {
  using namespace rc;
  return gen::apply(
      [kind](uint8_t a, uint8_t b, uint8_t variant, uint32_t m, int64_t nn, uint8_t task) {
        return FuzzOp{kind, a, b, variant, m, nn, task};
      },
      gen::inRange<uint8_t>(0, 40), gen::inRange<uint8_t>(0, 40),
      // inRange scales its range with RapidCheck's size: at full size every bit is possible.
      gen::map(gen::resize(100, gen::inRange(0, 256)), [](int v) { return static_cast<uint8_t>(v); }), mask, n,
      gen::inRange<uint8_t>(0, 4));
}

}  // namespace

rc::Gen<FuzzCase> gen_fuzz_case() {
  using namespace rc;
  const auto create = gen::weightedOneOf<FuzzOp>({
      {1, op(K::kTcpListen)},
      {1, op(K::kUdpSocket)},
      {3, op(K::kPipe)},
      {2, op(K::kSocketpair)},
      {2, op(K::kEventfd, gen::inRange<int64_t>(0, 3))},
      {3, op(K::kEpoll)},
  });
  const auto body = gen::weightedOneOf<FuzzOp>({
      {2, op(K::kPipe)},
      {1, op(K::kSocketpair)},
      {1, op(K::kEventfd, gen::inRange<int64_t>(0, 3))},
      {2, op(K::kEpoll)},
      {1, op(K::kBadCreate)},
      {2, op(K::kDup)},
      {3, op(K::kClose)},
      {5, op(K::kRead, gen_io_size())},
      {7, op(K::kWrite, gen_io_size())},
      {1, op(K::kFill, gen::element<int64_t>(0, 1, 4096, 65536))},
      {2, op(K::kDrain, gen::element<int64_t>(0, 1, 4096, 65536))},
      {3, op(K::kEfdWrite, gen::weightedElement<int64_t>({{6, 1}, {2, 0}, {1, 2}, {1, -2}, {1, -1}}))},
      {2, op(K::kEfdRead)},
      {2, op(K::kShutdown)},
      {12, op(K::kCtl, gen::just<int64_t>(0), gen_epoll_mask())},
      {9, op(K::kWait, gen::weightedElement<int64_t>({{6, 8}, {3, 1}, {2, 2}, {1, 0}, {1, -1}}))},
      {2, op(K::kPoll, gen::just<int64_t>(0),
             gen::weightedElement<uint32_t>({{4, IN}, {3, OUT}, {2, IN | OUT}, {1, RDHUP | IN}, {1, PRI}}))},
      {4, op(K::kTaskWait, gen::weightedElement<int64_t>({{4, 1}, {2, 8}, {1, 2}}))},
      {2, op(K::kTaskRead, gen_size())},
      {1, op(K::kTaskPoll, gen::just<int64_t>(0), gen::element(uint32_t{IN}, uint32_t{OUT}, uint32_t{IN | OUT}))},
      {1, op(K::kTaskWrite, gen::element<int64_t>(100000, 300000, 65536, 4096))},
      {2, op(K::kSockCall)},
      {1, op(K::kListener)},
      {3, op(K::kConnect)},
      {2, op(K::kAccept)},
      {1, op(K::kTaskConnect)},
      {1, op(K::kTcpListen)},
      {3, op(K::kTcpConnect)},
      {3, op(K::kTcpAccept)},
      {2, op(K::kTcpOpt)},
      {1, op(K::kTaskAccept)},
      {1, op(K::kFork)},
      {4, op(K::kChild, gen_size())},
      {2, op(K::kUdpSocket)},
      {3, op(K::kUdpConnect)},
      {2, op(K::kUdpOpt)},
  });
  return gen::apply(
      [](std::vector<FuzzOp> head, std::vector<FuzzOp> tail) {
        head.insert(head.end(), tail.begin(), tail.end());
        return head;
      },
      gen::scale(0.05, gen::container<std::vector<FuzzOp>>(create)), gen::container<std::vector<FuzzOp>>(body));
}

namespace {

// What the converter knows of each name while it builds the program.
struct Obj {
  enum class Kind { kPipeR, kPipeW, kSock, kEfd, kEpoll } kind;
  std::string name;
  bool blocking;
  int chan;  // write budget slot (-1: none)
  bool semaphore = false;  // EFD_SEMAPHORE
  bool dgram = false;      // an AF_UNIX SOCK_DGRAM socket: each write is charged a whole skb
  int64_t type = 0;        // a socket made by socket(): its type (SOCK_STREAM_ or SOCK_SEQPACKET_)
  bool listener = false;   // bound and listening (or meant to be)
  bool tcp = false;        // an AF_INET stream socket (its fill totals depend on autotuning: none)
  bool address = false;    // a TCP socket a connect may name (a listener, or one bound and closed)
  bool closed = false;     // closed by main: its number may now be another socket's
  bool udp = false;        // an AF_INET datagram socket (never fills: a write never blocks)
};

class Builder {
 public:
  Program build(const FuzzCase& c) {
    for (const FuzzOp& o : c) add(o);
    p_.title = "generated";
    link_resumes(p_);
    return std::move(p_);
  }

 private:
  template <typename F>
  const Obj* pick(uint8_t a, F ok) const {
    std::vector<const Obj*> c;
    for (const Obj& o : objs_) {
      if (ok(o)) c.push_back(&o);
    }
    return c.empty() ? nullptr : c[a % c.size()];
  }
  // Any descriptor: a % 5 chooses the kind, a / 5 the one of that kind, so that removing
  // an unrelated object while shrinking does not change what later operations pick.
  const Obj* any(uint8_t a) const {
    for (int k = 0; k < 5; ++k) {
      const auto kind = static_cast<Obj::Kind>((a + k) % 5);
      if (const Obj* o = pick(static_cast<uint8_t>(a / 5), [kind](const Obj& ob) { return ob.kind == kind; })) return o;
    }
    return nullptr;
  }
  const Obj* epoll(uint8_t a) const {
    return pick(a, [](const Obj& o) { return o.kind == Obj::Kind::kEpoll; });
  }
  // A descriptor main may read or write without ever sleeping.
  const Obj* io(uint8_t a) const {
    return pick(a, [](const Obj& o) { return o.kind != Obj::Kind::kEpoll && !o.blocking; });
  }

  template <class C>
  C& step(C call, std::string task = "main") {
    Step s;
    s.call = std::move(call);
    s.task = task;
    s.task_written = task != "main";
    s.pos = {static_cast<int>(p_.steps.size()) + 1, 1};
    p_.steps.push_back(std::move(s));
    return std::get<C>(p_.steps.back().call);
  }
  Step& last() { return p_.steps.back(); }
  // The last step binds these names.
  void bind(std::vector<std::string> names) {
    ResultAlt a;
    a.kind = ResultAlt::Kind::kBind;
    a.names = std::move(names);
    last().expect.alts.push_back(a);
  }
  // A descriptor argument of the step about to be added (its position is that step's).
  FdRef use(const Obj* o) const { return ref(o->name); }
  FdRef ref(const std::string& name) const { return FdRef{name, {static_cast<int>(p_.steps.size()) + 1, 1}}; }
  std::string fresh(const char* prefix, const char* suffix = "") { return prefix + std::to_string(next_++) + suffix; }
  int new_chan(long budget) {
    budget_.push_back(budget);
    return static_cast<int>(budget_.size()) - 1;
  }
  // Blocking descriptors take a write from main only while a conservative bound on what
  // is queued stays far below capacity, so that main never sleeps.
  bool can_write(const Obj* o, int64_t n) {
    if (!o->blocking) return true;
    if (o->chan < 0) return false;
    // A datagram's skb truesize is at most twice its length plus a small head.
    const long cost = (o->dgram ? 2 : 1) * static_cast<long>(n) + 2048;
    if (budget_[static_cast<size_t>(o->chan)] < cost) return false;
    budget_[static_cast<size_t>(o->chan)] -= cost;
    return true;
  }
  std::string task_name(uint8_t t) { return "t" + std::to_string(1 + t % 4); }

  // A child process made by main's fork: its task's name and the names its table copied.
  struct Child {
    std::string name;
    std::vector<std::string> names;
    bool alive = true;
  };
  const Obj* held(const Child& c, uint8_t a, bool (*ok)(const Obj&)) const {
    std::vector<const Obj*> v;
    for (const Obj& o : objs_) {
      if (ok(o) && std::find(c.names.begin(), c.names.end(), o.name) != c.names.end()) v.push_back(&o);
    }
    return v.empty() ? nullptr : v[a % v.size()];
  }

  // The UDP rules. Sockets are bound to a fresh port (one in four blocking: tasks read
  // there, main only writes), or bound and closed (a port nobody has: ICMP, ECONNREFUSED).
  // Ports are shared only through kSockCall's SO_REUSEADDR/SO_REUSEPORT binds, rarely.
  void add_udp_op(const FuzzOp& o) {
    const auto live_udp = [](const Obj& ob) { return ob.udp && !ob.closed; };
    if (o.kind == K::kUdpSocket) {
      const bool gone = (o.variant & 0x0c) == 0x0c;
      const bool blocking = !gone && (o.variant & 0x30) == 0x30;
      const std::string u = fresh(gone ? "g" : "u");
      step(Socket{AF_INET_, {SOCK_DGRAM_ | (blocking ? 0 : O_NONBLOCK_), {}}});
      bind({u});
      if (!(o.variant & 0x40) || gone) step(Bind{ref(u), {}});  // else unbound until it connects or sends
      if (gone) step(Close{ref(u)});
      Obj obj{Obj::Kind::kSock, u, blocking, new_chan(1L << 40)};  // a UDP write never sleeps
      obj.udp = true;
      obj.closed = gone;
      objs_.push_back(obj);
      return;
    }
    const Obj* x = pick(o.a, live_udp);
    if (!x || aliased_) return;
    if (o.kind == K::kUdpConnect) {
      // To a UDP socket (itself too), live or closed, or now and then to a TCP socket's port.
      const Obj* to = (o.variant & 0xe0) == 0xe0 ? pick(o.b, [](const Obj& ob) { return ob.address; })
                                                 : pick(o.b, [](const Obj& ob) { return ob.udp; });
      if (to) step(Connect{use(x), SockRef{to->name, {}}});
      // and often a datagram at once (sizes across the truesize steps, and past the largest)
      static const int64_t kSizes[] = {0, 10, 100, 200, 1000, 4000, 20000, 65507, 65508};
      if (to && (o.variant & 3) != 0 && can_write(x, kSizes[o.b % 9])) step(Write{use(x), kSizes[o.b % 9]});
      return;
    }
    switch (o.variant % 7) {
      case 0: step(Setsockopt{use(x), SO_RCVBUF_, (o.variant & 0x40) ? 1 : 4096}); break;  // 2 or 9 small datagrams
      case 1: step(Setsockopt{use(x), SO_SNDBUF_, 1}); break;  // sk_write_space: EPOLLOUT again
      case 2: {  // a port another UDP socket has: EADDRINUSE (or EINVAL once bound)
        if (const Obj* other = pick(o.b, [](const Obj& ob) { return ob.udp; }); other && other != x)
          step(Bind{use(x), SockRef{other->name, {}}});
        break;
      }
      case 3:
        if (!x->blocking) step(Read{use(x), (o.variant & 0x40) ? 10 : 70000});
        break;
      default: step(Getsockopt{use(x), SO_ERROR_}); break;
    }
  }

  // The fork rules: main forks (two children at most; forks come from main only, as the
  // kernel executor runs them); a child then closes its copies, writes, reads or waits
  // without sleeping, deletes a registration of the shared epoll, or exits.
  void add_process_op(const FuzzOp& o) {
    if (o.kind == K::kFork) {
      if (children_.size() >= 2) return;
      Child c{"p" + std::to_string(children_.size()), {}};  // "c" names clients
      for (const Obj& ob : objs_) c.names.push_back(ob.name);
      step(Fork{});
      bind({c.name});
      children_.push_back(std::move(c));
      return;
    }
    Child* c = nullptr;
    for (size_t k = 0; k < children_.size() && !c; ++k) {
      Child& cand = children_[(o.task + k) % children_.size()];
      if (cand.alive) c = &cand;
    }
    if (!c) return;
    const auto is_epoll = [](const Obj& ob) { return ob.kind == Obj::Kind::kEpoll; };
    const auto not_epoll = [](const Obj& ob) { return ob.kind != Obj::Kind::kEpoll; };
    const auto quiet = [](const Obj& ob) { return ob.kind != Obj::Kind::kEpoll && !ob.blocking; };
    switch (o.variant % 8) {
      case 0:
      case 1:
      case 2:
        if (const Obj* x = held(*c, o.a, [](const Obj&) { return true; })) step(Close{use(x)}, c->name);
        break;
      case 3:
        if (const Obj* x = held(*c, o.a, not_epoll); x && can_write(x, o.n)) step(Write{use(x), o.n}, c->name);
        break;
      case 4:
        if (const Obj* x = held(*c, o.a, quiet)) step(Read{use(x), o.n}, c->name);
        break;
      case 5:
        if (const Obj* ep = held(*c, o.a, is_epoll)) step(EpollWait{use(ep), 8, 0}, c->name);
        break;
      case 6: {
        const Obj* ep = held(*c, o.a, is_epoll);
        const Obj* fd = held(*c, o.b, [](const Obj&) { return true; });
        if (ep && fd) step(EpollCtl{use(ep), EpollCtl::kDel, use(fd), std::nullopt, {}}, c->name);
        break;
      }
      default:
        step(Exit{}, c->name);
        c->alive = false;
        break;
    }
  }

  // The generator rule of each call: one FuzzOp kind (or several) gives one step.
  void add(const FuzzOp& o) {
    const bool nonblock = (o.variant & 3) != 0;  // three in four descriptors are non-blocking
    switch (o.kind) {
      case K::kPipe: {
        const std::string r = fresh("p", "r"), w = r.substr(0, r.size() - 1) + "w";
        step(Pipe2{{(nonblock ? O_NONBLOCK_ : 0) | ((o.variant & 0x40) && (o.variant & 0x80) ? O_DIRECT_ : 0), {}}});
        bind({r, w});
        const int chan = new_chan(60000);
        objs_.push_back({Obj::Kind::kPipeR, r, !nonblock, -1});
        objs_.push_back({Obj::Kind::kPipeW, w, !nonblock, chan});
        break;
      }
      case K::kSocketpair: {
        const std::string a = fresh("s", "a"), b = a.substr(0, a.size() - 1) + "b";
        // One in four pairs is datagram, one in sixteen spelled SOCK_RAW (unix_create: SOCK_DGRAM).
        const bool dgram = (o.variant & 0x30) == 0x30;
        dgram_made_ = dgram_made_ || dgram;
        const int64_t type = !dgram ? SOCK_STREAM_ : (o.variant & 0xc0) == 0xc0 ? SOCK_RAW_ : SOCK_DGRAM_;
        step(Socketpair{AF_UNIX_, {type | (nonblock ? O_NONBLOCK_ : 0), {}}});
        bind({a, b});
        const long budget = dgram ? 200000 : 100000;
        objs_.push_back({Obj::Kind::kSock, a, !nonblock, new_chan(budget), false, dgram});
        objs_.push_back({Obj::Kind::kSock, b, !nonblock, new_chan(budget), false, dgram});
        break;
      }
      case K::kEventfd: {
        const std::string e = fresh("e");
        step(Eventfd2{o.n, {(nonblock ? O_NONBLOCK_ : 0) | ((o.variant & 0x10) ? EFD_SEMAPHORE_ : 0), {}}});
        bind({e});
        objs_.push_back({Obj::Kind::kEfd, e, !nonblock, new_chan(1L << 40), (o.variant & 0x10) != 0});
        break;
      }
      case K::kEpoll: {
        const std::string ep = fresh("ep");
        step(EpollCreate1{});
        bind({ep});
        objs_.push_back({Obj::Kind::kEpoll, ep, false, -1});
        break;
      }
      case K::kBadCreate: {
        // Invalid flags or arguments: nothing is created, nothing is bound.
        switch (o.variant % 7) {
          case 0: step(Pipe2{{0x10, {}}}); break;
          case 1: step(Eventfd2{0, {0x10, {}}}); break;
          case 2: step(Socketpair{AF_UNIX_, {SOCK_STREAM_ | 0x10, {}}}); break;
          case 3: step(EpollCreate1{{1, {}}}); break;
          case 4: step(Pipe2{{0x80, {}}}); break;  // O_NOTIFICATION_PIPE: by the kernel's config
          case 5: step(Socketpair{AF_UNIX_, {11, {}}}); break;  // beyond SOCK_MAX: EINVAL
          default: step(Socketpair{2, {SOCK_STREAM_, {}}}); break;  // AF_INET: sock_no_socketpair
        }
        break;
      }
      case K::kDup: {
        const Obj* src = any(o.a);
        if (!src) return;
        Obj copy = *src;
        copy.name = fresh("d");
        step(Dup{use(src)});
        bind({copy.name});
        objs_.push_back(copy);
        break;
      }
      case K::kClose: {
        if (const Obj* x = any(o.a)) {
          // Closing a name twice closes whatever took its number since: from then on any
          // name may denote another socket (fuzz seeds 25, 45), and TCP calls stop.
          if (x->closed) aliased_ = true;
          step(Close{use(x)});
          for (Obj& ob : objs_) ob.closed = ob.closed || ob.name == x->name;
        }
        break;
      }
      case K::kRead:
      case K::kDrain: {
        const Obj* x = (o.variant & 0xf0) == 0xf0 ? epoll(o.a) : io(o.a);  // now and then an epoll: EINVAL
        if (!x) return;
        if (o.kind == K::kRead) step(Read{use(x), o.n});
        else step(Drain{use(x), o.n});
        break;
      }
      case K::kWrite:
      case K::kFill: {
        const Obj* x = pick(o.a, [](const Obj& ob) { return ob.kind != Obj::Kind::kEpoll; });
        if (!x) return;
        if (o.kind == K::kFill && (x->blocking || x->tcp || x->udp)) return;  // TCP: autotuning; UDP: never full
        if (o.kind == K::kWrite && !can_write(x, o.n)) return;
        if (o.kind == K::kWrite) step(Write{use(x), o.n});
        else step(Fill{use(x), o.n});
        break;
      }
      case K::kEfdWrite: {
        const Obj* x = pick(o.a, [](const Obj& ob) { return ob.kind == Obj::Kind::kEfd; });
        if (!x) x = io(o.a);
        if (!x) return;
        if (x->blocking && (o.n < 0 || o.n > 2 || !can_write(x, 8))) return;
        // A semaphore eventfd near ULLONG_MAX would make a drain run for ever (1 per read).
        if (x->semaphore && (o.n < 0 || o.n > 2)) return;
        step(EventfdWrite{use(x), o.n});
        break;
      }
      case K::kEfdRead: {
        const Obj* x = io(o.a);
        if (!x) return;
        step(EventfdRead{use(x)});
        break;
      }
      case K::kShutdown: {
        const Obj* x = (o.variant & 0x8) ? any(o.a) : pick(o.a, [](const Obj& ob) { return ob.kind == Obj::Kind::kSock; });
        if (!x) return;
        step(Shutdown{use(x), o.variant % 7 == 0 ? 3 : o.variant % 3});
        break;
      }
      case K::kCtl: {
        const Obj* ep = (o.variant & 0xe0) == 0xe0 ? any(o.a) : epoll(o.a);
        const Obj* fd = any(o.b);
        if (ep && (o.variant & 0x0c) == 0x0c) {
          // Nest the epoll created after ep into it: repeated, this builds chains deep
          // enough for the nesting limits.
          const Obj* next = nullptr;
          for (size_t i = 0; i + 1 < objs_.size() && !next; ++i) {
            if (&objs_[i] != ep) continue;
            for (size_t j = i + 1; j < objs_.size() && !next; ++j) {
              if (objs_[j].kind == Obj::Kind::kEpoll) next = &objs_[j];
            }
          }
          if (next) fd = next;
        }
        if (!ep || !fd) return;
        static const int64_t kOps[] = {1, 1, 1, 3, 3, 2, 2, 1, 3, 2, 1, 1, 3, 1, 0, 99};
        EpollCtl c{use(ep), kOps[o.variant & 15], use(fd), std::nullopt, {}};
        if (c.op != EpollCtl::kDel) {  // the trace language writes no EVENTS for DEL
          c.events = FlagArg{o.mask, {}};
          if ((o.variant & 0x30) == 0x30) c.label = "L" + std::to_string(o.b % 4);
        }
        step(std::move(c));
        break;
      }
      case K::kWait: {
        const Obj* ep = (o.variant & 0xf0) == 0xf0 ? any(o.a) : epoll(o.a);
        if (!ep) return;
        // One wait in four is an epoll_pwait2: no wait, or now and then an invalid
        // timespec (-2 ns: EINVAL before anything else).
        if ((o.variant & 0x0c) == 0x0c) step(EpollPwait2{use(ep), o.n, (o.variant & 0x03) == 0x03 ? -2 : 0});
        else step(EpollWait{use(ep), o.n, 0});
        break;
      }
      case K::kPoll: {
        Poll poll;
        for (uint8_t k = 0; k < 1 + o.variant % 3; ++k) {
          const Obj* x = any(static_cast<uint8_t>(o.a + k * o.b + k));
          if (!x) continue;
          bool dup = false;
          for (const PollEntry& e : poll.fds) dup = dup || e.fd.name == x->name;
          if (dup) continue;
          poll.fds.push_back({use(x), {o.mask, {}}});
        }
        if (!poll.fds.empty()) step(std::move(poll));
        break;
      }
      case K::kSockCall: {
        // The calls of sockets with addresses on anything (a pipe, an eventfd, an epoll:
        // ENOTSOCK; a closed name: EBADF; a socket: the family's answer), and socket()
        // with arguments __sys_socket refuses. connect is left out once a datagram pair
        // exists: a name's number may have gone to one (unix_dgram_connect is not modelled).
        const Obj* x = any(o.a);
        const Obj* other = any(o.b);
        switch (o.variant % 8) {
          case 0: {
            static const int64_t kBad[][2] = {{AF_UNIX_, SOCK_STREAM_ | 0x10}, {AF_UNIX_, 11}, {46, SOCK_STREAM_}, {-1, SOCK_DGRAM_}};
            const auto& b = kBad[(o.variant / 8) % 4];
            step(Socket{b[0], {b[1], {}}});
            break;
          }
          case 1: if (x) step(Bind{use(x), other && (o.variant & 8) ? SockRef{other->name, {}} : SockRef{}}); break;
          case 2: if (x) step(Listen{use(x), o.b % 4}); break;
          case 3:  // (a TCP self-connect, simultaneous open with itself, is not modelled)
            if (x && other && !dgram_made_ && !(x == other && x->tcp)) step(Connect{use(x), SockRef{other->name, {}}});
            break;
          case 4: if (x && !x->blocking) step(Accept4{use(x), {(o.variant & 8) ? O_NONBLOCK_ : 0x10 * ((o.variant >> 4) & 1), {}}}); break;
          case 5: {
            static const int64_t kOpts[] = {SO_LINGER_, SO_REUSEADDR_, SO_REUSEPORT_, SO_RCVBUF_, (int64_t{6} << 32) | 1};
            if (x) step(Setsockopt{use(x), kOpts[(o.variant / 8) % 5], (o.variant & 0x40) ? -1 : o.b % 3});
            break;
          }
          default: if (x) step(Getsockopt{use(x), SO_ERROR_}); break;
        }
        break;
      }
      case K::kListener: {
        // An AF_UNIX stream or seqpacket listener (one in four blocking: tasks accept there).
        const std::string l = fresh("l");
        const int64_t type = (o.variant & 0x10) ? SOCK_SEQPACKET_ : SOCK_STREAM_;
        step(Socket{AF_UNIX_, {type | (nonblock ? O_NONBLOCK_ : 0), {}}});
        bind({l});
        objs_.push_back({Obj::Kind::kSock, l, !nonblock, new_chan(0), false, false, type, true});
        step(Bind{use(&objs_.back()), {}});
        step(Listen{use(&objs_.back()), o.b % 3});
        break;
      }
      case K::kConnect:
      case K::kTaskConnect: {
        // A client of a listener: main connects non-blocking sockets (EAGAIN when the
        // backlog is full), a task a blocking one (it sleeps for room).
        const bool task = o.kind == K::kTaskConnect;
        if (task && (tasks_used_ & (1u << (o.task % 4)))) return;
        const Obj* l = pick(o.a, [](const Obj& ob) { return ob.listener; });
        if (!l) return;
        const int64_t type = (o.variant & 0xc0) == 0xc0 ? (SOCK_STREAM_ + SOCK_SEQPACKET_) - l->type : l->type;
        const std::string c = fresh("c");
        const bool blocking = task;
        step(Socket{AF_UNIX_, {type | (blocking ? 0 : O_NONBLOCK_), {}}});
        bind({c});
        const std::string lname = l->name;
        objs_.push_back({Obj::Kind::kSock, c, blocking, new_chan(blocking ? 100000 : 0), false, type == SOCK_SEQPACKET_, type});
        if (task) {
          tasks_used_ |= 1u << (o.task % 4);
          step(Connect{use(&objs_.back()), SockRef{lname, {}}}, task_name(o.task));
          last().kind = Step::Kind::kPendingCall;
        } else {
          step(Connect{use(&objs_.back()), SockRef{lname, {}}});
        }
        break;
      }
      case K::kAccept: {
        const Obj* l = pick(o.a, [](const Obj& ob) { return ob.listener && !ob.tcp && !ob.blocking; });
        if (!l) return;
        const bool nb = (o.variant & 3) != 0;
        const std::string a = fresh("a");
        const int64_t type = l->type;
        step(Accept4{use(l), {nb ? O_NONBLOCK_ : 0, {}}});
        bind({a});
        objs_.push_back({Obj::Kind::kSock, a, !nb, new_chan(nb ? 0 : 100000), false, type == SOCK_SEQPACKET_, type});
        break;
      }
      case K::kTcpListen: {
        if ((o.variant & 0x0c) == 0x0c) {
          // An address nobody listens on: a socket bound, then closed (connects are refused).
          const std::string g = fresh("g");
          step(Socket{AF_INET_, {SOCK_STREAM_ | O_NONBLOCK_, {}}});
          bind({g});
          step(Bind{ref(g), {}});
          step(Close{ref(g)});
          Obj obj{Obj::Kind::kSock, g, false, -1};
          obj.tcp = obj.address = obj.closed = true;
          objs_.push_back(obj);
          break;
        }
        // A listener (one in four blocking: only tasks accept on those), sometimes with
        // SO_REUSEADDR or an explicit bind first; backlogs small enough to fill.
        const std::string l = fresh("l");
        step(Socket{AF_INET_, {SOCK_STREAM_ | (nonblock ? O_NONBLOCK_ : 0), {}}});
        bind({l});
        if (o.variant & 0x10) step(Setsockopt{ref(l), SO_REUSEADDR_, 1});
        if (o.variant & 0x20) step(Bind{ref(l), {}});
        static const int64_t kBacklog[] = {0, 1, 2, 8};
        step(Listen{ref(l), kBacklog[(o.variant >> 6) & 3]});
        Obj obj{Obj::Kind::kSock, l, !nonblock, -1};
        obj.tcp = obj.listener = obj.address = true;
        objs_.push_back(obj);
        break;
      }
      case K::kTcpConnect: {
        // A non-blocking client (main never sleeps in connect), connected to a listener or
        // to an address nobody listens on (refused: RST), if there is one.
        const std::string c = fresh("c");
        step(Socket{AF_INET_, {SOCK_STREAM_ | O_NONBLOCK_, {}}});
        bind({c});
        if (const Obj* to = pick(o.a, [](const Obj& ob) { return ob.address; })) step(Connect{ref(c), SockRef{to->name, {}}});
        Obj obj{Obj::Kind::kSock, c, false, new_chan(100000)};
        obj.tcp = true;
        objs_.push_back(obj);
        break;
      }
      case K::kTcpAccept: {
        // main accepts only on non-blocking TCP listeners (an AF_UNIX accept is kAccept); the
        // accepted socket is blocking one time in four (then main writes to it within a budget
        // and never reads).
        const Obj* l = pick(o.a, [](const Obj& ob) { return ob.tcp && ob.listener && !ob.blocking && !ob.closed; });
        if (!l || aliased_) return;
        const std::string a = fresh("a");
        step(Accept4{use(l), {nonblock ? O_NONBLOCK_ : 0, {}}});
        bind({a});
        Obj obj{Obj::Kind::kSock, a, !nonblock, new_chan(100000)};
        obj.tcp = true;
        objs_.push_back(obj);
        break;
      }
      case K::kTcpOpt: {
        // RST on close (SO_LINGER 0; never a linger time: close would block on a kernel),
        // lingering off again, a low-water mark, or the pending error.
        const Obj* x = pick(o.a, [](const Obj& ob) { return ob.tcp && !ob.closed; });
        if (!x || aliased_) return;
        switch (o.variant % 4) {
          case 0: step(Setsockopt{use(x), SO_LINGER_, 0}); break;
          case 1: step(Setsockopt{use(x), SO_LINGER_, -1}); break;
          case 2: step(Setsockopt{use(x), SO_RCVLOWAT_, 1 + o.b % 32}); break;
          default: step(Getsockopt{use(x), SO_ERROR_}); break;
        }
        break;
      }
      case K::kTaskAccept: {
        // A task blocked in accept on a blocking listener (exclusive, FIFO); on a
        // non-blocking one it returns at once.
        const std::string t = task_name(o.task);
        if (tasks_used_ & (1u << (o.task % 4))) return;
        const Obj* l = pick(o.a, [](const Obj& ob) { return ob.listener && !ob.closed; });
        if (!l || aliased_) return;
        tasks_used_ |= 1u << (o.task % 4);
        step(Accept4{use(l), {(o.variant & 1) ? O_NONBLOCK_ : 0, {}}}, t);
        last().kind = Step::Kind::kPendingCall;
        break;
      }
      case K::kTaskWrite: {
        // A task writes more than a blocking pipe or socket holds: it sleeps until readers
        // make room. Main writes there no more, so that it never sleeps itself.
        const std::string t = task_name(o.task);
        if (tasks_used_ & (1u << (o.task % 4))) return;
        const Obj* x = pick(o.a, [](const Obj& ob) {
          return ob.blocking && ob.chan >= 0 && (ob.kind == Obj::Kind::kPipeW || ob.kind == Obj::Kind::kSock ||
                                 (ob.kind == Obj::Kind::kEfd && !ob.semaphore));
        });
        if (!x) return;
        tasks_used_ |= 1u << (o.task % 4);
        budget_[static_cast<size_t>(x->chan)] = 0;
        if (x->kind == Obj::Kind::kEfd) step(EventfdWrite{use(x), -2}, t);  // a count that cannot fit: the writer sleeps
        else step(Write{use(x), o.n}, t);
        last().kind = Step::Kind::kPendingCall;
        break;
      }
      case K::kFork:
      case K::kChild:
        add_process_op(o);
        break;
      case K::kUdpSocket:
      case K::kUdpConnect:
      case K::kUdpOpt:
        add_udp_op(o);
        break;
      case K::kTaskWait:
      case K::kTaskRead:
      case K::kTaskPoll: {
        const std::string t = task_name(o.task);
        if (tasks_used_ & (1u << (o.task % 4))) return;  // one pending call per task
        const Obj* x = o.kind == K::kTaskWait ? epoll(o.a)
                       : o.kind == K::kTaskRead
                           ? pick(o.a, [](const Obj& ob) { return ob.kind != Obj::Kind::kEpoll && ob.blocking; })
                           : any(o.a);
        if (!x && o.kind == K::kTaskRead) x = io(o.a);
        if (!x) return;
        tasks_used_ |= 1u << (o.task % 4);
        if (o.kind == K::kTaskWait) {
          // Forever or 0. Finite timeouts need real-time margins on a kernel (the corpus
          // has them, e.g. waiters/timeout-expires.trace); generated runs stay fast.
          const int64_t timeout = (o.variant & 0x7) == 0 ? 0 : -1;
          if ((o.variant & 0x18) == 0x18) step(EpollPwait2{use(x), o.n, timeout}, t);  // -1: a null timespec
          else step(EpollWait{use(x), o.n, timeout}, t);
        } else if (o.kind == K::kTaskRead) {
          step(Read{use(x), o.n ? o.n : 1}, t);
        } else {
          step(Poll{{PollEntry{use(x), {o.mask, {}}}}, -1}, t);
        }
        last().kind = Step::Kind::kPendingCall;
        break;
      }
    }
  }

  Program p_;
  std::vector<Obj> objs_;
  std::vector<long> budget_;
  unsigned tasks_used_ = 0;
  bool dgram_made_ = false;  // a SOCK_DGRAM pair exists
  int next_ = 0;
  std::vector<Child> children_;
  bool aliased_ = false;  // a closed name was closed again: names may have changed sockets
};

}  // namespace

Program to_program(const FuzzCase& c) { return Builder().build(c); }

}  // namespace eo
