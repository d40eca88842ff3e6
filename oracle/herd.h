// `epoll-oracle herd`: thundering-herd scenarios on the model and on this machine's kernel,
// side by side (docs/HERD.md): a table, CSV, JSON and SVG charts; `--sweep` runs the
// worker-count sweep.
#pragma once
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include "common/herd.h"
#include "model/profile.h"

namespace eo::herd {

struct Command {
  std::vector<std::string> files;  // scenario files; none: one scenario from the settings
  // Settings from flags (key, values), applied to every scenario after its file's.
  std::vector<std::pair<std::string, std::vector<std::string>>> settings;
  bool on_model = true, on_kernel = true;
  std::string csv, json, svg_dir;
  bool sweep = false;
  std::vector<int> sweep_workers = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 10000};
  int kernel_max = 64;  // sweep: kernel points up to this many workers
  int watchdog_ms = 10000;
};

// Whether the kernel gives one outcome for s (who consumes each event, how many wake and
// return), and the kernel rule that makes it so or the race that does not.
std::pair<bool, std::string> deterministic(const Scenario& s);

// Exit status: 0 every scenario ran (and each deterministic one agreed exactly), 1 a
// deterministic scenario's model and kernel differ or a run failed, 2 bad input or an
// output file that could not be written.
int cmd_herd(const Command& c, const model::KernelProfile& profile, std::ostream& out, std::ostream& err);

}  // namespace eo::herd
