// `herd cost` on this machine's kernel: real eventfds, poll(2) and epoll_wait(2).
#include <fmt/format.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>

#include "oracle/cost_timing.h"
#include "oracle/herd_cost.h"

namespace eo {

namespace {

// The soft RLIMIT_NOFILE raised to `need` (not above the hard limit) while it lives.
class NofileAtLeast {
 public:
  explicit NofileAtLeast(rlim_t need) {
    if (getrlimit(RLIMIT_NOFILE, &saved_) != 0) return;
    ok_ = true;
    if (saved_.rlim_cur >= need) return;
    rlimit raised = saved_;
    raised.rlim_cur = need;
    ok_ = need <= saved_.rlim_max && setrlimit(RLIMIT_NOFILE, &raised) == 0;
    changed_ = ok_;
  }
  ~NofileAtLeast() {
    if (changed_) setrlimit(RLIMIT_NOFILE, &saved_);
  }
  NofileAtLeast(const NofileAtLeast&) = delete;
  NofileAtLeast& operator=(const NofileAtLeast&) = delete;
  bool ok() const { return ok_; }
  rlim_t hard() const { return saved_.rlim_max; }

 private:
  rlimit saved_{};
  bool ok_ = false, changed_ = false;
};

// The descriptors of one point, closed when it goes.
struct Descriptors {
  std::vector<int> fds;
  ~Descriptors() {
    for (int fd : fds) close(fd);
  }
};

}  // namespace

bool measure_kernel(int n, int k, const CostOptions& opt, std::vector<CostPoint>* out, std::string* error) {
  NofileAtLeast limit(static_cast<rlim_t>(n) + 64);  // the eventfds, the epoll, what is open already
  if (!limit.ok()) {
    *error = fmt::format("N = {} needs RLIMIT_NOFILE {} (hard limit {})", n, n + 64, limit.hard());
    return false;
  }
  Descriptors d;
  for (int i = 0; i < n; ++i) {
    const int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) {
      *error = fmt::format("eventfd: {}", std::strerror(errno));
      return false;
    }
    d.fds.push_back(fd);
  }
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) {
    *error = fmt::format("epoll_create1: {}", std::strerror(errno));
    return false;
  }
  Descriptors epd{{ep}};
  std::vector<pollfd> pfds(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<uint32_t>(i);
    if (epoll_ctl(ep, EPOLL_CTL_ADD, d.fds[static_cast<size_t>(i)], &ev) != 0) {
      *error = fmt::format("epoll_ctl: {}", std::strerror(errno));
      return false;
    }
    pfds[static_cast<size_t>(i)] = {d.fds[static_cast<size_t>(i)], POLLIN, 0};
  }
  for (int j = 0; j < k; ++j) {  // K readable, spread over the N
    const uint64_t one = 1;
    if (write(d.fds[static_cast<size_t>(static_cast<long>(j) * n / k)], &one, sizeof one) != sizeof one) {
      *error = fmt::format("eventfd write: {}", std::strerror(errno));
      return false;
    }
  }
  long got = 0;
  auto poll_once = [&] {
    got = poll(pfds.data(), pfds.size(), 0);
    return got == k;
  };
  std::vector<epoll_event> events(static_cast<size_t>(n));
  auto epoll_once = [&] {
    got = epoll_wait(ep, events.data(), n, 0);
    return got == k;
  };
  for (const auto& [call, f] : {std::pair<const char*, std::function<bool()>>{"poll", poll_once}, {"epoll_wait", epoll_once}}) {
    CostPoint p{.on = "kernel", .call = call, .n = n, .k = k};
    p.median_ns = median_ns_per_call(f, opt.seconds_per_point, opt.min_calls, &p.calls);
    if (p.median_ns < 0) {
      *error = fmt::format("kernel {} with N = {}, K = {} returned {}{}", call, n, k, got,
                           got < 0 ? std::string(" (") + std::strerror(errno) + ")" : "");
      return false;
    }
    out->push_back(p);
  }
  return true;
}

}  // namespace eo
