#include "fuzz_gen.h"

#include <algorithm>
#include <memory>
#include <string>

#include "common/program.h"
#include "model/executor.h"

namespace eo {

namespace {

// x86-64 Linux values (the trace language's).
constexpr uint32_t IN = 0x1, PRI = 0x2, OUT = 0x4, ERR = 0x8, HUP = 0x10, RDNORM = 0x40, WRNORM = 0x100,
                   RDHUP = 0x2000, EXCLUSIVE = 1u << 28, WAKEUP = 1u << 29, ONESHOT = 1u << 30, ET = 1u << 31;
constexpr int64_t O_RDONLY_ = 0, O_WRONLY_ = 1, O_RDWR_ = 2, O_CREAT_ = 0100, O_EXCL_ = 0200;
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
      {2, op(K::kMqOpen)},
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
      // Message queues: opened under four names, sent to and received from by main
      // (non-blocking descriptors only) and by tasks (pending), watched by epoll and poll.
      {2, op(K::kMqOpen)},
      {1, op(K::kMqUnlink)},
      {5, op(K::kMqSend, gen::weightedElement<int64_t>({{6, 1}, {3, 8}, {2, 0}, {1, 64}, {1, 65}, {1, 8192}, {1, -1}}))},
      {4, op(K::kMqReceive, gen::weightedElement<int64_t>({{6, 8192}, {3, 64}, {1, 8}, {1, 7}, {1, -1}}))},
      {1, op(K::kMqGetattr)},
      {2, op(K::kMqNotify)},
      {2, op(K::kNotifications)},
      {2, op(K::kTaskMqSend, gen::weightedElement<int64_t>({{4, 1}, {1, 8}}))},
      {3, op(K::kTaskMqReceive, gen::weightedElement<int64_t>({{4, 8192}, {1, 64}}))},
      {3, op(K::kChildMq)},
      {2, op(K::kDgramReceiver)},
      {3, op(K::kDgramConnect)},
      {2, op(K::kUdpSocket)},
      {3, op(K::kUdpConnect)},
      {2, op(K::kUdpOpt)},
      {8, op(K::kScenario, gen::inRange<int64_t>(0, 256), gen::inRange<uint32_t>(0, 256))},
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
  enum class Kind { kPipeR, kPipeW, kSock, kEfd, kEpoll, kMq } kind;
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
  bool receiver = false;   // an AF_UNIX datagram socket bound by name: senders connect to it
  uint8_t queue = 0;       // a queue descriptor: the name it was opened by (mq_name)
  std::string dup_of = {};  // a dup: the name of the descriptor the open file was made under
  const std::string& file() const { return dup_of.empty() ? name : dup_of; }
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
    if (c.empty()) return nullptr;
    if (a >= kNewest) return c[c.size() - 1 - (a - kNewest) % c.size()];  // the scenarios' picks
    return c[a % c.size()];
  }
  // Any descriptor: a % 5 chooses the kind, a / 5 the one of that kind, so that removing
  // an unrelated object while shrinking does not change what later operations pick.
  const Obj* any(uint8_t a) const {
    constexpr int kKinds = 6;
    for (int k = 0; k < kKinds; ++k) {
      const auto kind = static_cast<Obj::Kind>((a + k) % kKinds);
      if (const Obj* o = pick(static_cast<uint8_t>(a / kKinds), [kind](const Obj& ob) { return ob.kind == kind; })) return o;
    }
    return nullptr;
  }
  // A queue descriptor; non_blocking: one main may send to and receive from.
  const Obj* mq(uint8_t a, bool non_blocking) const {
    return pick(a, [&](const Obj& o) { return o.kind == Obj::Kind::kMq && (!non_blocking || !o.blocking); });
  }
  const Obj* epoll(uint8_t a) const {
    return pick(a, [](const Obj& o) { return o.kind == Obj::Kind::kEpoll; });
  }
  // A descriptor main may read or write without ever sleeping. Not a queue: its read gives
  // a status line with the executor's pid and signal number in it (eventfd_read shows them).
  const Obj* io(uint8_t a) const {
    return pick(a, [](const Obj& o) { return o.kind != Obj::Kind::kEpoll && o.kind != Obj::Kind::kMq && !o.blocking; });
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
  // May the task make a call? A task has one pending call at a time; once it has made one,
  // the model is run on the program so far to see whether the call returned, so that a
  // task blocks again and again within a case (a waiter re-entering epoll_wait, a reader
  // that reads again). The model's answer is only a guess about the kernel: where they
  // differ, the earlier step where the task returned (or not) is the divergence.
  bool task_free(uint8_t task) {
    const unsigned bit = 1u << (task % 4);
    if (!(tasks_used_ & bit)) return true;
    if (p_.steps.empty() || rechecks_ >= kMaxRechecks) return false;
    ++rechecks_;
    if (!model_) model_ = std::make_unique<model::ModelExecutor>(model::KernelProfile{});
    Program q = p_;
    link_resumes(q);
    const RunResult r = model_->run(q);
    if (r.stopped_at >= 0 || r.steps.size() != q.steps.size()) return false;
    const auto& blocked = r.steps.back().still_blocked;
    if (std::find(blocked.begin(), blocked.end(), task_name(task)) != blocked.end()) return false;
    tasks_used_ &= ~bit;
    return true;
  }
  static constexpr int kMaxRechecks = 24;
  static constexpr uint8_t kNewest = 200;  // a pick of kNewest + i: the i-th newest candidate  // model runs per case, for speed
  static std::string mq_name(uint8_t b) { return "q" + std::to_string(b % 4); }
  static constexpr int kMaxMqCreates = 6;
  static constexpr int kDefaultMsgMax = 10;  // fs.mqueue.msg_default: sends that fill any queue

  // A child process made by main's fork: its task's name, the names its table copied and
  // the queue descriptors it opened itself (names only its process has).
  struct Child {
    std::string name;
    std::vector<std::string> names;
    bool alive = true;
    std::vector<Obj> queues;
  };
  const Obj* held(const Child& c, uint8_t a, bool (*ok)(const Obj&)) const {
    std::vector<const Obj*> v;
    for (const Obj& o : objs_) {
      if (ok(o) && std::find(c.names.begin(), c.names.end(), o.name) != c.names.end()) v.push_back(&o);
    }
    for (const Obj& o : c.queues) {
      if (ok(o)) v.push_back(&o);
    }
    return v.empty() ? nullptr : v[a % v.size()];
  }
  Child* live_child(uint8_t task) {
    for (size_t k = 0; k < children_.size(); ++k) {
      Child& cand = children_[(task + k) % children_.size()];
      if (cand.alive) return &cand;
    }
    return nullptr;
  }

  // The queue rules of a child process: notifications are per process (the owner of a
  // registration is the registering task's process, __do_notify signals it), so a child
  // registers, counts its own signals, sends and receives without sleeping through the
  // queues it holds, and opens a queue by name in its own process.
  void add_child_mq_op(const FuzzOp& o) {
    if (!live_child(o.task)) add_process_op(FuzzOp{K::kFork});  // main forks one first
    Child* c = live_child(o.task);
    if (!c) return;
    const auto queue = [](const Obj& ob) { return ob.kind == Obj::Kind::kMq; };
    const auto quiet_queue = [](const Obj& ob) { return ob.kind == Obj::Kind::kMq && !ob.blocking; };
    switch (o.variant % 6) {
      case 0:
      case 1: {
        const Obj* x = held(*c, o.a, queue);
        if (!x) return;
        const int v = (o.variant >> 3) % 3;
        step(MqNotify{use(x), v == 2 ? std::nullopt : std::optional<int64_t>(v == 0 ? MqNotify::kSigevSignal : MqNotify::kSigevNone)},
             c->name);
        // Now and then main sends through its own copy (never sleeping) and the child
        // counts: the signal of the edge goes to the registering process only.
        const bool mains = std::any_of(objs_.begin(), objs_.end(), [&](const Obj& ob) { return &ob == x; });
        if ((o.variant & 0x80) && mains && !x->blocking) {
          step(MqSend{use(x), 1, 0});
          step(Notifications{}, c->name);
        }
        break;
      }
      case 2:
        step(Notifications{}, c->name);
        break;
      case 3:
        if (const Obj* x = held(*c, o.a, quiet_queue)) step(MqSend{use(x), 1 + o.b % 8, o.b % 3}, c->name);
        break;
      case 4:
        if (const Obj* x = held(*c, o.a, quiet_queue)) step(MqReceive{use(x), 8192}, c->name);
        break;
      default: {
        // By name, non-blocking; created if absent while creations are left (each one is
        // charged to RLIMIT_MSGQUEUE), else ENOENT for a name nobody made or unlinked.
        const bool creat = mq_creates_ < kMaxMqCreates;
        mq_creates_ += creat;
        Obj opened{Obj::Kind::kMq, fresh("q"), false, -1};
        opened.queue = static_cast<uint8_t>(o.b % 4);
        step(MqOpen{{mq_name(opened.queue)}, {O_RDWR_ | O_NONBLOCK_ | (creat ? O_CREAT_ : 0), {}}, std::nullopt, std::nullopt},
             c->name);
        bind({opened.name});
        c->queues.push_back(opened);
        break;
      }
    }
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
      Child c;
      c.name = "p" + std::to_string(children_.size());  // "c" names clients
      for (const Obj& ob : objs_) c.names.push_back(ob.name);
      step(Fork{});
      bind({c.name});
      children_.push_back(std::move(c));
      return;
    }
    Child* c = live_child(o.task);
    if (!c) return;
    const auto is_epoll = [](const Obj& ob) { return ob.kind == Obj::Kind::kEpoll; };
    const auto not_epoll = [](const Obj& ob) { return ob.kind != Obj::Kind::kEpoll; };
    // Not a queue: its read gives the status line, with NOTIFY_PID (see io()).
    const auto quiet = [](const Obj& ob) { return ob.kind != Obj::Kind::kEpoll && ob.kind != Obj::Kind::kMq && !ob.blocking; };
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

  // AF_UNIX datagram sockets with names (unix_dgram_connect): receivers bound to a fresh
  // name (now and then to another receiver's: EADDRINUSE, or 0 once it closed), and
  // senders connected to one, several to one receiver, reconnected, or to a name that
  // leads nowhere (closed receiver, stream listener, never-bound socket). Main's own
  // sockets here are non-blocking: a blocking sender to a full receiver sleeps in
  // unix_wait_for_peer, which no byte budget foresees; blocking ones get no budget, so
  // only tasks write (and sleep) there.
  void add_dgram_op(const FuzzOp& o) {
    const bool blocking = (o.variant & 3) == 0;
    const auto make = [&](const char* prefix, bool receiver) -> const Obj& {
      const std::string n = fresh(prefix);
      const int64_t type = (o.variant & 0xe0) == 0xe0 ? SOCK_RAW_ : SOCK_DGRAM_;
      step(Socket{AF_UNIX_, {type | (blocking ? 0 : O_NONBLOCK_), {}}});
      bind({n});
      Obj obj{Obj::Kind::kSock, n, blocking, new_chan(blocking ? 0 : 200000), false, true};
      obj.receiver = receiver;
      objs_.push_back(obj);
      dgram_made_ = true;
      return objs_.back();
    };
    if (o.kind == K::kDgramReceiver) {
      const Obj& r = make("r", true);
      const Obj* taken = (o.variant & 0x1c) == 0x1c ? pick(o.b, [](const Obj& ob) { return ob.receiver; }) : nullptr;
      step(Bind{use(&r), taken && taken != &r ? SockRef{taken->name, {}} : SockRef{}});
      return;
    }
    // A fresh sender one time in two, else an open datagram socket main made (a pair's
    // end too: its old peer may be connected back).
    const auto own = [this](const Obj& ob) {
      return ob.dgram && ob.type == 0 && !ob.closed && (!ob.blocking || budget_[static_cast<size_t>(ob.chan)] == 0);
    };
    const Obj* from = (o.variant & 0x10) || aliased_ ? nullptr : pick(o.a, own);
    const bool fresh_sender = !from;
    if (!from) from = &make("u", false);
    const Obj* to = (o.variant & 0x0c) == 0x0c ? any(o.b) : pick(o.b, [](const Obj& ob) { return ob.receiver; });
    if (!to) return;
    // Now and then a small SO_SNDBUF on a non-blocking sender (a blocking one would make
    // the write budget wrong): its own buffer, not the receiver's queue, stops it.
    if ((o.variant & 0x0c) == 0x04 && !from->blocking) step(Setsockopt{use(from), SO_SNDBUF_, 1 + (o.b % 8) * 1000});
    step(Connect{use(from), SockRef{to->name, {}}});
    // One time in four the sender fills the receiver's queue (max_dgram_qlen + 1
    // datagrams): the others' sends and polls then meet the peer-wake path.
    if ((o.variant & 0x60) == 0x60 && !from->blocking) step(Fill{use(from), 1 + (o.b & 1) * 99});
    // A fresh blocking sender: a task sends on it (and sleeps in unix_wait_for_peer if the
    // receiver is full, or on its sndbuf).
    if (fresh_sender && from->blocking && task_free(o.task)) {
      tasks_used_ |= 1u << (o.task % 4);
      step(Write{use(from), 1 + (o.b & 2) * 50}, task_name(o.task));
      last().kind = Step::Kind::kPendingCall;
    }
  }


  // The scenarios (kScenario): deep states built in one go, on objects of their own, for
  // the random steps after them to play on. Each names its objects afresh.
  const Obj& last_of(Obj::Kind k) const {
    for (auto it = objs_.rbegin(); it != objs_.rend(); ++it) {
      if (it->kind == k) return *it;
    }
    return objs_.back();
  }
  // A watched source (non-blocking: main writes and reads it freely): an eventfd, a pipe's
  // read end or a stream pair's end. Returns the watched object's and the writer's names.
  std::pair<std::string, std::string> source(uint8_t v) {
    switch (v % 3) {
      case 0: add(FuzzOp{K::kEventfd, 0, 0, 1}); return {last_of(Obj::Kind::kEfd).name, last_of(Obj::Kind::kEfd).name};
      case 1: add(FuzzOp{K::kPipe, 0, 0, 1}); return {last_of(Obj::Kind::kPipeR).name, last_of(Obj::Kind::kPipeW).name};
      default: {
        add(FuzzOp{K::kSocketpair, 0, 0, 1});
        const std::string b = objs_.back().name, a = objs_[objs_.size() - 2].name;
        return {a, b};
      }
    }
  }
  void trigger(const std::string& writer, int64_t n) {
    const Obj* w = nullptr;
    for (const Obj& ob : objs_) w = ob.name == writer ? &ob : w;
    if (!w) return;
    if (w->kind == Obj::Kind::kEfd) step(EventfdWrite{ref(writer), n % 3});
    else if (can_write(w, 1 + n % 100)) step(Write{ref(writer), 1 + n % 100});
  }
  std::string new_epoll() {
    add(FuzzOp{K::kEpoll});
    return last_of(Obj::Kind::kEpoll).name;
  }
  void ctl_add(const std::string& ep, const std::string& fd, uint32_t events) {
    step(EpollCtl{ref(ep), 1 /* EPOLL_CTL_ADD */, ref(fd), FlagArg{events, {}}, {}});
  }
  // Tasks that are free block in epoll_wait on `ep` (for ever; maxevents 1 or 8).
  int waiters(const std::string& ep, int n, uint8_t first, int64_t maxevents) {
    int made = 0;
    for (uint8_t k = 0; k < 4 && made < n; ++k) {
      const uint8_t t = static_cast<uint8_t>(first + k);
      if (!task_free(t)) continue;
      tasks_used_ |= 1u << (t % 4);
      step(EpollWait{ref(ep), maxevents, -1}, task_name(t));
      last().kind = Step::Kind::kPendingCall;
      ++made;
    }
    return made;
  }
  void add_scenario(const FuzzOp& o) {
    static const uint32_t kModes[] = {0, ET, ONESHOT, EXCLUSIVE, EXCLUSIVE | ET, ET | ONESHOT};
    const uint32_t mode = kModes[o.mask % 6];
    const uint32_t dir = (o.mask & 0x40) ? (IN | OUT) : IN;
    const int64_t maxevents = (o.mask & 0x80) ? 8 : 1;
    switch (o.variant % 8) {
      case 0: {  // N waiters on one epoll
        const auto [watched, writer] = source(o.a);
        const std::string ep = new_epoll();
        ctl_add(ep, watched, dir | mode);
        waiters(ep, 2 + o.b % 3, o.task, maxevents);
        trigger(writer, o.n);
        // main harvests, then a read or another write (of 0 too), and harvests again: an
        // edge-triggered item fires again on every wakeup, whatever it brought.
        step(EpollWait{ref(ep), 8, 0});
        if (o.b & 8) step(Read{ref(watched), 8});
        else trigger(writer, o.n / 3);
        step(EpollWait{ref(ep), 8, 0});
        break;
      }
      case 1: {  // exclusive registrations on several epolls, each with a waiter
        const auto [watched, writer] = source(o.a);
        const int k = 2 + o.b % 2;
        for (int i = 0; i < k; ++i) {
          const std::string ep = new_epoll();
          ctl_add(ep, watched, dir | EXCLUSIVE | (i == 1 ? mode & ET : 0));
          waiters(ep, 1, static_cast<uint8_t>(o.task + i), maxevents);
        }
        trigger(writer, o.n);
        break;
      }
      case 2: {  // a nested chain with waiters at several levels
        const auto [watched, writer] = source(o.a);
        std::vector<std::string> eps;
        for (int i = 0; i < 2 + o.b % 4; ++i) {  // up to five: one more than EP_MAX_NESTS allows above the source
          eps.push_back(new_epoll());
          if (i == 0) ctl_add(eps[0], watched, dir | (mode & ~EXCLUSIVE));
          else ctl_add(eps[static_cast<size_t>(i)], eps[static_cast<size_t>(i) - 1], IN | (i == 1 ? mode & ET : 0));
        }
        waiters(eps.front(), 1, o.task, maxevents);
        waiters(eps.back(), 1 + (o.b & 4 ? 1 : 0), static_cast<uint8_t>(o.task + 1), maxevents);
        trigger(writer, o.n);
        break;
      }
      case 3: {  // a full pipe or stream socket with a blocked writer, watched
        const bool sock = o.a & 1;
        add(FuzzOp{sock ? K::kSocketpair : K::kPipe, 0, 0, 0});  // blocking
        const Obj& wo = objs_.back();
        const std::string w = wo.name, r = objs_[objs_.size() - 2].name;
        const std::string ep = new_epoll();
        ctl_add(ep, w, OUT | mode);
        ctl_add(ep, r, IN | (mode & ET));
        if (!task_free(o.task)) break;
        tasks_used_ |= 1u << (o.task % 4);
        step(Write{ref(w), sock ? 300000 : 100000}, task_name(o.task));
        last().kind = Step::Kind::kPendingCall;
        waiters(ep, 1, static_cast<uint8_t>(o.task + 1), maxevents);
        // The writer filled the buffer and sleeps: main's reads never sleep (bytes are
        // there), each one making room.
        // (at most what was written: 100000 bytes, 300000 on a socket, in the buffer or coming)
        if (o.n & 1) {
          for (int i = 0; i < 1 + o.b % 3; ++i) step(Read{ref(r), 4096});
        } else {
          step(Read{ref(r), 65536});
        }
        break;
      }
      case 4: {  // blocked readers of several file types
        for (int i = 0; i < 2 + o.b % 3; ++i) {
          const uint8_t t = static_cast<uint8_t>(o.task + i);
          const size_t before = objs_.size();
          switch ((o.a + i) % 4) {
            case 0: add(FuzzOp{K::kEventfd, 0, 0, 0}); break;
            case 1: add(FuzzOp{K::kPipe, 0, 0, 0}); break;
            case 2: add(FuzzOp{K::kSocketpair, 0, 0, 0}); break;
            default: add(FuzzOp{K::kMqOpen, 0, static_cast<uint8_t>(i), 0}); break;
          }
          if (objs_.size() == before) continue;  // no more queues may be created
          const bool queue = objs_.back().kind == Obj::Kind::kMq;
          const Obj reader = objs_[before];  // a pipe's read end, a pair's first end
          const Obj writer = objs_.back();
          // One reader, or two of the same file (exclusive waits: a wake-all must reach both).
          for (int r = 0; r < 1 + static_cast<int>((o.mask >> (4 + i)) & 1); ++r) {
            const uint8_t tr = static_cast<uint8_t>(t + r * 2);
            if (!task_free(tr)) continue;
            tasks_used_ |= 1u << (tr % 4);
            if (queue) step(MqReceive{ref(reader.name), 8192}, task_name(tr));
            else step(Read{ref(reader.name), 1 + o.n % 100}, task_name(tr));
            last().kind = Step::Kind::kPendingCall;
          }
          if (o.mask & (1u << i)) {
            if (queue) step(MqSend{ref(writer.name), 1, 0});
            else if (writer.kind == Obj::Kind::kEfd) step(EventfdWrite{ref(writer.name), 1});
            else if (can_write(&writer, 1)) step(Write{ref(writer.name), 1});
          } else if (!queue && writer.kind != Obj::Kind::kEfd && (o.n & 0x80)) {
            // The other end goes: the readers are woken for EOF (pipe_release, sock_def_wakeup).
            step(Close{ref(writer.name)});
            for (Obj& ob : objs_) ob.closed = ob.closed || ob.name == writer.name;
          }
        }
        break;
      }
      case 5: {  // dup, fork and close around a registration
        const auto [watched, writer] = source(o.a);
        const std::string ep = new_epoll();
        ctl_add(ep, watched, dir | mode);
        Obj copy = last_of(Obj::Kind::kEpoll);
        for (const Obj& ob : objs_) copy = ob.name == watched ? ob : copy;
        copy.dup_of = copy.file();
        copy.name = fresh("d");
        step(Dup{ref(watched)});
        bind({copy.name});
        objs_.push_back(copy);
        const std::string d = copy.name;
        waiters(ep, 1, o.task, maxevents);
        if (o.b & 1) add(FuzzOp{K::kFork});
        const auto close = [this](const std::string& name) {
          step(Close{ref(name)});
          for (Obj& ob : objs_) ob.closed = ob.closed || ob.name == name;
        };
        if (o.b & 2) close(watched);
        trigger(writer, o.n);
        if (o.b & 4) close(d);
        trigger(writer, o.n + 1);
        break;
      }
      case 6: {  // a listener (AF_UNIX or TCP) with connecting and accepting tasks
        if (o.a & 0x20) {
          add(FuzzOp{K::kTcpListen, 0, 0, static_cast<uint8_t>((o.a & 1) | ((o.b & 3) << 6))});  // blocking or not
          for (int i = 0; i < 1 + o.b % 2; ++i) add(FuzzOp{K::kTaskAccept, kNewest, 0, 0, 0, 0, static_cast<uint8_t>(o.task + i)});
          for (int i = 0; i < 2 + o.b % 3; ++i) add(FuzzOp{K::kTcpConnect, kNewest});
          add(FuzzOp{K::kTcpAccept, kNewest, 0, static_cast<uint8_t>(o.n & 3)});
          add(FuzzOp{K::kTaskRead, kNewest, 0, 0, 0, 1 + o.n % 100, static_cast<uint8_t>(o.task + 2)});
          add(FuzzOp{K::kWrite, kNewest, 0, 0, 0, 1 + o.n % 1000});
          break;
        }
        add(FuzzOp{K::kListener, 0, 0, static_cast<uint8_t>(o.a & 0x10)});  // blocking, backlog 0
        for (int i = 0; i < 1 + o.b % 2; ++i) add(FuzzOp{K::kTaskAccept, kNewest, 0, 0, 0, 0, static_cast<uint8_t>(o.task + i)});
        for (int i = 0; i < 2 + o.b % 3; ++i) {
          if (i % 2) add(FuzzOp{K::kConnect, kNewest, 0, 1});
          else add(FuzzOp{K::kTaskConnect, kNewest, 0, 0, 0, 0, static_cast<uint8_t>(o.task + 2 + i)});
        }
        add(FuzzOp{K::kAccept, kNewest});
        break;
      }
      default: {  // a message queue with blocked senders and receivers
        add(FuzzOp{K::kMqOpen, 0, o.b, 0});  // blocking, created
        add(FuzzOp{K::kTaskMqReceive, kNewest, 0, 0, 0, 8192, o.task});
        add(FuzzOp{K::kTaskMqSend, kNewest, o.b, 0x30, 0, 1, static_cast<uint8_t>(o.task + 1)});
        add(FuzzOp{K::kTaskMqSend, kNewest, o.b, 0xb0, 0, 1, static_cast<uint8_t>(o.task + 2)});
        break;
      }
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
        copy.dup_of = src->file();
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
        // A closed name denotes whatever took its number since, maybe a TCP socket (fuzz
        // seed 19: fill(l0) after close(l0) filled the TCP client that got fd 3).
        const bool tcp_made = std::any_of(objs_.begin(), objs_.end(), [](const Obj& ob) { return ob.tcp || ob.udp; });
        if (o.kind == K::kFill && x->closed && tcp_made) return;
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
        // with arguments __sys_socket refuses. connect is left out once a datagram socket
        // exists: a name's number may have gone to one, and a blocking one connected to a
        // full receiver would put main to sleep in unix_wait_for_peer (add_dgram_op
        // connects datagram sockets where main never writes to a blocking one).
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
          // Never a TCP socket to its own address: a self-connect (simultaneous open with
          // itself) succeeds on a kernel, and the model's TCP has no rules for it.
          case 3:
            if (x && other && !dgram_made_ && !(x->tcp && x->file() == other->file()))
              step(Connect{use(x), SockRef{other->name, {}}});
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
        if (task && !task_free(o.task)) return;
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
        if (!task_free(o.task)) return;
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
        if (!task_free(o.task)) return;
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
      case K::kChildMq:
        add_child_mq_op(o);
        break;
      case K::kMqOpen: {
        // Creations are capped: every queue is charged to RLIMIT_MSGQUEUE (819200 bytes by
        // default, about nine default queues), which the model does not keep.
        if (mq_creates_ >= kMaxMqCreates) return;
        ++mq_creates_;
        const std::string q = fresh("q");
        MqOpen open{{mq_name(o.b)}, {}, std::nullopt, std::nullopt};
        static const int64_t kAccess[] = {O_RDWR_, O_RDWR_, O_RDWR_, O_RDWR_, O_RDONLY_, O_WRONLY_, O_RDWR_, 3};
        const int64_t creat = (o.variant & 0x30) == 0x30 ? 0 : (o.variant & 0x30) == 0x20 ? O_CREAT_ | O_EXCL_ : O_CREAT_;
        open.flags.value = kAccess[(o.variant >> 2) & 7] | creat | (nonblock ? O_NONBLOCK_ : 0);
        if (o.variant & 0x40) {  // a small queue, now and then an invalid attr
          open.maxmsg = (o.variant & 0x80) && o.a % 5 == 0 ? 0 : 1 + o.a % 3;
          open.msgsize = (o.variant & 0x80) && o.a % 5 == 1 ? 8193 : 8 << (o.a % 4);
        }
        step(std::move(open));
        bind({q});
        Obj queue{Obj::Kind::kMq, q, !nonblock, -1};
        queue.queue = static_cast<uint8_t>(o.b % 4);
        objs_.push_back(queue);
        break;
      }
      case K::kMqUnlink:
        step(MqUnlink{{mq_name(o.b)}});
        break;
      case K::kMqSend: {
        const Obj* x = (o.variant & 0xf0) == 0xf0 ? io(o.a) : mq(o.a, true);  // now and then not a queue: EBADF
        if (!x) return;
        static const int64_t kPrio[] = {0, 0, 1, 1, 2, 5, 31, 32767, 0, 1, 3, 7, 0, 2, 32768, 4};
        step(MqSend{use(x), o.n, kPrio[o.variant & 15]});
        break;
      }
      case K::kMqReceive: {
        const Obj* x = (o.variant & 0xf0) == 0xf0 ? io(o.a) : mq(o.a, true);
        if (!x) return;
        step(MqReceive{use(x), o.n});
        break;
      }
      case K::kMqGetattr: {
        const Obj* x = (o.variant & 0x7) == 0x7 ? any(o.a) : mq(o.a, false);
        if (!x) return;
        step(MqGetattr{use(x)});
        break;
      }
      case K::kMqNotify: {
        const Obj* x = (o.variant & 0xf0) == 0xf0 ? any(o.a) : mq(o.a, false);
        if (!x) return;
        const int v = o.variant % 3;
        step(MqNotify{use(x), v == 2 ? std::nullopt : std::optional<int64_t>(v == 0 ? MqNotify::kSigevSignal : MqNotify::kSigevNone)});
        break;
      }
      case K::kNotifications:
        step(Notifications{});
        break;
      case K::kTaskMqSend:
      case K::kTaskMqReceive: {
        // A task sends to or receives from a queue (blocking or not): it may sleep there,
        // be handed a message by a pipelined send, or hand one over (pipelined receive).
        const std::string t = task_name(o.task);
        if (!task_free(o.task)) return;
        const bool fill_first = o.kind == K::kTaskMqSend && (o.variant & 0x30);
        const Obj* x = fill_first ? pick(o.a, [](const Obj& ob) { return ob.kind == Obj::Kind::kMq && ob.blocking; })
                                  : mq(o.a, false);
        if (!x) return;
        tasks_used_ |= 1u << (o.task % 4);
        if (fill_first && !pick(o.b, [&](const Obj& ob) {
              return ob.kind == Obj::Kind::kMq && !ob.blocking && ob.queue == x->queue;
            })) {
          Obj opened{Obj::Kind::kMq, fresh("q"), false, -1};
          opened.queue = x->queue;
          const uint8_t queue = x->queue;  // x may move when objs_ grows
          step(MqOpen{{mq_name(queue)}, {O_RDWR_ | O_NONBLOCK_, {}}, std::nullopt, std::nullopt});
          bind({opened.name});
          objs_.push_back(opened);
          x = pick(o.a, [](const Obj& ob) { return ob.kind == Obj::Kind::kMq && ob.blocking; });
        }
        // Main first fills the queue through a non-blocking descriptor of the same name
        // (EAGAIN once full), so that the task's send sleeps, and may receive at once,
        // which hands the task's message over (pipelined_receive).
        const Obj* y = fill_first ? pick(o.b, [&](const Obj& ob) {
          return ob.kind == Obj::Kind::kMq && !ob.blocking && ob.queue == x->queue;
        })
                                                                        : nullptr;
        for (int k = 0; y && k < kDefaultMsgMax; ++k) step(MqSend{use(y), 1, k % 3});
        if (o.kind == K::kTaskMqSend) step(MqSend{use(x), o.n, o.variant % 4}, t);
        else step(MqReceive{use(x), o.n}, t);
        last().kind = Step::Kind::kPendingCall;
        if (y && (o.variant & 0x80)) step(MqReceive{use(y), 8192});
        break;
      }
      case K::kDgramReceiver:
      case K::kDgramConnect:
        add_dgram_op(o);
        break;
      case K::kScenario:
        add_scenario(o);
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
        if (!task_free(o.task)) return;  // one pending call per task
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
  std::unique_ptr<model::ModelExecutor> model_;  // task_free's
  int rechecks_ = 0;
  bool dgram_made_ = false;  // a SOCK_DGRAM pair exists
  int mq_creates_ = 0;
  int next_ = 0;
  std::vector<Child> children_;
  bool aliased_ = false;  // a closed name was closed again: names may have changed sockets
};

}  // namespace

Program to_program(const FuzzCase& c) { return Builder().build(c); }

}  // namespace eo
