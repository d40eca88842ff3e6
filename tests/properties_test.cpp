// Property tests of the model (RapidCheck): random sequences of syscalls by several tasks,
// valid and invalid, with the structural invariants of fs/eventpoll.c and the reference
// accounting of struct file checked after every step, and a clean teardown at the end.
//
// A test case is a list of ops. Descriptor operands are selectors resolved when the op
// runs ("the k-th open fd", "the k-th open epoll fd", or a raw number that may be closed
// or never opened), so that any sub-list of a failing list still runs: shrinking just
// removes ops and simplifies their fields. The minimal failing case is printed with its
// resolved trace (RC_LOG).
//
// Properties (after every step):
//  P1 registrations: every eventpoll reachable (through the fd table or a pending call)
//     has an rb-tree strictly ordered by (file id, fd) whose items point back to it, watch
//     a live file and are on that file's f_ep list (and vice versa); the items are exactly
//     the (epoll, file, fd) triples epoll_ctl reported added and not deleted, minus those
//     whose epoll or target file was released; the counters live_epitems, live_pwqs and
//     user_epoll_watches match; ep->refcount is 1 + items; ADD right after a successful
//     ADD gives EEXIST, DEL right after a successful DEL gives ENOENT. The nesting graph is
//     acyclic and (>= 6.17) no chain is longer than EP_MAX_NESTS.
//  P2 ready list: every item on ep->rdllist belongs to ep, the linked items of ep are
//     exactly those on its rdllist, ovflist is inactive and no item is chained on it.
//  P3 no epitem refers to a released file (P1: every target is live, f_count > 0).
//  P4 references: every live file is reachable, and f_count == fd-table slots + the
//     references held by pending calls (their FileRefs, on Task::held_files).
//  P5 teardown: interrupting every task ends every pending call, closing every fd then
//     frees every file, epitem and eppoll_entry (also clean under ASan/UBSan).
//  P6 results: every result is >= 0 and within its bound, kBlocked only for a call that
//     may sleep (a blocking file, a non-zero timeout), or one of the errnos of that call;
//     new fds are the lowest free ones; epoll_wait reports each item at most once and only
//     events it was armed for; a blocked epoll_wait ends by its deadline and on a signal.
//  P7 no lost wakeup: an armed level-triggered item (not EPOLLEXCLUSIVE) whose file polls
//     ready for its events is on the ready list, and no task sleeps in epoll_wait on an
//     epoll whose ready list is not empty.
//
// Three tests: the general mix on 6.18, a mix aimed at nesting (chains, cycles, ELOOP) on
// 6.18, and both mixes on older kernel profiles. Each runs RapidCheck's default 100 cases
// (RC_PARAMS="max_success=N" for more) and prints how often the interesting paths ran.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "model/eventpoll.h"
#include "model/file.h"
#include "model/kernel.h"

