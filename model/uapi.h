// Userspace ABI values the model speaks (include/uapi/linux/eventpoll.h, poll.h,
// fcntl.h, eventfd.h, socket.h on x86-64). Defined here so the model needs no
// Linux headers; errno values come from <cerrno>.
#pragma once
#include <cerrno>
#include <cstdint>

namespace model {

using poll_t = uint32_t;  // __poll_t

inline constexpr poll_t EPOLLIN = 0x001;
inline constexpr poll_t EPOLLPRI = 0x002;
inline constexpr poll_t EPOLLOUT = 0x004;
inline constexpr poll_t EPOLLERR = 0x008;
inline constexpr poll_t EPOLLHUP = 0x010;
inline constexpr poll_t EPOLLNVAL = 0x020;
inline constexpr poll_t EPOLLRDNORM = 0x040;
inline constexpr poll_t EPOLLRDBAND = 0x080;
inline constexpr poll_t EPOLLWRNORM = 0x100;
inline constexpr poll_t EPOLLWRBAND = 0x200;
inline constexpr poll_t EPOLLMSG = 0x400;
inline constexpr poll_t EPOLLRDHUP = 0x2000;
inline constexpr poll_t EPOLLEXCLUSIVE = 1u << 28;
inline constexpr poll_t EPOLLWAKEUP = 1u << 29;
inline constexpr poll_t EPOLLONESHOT = 1u << 30;
inline constexpr poll_t EPOLLET = 1u << 31;
// Kernel-internal wake key: the wait queue head is going away (include/uapi/linux/eventpoll.h).
inline constexpr poll_t POLLFREE = 0x4000;

inline constexpr int EPOLL_CTL_ADD = 1;
inline constexpr int EPOLL_CTL_DEL = 2;
inline constexpr int EPOLL_CTL_MOD = 3;

inline constexpr int O_NONBLOCK_ = 04000;
inline constexpr int O_CLOEXEC_ = 02000000;
inline constexpr int O_ACCMODE_ = 03;
inline constexpr int O_CREAT_ = 0100;
inline constexpr int O_EXCL_ = 0200;
inline constexpr int O_DIRECT_ = 040000;
inline constexpr int O_NOTIFICATION_PIPE_ = 0200;  // O_EXCL (include/uapi/linux/watch_queue.h)
inline constexpr int EPOLL_CLOEXEC = O_CLOEXEC_;
inline constexpr int EFD_SEMAPHORE = 1;
inline constexpr int EFD_NONBLOCK = O_NONBLOCK_;
inline constexpr int EFD_CLOEXEC = O_CLOEXEC_;

inline constexpr int AF_UNIX_ = 1;
inline constexpr int AF_INET_ = 2;
inline constexpr int SOCK_STREAM_ = 1;
inline constexpr int SOCK_DGRAM_ = 2;
inline constexpr int SOCK_RAW_ = 3;
inline constexpr int SOCK_SEQPACKET_ = 5;
inline constexpr int SOCK_NONBLOCK_ = O_NONBLOCK_;
inline constexpr int SOCK_CLOEXEC_ = O_CLOEXEC_;
inline constexpr int SOL_SOCKET_ = 1;
inline constexpr int IPPROTO_TCP_ = 6;
inline constexpr int IPPROTO_UDP_ = 17;
inline constexpr int SHUT_RD_ = 0;
inline constexpr int SHUT_WR_ = 1;
inline constexpr int SHUT_RDWR_ = 2;

// struct epoll_event is packed on x86-64: 12 bytes (include/uapi/linux/eventpoll.h).
inline constexpr long kEpollEventSize = 12;
inline constexpr int EP_MAX_EVENTS = static_cast<int>(0x7fffffff / kEpollEventSize);

struct EpollEvent {
  poll_t events = 0;
  uint64_t data = 0;
  friend bool operator==(const EpollEvent&, const EpollEvent&) = default;
};

// struct timespec64 (include/linux/time64.h), the form the kernel's timeouts take.
struct Timespec64 {
  int64_t tv_sec = 0;
  int64_t tv_nsec = 0;
};

struct PollFd {
  int fd = -1;
  short events = 0;
  short revents = 0;
};

}  // namespace model
