// The thundering-herd lab's vocabulary, shared by the model's driver (oracle/herd_model)
// and the kernel's (real/herd): what a scenario is and what one run of it observed, as
// plain numbers. docs/HERD.md describes the scenarios and the file format.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace eo::herd {

// What the workers wait for: connections on a listener, or work items in a queue.
enum class Source { kUnix, kTcp, kPipe, kEventfd, kSocketpair };
// How they wait for it.
enum class Wait {
  kBlocking,   // every worker blocks in the consuming call itself (accept4, read)
  kShared,     // one epoll, all workers in epoll_wait on it
  kPerWorker,  // one epoll per worker, each watching the one source
  kNested,     // one epoll per worker watching one inner epoll that watches the source
  kReuseport,  // SO_REUSEPORT: one TCP listener per worker, each worker in accept4 on its own
  kWait14,     // LTP epoll_wait14's shape: one task, F ready pipes, epoll_wait(M) R times
};
// The registration's flags (Wait::kBlocking and kReuseport ignore it).
enum class Trigger { kLevel, kEdge, kOneshot, kExclusive };
// When the events come.
enum class Arrival {
  kOneAtATime,  // each event after every worker has gone back to sleep (deterministic)
  kBurst,       // K events at once, the next burst after every worker slept again
  kPoisson,     // exponential gaps in virtual time (mean 1/rate), the next regardless
};

struct Scenario {
  std::string name;
  Source source = Source::kUnix;
  Wait wait = Wait::kShared;
  Trigger trigger = Trigger::kLevel;
  int workers = 3;
  int events = 6;
  Arrival arrival = Arrival::kOneAtATime;
  int burst = 1;                 // kBurst: events per burst
  double rate_per_ms = 1.0;      // kPoisson: mean events per millisecond
  uint64_t seed = 1;             // kPoisson's gaps
  int64_t service_ns = 0;        // a worker's time per event before it waits again
  bool consume = true;           // false: each worker waits once and returns (kselftest's shape)
  int fds = 13, maxevents = 3, rounds = 4;  // kWait14
  // Where it was defined (file:line), for reports.
  std::string where;
};

// What one run observed. Workers are numbered in the order they registered (or blocked
// first: worker 0 is the first to wait).
struct Run {
  std::string executor;  // "model" or "kernel"
  std::string error;     // the run could not be done (then the rest is partial)
  // Per event, in arrival order: the worker that consumed it (-1: nobody), the tasks woken
  // at the kernel level and the tasks that returned to user space while it was handled
  // (with one-at-a-time arrival; otherwise the totals divided among the events are all
  // that is known, and these are empty), its latency (arrival to consumption, ns).
  std::vector<int> handler;
  std::vector<int> woken, returned;
  std::vector<int64_t> latency_ns;
  // Per worker: events consumed; kernel-level wakeups (model: successful try_to_wake_up;
  // kernel: voluntary context switches, each sleep after a wakeup); returns to user space
  // from a waiting call that slept; returns (slept or not) after which the worker found
  // nothing to consume (EAGAIN). Wasted wakeups = (wakeups - returns) + empty: woken and
  // asleep again inside the kernel, or woken and found nothing (herd_metrics.h).
  std::vector<int64_t> handled, wakeups, returns, empty;
  // kWait14: how often each fd was reported, and the fd indices of every round.
  std::vector<int64_t> fd_reports;
  std::vector<std::vector<int>> rounds;
  double seconds = 0;  // wall time of the run
};

const char* name_of(Source s);
const char* name_of(Wait w);
const char* name_of(Trigger t);
const char* name_of(Arrival a);

}  // namespace eo::herd