namespace {

using namespace model;

constexpr int kMaxFds = 24;     // RLIMIT_NOFILE of the simulated process: EMFILE is reachable
constexpr int kMaxSteps = 60;   // ops per test case at most
constexpr int kPrologueSteps = 8;  // of which file creations first
constexpr int kTasks = 4;       // "main" plus three helpers that block in epoll_wait
constexpr size_t kMaxIo = 200000;
const char* const kTaskNames[kTasks] = {"main", "t1", "t2", "t3"};

enum class Kind {
  kPipe, kSocketpair, kEventfd, kEpollCreate, kCtl, kClose, kDup, kRead, kWrite, kEfdWrite,
  kShutdown, kWait, kBlockingWait, kAdvance, kInterrupt,
};

// A descriptor operand, resolved when the op runs.
struct FdSel {
  // kOpen: any open fd; kEpoll: an epoll; kFile: a file that is not an epoll (for read
  // and write: one open for reading, writing); kNextEpoll (epoll_ctl's target): the epoll
  // k+1 places after the epfd in fd order, wrapping around (chains and cycles). Each falls
  // back to any open fd, then to k.
  enum Mode : uint8_t { kOpen, kEpoll, kFile, kNextEpoll, kRaw };
  Mode mode = kRaw;
  int k = 0;
};

struct Op {
  Kind kind = Kind::kAdvance;
  int task = 0;        // preferred task; a busy task hands the op to the next idle one
  FdSel a, b;          // fd operands (epfd and fd for epoll_ctl)
  int arg = 0;         // creation flags, ctl op, shutdown how, maxevents, milliseconds
  poll_t events = 0;   // epoll_ctl mask
  bool null_event = false;  // epoll_ctl with a NULL event pointer
  int registered = -1;      // epoll_ctl on the k-th existing registration instead of a, b
  long n = 0;          // read/write size, epoll_wait timeout
  uint64_t value = 0;  // eventfd initval / value written
};

std::string fd_text(const FdSel& s) {
  switch (s.mode) {
    case FdSel::kOpen: return "open#" + std::to_string(s.k);
    case FdSel::kEpoll: return "epoll#" + std::to_string(s.k);
    case FdSel::kFile: return "file#" + std::to_string(s.k);
    case FdSel::kNextEpoll: return "next_epoll#" + std::to_string(s.k);
    case FdSel::kRaw: break;
  }
  return std::to_string(s.k);
}

std::string mask_text(poll_t m) {
  static const std::pair<poll_t, const char*> names[] = {
      {EPOLLIN, "IN"}, {EPOLLPRI, "PRI"}, {EPOLLOUT, "OUT"}, {EPOLLERR, "ERR"}, {EPOLLHUP, "HUP"},
      {EPOLLNVAL, "NVAL"}, {EPOLLRDNORM, "RDNORM"}, {EPOLLRDBAND, "RDBAND"}, {EPOLLWRNORM, "WRNORM"},
      {EPOLLWRBAND, "WRBAND"}, {EPOLLMSG, "MSG"}, {EPOLLRDHUP, "RDHUP"}, {EPOLLEXCLUSIVE, "EXCLUSIVE"},
      {EPOLLWAKEUP, "WAKEUP"}, {EPOLLONESHOT, "ONESHOT"}, {EPOLLET, "ET"}};
  std::string s;
  for (auto [bit, name] : names) {
    if (m & bit) {
      s += s.empty() ? "" : "|";
      s += name;
      m &= ~bit;
    }
  }
  if (m) {
    std::ostringstream o;
    o << (s.empty() ? "" : "|") << "0x" << std::hex << m;
    s += o.str();
  }
  return s.empty() ? "0" : s;
}

std::string ctl_op_text(int op) {
  switch (op) {
    case EPOLL_CTL_ADD: return "ADD";
    case EPOLL_CTL_MOD: return "MOD";
    case EPOLL_CTL_DEL: return "DEL";
    default: return std::to_string(op);
  }
}

std::ostream& operator<<(std::ostream& os, const Op& op) {
  const char* t = kTaskNames[op.task];
  switch (op.kind) {
    case Kind::kPipe: return os << t << ":pipe2(flags=0x" << std::hex << op.arg << std::dec << ")";
    case Kind::kSocketpair: return os << t << ":socketpair(type_flags=0x" << std::hex << op.arg << std::dec << ")";
    case Kind::kEventfd: return os << t << ":eventfd2(" << op.value << ", 0x" << std::hex << op.arg << std::dec << ")";
    case Kind::kEpollCreate: return os << t << ":epoll_create1(0x" << std::hex << op.arg << std::dec << ")";
    case Kind::kCtl:
      if (op.registered >= 0) {
        os << t << ":epoll_ctl(registration#" << op.registered << ", " << ctl_op_text(op.arg);
      } else {
        os << t << ":epoll_ctl(" << fd_text(op.a) << ", " << ctl_op_text(op.arg) << ", " << fd_text(op.b);
      }
      return os << ", " << (op.null_event ? std::string("NULL") : mask_text(op.events)) << ")";
    case Kind::kClose: return os << t << ":close(" << fd_text(op.a) << ")";
    case Kind::kDup: return os << t << ":dup(" << fd_text(op.a) << ")";
    case Kind::kRead: return os << t << ":read(" << fd_text(op.a) << ", " << op.n << ")";
    case Kind::kWrite: return os << t << ":write(" << fd_text(op.a) << ", " << op.n << ")";
    case Kind::kEfdWrite: return os << t << ":write_u64(" << fd_text(op.a) << ", " << op.value << ")";
    case Kind::kShutdown: return os << t << ":shutdown(" << fd_text(op.a) << ", " << op.arg << ")";
    case Kind::kWait:
    case Kind::kBlockingWait:
      return os << t << ":epoll_wait(" << fd_text(op.a) << ", " << op.arg << ", " << op.n << ")";
    case Kind::kAdvance: return os << "advance(" << op.arg << "ms)";
    case Kind::kInterrupt: return os << "interrupt(" << t << ")";
  }
  return os;
}

// ---------------------------------------------------------------------------------------
// Generators. Every field comes from a size-independent choice (gen::resize(100)), so the
// first test cases are as rich as the last; only the length of the list grows.

template <typename T>
rc::Gen<T> weighted(std::initializer_list<std::pair<std::size_t, T>> l) {
  return rc::gen::weightedElement<T>(l);
}

rc::Gen<FdSel> sel(FdSel::Mode mode, int hi) {
  return rc::gen::map(rc::gen::inRange(mode == FdSel::kRaw ? -1 : 0, hi), [mode](int k) { return FdSel{mode, k}; });
}

// The target fd of epoll_ctl: a file, an epoll (nesting), anything open, or a raw number.
rc::Gen<FdSel> gen_fd(std::size_t epoll_weight, std::size_t next_epoll_weight) {
  return rc::gen::weightedOneOf<FdSel>({{5, sel(FdSel::kFile, 32)},
                                        {epoll_weight, sel(FdSel::kEpoll, 8)},
                                        {next_epoll_weight, rc::gen::map(weighted<int>({{6, 0}, {1, 1}, {1, 2}}), [](int k) {
                                           return FdSel{FdSel::kNextEpoll, k};
                                         })},
                                        {1, sel(FdSel::kOpen, 32)},
                                        {1, sel(FdSel::kRaw, kMaxFds + 2)}});
}

// The fd of read, write, close...: mostly a file of the right kind.
rc::Gen<FdSel> gen_io_fd() {
  return rc::gen::weightedOneOf<FdSel>({{7, sel(FdSel::kFile, 32)},
                                        {1, sel(FdSel::kEpoll, 8)},
                                        {1, sel(FdSel::kOpen, 32)},
                                        {1, sel(FdSel::kRaw, kMaxFds + 2)}});
}

// The epfd of epoll_ctl: mostly an epoll, sometimes any file or a raw number.
rc::Gen<FdSel> gen_epfd() {
  return rc::gen::weightedOneOf<FdSel>(
      {{8, sel(FdSel::kEpoll, 8)}, {1, sel(FdSel::kOpen, 32)}, {1, sel(FdSel::kRaw, kMaxFds + 2)}});
}

rc::Gen<poll_t> gen_mask() {
  const poll_t none = 0;
  auto base = weighted<poll_t>({{6, EPOLLIN},
                                {3, EPOLLOUT},
                                {3, EPOLLIN | EPOLLOUT},
                                {2, EPOLLIN | EPOLLRDHUP},
                                {1, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI | EPOLLRDNORM | EPOLLWRNORM},
                                {1, EPOLLERR | EPOLLHUP},
                                {1, EPOLLPRI},
                                {1, none}});
  // ET with probability 1/4, ONESHOT and EXCLUSIVE 1/8, WAKEUP 1/16 (10 random bits).
  auto flags = rc::gen::map(rc::gen::inRange(0, 1024), [](int r) {
    poll_t f = 0;
    if ((r & 3) == 3) f |= EPOLLET;
    if ((r & 28) == 28) f |= EPOLLONESHOT;
    if ((r & 224) == 224) f |= EPOLLEXCLUSIVE;
    if ((r & 0x300) == 0x300 && (r & 1)) f |= EPOLLWAKEUP;
    return f;
  });
  auto stray = weighted<poll_t>({{76, none}, {1, EPOLLNVAL}, {1, EPOLLMSG}, {1, 1u << 20}, {1, 1u << 27}});
  return rc::gen::map(rc::gen::tuple(base, flags, stray), [](const std::tuple<poll_t, poll_t, poll_t>& t) {
    return std::get<0>(t) | std::get<1>(t) | std::get<2>(t);
  });
}

rc::Gen<long> gen_size() {
  return weighted<long>({{1, 0}, {2, 1}, {1, 7}, {3, 8}, {2, 100}, {2, 4096}, {1, 4097}, {2, 65536},
                         {1, static_cast<long>(kMaxIo)}});
}

template <typename... Bindings>
rc::Gen<Op> op_of(Kind kind, Bindings... bs) {
  return rc::gen::build<Op>(rc::gen::set(&Op::kind, rc::gen::just(kind)), bs...);
}

rc::Gen<Op> gen_pipe() {
  return op_of(Kind::kPipe, rc::gen::set(&Op::arg, weighted<int>({{4, O_NONBLOCK_}, {3, 0}, {1, O_NONBLOCK_ | O_DIRECT_},
                                                                  {1, O_CLOEXEC_}, {1, 1}})));
}
rc::Gen<Op> gen_socketpair() {
  return op_of(Kind::kSocketpair,
               rc::gen::set(&Op::arg, weighted<int>({{4, SOCK_NONBLOCK_}, {3, 0}, {1, SOCK_CLOEXEC_}, {1, 0x10}})));
}
rc::Gen<Op> gen_eventfd() {
  return op_of(Kind::kEventfd,
               rc::gen::set(&Op::arg, weighted<int>({{3, EFD_NONBLOCK}, {2, 0}, {1, EFD_SEMAPHORE},
                                                     {1, EFD_NONBLOCK | EFD_SEMAPHORE}, {1, 8}})),
               rc::gen::set(&Op::value, weighted<uint64_t>({{4, 0}, {2, 1}, {1, 3}, {1, 0xffffffffu}})));
}
rc::Gen<Op> gen_epoll_create() {
  return op_of(Kind::kEpollCreate, rc::gen::set(&Op::arg, weighted<int>({{8, 0}, {2, EPOLL_CLOEXEC}, {1, 1}})));
}

// How often each op is drawn. The general mix, and one aimed at nesting: many epolls added
// into each other, chains up to and past EP_MAX_NESTS, cycles, with waits on all levels.
struct Mix {
  std::size_t pipe = 4, socketpair = 2, eventfd = 2, epoll_create = 6, ctl = 14, close = 3, dup = 1, read = 4,
              write = 6, efd_write = 2, shutdown = 1, wait = 7, blocking_wait = 3, advance = 2, interrupt = 1;
  std::size_t target_epoll = 3;  // an epoll as epoll_ctl's target, against 7 for the rest
  std::size_t target_next_epoll = 0;  // the epoll after the epfd
};
const Mix kGeneralMix{};
const Mix kNestingMix{.pipe = 2, .socketpair = 1, .eventfd = 1, .epoll_create = 10, .ctl = 30, .close = 2, .dup = 1,
                      .read = 2, .write = 4, .efd_write = 1, .shutdown = 0, .wait = 5, .blocking_wait = 3,
                      .advance = 1, .interrupt = 1, .target_epoll = 6,
                      .target_next_epoll = 14};

rc::Gen<Op> gen_op(const Mix& m) {
  using rc::gen::set;
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  auto helper = rc::gen::inRange(1, kTasks);
  return rc::gen::weightedOneOf<Op>({
      {m.pipe, gen_pipe()},
      {m.socketpair, gen_socketpair()},
      {m.eventfd, gen_eventfd()},
      {m.epoll_create, gen_epoll_create()},
      {m.ctl, op_of(Kind::kCtl, set(&Op::a, gen_epfd()), set(&Op::b, gen_fd(m.target_epoll, m.target_next_epoll)),
                 set(&Op::registered, weighted<int>({{6, -1}, {1, 0}, {1, 1}, {1, 2}, {1, 5}})),
                 set(&Op::arg, weighted<int>({{16, EPOLL_CTL_ADD}, {6, EPOLL_CTL_MOD}, {6, EPOLL_CTL_DEL},
                                              {1, 0}, {1, 4}})),
                 set(&Op::events, gen_mask()), set(&Op::null_event, weighted<bool>({{40, false}, {1, true}})))},
      {m.close, op_of(Kind::kClose, set(&Op::a, gen_io_fd()))},
      {m.dup, op_of(Kind::kDup, set(&Op::a, gen_io_fd()))},
      {m.read, op_of(Kind::kRead, set(&Op::a, gen_io_fd()), set(&Op::n, gen_size()))},
      {m.write, op_of(Kind::kWrite, set(&Op::a, gen_io_fd()), set(&Op::n, gen_size()))},
      {m.efd_write, op_of(Kind::kEfdWrite, set(&Op::a, gen_io_fd()),
                set(&Op::value, weighted<uint64_t>({{4, 1}, {2, 0}, {1, 5}, {1, kMax - 2}, {1, kMax - 1},
                                                    {1, kMax}})))},
      {m.shutdown, op_of(Kind::kShutdown, set(&Op::a, gen_io_fd()), set(&Op::arg, weighted<int>({{3, SHUT_WR_}, {2, SHUT_RD_},
                                                                                    {2, SHUT_RDWR_}, {1, 3}})))},
      {m.wait, op_of(Kind::kWait, set(&Op::a, sel(FdSel::kEpoll, 8)),
                set(&Op::arg, weighted<int>({{6, 8}, {2, 1}, {1, 2}, {1, 0}})))},
      {m.blocking_wait, op_of(Kind::kBlockingWait, set(&Op::task, helper), set(&Op::a, sel(FdSel::kEpoll, 8)),
                set(&Op::arg, weighted<int>({{3, 1}, {2, 8}, {1, 2}})),
                set(&Op::n, weighted<long>({{4, -1}, {1, 1}, {1, 10}, {1, 100}})))},
      {m.advance, op_of(Kind::kAdvance, set(&Op::arg, weighted<int>({{2, 1}, {2, 10}, {2, 50}, {1, 100}, {1, 1000}})))},
      {m.interrupt, op_of(Kind::kInterrupt, set(&Op::task, rc::gen::inRange(0, kTasks)))},
  });
}

// A few files first (so that the body has something to work on), then any ops. Both parts
// shrink: files nothing needs are removed like any other op.
rc::Gen<std::vector<Op>> gen_ops(const Mix& mix) {
  auto create = rc::gen::weightedOneOf<Op>({{mix.epoll_create, gen_epoll_create()}, {mix.pipe, gen_pipe()},
                                            {mix.socketpair, gen_socketpair()}, {mix.eventfd, gen_eventfd()}});
  auto prologue = rc::gen::resize(kPrologueSteps, rc::gen::container<std::vector<Op>>(rc::gen::resize(100, create)));
  auto body = rc::gen::resize(kMaxSteps - kPrologueSteps,
                              rc::gen::container<std::vector<Op>>(rc::gen::resize(100, gen_op(mix))));
  return rc::gen::map(rc::gen::pair(prologue, body), [](std::pair<std::vector<Op>, std::vector<Op>> p) {
    p.first.insert(p.first.end(), p.second.begin(), p.second.end());
    return std::move(p.first);
  });
}

// ---------------------------------------------------------------------------------------
// Coverage counters over all test cases (printed at the end: a property that is never
// exercised proves nothing).

struct Stats {
  long cases = 0, steps = 0, skipped = 0;
  std::map<std::string, long> ctl;  // result of epoll_ctl by op
  long blocked_waits = 0, woken_with_events = 0, timed_out = 0, interrupted = 0;
  long blocked_io = 0, emfile = 0, eexist_checks = 0, enoent_checks = 0, ready_reports = 0;
  int max_depth = 0, max_epitems = 0;
  void print(std::ostream& os) const {
    os << "properties: " << cases << " cases, " << steps << " steps (" << skipped << " skipped: all tasks busy)\n"
       << "  epoll_wait blocked " << blocked_waits << ", then woken with events " << woken_with_events
       << ", timed out " << timed_out << ", interrupted " << interrupted << "\n"
       << "  read/write blocked " << blocked_io << ", EMFILE " << emfile << ", events reported " << ready_reports
       << "\n  repeated ADD->EEXIST " << eexist_checks << ", repeated DEL->ENOENT " << enoent_checks
       << ", deepest epoll chain " << max_depth << ", most epitems " << max_epitems << "\n  epoll_ctl:";
    for (const auto& [k, v] : ctl) os << " " << k << "=" << v;
    os << "\n";
  }
};
Stats& stats() {
  static Stats s;
  return s;
}

std::string errno_text(long r) {
  if (r == kBlocked) return "blocked";
  if (r >= 0) return std::to_string(r);
  switch (-r) {
    case EBADF: return "-EBADF";
    case EINVAL: return "-EINVAL";
    case EEXIST: return "-EEXIST";
    case ENOENT: return "-ENOENT";
    case ELOOP: return "-ELOOP";
    case EPERM: return "-EPERM";
    case EFAULT: return "-EFAULT";
    case EAGAIN: return "-EAGAIN";
    case EINTR: return "-EINTR";
    case EPIPE: return "-EPIPE";
    case EMFILE: return "-EMFILE";
    case ENOTSOCK: return "-ENOTSOCK";
    case ECONNRESET: return "-ECONNRESET";
    case ENOSPC: return "-ENOSPC";
    default: return "-" + std::to_string(-r);
  }
}

[[noreturn]] void fail(const std::string& what) {
  RC_FAIL(what);
  throw;  // not reached: RC_FAIL throws
}
#define REQUIRE(cond, msg)                                           \
  do {                                                               \
    if (!(cond)) {                                                   \
      std::ostringstream eo_msg_;                                    \
      eo_msg_ << "property violated: " #cond " -- " << msg;          \
      fail(eo_msg_.str());                                           \
    }                                                                \
  } while (false)

// The errnos each call can return for the files of the model (P6).
const std::set<int> kPipe2Errs{EFAULT, EINVAL, EMFILE, ENFILE};
const std::set<int> kSocketpairErrs{EAFNOSUPPORT, EFAULT, EINVAL, EMFILE, ENFILE, EOPNOTSUPP, EPROTONOSUPPORT};
const std::set<int> kEventfdErrs{EINVAL, EMFILE, ENFILE, ENODEV, ENOMEM};
const std::set<int> kEpollCreateErrs{EINVAL, EMFILE, ENFILE, ENOMEM};
const std::set<int> kCtlErrs{EBADF, EEXIST, EFAULT, EINVAL, ELOOP, ENOENT, ENOMEM, ENOSPC, EPERM};
const std::set<int> kWaitErrs{EBADF, EFAULT, EINTR, EINVAL};
const std::set<int> kCloseErrs{EBADF, EINTR, EIO};
const std::set<int> kDupErrs{EBADF, EMFILE};
const std::set<int> kReadErrs{EAGAIN, EBADF, EINTR, EINVAL, ECONNRESET};
const std::set<int> kWriteErrs{EAGAIN, EBADF, EINTR, EINVAL, EPIPE, ECONNRESET};
const std::set<int> kShutdownErrs{EBADF, EINVAL, ENOTCONN, ENOTSOCK};

KernelProfile with_max_fds(KernelProfile p) {
  p.rlimit_nofile = kMaxFds;
  return p;
}

// ---------------------------------------------------------------------------------------

using RegKey = std::tuple<uint64_t, uint64_t, int>;  // (epoll file id, target file id, fd)

class Runner {
 public:
  explicit Runner(const KernelProfile& p) : k_(with_max_fds(p)), buf_(kMaxIo, 0) {
    for (int i = 0; i < kTasks; ++i) tasks_[i] = &k_.task(kTaskNames[i]);
  }

