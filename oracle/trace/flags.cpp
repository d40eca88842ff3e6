#include "oracle/trace/flags.h"

#include <fmt/format.h>

#include <array>
#include <cstring>
#include <limits>

namespace eo {
namespace {


constexpr FlagName kEpollNames[] = {
    {"EPOLLIN", 0x1},
    {"EPOLLPRI", 0x2},
    {"EPOLLOUT", 0x4},
    {"EPOLLERR", 0x8},
    {"EPOLLHUP", 0x10},
    {"EPOLLNVAL", 0x20},
    {"EPOLLRDNORM", 0x40},
    {"EPOLLRDBAND", 0x80},
    {"EPOLLWRNORM", 0x100},
    {"EPOLLWRBAND", 0x200},
    {"EPOLLMSG", 0x400},
    {"EPOLLRDHUP", 0x2000},
    {"EPOLLEXCLUSIVE", 1 << 28},
    {"EPOLLWAKEUP", 1 << 29},
    {"EPOLLONESHOT", 1 << 30},
    {"EPOLLET", int64_t{1} << 31},
};
constexpr FlagName kPollNames[] = {
    {"POLLIN", 0x1},       {"POLLPRI", 0x2},      {"POLLOUT", 0x4},     {"POLLERR", 0x8},
    {"POLLHUP", 0x10},     {"POLLNVAL", 0x20},    {"POLLRDNORM", 0x40}, {"POLLRDBAND", 0x80},
    {"POLLWRNORM", 0x100}, {"POLLWRBAND", 0x200}, {"POLLMSG", 0x400},   {"POLLRDHUP", 0x2000},
};
constexpr FlagName kPipe2Names[] = {{"O_NONBLOCK", 04000}, {"O_DIRECT", 040000}, {"O_CLOEXEC", 02000000}};
constexpr FlagName kEventfd2Names[] = {{"EFD_SEMAPHORE", 1}, {"EFD_NONBLOCK", 04000}, {"EFD_CLOEXEC", 02000000}};
constexpr FlagName kEpollCreate1Names[] = {{"EPOLL_CLOEXEC", 02000000}};
constexpr FlagName kSocketDomainNames[] = {{"AF_UNIX", 1}, {"AF_INET", 2}};
// Types (the low four bits) first, then the flags.
constexpr FlagName kSocketTypeNames[] = {
    {"SOCK_STREAM", 1}, {"SOCK_DGRAM", 2}, {"SOCK_SEQPACKET", 5}, {"SOCK_NONBLOCK", 04000}, {"SOCK_CLOEXEC", 02000000}};
constexpr int64_t kSocketTypeMask = 0xf;
constexpr FlagName kEpollCtlOpNames[] = {{"EPOLL_CTL_ADD", 1}, {"EPOLL_CTL_DEL", 2}, {"EPOLL_CTL_MOD", 3},
                                         {"ADD", 1},           {"DEL", 2},           {"MOD", 3}};
constexpr FlagName kShutdownHowNames[] = {{"SHUT_RD", 0}, {"SHUT_WR", 1}, {"SHUT_RDWR", 2}};
// setsockopt OPT: SOL_SOCKET options by their value, TCP_NODELAY with its level (sockopt_of).
constexpr FlagName kSockOptNames[] = {{"SO_REUSEADDR", 2},  {"SO_ERROR", 4},     {"SO_SNDBUF", 7},
                                      {"SO_RCVBUF", 8},     {"SO_LINGER", 13},   {"SO_REUSEPORT", 15},
                                      {"SO_RCVLOWAT", 18},  {"TCP_NODELAY", kIpprotoTcpOpt | 1}};
// The same names with the values a flag set of another family gets (TCP_NODELAY is 1).
constexpr FlagName kSockOptHeaderNames[] = {{"SO_REUSEADDR", 2},  {"SO_ERROR", 4},   {"SO_SNDBUF", 7},
                                            {"SO_RCVBUF", 8},     {"SO_LINGER", 13}, {"SO_REUSEPORT", 15},
                                            {"SO_RCVLOWAT", 18},  {"TCP_NODELAY", 1}};
constexpr FlagName kGetSockOptNames[] = {{"SO_ERROR", 4}};
// O_RDONLY is 0: it is accepted, and a canonical spelling leaves it out.
constexpr FlagName kMqOpenNames[] = {{"O_RDONLY", 0},       {"O_WRONLY", 01},      {"O_RDWR", 02},
                                     {"O_CREAT", 0100},     {"O_EXCL", 0200},      {"O_NONBLOCK", 04000},
                                     {"O_CLOEXEC", 02000000}};
constexpr FlagName kSigevNotifyNames[] = {{"SIGEV_SIGNAL", 0}, {"SIGEV_NONE", 1}};

constexpr FlagContext kAllContexts[] = {
    FlagContext::kEpollEvents, FlagContext::kPollEvents,   FlagContext::kPipe2,
    FlagContext::kEventfd2,    FlagContext::kEpollCreate1, FlagContext::kSocketDomain,
    FlagContext::kSocketType,  FlagContext::kEpollCtlOp,   FlagContext::kShutdownHow,
    FlagContext::kSockOpt,     FlagContext::kGetSockOpt,
    FlagContext::kMqOpen,      FlagContext::kSigevNotify,
};

// Every table as the Linux headers spell it: what a flag-set argument may name. The
// epoll_ctl shorthands ADD, DEL, MOD (after the three EPOLL_CTL_* names) are left out.
const std::span<const FlagName> kHeaderNameTables[] = {
    kEpollNames,      kPollNames,         kPipe2Names,
    kEventfd2Names,   kEpollCreate1Names, kSocketDomainNames,
    kSocketTypeNames, std::span(kEpollCtlOpNames).first<3>(), kShutdownHowNames,
    kSockOptHeaderNames,
    kMqOpenNames,     kSigevNotifyNames,
};

// Appends the names of the bits of v that a table names, in table order; returns the
// bits left over.
int64_t append_bit_names(std::span<const FlagName> names, int64_t v, std::string& out) {
  for (const auto& f : names) {
    if (f.value != 0 && (v & f.value) == f.value) {
      if (!out.empty()) out += '|';
      out += f.name;
      v &= ~f.value;
    }
  }
  return v;
}

}  // namespace

std::span<const FlagName> flag_names(FlagContext ctx) {
  switch (ctx) {
    case FlagContext::kEpollEvents:
      return kEpollNames;
    case FlagContext::kPollEvents:
      return kPollNames;
    case FlagContext::kPipe2:
      return kPipe2Names;
    case FlagContext::kEventfd2:
      return kEventfd2Names;
    case FlagContext::kEpollCreate1:
      return kEpollCreate1Names;
    case FlagContext::kSocketDomain:
      return kSocketDomainNames;
    case FlagContext::kSocketType:
      return kSocketTypeNames;
    case FlagContext::kEpollCtlOp:
      return kEpollCtlOpNames;
    case FlagContext::kShutdownHow:
      return kShutdownHowNames;
    case FlagContext::kSockOpt:
      return kSockOptNames;
    case FlagContext::kGetSockOpt:
      return kGetSockOptNames;
    case FlagContext::kMqOpen:
      return kMqOpenNames;
    case FlagContext::kSigevNotify:
      return kSigevNotifyNames;
  }
  return {};
}

std::optional<int64_t> flag_value(FlagContext ctx, std::string_view name) {
  for (const auto& f : flag_names(ctx)) {
    if (f.name == name) return f.value;
  }
  return std::nullopt;
}

std::optional<int64_t> any_flag_value(std::string_view name) {
  for (const auto table : kHeaderNameTables) {
    for (const auto& f : table) {
      if (f.name == name) return f.value;
    }
  }
  return std::nullopt;
}

namespace {

std::string_view own_names_description(FlagContext ctx) {
  switch (ctx) {
    case FlagContext::kEpollEvents:
      return "EPOLL* names";
    case FlagContext::kPollEvents:
      return "POLL* names";
    case FlagContext::kPipe2:
      return "O_NONBLOCK, O_CLOEXEC, O_DIRECT";
    case FlagContext::kEventfd2:
      return "EFD_SEMAPHORE, EFD_NONBLOCK, EFD_CLOEXEC";
    case FlagContext::kEpollCreate1:
      return "EPOLL_CLOEXEC";
    case FlagContext::kSocketDomain:
      return "AF_UNIX, AF_INET";
    case FlagContext::kSocketType:
      return "SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_NONBLOCK, SOCK_CLOEXEC";
    case FlagContext::kEpollCtlOp:
      return "EPOLL_CTL_ADD, EPOLL_CTL_MOD, EPOLL_CTL_DEL (or ADD, MOD, DEL)";
    case FlagContext::kShutdownHow:
      return "SHUT_RD, SHUT_WR, SHUT_RDWR";
    case FlagContext::kSockOpt:
      return "SO_LINGER, SO_RCVLOWAT, SO_SNDBUF, SO_RCVBUF, SO_REUSEADDR, SO_REUSEPORT, SO_ERROR, TCP_NODELAY";
    case FlagContext::kGetSockOpt:
      return "SO_ERROR";
    case FlagContext::kMqOpen:
      return "O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_NONBLOCK, O_CLOEXEC";
    case FlagContext::kSigevNotify:
      return "SIGEV_SIGNAL, SIGEV_NONE";
  }
  return "no names";
}

// Whether a flag set may hold names of every context: arguments, not results or single values.
bool takes_any_family(FlagContext ctx, FlagUse use) {
  return use == FlagUse::kArgument && !flag_context_is_single(ctx);
}

}  // namespace

std::string flag_context_description(FlagContext ctx, FlagUse use) {
  return fmt::format("{}{}", own_names_description(ctx),
                     takes_any_family(ctx, use) ? ", other flag names or a number" : " or a number");
}

bool flag_context_is_single(FlagContext ctx) {
  return ctx == FlagContext::kSocketDomain || ctx == FlagContext::kEpollCtlOp || ctx == FlagContext::kShutdownHow ||
         ctx == FlagContext::kSockOpt || ctx == FlagContext::kGetSockOpt || ctx == FlagContext::kSigevNotify;
}

int64_t flag_context_max(FlagContext ctx) { return ctx == FlagContext::kPollEvents ? 0xffff : kUint32Max; }

bool flag_context_allows_negative(FlagContext ctx) {
  return ctx != FlagContext::kEpollEvents && ctx != FlagContext::kPollEvents;
}

std::string format_flags(FlagContext ctx, int64_t value) {
  if (flag_context_is_single(ctx)) {
    for (const auto& f : flag_names(ctx)) {
      if (f.value == value) return std::string(f.name);
    }
    return std::to_string(value);
  }
  if (value < 0) return std::to_string(value);
  if (value == 0) return "0";
  std::string out;
  int64_t rest = value;
  auto names = flag_names(ctx);
  if (ctx == FlagContext::kSocketType) {
    const int64_t type = value & kSocketTypeMask;
    rest &= ~kSocketTypeMask;
    if (type != 0) {
      out = std::to_string(type);
      for (const auto& f : names.first(3)) {
        if (f.value == type) out = f.name;
      }
    }
    names = names.subspan(3);
  }
  rest = append_bit_names(names, rest, out);
  if (rest != 0) {
    if (!out.empty()) out += '|';
    out += fmt::format("{:#x}", rest);
  }
  return out;
}

std::string format_flag_argument(FlagContext ctx, int64_t value, std::string_view written) {
  if (!written.empty() && parse_flags(ctx, FlagUse::kArgument, written).value == value) return std::string(written);
  return format_flags(ctx, value);
}

FlagSet read_flags(FlagContext ctx, FlagUse use, TokenCursor& cur) {
  const std::string what = flag_context_description(ctx, use);
  const int64_t max = flag_context_max(ctx);
  FlagSet set;
  std::string written;  // the elements as written, joined by '|'
  bool foreign = false;  // a name of another context was written
  do {
    const Token& t = cur.peek();
    int64_t element = 0;
    if (!written.empty()) written += '|';
    if (t.kind == Tok::kName) {
      auto v = flag_value(ctx, t.text);
      const bool own = v.has_value();  // a context's own names fit it (TCP_NODELAY carries its level)
      if (!v && takes_any_family(ctx, use)) {
        v = any_flag_value(t.text);
        foreign = foreign || v.has_value();
      }
      if (!v) {
        bool elsewhere = false;
        for (const auto other : kAllContexts) elsewhere = elsewhere || flag_value(other, t.text);
        if (!elsewhere) cur.fail_at(t.col, fmt::format("unknown flag '{}' (expected {})", t.text, what));
        const bool result = use == FlagUse::kResult && !flag_context_is_single(ctx);
        cur.fail_at(t.col, fmt::format("'{}' is not allowed {} (expected {})", t.text, result ? "in a result" : "here",
                                       what));
      }
      if (*v > max && !own) {
        cur.fail_at(t.col, fmt::format("'{}' is {:#x}, out of range here (from 0 to {:#x})", t.text, *v, max));
      }
      element = *v;
      written += t.text;
      cur.next();
    } else if (t.kind == Tok::kNumber || t.kind == Tok::kMinus) {
      const bool negative = cur.accept(Tok::kMinus);
      const Token& n = cur.expect(Tok::kNumber, "a number after '-'");
      if (negative && !flag_context_allows_negative(ctx)) {
        cur.fail_at(t.col, fmt::format("expected {}, found a negative number", what));
      }
      if (negative ? n.number > uint64_t{-kInt32Min} : n.number > static_cast<uint64_t>(max)) {
        cur.fail_at(t.col, fmt::format("number out of range (from {} to {:#x})",
                                       flag_context_allows_negative(ctx) ? kInt32Min : 0, max));
      }
      element = negative ? -static_cast<int64_t>(n.number) : static_cast<int64_t>(n.number);
      if (negative) written += '-';
      written += n.text;
    } else {
      cur.fail_expected(what);
    }
    set.value |= element;
  } while (!flag_context_is_single(ctx) && cur.accept(Tok::kPipe));
  if (foreign) set.written = std::move(written);
  return set;
}

FlagParse parse_flags(FlagContext ctx, FlagUse use, std::string_view text) {
  TokenCursor cur(lex_line(text), 1);
  try {
    FlagSet set = read_flags(ctx, use, cur);
    if (!cur.at(Tok::kEnd)) cur.fail_expected("'|' or the end of the flags");
    return FlagParse{set.value, std::move(set.written), 0, {}};
  } catch (const SyntaxError& e) {
    return FlagParse{std::nullopt, {}, static_cast<size_t>(e.col - 1), e.message};
  }
}

namespace {

constexpr int kMaxErrno = 133;  // EHWPOISON on x86-64

const std::array<std::string_view, kMaxErrno + 1>& errno_table() {
  static const auto table = [] {
    std::array<std::string_view, kMaxErrno + 1> t{};
    for (int i = 1; i <= kMaxErrno; ++i) {
      const char* name = strerrorname_np(i);
      if (name != nullptr) t[static_cast<size_t>(i)] = name;
    }
    return t;
  }();
  return table;
}

}  // namespace

std::string_view errno_name(int64_t number) {
  if (number < 1 || number > kMaxErrno) return {};
  return errno_table()[static_cast<size_t>(number)];
}

std::optional<int> errno_number(std::string_view name) {
  if (name.empty()) return std::nullopt;
  const auto& t = errno_table();
  for (size_t i = 1; i < t.size(); ++i) {
    if (t[i] == name) return static_cast<int>(i);
  }
  if (name == "EWOULDBLOCK") return errno_number("EAGAIN");
  if (name == "EDEADLOCK") return errno_number("EDEADLK");
  if (name == "ENOTSUP") return errno_number("EOPNOTSUPP");
  return std::nullopt;
}

}  // namespace eo
