#include "qemu_guest.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#include "oracle/corpus.h"

namespace eo {

std::string tail_lines(const std::string& text, int lines) {
  size_t at = text.size();
  if (at > 0 && text[at - 1] == '\n') --at;
  for (int n = 0; n < lines && at != std::string::npos && at > 0; ++n) at = text.rfind('\n', at - 1);
  return at == std::string::npos || at == 0 ? text : text.substr(at + 1);
}

namespace {

// The prefix of every console line of the guest's /init (guest/init.cpp say()).
constexpr const char* kInitMark = "eo-init [";

// ": Kernel panic - not syncing: ..." from a console, "" without one: the line a stack
// dump pushes out of the tail.
std::string panic_line(const std::string& console) {
  const size_t at = console.find("Kernel panic");
  if (at == std::string::npos) return "";
  std::string line = console.substr(at, console.find('\n', at) - at);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return ": " + line;
}

std::vector<std::string> qemu_command(const GuestBoot& b) {
  std::string append = "console=ttyS0 panic=-1 quiet";
  if (!b.guest_args.empty()) append += " eo.args=" + fmt::format("{}", fmt::join(b.guest_args, ","));
  if (b.nofile > 0) append += " eo.nofile=" + std::to_string(b.nofile);
  std::vector<std::string> cmd = {"qemu-system-x86_64", "-accel", "tcg", "-smp", std::to_string(b.cpus), "-m",
                                  std::to_string(b.memory_mb), "-kernel", b.kernel, "-initrd", b.initramfs, "-append",
                                  append, "-display", "none", "-no-reboot", "-nodefaults", "-no-user-config",
                                  "-serial", "file:" + b.work_dir + "/console.log", "-serial",
                                  "file:" + b.work_dir + "/results.jsonl"};
  // An ELF vmlinux starts at its PVH entry: qboot is enough and starts in no time.
  if (b.kernel.size() >= 8 && b.kernel.ends_with("vmlinux")) {
    cmd.insert(cmd.end(), {"-bios", "/usr/share/qemu/qboot.rom"});
  }
  return cmd;
}

}  // namespace

GuestResult boot_guest(const GuestBoot& b) {
  GuestResult r;
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::string> cmd = qemu_command(b);
  std::vector<char*> argv;
  for (std::string& a : cmd) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string log = b.work_dir + "/qemu.log";
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    // A guest dies with the matrix: a `kernels` killed (^C, a CI timeout) leaves no qemu
    // running on, writing into the cache's run directory of the next matrix.
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(127);
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int null = open("/dev/null", O_RDONLY);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
    }
    if (null >= 0) dup2(null, STDIN_FILENO);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  if (pid < 0) {
    r.error = std::string("cannot start qemu: ") + std::strerror(errno);
    return r;
  }
  int status = 0;
  const auto deadline = start + std::chrono::seconds(b.timeout_s);
  const auto boot_deadline = start + std::chrono::seconds(std::min(b.boot_timeout_s, b.timeout_s));
  std::string console;
  bool boot_hang = false;
  for (int polls = 0; waitpid(pid, &status, WNOHANG) == 0; ++polls) {
    const auto now = std::chrono::steady_clock::now();
    if (!r.came_up && polls % 50 == 0) {  // once a second
      read_file(b.work_dir + "/console.log", &console);
      r.came_up = console.find(kInitMark) != std::string::npos;
      boot_hang = !r.came_up && now > boot_deadline;
    }
    if (now > deadline || boot_hang) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      r.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string results, qemu_log;
  read_file(b.work_dir + "/console.log", &console);
  r.came_up = console.find(kInitMark) != std::string::npos;
  read_file(b.work_dir + "/results.jsonl", &results);
  read_file(log, &qemu_log);
  r.console_tail = tail_lines(console, 25);
  const size_t end = results.rfind("=== end ");
  if (end != std::string::npos && (end == 0 || results[end - 1] == '\n')) {
    r.ended = true;
    r.status = std::atoi(results.c_str() + end + 8);
    r.results = results.substr(0, end);
  } else {
    r.results = results;
  }
  if (boot_hang) r.error = fmt::format("the guest did not come up within {} s (no line of its /init): qemu killed{}", b.boot_timeout_s, panic_line(console));
  else if (r.timed_out) r.error = fmt::format("no end within {} s (watchdog): qemu killed{}", b.timeout_s, panic_line(console));
  else if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && !r.ended) r.error = "cannot run qemu-system-x86_64: " + tail_lines(qemu_log, 3);
  else if (!r.ended) r.error = "the guest stopped without its end line" + panic_line(console) + (qemu_log.empty() ? "" : "; qemu: " + tail_lines(qemu_log, 3));
  else if (r.status == 125) r.error = "the guest's /init could not prepare the system (see its console)";
  else if (r.status != 0) r.error = fmt::format("the guest's executor exited with status {}", r.status);
  return r;
}

}  // namespace eo