  void run(const std::vector<Op>& ops) {
    ++stats().cases;
    check_invariants();
    for (size_t i = 0; i < ops.size(); ++i) {
      step_no_ = i;
      ++stats().steps;
      step(ops[i]);
      check_pending();
      check_invariants();
    }
    teardown();
  }

 private:
  Kernel k_;
  std::array<Task*, kTasks> tasks_{};
  std::vector<char> buf_;
  size_t step_no_ = 0;
  uint64_t next_data_ = 1;
  std::map<uint64_t, poll_t> armed_;  // epoll_event.data -> the events its ADD/MOD armed
  std::set<RegKey> regs_;             // shadow of the successful ADDs not yet DELeted

  // What a sleeping task is in, to check its result when it completes.
  struct Pend {
    Kind kind;
    long n = 0;         // bytes asked
    int maxevents = 0;
    long timeout = 0;
    int64_t deadline_ns = 0;
  };
  std::array<std::optional<Pend>, kTasks> pend_;

  void log(const std::string& s) { RC_LOG() << "#" << step_no_ << " " << s << "\n"; }

  std::vector<int> open_fds() {
    std::vector<int> v;
    for (int fd = 0; fd < kMaxFds; ++fd) {
      if (k_.fdtable().fget(fd)) v.push_back(fd);
    }
    return v;
  }
  std::vector<int> free_fds() {
    std::vector<int> v;
    for (int fd = 0; fd < kMaxFds; ++fd) {
      if (!k_.fdtable().fget(fd)) v.push_back(fd);
    }
    return v;
  }
  File* file_at(int fd) { return k_.fdtable().fget(fd); }

