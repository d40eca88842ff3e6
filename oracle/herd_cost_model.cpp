// `herd cost` on the model: model::Kernel's poll and epoll_wait, and the f_op->poll calls
// of one wait counted by rule coverage (kPollVfsPoll in do_pollfd, kEpItemVfsPoll in
// ep_item_poll).
#include <fmt/format.h>

#include <functional>

#include "model/coverage.h"
#include "model/kernel.h"
#include "oracle/cost_timing.h"
#include "oracle/herd_cost.h"

namespace eo {

bool measure_model(int n, int k, const CostOptions& opt, std::vector<CostPoint>* out, std::string* error) {
  model::KernelProfile profile;
  profile.rlimit_nofile = std::max<long>(profile.rlimit_nofile, n + 64);  // as the kernel side raises it
  model::Kernel kern(profile);
  model::Task& t = kern.task("main");
  std::vector<int> fds;
  for (int i = 0; i < n; ++i) {
    const long fd = kern.eventfd2(t, 0, model::EFD_NONBLOCK);
    if (fd < 0) {
      *error = fmt::format("model eventfd2: {}", fd);
      return false;
    }
    fds.push_back(static_cast<int>(fd));
  }
  const long ep = kern.epoll_create1(t, 0);
  std::vector<model::PollFd> pfds;
  for (int i = 0; i < n; ++i) {
    const model::EpollEvent ev{model::EPOLLIN, static_cast<uint64_t>(i)};
    if (const long r = kern.epoll_ctl(t, static_cast<int>(ep), model::EPOLL_CTL_ADD, fds[static_cast<size_t>(i)], &ev); r != 0) {
      *error = fmt::format("model epoll_ctl: {}", r);
      return false;
    }
    pfds.push_back({fds[static_cast<size_t>(i)], static_cast<short>(model::EPOLLIN), 0});
  }
  for (int j = 0; j < k; ++j) {
    const uint64_t one = 1;
    kern.write(t, fds[static_cast<size_t>(static_cast<long>(j) * n / k)], &one, sizeof one);
  }
  long got = 0;
  // poll takes its array by value: the copy is the model's copy_from_user.
  std::function<bool()> poll_once = [&] { return (got = kern.poll(t, pfds, 0)) == k; };
  std::function<bool()> epoll_once = [&] { return (got = kern.epoll_wait(t, static_cast<int>(ep), n, 0)) == k; };
  for (const auto& [call, f, rule] : {std::tuple{"poll", poll_once, model::Rule::kPollVfsPoll},
                                      std::tuple{"epoll_wait", epoll_once, model::Rule::kEpItemVfsPoll}}) {
    CostPoint p{.on = "model", .call = call, .n = n, .k = k};
    p.median_ns = median_ns_per_call(f, opt.seconds_per_point, opt.min_calls, &p.calls);
    // Counted in one more call with coverage attached, so the timed calls run without observer.
    model::RuleCoverage coverage;
    kern.set_observer(&coverage);
    const bool counted = f();
    kern.set_observer(nullptr);
    if (p.median_ns < 0 || !counted) {
      *error = fmt::format("model {} with N = {}, K = {} returned {}", call, n, k, got);
      return false;
    }
    p.fop_polls = static_cast<long>(coverage.count(rule));
    out->push_back(p);
  }
  return true;
}

}  // namespace eo
