// `herd cost`: time per wait with N watched descriptors of which K are ready, poll(2)
// against epoll_wait(2), on this machine's kernel (real calls) and on the model; on the
// model also the f_op->poll calls per wait, the work that is O(N) for poll (do_poll polls
// every fd) and O(K) for epoll (ep_send_events polls the ready-list items only).
#pragma once
#include <ostream>
#include <string>
#include <vector>

namespace eo {

struct CostOptions {
  std::vector<int> n = {10, 30, 100, 300, 1000, 3000, 10000};
  // K for each N: a count ("1") or a share of N ("10%"), at least 1 and at most N.
  std::vector<std::string> k = {"1", "10%"};
  bool on_kernel = true, on_model = true;
  double seconds_per_point = 0.1;  // calls are timed one by one until this much time passed
  int min_calls = 50;              // ... and at least this many
  bool progress = true;            // a line per point on the error stream
};

// One (executor, call, N, K) point.
struct CostPoint {
  std::string on;    // "kernel" or "model"
  std::string call;  // "poll" or "epoll_wait"
  int n = 0, k = 0;
  double median_ns = 0;  // wall time per call, median over `calls`
  long calls = 0;
  long fop_polls = -1;  // f_op->poll invocations in one wait (model only; -1 on the kernel)
};

// "1" or "10%" for N: K, or false with *error.
bool parse_k(const std::string& spec, int n, int* k, std::string* error);

// The two calls at one (N, K) on the kernel: N eventfds, K of them readable (spread evenly),
// all in one epoll (level-triggered EPOLLIN) and in one pollfd array; timeout 0. Raises
// the soft RLIMIT_NOFILE for the run if N needs it, restores it after. Every call must
// return K: false with *error otherwise.
bool measure_kernel(int n, int k, const CostOptions& opt, std::vector<CostPoint>* out, std::string* error);
// The same on the model (model::Kernel, its RLIMIT_NOFILE set to fit N), plus the f_op->poll
// count of one wait from rule coverage (kPollVfsPoll, kEpItemVfsPoll).
bool measure_model(int n, int k, const CostOptions& opt, std::vector<CostPoint>* out, std::string* error);

// The sweep: table on out, optional CSV, JSON and SVG (log-log) files. 0 done, 1 a
// measurement failed, 2 bad options or an output that could not be written.
int cmd_herd_cost(const CostOptions& opt, const std::string& csv, const std::string& json, const std::string& svg,
                  std::ostream& out, std::ostream& err);

}  // namespace eo