  // `avoid` (the epfd, when resolving the target of epoll_ctl) is not chosen unless it is
  // the only open fd: adding an epoll to itself is mostly left to raw numbers. `mode` is the
  // f_mode a kFile selector looks for (0: any).
  int resolve(const FdSel& s, int avoid = -2, unsigned mode = 0) {
    if (s.mode == FdSel::kRaw) return s.k;
    auto choose = [&](std::vector<int> v) {
      if (v.size() > 1) v.erase(std::remove(v.begin(), v.end(), avoid), v.end());
      return v[static_cast<size_t>(s.k) % v.size()];
    };
    auto only_avoid = [&](const std::vector<int>& v) { return v.size() == 1 && v[0] == avoid; };
    const std::vector<int> open = open_fds();
    std::vector<int> fit;
    for (int fd : open) {
      File* f = file_at(fd);
      if (s.mode == FdSel::kEpoll || s.mode == FdSel::kNextEpoll ? f->is_epoll()
          : s.mode == FdSel::kFile ? !f->is_epoll() && (f->f_mode & mode) == mode
                                   : false) {
        fit.push_back(fd);
      }
    }
    if (s.mode == FdSel::kNextEpoll && fit.size() > 1) {
      const auto at = std::find(fit.begin(), fit.end(), avoid);
      const size_t i = at == fit.end() ? 0 : static_cast<size_t>(at - fit.begin());
      const size_t step = 1 + static_cast<size_t>(s.k) % (fit.size() - 1);
      return fit[(i + step) % fit.size()];
    }
    if (!fit.empty() && !only_avoid(fit)) return choose(fit);
    if (!open.empty()) return choose(open);
    return s.k;
  }

  // The preferred task if idle, else the next idle one (helpers only for blocking waits).
  int pick(int preferred, bool helpers_only) const {
    for (int i = 0; i < kTasks; ++i) {
      const int t = (preferred + i) % kTasks;
      if (helpers_only && t == 0) continue;
      if (!tasks_[t]->pending) return t;
    }
    return -1;
  }

  void expect_result(const std::string& call, long r, const std::set<int>& errs, bool may_block, long max_ok) {
    if (r == kBlocked) {
      REQUIRE(may_block, call << " blocked, but this call may not sleep");
    } else if (r >= 0) {
      REQUIRE(r <= max_ok, call << " returned " << r << " > " << max_ok);
    } else {
      REQUIRE(errs.count(static_cast<int>(-r)), call << " returned " << errno_text(r) << ", not an errno of this call");
    }
  }

