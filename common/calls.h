// The call schema: every call of the trace language as data (docs/LANGUAGE.md, "Calls").
// One struct per call holds its typed arguments and its row: the name, the arguments in
// order with their kinds (fields()), the result shape, whether it may block, and the system
// calls a task sleeping in it is seen in. CallArgs, a variant of the structs in table order,
// is what a step calls. The parser, the printer, both executors, the generator and the
// language document read these rows: adding a call is a struct here, a model function, a
// real function and a generator rule.
#pragma once
#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "common/pos.h"

namespace eo {

// ---- argument values -----------------------------------------------------------------

// A descriptor argument: the name written (raw numbers never appear in a trace).
struct FdRef {
  std::string name;
  Pos pos;  // where it was written
  friend bool operator==(const FdRef&, const FdRef&) = default;
};

// A flag-set argument: its value, and its spelling when that names another family's flags
// (`O_NONBLOCK` in epoll_create1), which the printers keep; "" prints canonically.
struct FlagArg {
  int64_t value = 0;
  std::string written;
  friend bool operator==(const FlagArg&, const FlagArg&) = default;
};

// A socket reference (bind/connect OTHER, TRACE_FORMAT.md v1.1 "precise points"): a name
// bound anywhere in the trace, in any process, closed or not. It stands for that socket's
// address (StepHarness::address_of), never for a descriptor. "" = not written.
struct SockRef {
  std::string name;
  Pos pos;
  friend bool operator==(const SockRef&, const SockRef&) = default;
};

// A message queue name argument, written `/NAME` (TRACE_FORMAT.md v1.1 "Message queues"):
// name holds NAME without the slash; an executor makes it unique to the run.
struct MqName {
  std::string name;
  friend bool operator==(const MqName&, const MqName&) = default;
};

// One descriptor of poll's list with the events asked for (16 bits).
struct PollEntry {
  FdRef fd;
  FlagArg events;
  friend bool operator==(const PollEntry&, const PollEntry&) = default;
};

// The family of names a flag argument prints with (and, for single values and results,
// the only names it takes). x86-64 Linux values.
enum class FlagContext {
  kEpollEvents,   // epoll_ctl EVENTS, epoll_wait result masks: EPOLL*
  kPollEvents,    // poll EVENTS and REVENTS: POLL*
  kPipe2,         // pipe2 FLAGS: O_NONBLOCK, O_CLOEXEC, O_DIRECT
  kEventfd2,      // eventfd2 FLAGS: EFD_*
  kEpollCreate1,  // epoll_create1 FLAGS: EPOLL_CLOEXEC
  kSocketDomain,  // socket/socketpair DOMAIN: AF_UNIX, AF_INET (one value)
  kSocketType,    // socket/socketpair TYPE: SOCK_STREAM|SOCK_DGRAM|SOCK_SEQPACKET, SOCK_NONBLOCK...; accept4 FLAGS
  kEpollCtlOp,    // epoll_ctl OP: EPOLL_CTL_ADD/DEL/MOD or ADD/DEL/MOD (one value)
  kShutdownHow,   // shutdown HOW: SHUT_RD/WR/RDWR (one value)
  kSockOpt,       // setsockopt OPT: SO_LINGER, SO_RCVLOWAT, ... TCP_NODELAY (one value, see sockopt_of)
  kGetSockOpt,    // getsockopt OPT: SO_ERROR (one value)
  kMqOpen,        // mq_open FLAGS: O_RDONLY/O_WRONLY/O_RDWR, O_CREAT, O_EXCL, O_NONBLOCK, O_CLOEXEC
  kSigevNotify,   // mq_notify NOTIFY: SIGEV_SIGNAL, SIGEV_NONE (one value)
};

// setsockopt OPT: the level follows the name (TRACE_FORMAT.md v1.1 "Options"): TCP_* names
// carry IPPROTO_TCP above bit 32, other names and numbers are SOL_SOCKET options.
inline constexpr int64_t kIpprotoTcpOpt = int64_t{6} << 32;
struct SockOptName {
  int level;    // SOL_SOCKET (1) or IPPROTO_TCP (6)
  int optname;
};
constexpr SockOptName sockopt_of(int64_t opt) {
  if ((opt >> 32) == 6) return {6, static_cast<int>(opt & 0xffffffff)};
  return {1, static_cast<int>(opt)};
}
inline constexpr int64_t kSoLinger = 13;  // SO_LINGER: VALUE seconds, -1 = off

// ---- the kinds of arguments and results ------------------------------------------------

enum class ArgKind {
  kFd,          // FdRef: a descriptor name, bound before
  kFlags,       // FlagArg: a flag set; names of every family (v1.1), printed in its own
  kValue,       // int64_t: one value, its family's names or a number (OP, HOW, DOMAIN)
  kCount,       // int64_t: a byte count; a negative one is passed as the size_t it converts to
  kNumber,      // int64_t: a plain number
  kU64,         // int64_t holding 64 bits: a negative number is taken modulo 2^64
  kTimeoutMs,   // int64_t: an int of milliseconds, negative: no timeout
  kTimeoutNs,   // int64_t: nanoseconds as a timespec, -1: none (a null pointer)
  kDurationMs,  // int64_t: milliseconds that pass (sleep)
  kPollList,    // std::vector<PollEntry>: `[FD: EVENTS, ...]`
  kLabel,       // std::string: an epoll label, "" when not written
  kSockRef,     // SockRef: a socket named for its address (bind/connect OTHER)
  kMqName,      // MqName: `/NAME`
};

// One argument of a call: its name in signatures and messages, its kind, the member of the
// call's struct that holds it, and how it may be written.
template <class S, class T>
struct Field {
  std::string_view name;
  ArgKind kind;
  T S::*member;
  FlagContext family = FlagContext::kEpollEvents;  // kFlags, kValue
  int64_t min = 0, max = 0;                        // the numeric kinds
  bool optional = false;      // may be left out at the end: then 0 (or "") and not printed
  std::string_view keyword;   // written as KEYWORD=VALUE (`data=LABEL`)
  // Left out exactly when the field with this index holds absent_if_value (epoll_ctl's
  // EVENTS and data=LABEL for EPOLL_CTL_DEL), required otherwise unless optional.
  int absent_if_field = -1;
  int64_t absent_if_value = 0;
};

inline constexpr int64_t kInt32Min = std::numeric_limits<int32_t>::min();
inline constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
inline constexpr int64_t kUint32Max = std::numeric_limits<uint32_t>::max();
inline constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();
inline constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

namespace field {
template <class S, class T>
constexpr Field<S, T> make(std::string_view name, ArgKind kind, T S::*m, FlagContext family = FlagContext::kEpollEvents) {
  Field<S, T> f{};
  f.name = name;
  f.kind = kind;
  f.member = m;
  f.family = family;
  return f;
}
template <class S>
constexpr Field<S, FdRef> fd(std::string_view name, FdRef S::*m) {
  return make(name, ArgKind::kFd, m);
}
template <class S, class T>  // T: FlagArg, or std::optional<FlagArg> for a field that may be absent
constexpr Field<S, T> flags(std::string_view name, T S::*m, FlagContext family) {
  return make(name, ArgKind::kFlags, m, family);
}
template <class S>
constexpr Field<S, int64_t> value(std::string_view name, int64_t S::*m, FlagContext family) {
  return make(name, ArgKind::kValue, m, family);
}
template <class S>
constexpr Field<S, int64_t> number(std::string_view name, int64_t S::*m, ArgKind kind, int64_t min, int64_t max) {
  Field<S, int64_t> f = make(name, kind, m);
  f.min = min;
  f.max = max;
  return f;
}
template <class S>
constexpr Field<S, int64_t> u64(std::string_view name, int64_t S::*m) {
  return make(name, ArgKind::kU64, m);
}
template <class S>
constexpr Field<S, SockRef> sock_ref(std::string_view name, SockRef S::*m) {
  return make(name, ArgKind::kSockRef, m);
}
template <class S>
constexpr Field<S, MqName> mq_name(std::string_view name, MqName S::*m) {
  return make(name, ArgKind::kMqName, m);
}
// A number that may be left out at the end (nullopt: not written): MAXMSG, MSGSIZE.
template <class S>
constexpr Field<S, std::optional<int64_t>> optional_number(std::string_view name, std::optional<int64_t> S::*m,
                                                           int64_t min, int64_t max) {
  Field<S, std::optional<int64_t>> f = make(name, ArgKind::kNumber, m);
  f.min = min;
  f.max = max;
  f.optional = true;
  return f;
}
// One value of a family that may be left out at the end (nullopt: not written), and only
// the values min..max (mq_notify's NOTIFY: SIGEV_SIGNAL or SIGEV_NONE).
template <class S>
constexpr Field<S, std::optional<int64_t>> optional_value(std::string_view name, std::optional<int64_t> S::*m,
                                                          FlagContext family, int64_t min, int64_t max) {
  Field<S, std::optional<int64_t>> f = make(name, ArgKind::kValue, m, family);
  f.min = min;
  f.max = max;
  f.optional = true;
  return f;
}
template <class S>
constexpr Field<S, std::vector<PollEntry>> poll_list(std::string_view name, std::vector<PollEntry> S::*m) {
  return make(name, ArgKind::kPollList, m);
}
template <class S>
constexpr Field<S, std::string> label(std::string_view name, std::string S::*m, std::string_view keyword) {
  Field<S, std::string> f = make(name, ArgKind::kLabel, m);
  f.optional = true;
  f.keyword = keyword;
  return f;
}
// f, left out at the end when not written.
template <class F>
constexpr F optional(F f) {
  f.optional = true;
  return f;
}
// f, left out exactly when field `index` holds `value`.
template <class F>
constexpr F absent_if(F f, int index, int64_t value) {
  f.absent_if_field = index;
  f.absent_if_value = value;
  return f;
}
}  // namespace field

enum class ResultShape {
  kZero,         // 0 on success (and 0 whenever the call returned a count: eventfd_write)
  kCount,        // a number of bytes
  kCounter,      // the 64-bit value read (eventfd_read), printed unsigned
  kName,         // binds one name: the new descriptor
  kNamePair,     // binds two names: the pair made (the call itself returns 0)
  kEpollEvents,  // [LABEL: MASK, ...] with EPOLL* masks, in the order returned
  kPollEvents,   // [FD: REVENTS, ...] with POLL* masks: the entries with revents, in argument order
  kSockError,    // getsockopt SO_ERROR: the value read, written as an errno name or 0 (v1.1)
  kTask,         // binds one name: the task that starts a new process (fork); the call returns 0 there
  kLenPrio,      // [LEN, PRIO]: mq_receive's length and priority (a list of numbers)
};

// How many names a successful call of this shape binds.
constexpr int names_bound(ResultShape r) {
  return r == ResultShape::kNamePair ? 2 : r == ResultShape::kName ? 1 : 0;
}
// Whether a successful call of this shape binds a task name (fork) rather than descriptors.
constexpr bool binds_task(ResultShape r) { return r == ResultShape::kTask; }
constexpr bool has_events(ResultShape r) { return r == ResultShape::kEpollEvents || r == ResultShape::kPollEvents; }

// x86-64 system call numbers (arch/x86/entry/syscalls/syscall_64.tbl), as
// /proc/TID/syscall shows them; the real executor checks them against <sys/syscall.h>.
namespace nr {
inline constexpr int kRead = 0, kWrite = 1, kClose = 3, kPoll = 7, kDup = 32, kNanosleep = 35, kShutdown = 48,
                     kSocketpair = 53, kEpollWait = 232, kEpollCtl = 233, kEventfd2 = 290, kEpollCreate1 = 291,
                     kPipe2 = 293, kEpollPwait2 = 441, kSocket = 41, kConnect = 42, kBind = 49, kListen = 50,
                     kSetsockopt = 54, kGetsockopt = 55, kAccept4 = 288, kFork = 57, kExitGroup = 231,
                     kRtSigtimedwait = 128, kMqOpen = 240, kMqUnlink = 241, kMqTimedsend = 242,
                     kMqTimedreceive = 243, kMqNotify = 244, kMqGetsetattr = 245;
}  // namespace nr

// A call's row, beside its arguments.
struct CallInfo {
  std::string_view name;
  ResultShape result;
  std::string_view result_form;  // the result as a trace writes it: "[READ_END, WRITE_END]", "BYTES"
  std::string_view result_doc;   // the result in the calls table (Markdown): "`[READ_END, WRITE_END]`", "bytes read"
  std::string_view doc;          // what the call does, in one line (`epoll-oracle calls`)
  bool may_block = false;        // may sleep (and be written pending, `...`, to be seen asleep)
  bool in_task = true;           // false: belongs to no task (sleep): no task prefix, never pending
  bool releases_fd = false;      // a success closes its descriptor (close)
  // A success leaves the call's socket with an address the harness keeps (socket,
  // socketpair, bind, listen, connect, accept4: v1.1 "precise points", OTHER).
  bool notes_address = false;
  bool ends_process = false;     // ends the calling task's process (exit): no step follows there
  // The system call a task is seen sleeping in while it is blocked in this call (a call
  // that never sleeps: its own number); -1 = none.
  std::array<int, 2> syscalls = {-1, -1};
};

// ---- the calls --------------------------------------------------------------------------
// One struct per call: its arguments in order, its row (info) and its fields. The order of
// CallArgs below is the order of the calls table.

struct Pipe2 {
  FlagArg flags;
  static constexpr CallInfo info{.name = "pipe2",
                                 .result = ResultShape::kNamePair,
                                 .result_form = "[READ_END, WRITE_END]",
                                 .result_doc = "`[READ_END, WRITE_END]`",
                                 .doc = "a pipe",
                                 .syscalls = {nr::kPipe2, -1}};
  static constexpr auto fields() { return std::tuple{field::flags("FLAGS", &Pipe2::flags, FlagContext::kPipe2)}; }
  friend bool operator==(const Pipe2&, const Pipe2&) = default;
};

struct Socketpair {
  int64_t domain = 0;
  FlagArg type;
  static constexpr CallInfo info{.name = "socketpair",
                                 .result = ResultShape::kNamePair,
                                 .result_form = "[A, B]",
                                 .result_doc = "`[A, B]`",
                                 .doc = "a connected pair of sockets (protocol 0)",
                                 .notes_address = true,
                                 .syscalls = {nr::kSocketpair, -1}};
  static constexpr auto fields() {
    return std::tuple{field::value("DOMAIN", &Socketpair::domain, FlagContext::kSocketDomain),
                      field::flags("TYPE", &Socketpair::type, FlagContext::kSocketType)};
  }
  friend bool operator==(const Socketpair&, const Socketpair&) = default;
};

struct Eventfd2 {
  int64_t initval = 0;
  FlagArg flags;
  static constexpr CallInfo info{.name = "eventfd2",
                                 .result = ResultShape::kName,
                                 .result_form = "NAME",
                                 .result_doc = "a name",
                                 .doc = "an eventfd holding INITVAL",
                                 .syscalls = {nr::kEventfd2, -1}};
  static constexpr auto fields() {
    return std::tuple{field::number("INITVAL", &Eventfd2::initval, ArgKind::kNumber, 0, kUint32Max),
                      field::flags("FLAGS", &Eventfd2::flags, FlagContext::kEventfd2)};
  }
  friend bool operator==(const Eventfd2&, const Eventfd2&) = default;
};

struct EpollCreate1 {
  FlagArg flags;
  static constexpr CallInfo info{.name = "epoll_create1",
                                 .result = ResultShape::kName,
                                 .result_form = "NAME",
                                 .result_doc = "a name",
                                 .doc = "an epoll instance",
                                 .syscalls = {nr::kEpollCreate1, -1}};
  static constexpr auto fields() {
    return std::tuple{field::flags("FLAGS", &EpollCreate1::flags, FlagContext::kEpollCreate1)};
  }
  friend bool operator==(const EpollCreate1&, const EpollCreate1&) = default;
};

struct Dup {
  FdRef fd;
  static constexpr CallInfo info{.name = "dup",
                                 .result = ResultShape::kName,
                                 .result_form = "NAME",
                                 .result_doc = "a name",
                                 .doc = "a new descriptor of FD's open file",
                                 .syscalls = {nr::kDup, -1}};
  static constexpr auto fields() { return std::tuple{field::fd("FD", &Dup::fd)}; }
  friend bool operator==(const Dup&, const Dup&) = default;
};

struct Close {
  FdRef fd;
  static constexpr CallInfo info{.name = "close",
                                 .result = ResultShape::kZero,
                                 .result_form = "0",
                                 .result_doc = "`0`",
                                 .doc = "closes FD (the name keeps denoting its number)",
                                 .releases_fd = true,
                                 .syscalls = {nr::kClose, -1}};
  static constexpr auto fields() { return std::tuple{field::fd("FD", &Close::fd)}; }
  friend bool operator==(const Close&, const Close&) = default;
};

struct Read {
  FdRef fd;
  int64_t count = 0;
  static constexpr CallInfo info{.name = "read",
                                 .result = ResultShape::kCount,
                                 .result_form = "BYTES",
                                 .result_doc = "bytes read",
                                 .doc = "reads at most N bytes",
                                 .may_block = true,
                                 .syscalls = {nr::kRead, -1}};
  static constexpr auto fields() {
    return std::tuple{field::fd("FD", &Read::fd),
                      field::number("N", &Read::count, ArgKind::kCount, kInt64Min, kInt64Max)};
  }
  friend bool operator==(const Read&, const Read&) = default;
};

struct Write {
  FdRef fd;
  int64_t count = 0;
  static constexpr CallInfo info{.name = "write",
                                 .result = ResultShape::kCount,
                                 .result_form = "BYTES",
                                 .result_doc = "bytes written",
                                 .doc = "writes N filler bytes",
                                 .may_block = true,
                                 .syscalls = {nr::kWrite, -1}};
  static constexpr auto fields() {
    return std::tuple{field::fd("FD", &Write::fd),
                      field::number("N", &Write::count, ArgKind::kCount, kInt64Min, kInt64Max)};
  }
  friend bool operator==(const Write&, const Write&) = default;
};

struct Fill {
  FdRef fd;
  int64_t chunk = 0;  // 0: not written (65536)
  static constexpr CallInfo info{.name = "fill",
                                 .result = ResultShape::kCount,
                                 .result_form = "TOTAL",
                                 .result_doc = "total bytes written",
                                 .doc = "writes of CHUNK bytes (default 65536) until EAGAIN",
                                 .may_block = true,
                                 .syscalls = {nr::kWrite, -1}};
  static constexpr auto fields() {
    return std::tuple{field::fd("FD", &Fill::fd),
                      field::optional(field::number("CHUNK", &Fill::chunk, ArgKind::kCount, 1, kInt64Max))};
  }
  friend bool operator==(const Fill&, const Fill&) = default;
};

struct Drain {
  FdRef fd;
  int64_t chunk = 0;  // 0: not written (65536)
  static constexpr CallInfo info{.name = "drain",
                                 .result = ResultShape::kCount,
                                 .result_form = "TOTAL",
                                 .result_doc = "total bytes read",
                                 .doc = "reads of CHUNK bytes (default 65536) until EAGAIN or end of file",
                                 .may_block = true,
                                 .syscalls = {nr::kRead, -1}};
  static constexpr auto fields() {
    return std::tuple{field::fd("FD", &Drain::fd),
                      field::optional(field::number("CHUNK", &Drain::chunk, ArgKind::kCount, 1, kInt64Max))};
  }
  friend bool operator==(const Drain&, const Drain&) = default;
};

struct EventfdWrite {
  FdRef fd;
  int64_t value = 0;  // 64 bits
  static constexpr CallInfo info{.name = "eventfd_write",
                                 .result = ResultShape::kZero,
                                 .result_form = "0",
                                 .result_doc = "`0`",
                                 .doc = "writes the 8 bytes of VALUE",
                                 .may_block = true,
                                 .syscalls = {nr::kWrite, -1}};
  static constexpr auto fields() {
    return std::tuple{field::fd("FD", &EventfdWrite::fd), field::u64("VALUE", &EventfdWrite::value)};
  }
  friend bool operator==(const EventfdWrite&, const EventfdWrite&) = default;
};

struct EventfdRead {
  FdRef fd;
  static constexpr CallInfo info{.name = "eventfd_read",
                                 .result = ResultShape::kCounter,
                                 .result_form = "VALUE",
                                 .result_doc = "the 64-bit value read",
                                 .doc = "reads 8 bytes: the counter's value",
                                 .may_block = true,
                                 .syscalls = {nr::kRead, -1}};
  static constexpr auto fields() { return std::tuple{field::fd("FD", &EventfdRead::fd)}; }
  friend bool operator==(const EventfdRead&, const EventfdRead&) = default;
};

struct Shutdown {
  FdRef fd;
  int64_t how = 0;
  static constexpr CallInfo info{.name = "shutdown",
                                 .result = ResultShape::kZero,
                                 .result_form = "0",
                                 .result_doc = "`0`",
                                 .doc = "shuts a socket down (SHUT_RD, SHUT_WR, SHUT_RDWR)",
                                 .syscalls = {nr::kShutdown, -1}};
  static constexpr auto fields() {
    return std::tuple{field::fd("FD", &Shutdown::fd), field::value("HOW", &Shutdown::how, FlagContext::kShutdownHow)};
  }
  friend bool operator==(const Shutdown&, const Shutdown&) = default;
};

// ---- sockets with addresses (TRACE_FORMAT.md v1.1): addresses never appear in a trace;
// a socket's address is named by the socket (SockRef).

struct Socket {
  int64_t domain = 0;
  FlagArg type;
  static constexpr CallInfo info{.name = "socket",
                                 .result = ResultShape::kName,
                                 .result_form = "NAME",
                                 .result_doc = "a name",
                                 .doc = "a socket (protocol 0)",
                                 .notes_address = true,
                                 .syscalls = {nr::kSocket, -1}};
  static constexpr auto fields() {
    return std::tuple{field::value("DOMAIN", &Socket::domain, FlagContext::kSocketDomain),
                      field::flags("TYPE", &Socket::type, FlagContext::kSocketType)};
  }
  friend bool operator==(const Socket&, const Socket&) = default;
};

struct Bind {
  FdRef sock;
  SockRef other;  // "": a fresh address (127.0.0.1 port 0, or an abstract name unique to the run)
  static constexpr CallInfo info{.name = "bind",
                                 .result = ResultShape::kZero,
                                 .result_form = "0",
                                 .result_doc = "`0`",
                                 .doc = "binds a fresh address, or OTHER's",
                                 .notes_address = true,
                                 .syscalls = {nr::kBind, -1}};
  static constexpr auto fields() {
    return std::tuple{field::fd("S", &Bind::sock), field::optional(field::sock_ref("OTHER", &Bind::other))};
  }
  friend bool operator==(const Bind&, const Bind&) = default;
};

struct Listen {
  FdRef sock;
  int64_t backlog = 0;
  static constexpr CallInfo info{.name = "listen",
                                 .result = ResultShape::kZero,
                                 .result_form = "0",
                                 .result_doc = "`0`",
                                 .doc = "listens (an unbound AF_INET socket is bound to 127.0.0.1 port 0 first)",
                                 .notes_address = true,
                                 .syscalls = {nr::kListen, -1}};
  static constexpr auto fields() {
    return std::tuple{field::fd("S", &Listen::sock),
                      field::number("BACKLOG", &Listen::backlog, ArgKind::kNumber, kInt32Min, kInt32Max)};
  }
  friend bool operator==(const Listen&, const Listen&) = default;
};

struct Connect {
  FdRef sock;
  SockRef other;
  static constexpr CallInfo info{.name = "connect",
                                 .result = ResultShape::kZero,
                                 .result_form = "0",
                                 .result_doc = "`0`",
                                 .doc = "connects to OTHER's address",
                                 .may_block = true,
                                 .notes_address = true,
                                 .syscalls = {nr::kConnect, -1}};
  static constexpr auto fields() {
    return std::tuple{field::fd("S", &Connect::sock), field::sock_ref("OTHER", &Connect::other)};
  }
  friend bool operator==(const Connect&, const Connect&) = default;
};

struct Accept4 {
  FdRef sock;
  FlagArg flags;
  static constexpr CallInfo info{.name = "accept4",
                                 .result = ResultShape::kName,
                                 .result_form = "NAME",
                                 .result_doc = "a name",
                                 .doc = "the accepted socket (FLAGS: SOCK_NONBLOCK, SOCK_CLOEXEC)",
                                 .may_block = true,
                                 .notes_address = true,
                                 .syscalls = {nr::kAccept4, -1}};
  static constexpr auto fields() {
    return std::tuple{field::fd("L", &Accept4::sock), field::flags("FLAGS", &Accept4::flags, FlagContext::kSocketType)};
  }
  friend bool operator==(const Accept4&, const Accept4&) = default;
};

struct Setsockopt {
  FdRef sock;
  int64_t opt = 0;    // sockopt_of: level and name
  int64_t value = 0;  // an int; SO_LINGER: seconds of a struct linger that is on, -1 off
  static constexpr CallInfo info{.name = "setsockopt",
                                 .result = ResultShape::kZero,
                                 .result_form = "0",
                                 .result_doc = "`0`",
                                 .doc = "sets an option (the level follows the name; SO_LINGER -1: off)",
                                 .syscalls = {nr::kSetsockopt, -1}};
  static constexpr auto fields() {
    return std::tuple{field::fd("S", &Setsockopt::sock), field::value("OPT", &Setsockopt::opt, FlagContext::kSockOpt),
                      field::number("VALUE", &Setsockopt::value, ArgKind::kNumber, kInt32Min, kInt32Max)};
  }
  friend bool operator==(const Setsockopt&, const Setsockopt&) = default;
};

struct Getsockopt {
  FdRef sock;
  int64_t opt = 0;  // SO_ERROR
  static constexpr CallInfo info{.name = "getsockopt",
                                 .result = ResultShape::kSockError,
                                 .result_form = "ERRNO",
                                 .result_doc = "the pending error as an errno name, or `0`",
                                 .doc = "reads SO_ERROR (and so clears it)",
                                 .syscalls = {nr::kGetsockopt, -1}};
  static constexpr auto fields() {
    return std::tuple{field::fd("S", &Getsockopt::sock), field::value("OPT", &Getsockopt::opt, FlagContext::kGetSockOpt)};
  }
  friend bool operator==(const Getsockopt&, const Getsockopt&) = default;
};

struct EpollCtl {
  static constexpr int64_t kDel = 2;  // EPOLL_CTL_DEL: no EVENTS, no label
  FdRef ep;
  int64_t op = 0;
  FdRef fd;
  std::optional<FlagArg> events;  // absent for EPOLL_CTL_DEL
  std::string label;              // data=LABEL; "" = the name of FD
  static constexpr CallInfo info{.name = "epoll_ctl",
                                 .result = ResultShape::kZero,
                                 .result_form = "0",
                                 .result_doc = "`0`",
                                 .doc = "adds, modifies or deletes FD's registration; ADD and MOD set its label",
                                 .syscalls = {nr::kEpollCtl, -1}};
  static constexpr auto fields() {
    return std::tuple{field::fd("EP", &EpollCtl::ep), field::value("OP", &EpollCtl::op, FlagContext::kEpollCtlOp),
                      field::fd("FD", &EpollCtl::fd),
                      field::absent_if(field::flags("EVENTS", &EpollCtl::events, FlagContext::kEpollEvents), 1, kDel),
                      field::absent_if(field::label("LABEL", &EpollCtl::label, "data"), 1, kDel)};
  }
  // The label the registration reports: data=LABEL, else the descriptor's name.
  const std::string& label_or_name() const { return label.empty() ? fd.name : label; }
  friend bool operator==(const EpollCtl&, const EpollCtl&) = default;
};

struct EpollWait {
  FdRef ep;
  int64_t maxevents = 0;
  int64_t timeout_ms = 0;
  static constexpr CallInfo info{.name = "epoll_wait",
                                 .result = ResultShape::kEpollEvents,
                                 .result_form = "[LABEL: MASK, ...]",
                                 .result_doc = "`[LABEL: MASK, ...]`",
                                 .doc = "the ready events, at most MAXEVENTS",
                                 .may_block = true,
                                 .syscalls = {nr::kEpollWait, -1}};
  static constexpr auto fields() {
    return std::tuple{field::fd("EP", &EpollWait::ep),
                      field::number("MAXEVENTS", &EpollWait::maxevents, ArgKind::kNumber, kInt32Min, kInt32Max),
                      field::number("TIMEOUT_MS", &EpollWait::timeout_ms, ArgKind::kTimeoutMs, kInt32Min, kInt32Max)};
  }
  friend bool operator==(const EpollWait&, const EpollWait&) = default;
};

// epoll_wait with a nanosecond timeout (v1.1 "More epoll"), without a signal mask.
struct EpollPwait2 {
  FdRef ep;
  int64_t maxevents = 0;
  int64_t timeout_ns = 0;  // -1: no timeout (a null timespec)
  static constexpr CallInfo info{.name = "epoll_pwait2",
                                 .result = ResultShape::kEpollEvents,
                                 .result_form = "[LABEL: MASK, ...]",
                                 .result_doc = "`[LABEL: MASK, ...]`",
                                 .doc = "as epoll_wait; TIMEOUT_NS in nanoseconds, -1 for none",
                                 .may_block = true,
                                 .syscalls = {nr::kEpollPwait2, -1}};
  static constexpr auto fields() {
    return std::tuple{
        field::fd("EP", &EpollPwait2::ep),
        field::number("MAXEVENTS", &EpollPwait2::maxevents, ArgKind::kNumber, kInt32Min, kInt32Max),
        field::number("TIMEOUT_NS", &EpollPwait2::timeout_ns, ArgKind::kTimeoutNs, kInt64Min, kInt64Max)};
  }
  // The timespec passed: none for -1; any other value as the time it denotes, seconds
  // rounded down (-2 is {-1, 999999998}, which the kernel refuses: EINVAL).
  struct Timespec {
    int64_t sec = 0;
    int64_t nsec = 0;
  };
  std::optional<Timespec> timespec() const {
    if (timeout_ns == -1) return std::nullopt;
    constexpr int64_t kNsPerSec = 1'000'000'000;
    Timespec ts{timeout_ns / kNsPerSec, timeout_ns % kNsPerSec};
    if (ts.nsec < 0) ts.sec -= 1, ts.nsec += kNsPerSec;
    return ts;
  }
  friend bool operator==(const EpollPwait2&, const EpollPwait2&) = default;
};

struct Poll {
  std::vector<PollEntry> fds;
  int64_t timeout_ms = 0;
  static constexpr CallInfo info{.name = "poll",
                                 .result = ResultShape::kPollEvents,
                                 .result_form = "[FD: REVENTS, ...]",
                                 .result_doc = "`[FD: REVENTS, ...]`",
                                 .doc = "the descriptors with non-zero revents, in argument order",
                                 .may_block = true,
                                 .syscalls = {nr::kPoll, -1}};
  static constexpr auto fields() {
    return std::tuple{field::poll_list("[FD: EVENTS, ...]", &Poll::fds),
                      field::number("TIMEOUT_MS", &Poll::timeout_ms, ArgKind::kTimeoutMs, kInt32Min, kInt32Max)};
  }
  friend bool operator==(const Poll&, const Poll&) = default;
};

struct Sleep {
  int64_t ms = 0;
  static constexpr CallInfo info{.name = "sleep",
                                 .result = ResultShape::kZero,
                                 .result_form = "0",
                                 .result_doc = "`0`",
                                 .doc = "lets MS milliseconds pass (virtual in the model, real on a kernel)",
                                 .in_task = false,
                                 .syscalls = {nr::kNanosleep, -1}};
  static constexpr auto fields() {
    return std::tuple{field::number("MS", &Sleep::ms, ArgKind::kDurationMs, 0, kInt64Max)};
  }
  friend bool operator==(const Sleep&, const Sleep&) = default;
};

// Processes (TRACE_FORMAT.md v1.1 "Processes"): fork binds the task that starts a new
// process with a copy of the caller's descriptor table; exit ends the caller's process.
struct Fork {
  static constexpr CallInfo info{.name = "fork",
                                 .result = ResultShape::kTask,
                                 .result_form = "TASK",
                                 .result_doc = "a task name: the one task of the new process",
                                 .doc = "a new process with a copy of the caller's descriptor table (names keep their numbers)",
                                 .syscalls = {nr::kFork, -1}};
  static constexpr auto fields() { return std::tuple{}; }
  friend bool operator==(const Fork&, const Fork&) = default;
};

struct Exit {
  static constexpr CallInfo info{.name = "exit",
                                 .result = ResultShape::kZero,
                                 .result_form = "0",
                                 .result_doc = "`0`",
                                 .doc = "ends the caller's process: its descriptor table is closed, its other tasks' calls end unchecked",
                                 .ends_process = true,
                                 .syscalls = {nr::kExitGroup, -1}};
  static constexpr auto fields() { return std::tuple{}; }
  friend bool operator==(const Exit&, const Exit&) = default;
};

// ---- POSIX message queues (TRACE_FORMAT.md v1.1) ----------------------------------------

struct MqOpen {
  MqName name;
  FlagArg flags;
  std::optional<int64_t> maxmsg;   // with msgsize: a struct mq_attr; neither: a null attr
  std::optional<int64_t> msgsize;
  static constexpr CallInfo info{.name = "mq_open",
                                 .result = ResultShape::kName,
                                 .result_form = "NAME",
                                 .result_doc = "a name",
                                 .doc = "opens (O_CREAT: creates, mode 0600) the run's queue /NAME; MAXMSG and MSGSIZE its mq_attr",
                                 .syscalls = {nr::kMqOpen, -1}};
  static constexpr auto fields() {
    return std::tuple{field::mq_name("/NAME", &MqOpen::name), field::flags("FLAGS", &MqOpen::flags, FlagContext::kMqOpen),
                      field::optional_number("MAXMSG", &MqOpen::maxmsg, kInt64Min, kInt64Max),
                      field::optional_number("MSGSIZE", &MqOpen::msgsize, kInt64Min, kInt64Max)};
  }
  friend bool operator==(const MqOpen&, const MqOpen&) = default;
};

struct MqUnlink {
  MqName name;
  static constexpr CallInfo info{.name = "mq_unlink",
                                 .result = ResultShape::kZero,
                                 .result_form = "0",
                                 .result_doc = "`0`",
                                 .doc = "removes the name /NAME (the queue lives on while open)",
                                 .syscalls = {nr::kMqUnlink, -1}};
  static constexpr auto fields() { return std::tuple{field::mq_name("/NAME", &MqUnlink::name)}; }
  friend bool operator==(const MqUnlink&, const MqUnlink&) = default;
};

struct MqSend {
  FdRef q;
  int64_t len = 0;
  int64_t prio = 0;
  static constexpr CallInfo info{.name = "mq_send",
                                 .result = ResultShape::kZero,
                                 .result_form = "0",
                                 .result_doc = "`0`",
                                 .doc = "sends LEN filler bytes with priority PRIO (mq_timedsend, no timeout)",
                                 .may_block = true,
                                 .syscalls = {nr::kMqTimedsend, -1}};
  static constexpr auto fields() {
    return std::tuple{field::fd("Q", &MqSend::q), field::number("LEN", &MqSend::len, ArgKind::kCount, kInt64Min, kInt64Max),
                      field::number("PRIO", &MqSend::prio, ArgKind::kNumber, 0, kUint32Max)};
  }
  friend bool operator==(const MqSend&, const MqSend&) = default;
};

struct MqReceive {
  FdRef q;
  int64_t buflen = 0;
  static constexpr CallInfo info{.name = "mq_receive",
                                 .result = ResultShape::kLenPrio,
                                 .result_form = "[LEN, PRIO]",
                                 .result_doc = "`[LEN, PRIO]`",
                                 .doc = "receives the oldest message of the highest priority into BUFLEN bytes (mq_timedreceive, no timeout)",
                                 .may_block = true,
                                 .syscalls = {nr::kMqTimedreceive, -1}};
  static constexpr auto fields() {
    return std::tuple{field::fd("Q", &MqReceive::q),
                      field::number("BUFLEN", &MqReceive::buflen, ArgKind::kCount, kInt64Min, kInt64Max)};
  }
  friend bool operator==(const MqReceive&, const MqReceive&) = default;
};

struct MqGetattr {
  FdRef q;
  static constexpr CallInfo info{.name = "mq_getattr",
                                 .result = ResultShape::kCount,
                                 .result_form = "MESSAGES",
                                 .result_doc = "messages queued (mq_curmsgs)",
                                 .doc = "the number of messages in the queue (mq_getsetattr)",
                                 .syscalls = {nr::kMqGetsetattr, -1}};
  static constexpr auto fields() { return std::tuple{field::fd("Q", &MqGetattr::q)}; }
  friend bool operator==(const MqGetattr&, const MqGetattr&) = default;
};

struct MqNotify {
  static constexpr int64_t kSigevSignal = 0, kSigevNone = 1;
  FdRef q;
  std::optional<int64_t> notify;  // nullopt: a null sigevent (unregister)
  static constexpr CallInfo info{.name = "mq_notify",
                                 .result = ResultShape::kZero,
                                 .result_form = "0",
                                 .result_doc = "`0`",
                                 .doc = "registers for a notification signal (SIGEV_SIGNAL) or none (SIGEV_NONE); without NOTIFY unregisters",
                                 .syscalls = {nr::kMqNotify, -1}};
  static constexpr auto fields() {
    return std::tuple{field::fd("Q", &MqNotify::q), field::optional_value("NOTIFY", &MqNotify::notify,
                                                                          FlagContext::kSigevNotify, 0, 1)};
  }
  friend bool operator==(const MqNotify&, const MqNotify&) = default;
};

struct Notifications {
  static constexpr CallInfo info{.name = "notifications",
                                 .result = ResultShape::kCount,
                                 .result_form = "SIGNALS",
                                 .result_doc = "notification signals received",
                                 .doc = "the message-queue notification signals the process received since the last call",
                                 .syscalls = {nr::kRtSigtimedwait, -1}};
  static constexpr auto fields() { return std::tuple{}; }
  friend bool operator==(const Notifications&, const Notifications&) = default;
};

// Every call, in the order of the calls table.
using CallArgs = std::variant<Pipe2, Socketpair, Eventfd2, EpollCreate1, Dup, Close, Read, Write, Fill, Drain,
                              EventfdWrite, EventfdRead, Shutdown, Socket, Bind, Listen, Connect, Accept4,
                              Setsockopt, Getsockopt, EpollCtl, EpollWait, EpollPwait2, Poll, MqOpen, MqUnlink,
                              MqSend, MqReceive, MqGetattr, MqNotify, Notifications, Sleep, Fork, Exit>;
inline constexpr size_t kCallCount = std::variant_size_v<CallArgs>;

// ---- reading the table ------------------------------------------------------------------

namespace detail {
template <size_t... I>
constexpr std::array<const CallInfo*, sizeof...(I)> call_infos(std::index_sequence<I...>) {
  return {&std::variant_alternative_t<I, CallArgs>::info...};
}
}  // namespace detail
// The rows by variant index.
inline constexpr std::array<const CallInfo*, kCallCount> kCallInfos =
    detail::call_infos(std::make_index_sequence<kCallCount>{});

inline const CallInfo& call_info(const CallArgs& c) { return *kCallInfos[c.index()]; }

// Calls f(field, index) for every field of call struct S, in argument order.
template <class S, class F>
constexpr void for_each_field(F&& f) {
  std::apply([&](const auto&... fld) {
    int i = 0;
    (f(fld, i++), ...);
  }, S::fields());
}

// The call of that name with its arguments zero (nullopt if the language has none).
std::optional<CallArgs> call_by_name(std::string_view name);
// The same call with its arguments zero: what a resume line holds of its pending call.
CallArgs blank_call(const CallArgs& c);
// "epoll_wait(EP, MAXEVENTS, TIMEOUT_MS)", from the fields.
const std::string& call_signature(const CallArgs& c);
// The known call closest to a misspelled name ("epol_wait" -> "epoll_wait"), if any is
// close enough to suggest.
std::optional<std::string_view> closest_call_name(std::string_view name);
// The call's own timeout in milliseconds if it has a finite one (a nanosecond timeout
// rounded up); nullopt for none, an infinite one or one the kernel refuses.
std::optional<int64_t> finite_timeout_ms(const CallArgs& c);
// The poll list of a call that has one, else nullptr.
const std::vector<PollEntry>* poll_list_of(const CallArgs& c);
// Every descriptor name the call uses, in argument order (socket references are not
// descriptors: see sock_ref_of).
std::vector<const FdRef*> fd_args(const CallArgs& c);
// The socket reference a call names (bind/connect OTHER), if written; else nullptr.
const SockRef* sock_ref_of(const CallArgs& c);
// The same call without the positions of its descriptor names.
void clear_positions(CallArgs& c);
// The calls table of the language document (Markdown): call, signature, result, may block.
std::string calls_markdown();

}  // namespace eo
