// One guest of `epoll-oracle kernels`: a Debian kernel booted under
// qemu-system-x86_64 -accel tcg (no KVM here, shared/research/qemu_kernels.md) with an
// initramfs, its console and its results (the second serial port) written to files, and
// a watchdog that kills a guest which neither finishes nor powers off in time.
#pragma once
#include <string>
#include <vector>

namespace eo {

struct GuestBoot {
  std::string kernel;     // vmlinux (booted through PVH with qboot) or vmlinuz
  std::string initramfs;
  std::string work_dir;   // console.log, results.jsonl and qemu.log go here
  std::vector<std::string> guest_args;  // handed to the executor (eo.args= on the command line)
  long nofile = 0;                      // RLIMIT_NOFILE the guest's /init sets (eo.nofile=), 0: its own
  int cpus = 2;
  int memory_mb = 1024;
  int timeout_s = 600;
  // A guest whose /init has not said its first line (on the console) by then did not come
  // up: killed at once rather than at timeout_s.
  int boot_timeout_s = 120;
};

struct GuestResult {
  bool ended = false;        // the results end with "=== end STATUS"
  int status = -1;           // that STATUS (the executor's exit status)
  bool timed_out = false;    // the watchdog killed qemu
  bool came_up = false;      // the guest's /init said its first line
  std::string error;         // what went wrong, for the report ("" when ended with status 0)
  std::string results;       // the results port's lines before the end line
  std::string console_tail;  // the last lines of the console
  double seconds = 0;
};

// Boots, waits (at most timeout_s), and collects. Blocking; safe to run in several threads.
GuestResult boot_guest(const GuestBoot& b);

// The last `lines` lines of a text.
std::string tail_lines(const std::string& text, int lines);

}  // namespace eo