  // A new descriptor (or the first of two) must be the lowest free number.
  void expect_new_fds(const std::string& call, long r, const std::vector<int>& free_before, int needed,
                      const int* got) {
    if (r == -EMFILE) {
      ++stats().emfile;
      REQUIRE(static_cast<int>(free_before.size()) < needed, call << " gave EMFILE with free descriptors");
    }
    if (r < 0) return;
    REQUIRE(static_cast<int>(free_before.size()) >= needed, call << " succeeded with a full table");
    for (int i = 0; i < needed; ++i) {
      REQUIRE(got[i] == free_before[static_cast<size_t>(i)],
              call << " gave fd " << got[i] << ", lowest free was " << free_before[static_cast<size_t>(i)]);
    }
  }

  // epoll_wait's output: as many events as the result, each registration at most once,
  // only events it was armed for, never the private flags.
  void check_events(const std::string& call, const Task& t, long r) {
    REQUIRE(static_cast<long>(t.events.size()) == r, call << ": " << t.events.size() << " events for result " << r);
    std::set<uint64_t> seen;
    for (const EpollEvent& ev : t.events) {
      REQUIRE(ev.events != 0, call << " reported an empty event");
      REQUIRE(!(ev.events & (EP_PRIVATE_BITS | EPOLLNVAL)), call << " reported " << mask_text(ev.events));
      auto it = armed_.find(ev.data);
      REQUIRE(it != armed_.end(), call << " reported data " << ev.data << " no epoll_ctl set");
      REQUIRE(!(ev.events & ~it->second),
              call << " reported " << mask_text(ev.events) << " for an item armed with " << mask_text(it->second));
      REQUIRE(seen.insert(ev.data).second, call << " reported data " << ev.data << " twice");
      ++stats().ready_reports;
    }
  }

  void step(const Op& op) {
    const bool helpers_only = op.kind == Kind::kBlockingWait;
    const bool needs_task = op.kind != Kind::kAdvance && op.kind != Kind::kInterrupt;
    const int ti = needs_task ? pick(op.task, helpers_only) : op.task;
    if (ti < 0) {
      ++stats().skipped;
      log("skipped (no idle task): " + to_text(op));
      return;
    }
    Task& t = *tasks_[ti];
    const std::string who = std::string(kTaskNames[ti]) + ": ";
    switch (op.kind) {
      case Kind::kPipe: {
        const auto fr = free_fds();
        int fds[2] = {-1, -1};
        const long r = k_.pipe2(t, fds, op.arg);
        const std::string call = who + "pipe2(0x" + hex(op.arg) + ")";
        log(call + " = " + errno_text(r) + (r == 0 ? " [" + std::to_string(fds[0]) + "," + std::to_string(fds[1]) + "]" : ""));
        expect_result(call, r, kPipe2Errs, false, 0);
        expect_new_fds(call, r, fr, 2, fds);
        break;
      }
      case Kind::kSocketpair: {
        const auto fr = free_fds();
        int sv[2] = {-1, -1};
        const long r = k_.socketpair(t, AF_UNIX_, SOCK_STREAM_ | op.arg, 0, sv);
        const std::string call = who + "socketpair(AF_UNIX, SOCK_STREAM|0x" + hex(op.arg) + ")";
        log(call + " = " + errno_text(r) + (r == 0 ? " [" + std::to_string(sv[0]) + "," + std::to_string(sv[1]) + "]" : ""));
        expect_result(call, r, kSocketpairErrs, false, 0);
        expect_new_fds(call, r, fr, 2, sv);
        break;
      }
      case Kind::kEventfd: {
        const auto fr = free_fds();
        const long r = k_.eventfd2(t, static_cast<unsigned>(op.value), op.arg);
        const std::string call = who + "eventfd2(" + std::to_string(op.value) + ", 0x" + hex(op.arg) + ")";
        log(call + " = " + errno_text(r));
        expect_result(call, r, kEventfdErrs, false, kMaxFds - 1);
        const int got = static_cast<int>(r);
        expect_new_fds(call, r, fr, 1, &got);
        break;
      }
      case Kind::kEpollCreate: {
        const auto fr = free_fds();
        const long r = k_.epoll_create1(t, op.arg);
        const std::string call = who + "epoll_create1(0x" + hex(op.arg) + ")";
        log(call + " = " + errno_text(r));
        expect_result(call, r, kEpollCreateErrs, false, kMaxFds - 1);
        const int got = static_cast<int>(r);
        expect_new_fds(call, r, fr, 1, &got);
        break;
      }
      case Kind::kCtl: ctl(t, who, op); break;
      case Kind::kClose: {
        const int fd = resolve(op.a);
        const bool was_open = file_at(fd) != nullptr;
        const long r = k_.close(t, fd);
        const std::string call = who + "close(" + std::to_string(fd) + ")";
        log(call + " = " + errno_text(r));
        expect_result(call, r, kCloseErrs, false, 0);
        REQUIRE((r == 0) == was_open, call << " = " << errno_text(r) << " but the fd was " << (was_open ? "" : "not ") << "open");
        REQUIRE(!file_at(fd), call << ": the fd is still open");
        break;
      }
      case Kind::kDup: {
        const int fd = resolve(op.a);
        const auto fr = free_fds();
        File* f = file_at(fd);
        const long r = k_.dup(t, fd);
        const std::string call = who + "dup(" + std::to_string(fd) + ")";
        log(call + " = " + errno_text(r));
        expect_result(call, r, kDupErrs, false, kMaxFds - 1);
        if (r != -EBADF) {
          const int got = static_cast<int>(r);
          expect_new_fds(call, r, fr, 1, &got);
        }
        if (r >= 0) REQUIRE(file_at(static_cast<int>(r)) == f, call << " does not share the open file");
        break;
      }
      case Kind::kRead:
      case Kind::kWrite:
      case Kind::kEfdWrite: io(t, ti, who, op); break;
      case Kind::kShutdown: {
        const int fd = resolve(op.a);
        const long r = k_.shutdown(t, fd, op.arg);
        const std::string call = who + "shutdown(" + std::to_string(fd) + ", " + std::to_string(op.arg) + ")";
        log(call + " = " + errno_text(r));
        expect_result(call, r, kShutdownErrs, false, 0);
        break;
      }
      case Kind::kWait:
      case Kind::kBlockingWait: {
        const int ep = resolve(op.a);
        const long timeout = op.kind == Kind::kWait ? 0 : op.n;
        const long r = k_.epoll_wait(t, ep, op.arg, static_cast<int>(timeout));
        const std::string call = who + "epoll_wait(" + std::to_string(ep) + ", " + std::to_string(op.arg) + ", " +
                                 std::to_string(timeout) + ")";
        log(call + " = " + errno_text(r));
        expect_result(call, r, kWaitErrs, timeout != 0, op.arg);
        REQUIRE(r != -EINTR, call << ": EINTR without a signal");
        if (r >= 0) check_events(call, t, r);
        if (r == kBlocked) {
          ++stats().blocked_waits;
          pend_[static_cast<size_t>(ti)] = Pend{op.kind, 0, op.arg, timeout, k_.now_ns() + timeout * 1000000};
        }
        break;
      }
      case Kind::kAdvance:
        log("advance " + std::to_string(op.arg) + "ms");
        k_.advance_ms(op.arg);
        break;
      case Kind::kInterrupt: {
        const bool was_pending = static_cast<bool>(t.pending);
        log("interrupt " + std::string(kTaskNames[ti]) + (was_pending ? "" : " (idle)"));
        k_.interrupt(t);
        REQUIRE(!t.pending, "a signal did not end " << kTaskNames[ti] << "'s interruptible sleep");
        break;
      }
    }
  }

