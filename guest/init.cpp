// The /init of the guests of `epoll-oracle kernels`: makes the minimal system the kernel
// executor needs, runs the project's executor on the traces of the initramfs, sends its
// results on the second serial port and powers the machine off. Linked statically: the
// initramfs holds nothing else it could use besides the executor and its libraries.
#include <fcntl.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

// The console (ttyS0): what a person reads when a guest fails.
void say(const std::string& text) {
  std::string uptime;
  std::ifstream("/proc/uptime") >> uptime;
  const std::string line = "eo-init [" + uptime + "]: " + text + "\n";
  if (::write(STDERR_FILENO, line.data(), line.size()) < 0) {
  }
}

bool mount_one(const char* type, const char* where) {
  mkdir(where, 0755);
  if (mount(type, where, type, 0, nullptr) == 0 || errno == EBUSY) return true;
  say(std::string("mount ") + type + " on " + where + ": " + std::strerror(errno));
  return false;
}

// A new kernel's loopback is down: TCP traces would fail with ENETUNREACH.
bool loopback_up() {
  const int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return false;
  ifreq req{};
  std::strncpy(req.ifr_name, "lo", IFNAMSIZ - 1);
  bool ok = ioctl(s, SIOCGIFFLAGS, &req) == 0;
  req.ifr_flags = static_cast<short>(req.ifr_flags | IFF_UP | IFF_RUNNING);
  ok = ok && ioctl(s, SIOCSIFFLAGS, &req) == 0;
  if (!ok) say(std::string("bringing lo up: ") + std::strerror(errno));
  close(s);
  return ok;
}

// The kernel executor tells a blocked call by /proc/self/task/TID/syscall: a thread
// blocked in read(2) on an empty pipe must show syscall number 0 there.
bool blocked_detection_works() {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return false;
  long tid = 0;
  std::thread reader([&] {
    tid = syscall(SYS_gettid);
    char c;
    if (::read(p[0], &c, 1) < 0) {
    }
  });
  std::string first;
  for (int i = 0; i < 200 && first != "0"; ++i) {
    usleep(10000);
    std::ifstream f("/proc/self/task/" + std::to_string(tid) + "/syscall");
    f >> first;
  }
  if (::write(p[1], "x", 1) < 0) {
  }
  reader.join();
  close(p[0]);
  close(p[1]);
  if (first != "0") say("/proc/self/task/TID/syscall does not show a thread blocked in read (got '" + first + "')");
  return first == "0";
}

// Raw bytes on the results port: no \n -> \r\n translation.
int open_results_port() {
  const int fd = open("/dev/ttyS1", O_WRONLY | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    say(std::string("/dev/ttyS1: ") + std::strerror(errno));
    return -1;
  }
  termios t{};
  if (tcgetattr(fd, &t) == 0) {
    cfmakeraw(&t);
    cfsetspeed(&t, B115200);
    tcsetattr(fd, TCSANOW, &t);
  }
  return fd;
}

void write_all(int fd, const std::string& text) {
  const char* p = text.data();
  size_t left = text.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    p += n;
    left -= static_cast<size_t>(n);
  }
}

// The value of KEY=VALUE on the kernel command line, "" if absent.
std::string cmdline_value(const std::string& key) {
  std::ifstream f("/proc/cmdline");
  for (std::string word; f >> word;) {
    if (word.rfind(key + "=", 0) == 0) return word.substr(key.size() + 1);
  }
  return "";
}

// eo.args=A,B,C: the executor's arguments after the traces dir.
std::vector<std::string> executor_args() {
  std::vector<std::string> args;
  std::stringstream ss(cmdline_value("eo.args"));
  for (std::string a; std::getline(ss, a, ',');) args.push_back(a);
  return args;
}

// eo.nofile=N: the host's RLIMIT_NOFILE, so that traces near the descriptor limit (and
// the model, which reads the limit) see the same one as on the host; a new kernel's init
// starts with 1024.
bool set_nofile() {
  const std::string value = cmdline_value("eo.nofile");
  if (value.empty()) return true;
  const rlimit r{std::stoul(value), std::stoul(value)};
  if (setrlimit(RLIMIT_NOFILE, &r) == 0) return true;
  say("setrlimit(RLIMIT_NOFILE, " + value + "): " + std::strerror(errno));
  return false;
}

// Calibration reads /boot/config-RELEASE: the initramfs has the config as /boot/config.
void link_config() {
  utsname u{};
  uname(&u);
  const std::string target = std::string("/boot/config-") + u.release;
  if (symlink("config", target.c_str()) != 0 && errno != EEXIST) say("no /boot/config link: " + std::string(std::strerror(errno)));
}

int run_executor(int out) {
  std::vector<std::string> args = {"/bin/epoll-oracle", "kernels", "guest-run", "/traces"};
  for (std::string& a : executor_args()) args.push_back(std::move(a));
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out, STDOUT_FILENO);
    execv(argv[0], argv.data());
    say(std::string("exec /bin/epoll-oracle: ") + std::strerror(errno));
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

int main() {
  bool ok = mount_one("devtmpfs", "/dev") && mount_one("proc", "/proc") && mount_one("sysfs", "/sys") &&
            mount_one("tmpfs", "/tmp");
  say("up");  // the host's boot watchdog waits for this first line (GuestBoot::boot_timeout_s)
  ok = ok && mount_one("mqueue", "/dev/mqueue");
  link_config();
  ok = ok && set_nofile() && loopback_up() && blocked_detection_works();
  const int out = open_results_port();
  int rc = 125;  // the guest could not run the executor
  say(ok && out >= 0 ? "running the executor" : "not running the executor");
  if (ok && out >= 0) rc = run_executor(out);
  if (out >= 0) {
    write_all(out, "=== end " + std::to_string(rc) + "\n");
    tcdrain(out);
  }
  say("done, status " + std::to_string(rc));
  sync();
  reboot(RB_POWER_OFF);
  return 0;
}
