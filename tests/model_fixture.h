// Shorthands for driving the model in tests: one Kernel, calls on task "main" unless a
// task is named. Every helper returns exactly what the facade returns.
#pragma once
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "model/kernel.h"
#include "model/uapi.h"

namespace eo_test {

using namespace model;

struct ModelSys {
  explicit ModelSys(KernelProfile p = KernelProfile{}) : k(std::move(p)) {}
  Kernel k;
  Task& main() { return k.task("main"); }
  Task& t(const std::string& name) { return k.task(name); }

  std::pair<int, int> pipe(int flags = O_NONBLOCK_) {
    int fds[2] = {-1, -1};
    EXPECT_EQ(k.pipe2(main(), fds, flags), 0);
    return {fds[0], fds[1]};
  }
  std::pair<int, int> socketpair(int type_flags = SOCK_NONBLOCK_) {
    int sv[2] = {-1, -1};
    EXPECT_EQ(k.socketpair(main(), AF_UNIX_, SOCK_STREAM_ | type_flags, 0, sv), 0);
    return {sv[0], sv[1]};
  }
  int eventfd(unsigned init = 0, int flags = EFD_NONBLOCK) { return static_cast<int>(k.eventfd2(main(), init, flags)); }
  int epoll() { return static_cast<int>(k.epoll_create1(main(), 0)); }

  long ctl(int ep, int op, int fd, poll_t events = 0, uint64_t data = 0) {
    EpollEvent ev{events, data};
    return k.epoll_ctl(main(), ep, op, fd, &ev);
  }
  long add(int ep, int fd, poll_t events, uint64_t data) { return ctl(ep, EPOLL_CTL_ADD, fd, events, data); }
  long add(int ep, int fd, poll_t events) { return add(ep, fd, events, static_cast<uint64_t>(fd)); }
  long mod(int ep, int fd, poll_t events) { return ctl(ep, EPOLL_CTL_MOD, fd, events, static_cast<uint64_t>(fd)); }
  long del(int ep, int fd) { return k.epoll_ctl(main(), ep, EPOLL_CTL_DEL, fd, nullptr); }

  // epoll_wait that must not block: the events returned.
  std::vector<EpollEvent> wait(int ep, int maxevents = 8, int timeout = 0) {
    const long r = k.epoll_wait(main(), ep, maxevents, timeout);
    EXPECT_GE(r, 0);
    EXPECT_NE(r, kBlocked);
    return main().events;
  }
  long wait_rc(int ep, int maxevents = 8, int timeout = 0) { return k.epoll_wait(main(), ep, maxevents, timeout); }
  // A task blocks in epoll_wait (asserts it did).
  void block_in_wait(const std::string& task, int ep, int maxevents = 1, int timeout = -1) {
    EXPECT_EQ(k.epoll_wait(t(task), ep, maxevents, timeout), kBlocked) << task;
  }

  long write(int fd, size_t n) {
    std::vector<char> buf(n, 'x');
    return k.write(main(), fd, buf.data(), n);
  }
  long read(int fd, size_t n) {
    std::vector<char> buf(n);
    return k.read(main(), fd, buf.data(), n);
  }
  long efd_write(int fd, uint64_t v) { return k.write(main(), fd, &v, sizeof v); }
  long efd_read(int fd, uint64_t* out = nullptr) {
    uint64_t v = 0;
    const long r = k.read(main(), fd, &v, sizeof v);
    if (out) *out = v;
    return r;
  }
  // fill/drain of the trace language: chunks until EAGAIN; the total moved.
  long fill(int fd, size_t chunk = 65536) {
    long total = 0;
    for (;;) {
      const long r = write(fd, chunk);
      if (r < 0) return total ? total : r;
      total += r;
    }
  }
  long drain(int fd, size_t chunk = 65536) {
    long total = 0;
    for (;;) {
      const long r = read(fd, chunk);
      if (r == 0) return total;
      if (r < 0) return r == -EAGAIN ? total : r;
      total += r;
    }
  }
  long close(int fd) { return k.close(main(), fd); }
  int dup(int fd) { return static_cast<int>(k.dup(main(), fd)); }
  // poll(2) on one fd: its revents (or the negative error).
  long poll1(int fd, short events) {
    const long r = k.poll(main(), {PollFd{fd, events, 0}}, 0);
    if (r < 0) return r;
    return static_cast<uint16_t>(main().pollfds[0].revents);
  }
  // The current mask of one fd as LT epoll sees it (a fresh epoll, all bits armed).
  poll_t mask(int fd) {
    const int ep = epoll();
    add(ep, fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI | EPOLLRDNORM | EPOLLWRNORM | EPOLLRDBAND | EPOLLWRBAND);
    auto ev = wait(ep);
    close(ep);
    return ev.empty() ? 0 : ev[0].events;
  }
};

inline std::vector<EpollEvent> evs(std::initializer_list<std::pair<uint64_t, poll_t>> l) {
  std::vector<EpollEvent> v;
  for (auto [d, e] : l) v.push_back({e, d});
  return v;
}

}  // namespace eo_test

namespace model {
inline void PrintTo(const EpollEvent& e, std::ostream* os) { *os << "{data=" << e.data << " events=0x" << std::hex << e.events << std::dec << "}"; }
}  // namespace model