  static std::string hex(long v) {
    std::ostringstream o;
    o << std::hex << v;
    return o.str();
  }
  static std::string to_text(const Op& op) {
    std::ostringstream o;
    o << op;
    return o.str();
  }

  // The (epfd, fd) pairs of the items in the trees of the epolls in the fd table.
  std::vector<std::pair<int, int>> registrations() {
    std::vector<std::pair<int, int>> v;
    for (int epfd : open_fds()) {
      if (Eventpoll* ep = eventpoll_of(file_at(epfd))) {
        for (const Epitem& epi : ep->rbr) v.emplace_back(epfd, epi.ffd.fd);
      }
    }
    return v;
  }

  void ctl(Task& t, const std::string& who, const Op& op) {
    int ep = resolve(op.a);
    int fd = resolve(op.b, ep);
    if (op.registered >= 0) {
      const auto regs = registrations();
      if (!regs.empty()) std::tie(ep, fd) = regs[static_cast<size_t>(op.registered) % regs.size()];
    }
    const EpollEvent ev{op.events, next_data_++};
    const EpollEvent* evp = op.null_event ? nullptr : &ev;
    File* epf = file_at(ep);
    File* tf = file_at(fd);
    std::optional<RegKey> key;
    if (epf && tf) key = RegKey{epf->id, tf->id, fd};
    const bool had = key && regs_.count(*key);
    const std::string call = who + "epoll_ctl(" + std::to_string(ep) + ", " + ctl_op_text(op.arg) + ", " +
                             std::to_string(fd) + ", " + (evp ? mask_text(ev.events) + " data=" + std::to_string(ev.data) : "NULL") + ")";
    const long r = k_.epoll_ctl(t, ep, op.arg, fd, evp);
    log(call + " = " + errno_text(r));
    ++stats().ctl[ctl_op_text(op.arg) + ":" + errno_text(r)];

    expect_result(call, r, kCtlErrs, false, 0);
    if (r == -EBADF) REQUIRE(!epf || !tf, call << ": EBADF with both fds open");
    if (r == -EFAULT) REQUIRE(!evp && op.arg != EPOLL_CTL_DEL, call << ": EFAULT with an event");
    if (r == -ELOOP) REQUIRE(op.arg == EPOLL_CTL_ADD && tf && tf->is_epoll(), call << ": ELOOP for a non-epoll ADD");
    if (r == -EEXIST) REQUIRE(op.arg == EPOLL_CTL_ADD && had, call << ": EEXIST but no such registration");
    if (r == -ENOENT) {
      REQUIRE(op.arg == EPOLL_CTL_DEL || op.arg == EPOLL_CTL_MOD, call << ": ENOENT for an ADD");
      REQUIRE(!had, call << ": ENOENT for a registered fd");
    }
    if (r != 0) return;
    REQUIRE(key.has_value(), call << " succeeded on a closed fd");
    switch (op.arg) {
      case EPOLL_CTL_ADD: {
        REQUIRE(!had, call << " added a registration twice");
        regs_.insert(*key);
        armed_[ev.data] = (ev.events & ~EPOLLWAKEUP) | EPOLLERR | EPOLLHUP;
        const long again = k_.epoll_ctl(t, ep, op.arg, fd, evp);
        log(who + "  (again) = " + errno_text(again));
        REQUIRE(again == -EEXIST, call << " repeated gave " << errno_text(again) << ", not EEXIST");
        ++stats().eexist_checks;
        break;
      }
      case EPOLL_CTL_DEL: {
        REQUIRE(had, call << " deleted what was not registered");
        regs_.erase(*key);
        const long again = k_.epoll_ctl(t, ep, op.arg, fd, evp);
        log(who + "  (again) = " + errno_text(again));
        REQUIRE(again == -ENOENT, call << " repeated gave " << errno_text(again) << ", not ENOENT");
        ++stats().enoent_checks;
        break;
      }
      case EPOLL_CTL_MOD:
        REQUIRE(had, call << " modified what was not registered");
        armed_[ev.data] = (ev.events & ~EPOLLWAKEUP) | EPOLLERR | EPOLLHUP;
        break;
      default: fail(call + ": an invalid op succeeded");
    }
  }

  void io(Task& t, int ti, const std::string& who, const Op& op) {
    const int fd = resolve(op.a, -2, op.kind == Kind::kRead ? FMODE_READ : FMODE_WRITE);
    File* f = file_at(fd);
    const bool may_block = f && !f->nonblock();
    const bool is_write = op.kind != Kind::kRead;
    const long n = op.kind == Kind::kEfdWrite ? 8 : op.n;
    std::string call;
    long r;
    if (op.kind == Kind::kEfdWrite) {
      call = who + "write(" + std::to_string(fd) + ", u64 " + std::to_string(op.value) + ")";
      // The value stays in buf_ for a write that sleeps (the model copied it already).
      std::memcpy(buf_.data(), &op.value, sizeof op.value);
      r = k_.write(t, fd, buf_.data(), 8);
    } else if (is_write) {
      call = who + "write(" + std::to_string(fd) + ", " + std::to_string(n) + ")";
      std::fill_n(buf_.begin(), std::min<size_t>(8, buf_.size()), '\0');
      r = k_.write(t, fd, buf_.data(), static_cast<size_t>(n));
    } else {
      call = who + "read(" + std::to_string(fd) + ", " + std::to_string(n) + ")";
      r = k_.read(t, fd, buf_.data(), static_cast<size_t>(n));
    }
    log(call + " = " + errno_text(r) + (f ? " [" + f->describe() + "]" : ""));
    expect_result(call, r, is_write ? kWriteErrs : kReadErrs, may_block, n);
    REQUIRE(r != -EINTR, call << ": EINTR without a signal");
    if (r == -EBADF) REQUIRE(!f || !(f->f_mode & (is_write ? FMODE_WRITE : FMODE_READ)), call << ": EBADF on an open fd");
    if (r == -EAGAIN) REQUIRE(f && f->nonblock(), call << ": EAGAIN on a blocking file");
    if (r == kBlocked) {
      ++stats().blocked_io;
      pend_[static_cast<size_t>(ti)] = Pend{op.kind, n, 0, 0, 0};
    }
  }

