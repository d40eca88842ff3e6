#include "real/child.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <string>

namespace real {

namespace {

// A socket address on the wire (sizeof(struct sockaddr_storage) at most).
struct WireAddr {
  uint32_t len = 0;
  uint8_t bytes[128] = {};
  void set(const eo::SockAddr& a) {
    len = static_cast<uint32_t>(std::min(a.size(), sizeof bytes));
    if (len) std::memcpy(bytes, a.data(), len);
  }
  eo::SockAddr get() const { return eo::SockAddr(bytes, bytes + std::min<size_t>(len, sizeof bytes)); }
};

struct CommandHeader {
  uint64_t step = 0;
  uint64_t data = 0;
  uint32_t nfds = 0;
  uint32_t exit = 0;
  uint32_t pre_bind = 0;
  WireAddr addr;
  uint32_t mq_name_len = 0;
  char mq_name[256] = {};  // NAME_MAX + 1
};

struct ResultHeader {
  int64_t ret = 0;
  int32_t fds[2] = {-1, -1};
  uint64_t value = 0;
  uint64_t nevents = 0;
  uint32_t prio = 0;  // mq_receive's
  WireAddr addr[2];
};

struct WireEvent {
  uint32_t events = 0;
  uint32_t pad = 0;
  uint64_t data = 0;
};

// Raw sendto/recvfrom: the channel is never confused with a trace call (read, write...).
bool send_all(int fd, const void* buf, size_t len) {
  const char* p = static_cast<const char*>(buf);
  while (len > 0) {
    const long n = syscall(SYS_sendto, long{fd}, p, len, long{MSG_NOSIGNAL}, nullptr, 0L);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

bool recv_all(int fd, void* buf, size_t len) {
  char* p = static_cast<char*>(buf);
  while (len > 0) {
    const long n = syscall(SYS_recvfrom, long{fd}, p, len, 0L, nullptr, nullptr);
    if (n < 0 && errno == EINTR) continue;  // an interrupt meant for a call that had returned
    if (n <= 0) return false;
    p += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

bool send_result(int chan, const eo::RawResult& raw) {
  ResultHeader h;
  h.ret = raw.ret;
  h.fds[0] = raw.fds[0];
  h.fds[1] = raw.fds[1];
  h.value = raw.value;
  h.nevents = raw.events.size();
  h.prio = raw.prio;
  h.addr[0].set(raw.addr[0]);
  h.addr[1].set(raw.addr[1]);
  if (!send_all(chan, &h, sizeof h)) return false;
  for (const eo::RawEvent& e : raw.events) {
    const WireEvent w{e.events, 0, e.data};
    if (!send_all(chan, &w, sizeof w)) return false;
  }
  return true;
}

// The child: runs the commands of its task until exit() or the end of the channel.
[[noreturn]] void child_main(const ForkContext& ctx) {
  // Killed when the forking thread ends: with the executor, however it ends (signal, crash).
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (getppid() != ctx.parent) _exit(1);
  // The executor's own descriptors (other children's channels, /proc files) are not in
  // the trace's table: only the channel stays. Numbers below fd_base are the trace's.
  if (ctx.child_end > ctx.fd_base) syscall(SYS_close_range, ctx.fd_base, ctx.child_end - 1, 0);
  syscall(SYS_close_range, ctx.child_end + 1, ~0U, 0);
  const int chan = ctx.child_end;
  const std::atomic<bool> never{false};  // the coordinator interrupts the child with signals only
  for (;;) {
    CommandHeader h;
    if (!recv_all(chan, &h, sizeof h)) _exit(0);
    Resolved r;
    r.data = h.data;
    r.pre_bind = h.pre_bind != 0;
    r.addr = h.addr.get();
    r.mq_name.assign(h.mq_name, std::min<size_t>(h.mq_name_len, sizeof h.mq_name));
    r.fds.resize(h.nfds);
    if (h.nfds && !recv_all(chan, r.fds.data(), h.nfds * sizeof(int))) _exit(0);
    const char ack = 1;
    if (!send_all(chan, &ack, 1)) _exit(0);
    if (h.exit) _exit(0);  // do_exit: exit_files closes the table, then the parent sees a zombie
    eo::RawResult raw;
    if (h.step >= ctx.program->steps.size()) {
      raw.ret = -EINVAL;
    } else {
      std::string error;
      const RawCall run = make_raw_call(ctx.program->steps[h.step].call, r, nullptr, &error);
      raw.ret = run ? run(raw, never) : -ENOMEM;
    }
    if (!send_result(chan, raw)) _exit(0);
  }
}

}  // namespace

long fork_child(const ForkContext& ctx) {
  const pid_t pid = fork();
  if (pid == 0) child_main(ctx);
  return pid < 0 ? -errno : pid;
}

bool send_command(int chan, size_t step, const Resolved& r, bool exit) {
  CommandHeader h;
  h.step = step;
  h.data = r.data;
  h.nfds = static_cast<uint32_t>(r.fds.size());
  h.exit = exit;
  h.pre_bind = r.pre_bind;
  h.addr.set(r.addr);
  h.mq_name_len = static_cast<uint32_t>(std::min(r.mq_name.size(), sizeof h.mq_name));
  if (h.mq_name_len) std::memcpy(h.mq_name, r.mq_name.data(), h.mq_name_len);
  return send_all(chan, &h, sizeof h) && (r.fds.empty() || send_all(chan, r.fds.data(), r.fds.size() * sizeof(int)));
}

bool recv_ack(int chan) {
  char ack = 0;
  return recv_all(chan, &ack, 1);
}

bool recv_result(int chan, eo::RawResult& raw) {
  ResultHeader h;
  if (!recv_all(chan, &h, sizeof h)) return false;
  raw.ret = h.ret;
  raw.fds[0] = h.fds[0];
  raw.fds[1] = h.fds[1];
  raw.value = h.value;
  raw.prio = h.prio;
  raw.addr[0] = h.addr[0].get();
  raw.addr[1] = h.addr[1].get();
  raw.events.clear();
  for (uint64_t k = 0; k < h.nevents; ++k) {
    WireEvent w;
    if (!recv_all(chan, &w, sizeof w)) return false;
    raw.events.push_back({w.events, w.data});
  }
  return true;
}

}  // namespace real
