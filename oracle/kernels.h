// `epoll-oracle kernels`: the kernel matrix. Every trace on Debian's kernels booted under
// qemu (scripts/kernels-fetch.sh fetches them) and on this machine's kernel, each next to
// the model's prediction with that kernel's profile (its version's switches and the
// constants measured on it).
#pragma once
#include <ostream>
#include <string>
#include <vector>

namespace eo {

struct KernelsOptions {
  std::vector<std::string> kernels;  // labels of kernels-fetch.sh; empty: all of them
  bool host = true;                  // this machine's kernel as a column
  std::string cache_dir;             // images, guest files; "" = default_cache_dir()
  std::string format = "human";      // human, json, ktap
  bool all_rows = false;             // human: every trace, not only those not ok everywhere
  int jobs = 3;                      // guests at once: 3 on 2 cores, as guests wait in part (sleep steps, settling)
  int timeout_s = 600;               // per guest: boot, corpus and power-off
  int boot_timeout_s = 120;          // per guest: until its /init's first line; then booted once more
  int guest_watchdog_ms = 10000;     // the kernel executor's watchdog inside a guest (TCG is slow)
  int host_watchdog_ms = 2000;
  bool progress = true;
  std::string guest_init;            // the guests' /init ("" = guest/init.cpp's build); another one tests failures
};

// $EPOLL_ORACLE_CACHE, else $XDG_CACHE_HOME/epoll-oracle, else ~/.cache/epoll-oracle.
std::string default_cache_dir();

// `kernels fetch`: runs scripts/kernels-fetch.sh; its status.
int cmd_kernels_fetch(const std::string& cache_dir, const std::vector<std::string>& kernels, std::ostream& err);

// `kernels`: exit 0 when, on every kernel whose @kernel range holds the trace, the kernel
// gives the written results and the model predicts them; 1 on any disagreement or a
// guest that did not finish; 2 on bad input; 3 when the only gaps are traces beyond the
// kernel executor's limits.
int cmd_kernels(const KernelsOptions& o, const std::vector<std::string>& files, const std::string& corpus_dir,
                std::ostream& out, std::ostream& err);

}  // namespace eo