  // Calls that completed during the step, and calls still asleep (P6).
  void check_pending() {
    for (int i = 0; i < kTasks; ++i) {
      Task& t = *tasks_[i];
      auto& p = pend_[static_cast<size_t>(i)];
      if (!p) {
        REQUIRE(!t.pending, kTaskNames[i] << " sleeps in a call that never blocked");
        continue;
      }
      const bool is_wait = p->kind == Kind::kBlockingWait || p->kind == Kind::kWait;
      if (t.pending) {
        REQUIRE(!(is_wait && p->timeout > 0 && k_.now_ns() >= p->deadline_ns),
                kTaskNames[i] << " still sleeps in epoll_wait past its deadline");
        continue;
      }
      const std::string call = std::string(kTaskNames[i]) + ": (woken) " + (is_wait ? "epoll_wait" : "read/write");
      REQUIRE(t.completed, call << " ended without completing");
      const long r = t.result;
      log(call + " completed = " + errno_text(r));
      REQUIRE(r != kBlocked, call << " completed as blocked");
      if (is_wait) {
        expect_result(call, r, {EINTR}, false, p->maxevents);
        if (r >= 0) check_events(call, t, r);
        REQUIRE(r != 0 || p->timeout > 0, call << " with no timeout returned 0 events");
        if (r > 0) ++stats().woken_with_events;
        if (r == 0) ++stats().timed_out;
        if (r == -EINTR) ++stats().interrupted;
      } else {
        const bool is_write = p->kind != Kind::kRead;
        expect_result(call, r, is_write ? std::set<int>{EINTR, EPIPE, ECONNRESET} : std::set<int>{EINTR, ECONNRESET},
                      false, p->n);
      }
      p.reset();
    }
  }

  void teardown() {
    ++step_no_;
    log("teardown: interrupt every task, close every fd");
    for (int i = 0; i < kTasks; ++i) {
      k_.interrupt(*tasks_[i]);
      REQUIRE(!tasks_[i]->pending, "a signal did not end " << kTaskNames[i] << "'s sleep");
    }
    k_.interrupt_all();
    check_pending();
    check_invariants();
    k_.fdtable().close_all();
    check_invariants();
    const Globals& g = k_.globals();
    REQUIRE(g.live_files == 0, g.live_files << " files alive after teardown");
    REQUIRE(g.live_epitems == 0, g.live_epitems << " epitems alive after teardown");
    REQUIRE(g.live_pwqs == 0, g.live_pwqs << " eppoll_entries alive after teardown");
    REQUIRE(g.user_epoll_watches == 0, g.user_epoll_watches << " epoll watches charged after teardown");
  }

