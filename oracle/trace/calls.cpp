#include "oracle/trace/calls.h"

#include <algorithm>
#include <array>
#include <vector>

namespace eo {
namespace {

struct CallInfo {
  Call call;
  std::string_view name;
  std::string_view signature;
  int binds;
};

constexpr std::array kCalls = {
    CallInfo{Call::kPipe2, "pipe2", "pipe2(FLAGS)", 2},
    CallInfo{Call::kSocketpair, "socketpair", "socketpair(DOMAIN, TYPE)", 2},
    CallInfo{Call::kEventfd2, "eventfd2", "eventfd2(INITVAL, FLAGS)", 1},
    CallInfo{Call::kEpollCreate1, "epoll_create1", "epoll_create1(FLAGS)", 1},
    CallInfo{Call::kDup, "dup", "dup(FD)", 1},
    CallInfo{Call::kClose, "close", "close(FD)", 0},
    CallInfo{Call::kRead, "read", "read(FD, N)", 0},
    CallInfo{Call::kWrite, "write", "write(FD, N)", 0},
    CallInfo{Call::kFill, "fill", "fill(FD[, CHUNK])", 0},
    CallInfo{Call::kDrain, "drain", "drain(FD[, CHUNK])", 0},
    CallInfo{Call::kEventfdWrite, "eventfd_write", "eventfd_write(FD, VALUE)", 0},
    CallInfo{Call::kEventfdRead, "eventfd_read", "eventfd_read(FD)", 0},
    CallInfo{Call::kShutdown, "shutdown", "shutdown(FD, HOW)", 0},
    CallInfo{Call::kEpollCtl, "epoll_ctl", "epoll_ctl(EP, OP, FD, EVENTS[, data=LABEL])", 0},
    CallInfo{Call::kEpollWait, "epoll_wait", "epoll_wait(EP, MAXEVENTS, TIMEOUT_MS)", 0},
    CallInfo{Call::kPoll, "poll", "poll([FD: EVENTS, ...], TIMEOUT_MS)", 0},
    CallInfo{Call::kSleep, "sleep", "sleep(MS)", 0},
};

const CallInfo& info(Call c) {
  for (const auto& i : kCalls) {
    if (i.call == c) return i;
  }
  return kCalls.back();
}

// Levenshtein distance.
size_t distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string_view call_name(Call c) { return info(c).name; }
std::string_view call_signature(Call c) { return info(c).signature; }
int call_binds(Call c) { return info(c).binds; }

std::optional<Call> call_by_name(std::string_view name) {
  for (const auto& i : kCalls) {
    if (i.name == name) return i.call;
  }
  return std::nullopt;
}

std::optional<std::string_view> closest_call_name(std::string_view name) {
  if (name.size() > 64) return std::nullopt;
  std::optional<std::string_view> best;
  size_t best_d = 3;  // suggest only names at most two edits away
  for (const auto& i : kCalls) {
    const size_t d = distance(name, i.name);
    if (d < best_d) {
      best_d = d;
      best = i.name;
    }
  }
  return best;
}

}  // namespace eo
