// The argument checks of the model's calls in the kernel's order (6.18 sources unless a
// version is named): fs/read_write.c vfs_read/vfs_write, fs/pipe.c __do_pipe_flags and
// create_pipe_files, net/socket.c __sys_socketpair/__sock_create with unix_create and
// inet_create, fs/file.c alloc_fd at the profile's RLIMIT_NOFILE, fs/select.c do_sys_poll.
#include <gtest/gtest.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "model_fixture.h"

namespace {

using namespace eo_test;

constexpr size_t kHuge = static_cast<size_t>(-1);  // read(fd, buf, -1)

KernelProfile with_nofile(long rlimit, long nr_open = 1L << 20) {
  KernelProfile p;
  p.rlimit_nofile = rlimit;
  p.nr_open = nr_open;
  return p;
}

// vfs_read/vfs_write: EBADF, then EINVAL (no read/write op), then EFAULT, then the file.
TEST(VfsChecks, AccessOkComesBeforeTheFilesOwnRules) {
  ModelSys s;
  auto [r, w] = s.pipe();
  const int e = s.eventfd();
  const int ep = s.epoll();
  char buf[16] = {};
  EXPECT_EQ(s.k.read(s.main(), r, buf, kHuge), -EFAULT);  // empty pipe: not EAGAIN
  EXPECT_EQ(s.k.write(s.main(), w, buf, kHuge), -EFAULT);
  ASSERT_EQ(s.write(w, 10), 10);
  EXPECT_EQ(s.k.read(s.main(), r, buf, kHuge), -EFAULT);  // data waiting: nothing consumed
  EXPECT_EQ(s.read(r, 64), 10);
  EXPECT_EQ(s.k.write(s.main(), e, buf, kHuge), -EFAULT);  // not eventfd_write's EINVAL
  EXPECT_EQ(s.k.read(s.main(), e, buf, kHuge), -EFAULT);
  EXPECT_EQ(s.k.read(s.main(), ep, buf, kHuge), -EINVAL);  // no FMODE_CAN_READ: EINVAL first
  EXPECT_EQ(s.k.write(s.main(), ep, buf, kHuge), -EINVAL);
  EXPECT_EQ(s.k.read(s.main(), w, buf, kHuge), -EBADF);  // not open for reading: EBADF first
  EXPECT_EQ(s.k.write(s.main(), r, buf, kHuge), -EBADF);
  auto [a, b] = s.socketpair();
  ASSERT_EQ(s.write(a, 5), 5);
  EXPECT_EQ(s.k.read(s.main(), b, buf, kHuge), -EFAULT);
  EXPECT_EQ(s.k.write(s.main(), a, buf, kHuge), -EFAULT);
  EXPECT_EQ(s.read(b, 16), 5);
}

// access_ok's bound: a range that ends at TASK_SIZE_MAX passes (an empty non-blocking pipe
// then answers EAGAIN without copying), one byte more does not.
TEST(VfsChecks, AccessOkBoundIsTaskSizeMax) {
  ModelSys s;
  auto [r, w] = s.pipe();
  char buf[1];
  const size_t room = kTaskSizeMax - reinterpret_cast<uintptr_t>(buf);
  EXPECT_EQ(s.k.read(s.main(), r, buf, room), -EAGAIN);
  EXPECT_EQ(s.k.read(s.main(), r, buf, room + 1), -EFAULT);
  EXPECT_TRUE(access_ok(buf, 0));
  EXPECT_FALSE(access_ok(buf, kHuge));  // wraps
  EXPECT_FALSE(access_ok(reinterpret_cast<void*>(kTaskSizeMax + 1), 0));
  (void)w;
}

// __do_pipe_flags: O_NOTIFICATION_PIPE is a flag from 5.8 on; create_pipe_files answers
// ENOPKG without CONFIG_WATCH_QUEUE, before the descriptors are reserved (EMFILE).
TEST(Pipe2Checks, NotificationPipeFollowsVersionAndConfig) {
  int fds[2];
  ModelSys old(KernelProfile::for_version({5, 7, 0}));
  EXPECT_EQ(old.k.pipe2(old.main(), fds, O_NOTIFICATION_PIPE_), -EINVAL);
  ModelSys s;  // 6.18 defaults: no CONFIG_WATCH_QUEUE
  EXPECT_EQ(s.k.pipe2(s.main(), fds, O_NOTIFICATION_PIPE_), -ENOPKG);
  EXPECT_EQ(s.k.pipe2(s.main(), fds, O_NOTIFICATION_PIPE_ | 0x10), -EINVAL);  // the mask first
  ModelSys full(with_nofile(1));
  EXPECT_EQ(full.k.pipe2(full.main(), fds, O_NOTIFICATION_PIPE_), -ENOPKG);  // before EMFILE
  EXPECT_EQ(full.k.pipe2(full.main(), fds, 0), -EMFILE);
}

// With CONFIG_WATCH_QUEUE: a notification pipe is made; anon_pipe_write refuses it (EXDEV,
// even for 0 bytes); nothing posts notifications, so it reads as an empty pipe.
TEST(Pipe2Checks, NotificationPipeWithWatchQueue) {
  KernelProfile p;
  p.config_watch_queue = true;
  ModelSys s(p);
  int fds[2] = {-1, -1};
  ASSERT_EQ(s.k.pipe2(s.main(), fds, O_NOTIFICATION_PIPE_ | O_NONBLOCK_), 0);
  EXPECT_EQ(s.write(fds[1], 1), -EXDEV);
  EXPECT_EQ(s.write(fds[1], 0), -EXDEV);
  EXPECT_EQ(s.read(fds[0], 8), -EAGAIN);
}

long socketpair_of(ModelSys& s, int family, int type, int protocol = 0) {
  int sv[2] = {-1, -1};
  return s.k.socketpair(s.main(), family, type, protocol, sv);
}

// __sys_socketpair: type flags, then both descriptors, then __sock_create: the family's
// range, the type's range, the family's create.
TEST(SocketpairChecks, KernelOrder) {
  ModelSys s;
  EXPECT_EQ(socketpair_of(s, AF_UNIX_, 11), -EINVAL);  // SOCK_MAX before unix_create
  EXPECT_EQ(socketpair_of(s, 2, 11), -EINVAL);
  EXPECT_EQ(socketpair_of(s, 46, 11), -EAFNOSUPPORT);  // the family range first
  EXPECT_EQ(socketpair_of(s, -1, SOCK_STREAM_), -EAFNOSUPPORT);
  EXPECT_EQ(socketpair_of(s, AF_UNIX_, 11 | 0x10), -EINVAL);
  EXPECT_EQ(socketpair_of(s, AF_UNIX_, 0), -ESOCKTNOSUPPORT);
  EXPECT_EQ(socketpair_of(s, AF_UNIX_, SOCK_STREAM_, 2), -EPROTONOSUPPORT);  // unix_create: protocol first
  EXPECT_EQ(socketpair_of(s, AF_UNIX_, 0, 2), -EPROTONOSUPPORT);
  EXPECT_EQ(socketpair_of(s, AF_UNIX_, SOCK_STREAM_, AF_UNIX_), 0);  // PF_UNIX is allowed
  ModelSys full(with_nofile(1));
  EXPECT_EQ(socketpair_of(full, 2, 11), -EMFILE);  // descriptors before __sock_create
  EXPECT_EQ(socketpair_of(full, AF_UNIX_, SOCK_STREAM_ | 0x10), -EINVAL);  // flags before them
}

// inet_create's built-in types with protocol 0, then sock_no_socketpair.
TEST(SocketpairChecks, InetFamilies) {
  ModelSys s;
  for (int family : {2, 10}) {
    EXPECT_EQ(socketpair_of(s, family, SOCK_STREAM_), -EOPNOTSUPP) << family;
    EXPECT_EQ(socketpair_of(s, family, 2), -EOPNOTSUPP) << family;
    EXPECT_EQ(socketpair_of(s, family, 3), -EPROTONOSUPPORT) << family;
    EXPECT_EQ(socketpair_of(s, family, 0), -ESOCKTNOSUPPORT) << family;
    EXPECT_EQ(socketpair_of(s, family, 5), -ESOCKTNOSUPPORT) << family;
  }
}

// Other families: the probed kernel's answer; not probed, no such family. The family range
// is NPROTO of the profile's version (AF_MCTP made it 46 in 5.15).
TEST(SocketpairChecks, ProbedFamilies) {
  KernelProfile p;
  std::vector<std::pair<int, int>> asked;
  p.other_family_socketpair = [&asked](int family, int type) {
    asked.emplace_back(family, type);
    if (family == 16 && type == 3) return EOPNOTSUPP;   // AF_NETLINK SOCK_RAW
    if (family == 17 && type == 10) return EOPNOTSUPP;  // AF_PACKET SOCK_PACKET
    if (family == 45 && type == 1) return ENODEV;
    return EAFNOSUPPORT;
  };
  ModelSys s(p);
  EXPECT_EQ(socketpair_of(s, 16, 3), -EOPNOTSUPP);
  EXPECT_EQ(socketpair_of(s, 2, 10), -EOPNOTSUPP);  // PF_INET + SOCK_PACKET is PF_PACKET
  EXPECT_EQ(socketpair_of(s, 10, 10), -ESOCKTNOSUPPORT);  // not for AF_INET6
  EXPECT_EQ(socketpair_of(s, 0, 1), -EAFNOSUPPORT);
  EXPECT_EQ(socketpair_of(s, 45, 1), -ENODEV);
  KernelProfile old = KernelProfile::for_version({5, 14, 0});
  old.other_family_socketpair = p.other_family_socketpair;
  ModelSys s514(old);
  EXPECT_EQ(socketpair_of(s514, 45, 1), -EAFNOSUPPORT);  // NPROTO 45 before 5.15
  // Asked only for the families the model has no rules for, with protocol 0.
  EXPECT_EQ(asked, (std::vector<std::pair<int, int>>{{16, 3}, {17, 10}, {0, 1}, {45, 1}}));
  ModelSys unprobed;
  EXPECT_EQ(socketpair_of(unprobed, 16, 3), -EAFNOSUPPORT);
}

// alloc_fd below rlimit(RLIMIT_NOFILE); the table never grows to nr_open.
TEST(FdLimitsFromProfile, EmfileAtTheProfilesLimit) {
  ModelSys s(with_nofile(1500));
  for (int i = 0; i < 1500; ++i) ASSERT_EQ(s.eventfd(), i);
  EXPECT_EQ(s.eventfd(), -EMFILE);
  EXPECT_EQ(s.k.close(s.main(), 700), 0);
  EXPECT_EQ(s.eventfd(), 700);  // the lowest free number again
  ModelSys capped(with_nofile(10, 4));
  for (int i = 0; i < 4; ++i) ASSERT_EQ(capped.eventfd(), i);
  EXPECT_EQ(capped.eventfd(), -EMFILE);
}

// do_sys_poll: nfds > rlimit(RLIMIT_NOFILE) is EINVAL; at the limit the call runs.
TEST(FdLimitsFromProfile, PollNfdsAgainstRlimit) {
  ModelSys s(with_nofile(1500));
  const int e = s.eventfd(1);
  std::vector<PollFd> fds(1500, PollFd{-1, 0, 0});
  fds[0] = {e, static_cast<short>(EPOLLIN), 0};
  EXPECT_EQ(s.k.poll(s.main(), fds, 0), 1);  // negative fds are ignored
  fds.push_back({-1, 0, 0});
  EXPECT_EQ(s.k.poll(s.main(), fds, 0), -EINVAL);
}

}  // namespace