  // P1-P4 over every live object.
  void check_invariants() {
    const Globals& g = k_.globals();
    // P4: references. Every file is reachable from the fd table or a pending call.
    std::map<File*, long> refs;
    for (int fd = 0; fd < kMaxFds + 4; ++fd) {
      if (File* f = file_at(fd)) ++refs[f];
    }
    std::vector<File*> held;
    for (Task* t : tasks_) {
      REQUIRE(t->state != TaskState::kRunnable, t->name << " left runnable after the step");
      REQUIRE(static_cast<bool>(t->pending) == (t->state == TaskState::kSleeping),
              t->name << ": pending call and state disagree");
      REQUIRE(t->pending || t->held_files.empty(), t->name << " holds file references without a call in flight");
      for (const FileRef& r : t->held_files) held.push_back(r.get());
    }
    for (File* f : held) ++refs[f];
    REQUIRE(g.live_files == static_cast<long>(refs.size()),
            g.live_files << " files alive but " << refs.size() << " reachable (leak or dangling)");
    for (const auto& [f, n] : refs) {
      REQUIRE(f->f_count == n, f->describe() << " id " << f->id << ": f_count " << f->f_count << " but " << n
                                              << " references (fd slots + pending calls)");
    }

    // P1/P2/P3: every eventpoll.
    std::set<uint64_t> live_ids;
    std::map<Eventpoll*, File*> eps;
    for (const auto& [f, n] : refs) {
      live_ids.insert(f->id);
      if (Eventpoll* ep = eventpoll_of(f)) {
        REQUIRE(ep->file == f, "eventpoll's file pointer is stale");
        eps[ep] = f;
      }
    }
    long epitems = 0, pwqs = 0;
    std::multiset<RegKey> actual;
    for (const auto& [ep, epfile] : eps) {
      REQUIRE(ep->ovflist == ep_unactive(), "ovflist active between steps (epoll id " << epfile->id << ")");
      long items = 0, linked = 0;
      const Epitem* prev = nullptr;
      for (const Epitem& epi : ep->rbr) {
        ++items;
        REQUIRE(epi.ep == ep, "an epitem in ep->rbr belongs to another eventpoll");
        File* tf = epi.ffd.file;
        REQUIRE(refs.count(tf), "epitem (fd " << epi.ffd.fd << ") refers to a released file");
        REQUIRE(tf->f_count > 0, "epitem refers to a file with f_count " << tf->f_count);
        if (prev) {
          REQUIRE(EpiKeyLess::key(*prev) < EpiKeyLess::key(epi), "ep->rbr not strictly ordered by (file, fd)");
        }
        prev = &epi;
        REQUIRE(epi.next == ep_unactive(), "epitem chained on an ovflist between steps");
        REQUIRE(!epi.dying, "a dying epitem is still in the tree");
        REQUIRE(tf->f_ep != nullptr, "the target's f_ep is empty but an epitem watches it");
        const bool on_file_list = std::any_of(tf->f_ep->epitems.begin(), tf->f_ep->epitems.end(),
                                              [&](const Epitem& e) { return &e == &epi; });
        REQUIRE(on_file_list, "epitem missing from its file's f_ep list");
        if (Eventpoll* tep = eventpoll_of(tf)) REQUIRE(tf->f_ep == &tep->refs, "an epoll file's f_ep is not its refs");
        const poll_t ev = epi.event.events;
        REQUIRE(!(ev & EPOLLWAKEUP), "EPOLLWAKEUP kept without CAP_BLOCK_SUSPEND");
        REQUIRE(!(ev & ~EP_PRIVATE_BITS) || (ev & (EPOLLERR | EPOLLHUP)) == (EPOLLERR | EPOLLHUP),
                "armed item without EPOLLERR|EPOLLHUP: " << mask_text(ev));
        if (ev & EPOLLEXCLUSIVE) {
          REQUIRE(!tf->is_epoll() && !(ev & ~EPOLLEXCLUSIVE_OK_BITS), "invalid EPOLLEXCLUSIVE item: " << mask_text(ev));
        }
        long n_pwq = 0;
        for (const EppollEntry* pwq = epi.pwqlist; pwq; pwq = pwq->next) {
          ++n_pwq;
          REQUIRE(pwq->base == &epi, "eppoll_entry of another epitem");
          if (pwq->whead) {
            const bool queued = std::any_of(pwq->whead->head.begin(), pwq->whead->head.end(),
                                            [&](const WaitQueueEntry& w) { return &w == &pwq->wait; });
            REQUIRE(queued, "eppoll_entry not on the queue it names");
          } else {
            REQUIRE(!pwq->wait.queued(), "detached eppoll_entry still queued");
          }
        }
        REQUIRE(n_pwq >= 1, "epitem with no eppoll_entry");
        pwqs += n_pwq;
        if (ep_is_linked(epi)) ++linked;
        // P7, no lost readiness: an armed level-triggered item whose file is ready for its
        // events is on the ready list (EPOLLEXCLUSIVE items may be passed over by design;
        // an epoll target is not polled here, its poll has side effects).
        if (!(ev & (EPOLLET | EPOLLEXCLUSIVE)) && (ev & ~EP_PRIVATE_BITS) && !tf->is_epoll() && !ep_is_linked(epi)) {
          PollTable pt{};
          const poll_t ready = tf->poll(&pt) & ev;  // pipe_poll's poll_usage is already set by ep_insert
          REQUIRE(!ready, "level-triggered item (fd " << epi.ffd.fd << ", " << tf->describe() << ") is ready for "
                                                      << mask_text(ready) << " but not on the ready list");
        }
        actual.insert(RegKey{epfile->id, tf->id, epi.ffd.fd});
      }
      long on_rdl = 0;
      for (const Epitem& epi : ep->rdllist) {
        ++on_rdl;
        REQUIRE(epi.ep == ep, "an epitem is on another eventpoll's ready list");
      }
      REQUIRE(on_rdl == linked, "ready list holds " << on_rdl << " items, " << linked << " of ep's items are linked");
      // P7, no lost wakeup: a task sleeps in epoll_wait only while the ready list is empty
      // (a queued item wakes one waiter, ep_done_scan wakes the next while items remain).
      REQUIRE(!ep->wq.active() || on_rdl == 0, "a task sleeps in epoll_wait while " << on_rdl << " items are queued");
      REQUIRE(ep->refcount == 1 + items, "ep->refcount " << ep->refcount << " with " << items << " items");
      REQUIRE(!ep->refs.listed, "epoll left on tfile_check_list");
      epitems += items;
    }
    REQUIRE(epitems == g.live_epitems, epitems << " epitems in trees, live_epitems " << g.live_epitems);
    REQUIRE(epitems == g.user_epoll_watches, epitems << " epitems, user_epoll_watches " << g.user_epoll_watches);
    REQUIRE(pwqs == g.live_pwqs, pwqs << " eppoll_entries on items, live_pwqs " << g.live_pwqs);
    stats().max_epitems = std::max(stats().max_epitems, static_cast<int>(epitems));

    // The other direction: each file's f_ep list holds epitems of live eventpolls that have them.
    long via_files = 0;
    for (const auto& [f, n] : refs) {
      if (!f->f_ep) continue;
      REQUIRE(!f->f_ep->epitems.empty(), f->describe() << ": f_ep set with no epitems");
      REQUIRE(!f->f_ep->listed, f->describe() << " left on tfile_check_list");
      for (const Epitem& epi : f->f_ep->epitems) {
        ++via_files;
        REQUIRE(epi.ffd.file == f, "f_ep lists an epitem of another file");
        REQUIRE(eps.count(epi.ep), "f_ep lists an epitem of a released eventpoll");
        auto it = epi.ep->rbr.find(EpiKeyLess::key(epi), EpiKeyLess{});
        REQUIRE(it != epi.ep->rbr.end() && &*it == &epi, "f_ep lists an epitem not in its eventpoll's tree");
      }
    }
    REQUIRE(via_files == epitems, via_files << " epitems on f_ep lists, " << epitems << " in trees");

    // The registrations are exactly the successful ADDs not DELeted, minus those whose
    // epoll or target file was released (eventpoll_release / ep_clear_and_put).
    for (auto it = regs_.begin(); it != regs_.end();) {
      if (!live_ids.count(std::get<0>(*it)) || !live_ids.count(std::get<1>(*it))) it = regs_.erase(it);
      else ++it;
    }
    REQUIRE(actual == std::multiset<RegKey>(regs_.begin(), regs_.end()),
            "the trees hold " << actual.size() << " registrations, epoll_ctl made " << regs_.size());

    // Nesting: no cycle; since 6.17 no chain longer than EP_MAX_NESTS edges.
    std::map<const Eventpoll*, int> height;  // -1 while on the DFS stack
    std::function<int(const Eventpoll*)> h = [&](const Eventpoll* ep) -> int {
      auto [it, fresh] = height.emplace(ep, -1);
      if (!fresh) {
        REQUIRE(it->second >= 0, "cycle of nested epolls");
        return it->second;
      }
      int best = 0;
      for (const Epitem& epi : ep->rbr) {
        if (const Eventpoll* sub = eventpoll_of(epi.ffd.file)) best = std::max(best, h(sub) + 1);
      }
      height[ep] = best;
      return best;
    };
    int depth = 0;
    for (const auto& [ep, f] : eps) depth = std::max(depth, h(ep));
    stats().max_depth = std::max(stats().max_depth, depth);
    if (k_.profile().ep_loop_check_upwards) {
      REQUIRE(depth <= k_.profile().ep_max_nests, "epoll chain of " << depth << " edges > EP_MAX_NESTS");
    }
  }
};

void run_case(const KernelProfile& profile, const Mix& mix) {
  const std::vector<Op> ops = *gen_ops(mix);
  RC_TAG(ops.size() < 20 ? "short" : ops.size() < 40 ? "medium" : "long");
  Runner(profile).run(ops);
}

// The model as of its default kernel (6.18).
TEST(Properties, RandomOpSequencesKeepInvariants) {
  stats() = {};
  const bool ok = rc::check("invariants after every step, 6.18", [] { run_case(KernelProfile{}, kGeneralMix); });
  stats().print(std::cout);
  EXPECT_TRUE(ok);
}

// Nested epolls: ELOOP for cycles and (>= 6.17) for chains past EP_MAX_NESTS, readiness
// propagating through levels, teardown of nested sets.
TEST(Properties, NestedEpollsKeepInvariants) {
  stats() = {};
  const bool ok = rc::check("nesting: invariants after every step, 6.18", [] { run_case(KernelProfile{}, kNestingMix); });
  stats().print(std::cout);
  EXPECT_TRUE(ok);
}

// The same on older kernels whose switches differ (pipe wakeups, loop check, errno order).
TEST(Properties, RandomOpSequencesKeepInvariantsOnOlderKernels) {
  stats() = {};
  const bool ok = rc::check("invariants after every step, 5.10/5.14/6.1/6.12/6.16", [] {
    const std::string version = *rc::gen::elementOf(std::vector<std::string>{"5.10", "5.14", "6.1", "6.12", "6.16"});
    const bool nesting = *rc::gen::weightedElement<bool>({{3, false}, {1, true}});
    RC_TAG(version, nesting ? "nesting" : "general");
    run_case(KernelProfile::for_version(*KernelVersion::parse(version)), nesting ? kNestingMix : kGeneralMix);
  });
  stats().print(std::cout);
  EXPECT_TRUE(ok);
}

}  // namespace
