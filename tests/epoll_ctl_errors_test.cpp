// Every error of epoll_create1, epoll_ctl and epoll_wait, in the kernel's order of checks
// (fs/eventpoll.c do_epoll_create, do_epoll_ctl, do_epoll_wait/ep_check_params). Each
// case was also measured on Linux 6.18 (REPORT j, k).
#include <gtest/gtest.h>

#include "model_fixture.h"

namespace {

using namespace eo_test;
constexpr poll_t IN = EPOLLIN;

struct CtlErrors : ::testing::Test {
  ModelSys s;
  int ep = s.epoll();
  int efd = s.eventfd();
  int closed = [this] {
    const int fd = s.eventfd();
    s.close(fd);
    return fd;
  }();
};

// do_epoll_create: only EPOLL_CLOEXEC is valid; epoll_create: size must be > 0.
TEST_F(CtlErrors, EpollCreate) {
  EXPECT_EQ(s.k.epoll_create1(s.main(), 1), -EINVAL);
  EXPECT_GE(s.k.epoll_create1(s.main(), EPOLL_CLOEXEC), 0);
  EXPECT_EQ(s.k.epoll_create(s.main(), 0), -EINVAL);
  EXPECT_EQ(s.k.epoll_create(s.main(), -1), -EINVAL);
  EXPECT_GE(s.k.epoll_create(s.main(), 1), 0);
}

// SYSCALL epoll_ctl: copy_from_user of the event comes first for every op but DEL.
TEST_F(CtlErrors, BadEventPointerIsEfaultFirst) {
  EXPECT_EQ(s.k.epoll_ctl(s.main(), -1, EPOLL_CTL_ADD, -1, nullptr), -EFAULT);
  EXPECT_EQ(s.k.epoll_ctl(s.main(), ep, 99, efd, nullptr), -EFAULT);
  EXPECT_EQ(s.k.epoll_ctl(s.main(), ep, EPOLL_CTL_DEL, efd, nullptr), -ENOENT);  // DEL ignores it
}

// do_epoll_ctl: epfd, then fd, must be open.
TEST_F(CtlErrors, BadDescriptors) {
  EXPECT_EQ(s.add(-1, efd, IN), -EBADF);
  EXPECT_EQ(s.add(closed, efd, IN), -EBADF);
  EXPECT_EQ(s.add(ep, -1, IN), -EBADF);
  EXPECT_EQ(s.add(ep, closed, IN), -EBADF);
  EXPECT_EQ(s.add(-1, -1, IN), -EBADF);
  EXPECT_EQ(s.ctl(-1, 99, efd, IN), -EBADF);          // bad epfd before invalid op
  EXPECT_EQ(s.add(efd, -1, IN), -EBADF);              // bad fd before "epfd not an epoll"
}

// do_epoll_ctl: f == tf or f not an epoll -> EINVAL; invalid op -> EINVAL after the lookups.
TEST_F(CtlErrors, NotAnEpollAndSelfAndInvalidOp) {
  EXPECT_EQ(s.add(efd, efd, IN), -EINVAL);
  const int other = s.eventfd();
  EXPECT_EQ(s.add(efd, other, IN), -EINVAL);
  EXPECT_EQ(s.add(ep, ep, IN), -EINVAL);
  EXPECT_EQ(s.del(ep, ep), -EINVAL);
  EXPECT_EQ(s.ctl(ep, 99, efd, IN), -EINVAL);
  EXPECT_EQ(s.ctl(ep, 0, efd, IN), -EINVAL);
  EXPECT_EQ(s.ctl(efd, 99, other, IN), -EINVAL);
}

// do_epoll_ctl: EPOLLEXCLUSIVE only on ADD, not on epoll targets, only with
// EPOLLEXCLUSIVE_OK_BITS; checked before the lookup (so before EEXIST / ENOENT).
TEST_F(CtlErrors, ExclusiveRules) {
  EXPECT_EQ(s.ctl(ep, EPOLL_CTL_MOD, efd, IN | EPOLLEXCLUSIVE), -EINVAL);  // not ENOENT
  EXPECT_EQ(s.add(ep, efd, IN | EPOLLEXCLUSIVE | EPOLLONESHOT), -EINVAL);
  EXPECT_EQ(s.add(ep, efd, IN | EPOLLEXCLUSIVE | EPOLLRDHUP), -EINVAL);
  EXPECT_EQ(s.add(ep, efd, IN | EPOLLEXCLUSIVE | EPOLLPRI), -EINVAL);
  const int inner = s.epoll();
  EXPECT_EQ(s.add(ep, inner, IN | EPOLLEXCLUSIVE), -EINVAL);
  EXPECT_EQ(s.add(ep, efd, IN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLET | EPOLLWAKEUP | EPOLLEXCLUSIVE), 0);
  EXPECT_EQ(s.add(ep, efd, IN | EPOLLEXCLUSIVE | EPOLLONESHOT), -EINVAL);  // not EEXIST
  EXPECT_EQ(s.mod(ep, efd, IN), -EINVAL);  // MOD of an exclusive item
  EXPECT_EQ(s.del(ep, efd), 0);
}

// do_epoll_ctl: EEXIST / ENOENT from the rb-tree lookup; events = 0 is fine.
TEST_F(CtlErrors, ExistsAndNotFound) {
  EXPECT_EQ(s.del(ep, efd), -ENOENT);
  EXPECT_EQ(s.mod(ep, efd, IN), -ENOENT);
  EXPECT_EQ(s.add(ep, efd, 0), 0);
  EXPECT_EQ(s.add(ep, efd, IN), -EEXIST);
  EXPECT_EQ(s.mod(ep, efd, 0), 0);
  EXPECT_EQ(s.del(ep, efd), 0);
  EXPECT_EQ(s.del(ep, efd), -ENOENT);
}

// ep_take_care_of_epollwakeup: without CAP_BLOCK_SUSPEND EPOLLWAKEUP is dropped silently.
TEST_F(CtlErrors, EpollwakeupIsIgnored) { EXPECT_EQ(s.add(ep, efd, IN | EPOLLWAKEUP), 0); }

// do_epoll_wait >= 6.15: EBADF first (fdget), then ep_check_params: maxevents, not epoll.
TEST_F(CtlErrors, EpollWaitOrderSince615) {
  EXPECT_EQ(s.wait_rc(-1, 0), -EBADF);
  EXPECT_EQ(s.wait_rc(-1, 1), -EBADF);
  EXPECT_EQ(s.wait_rc(closed, -1), -EBADF);
  EXPECT_EQ(s.wait_rc(efd, 0), -EINVAL);
  EXPECT_EQ(s.wait_rc(efd, 1), -EINVAL);
  EXPECT_EQ(s.wait_rc(ep, 0), -EINVAL);
  EXPECT_EQ(s.wait_rc(ep, -1), -EINVAL);
  EXPECT_EQ(s.wait_rc(ep, EP_MAX_EVENTS + 1), -EINVAL);
  EXPECT_EQ(s.wait_rc(ep, 0x7fffffff), -EINVAL);
  EXPECT_EQ(s.wait_rc(ep, EP_MAX_EVENTS), 0);
  EXPECT_EQ(EP_MAX_EVENTS, 178956970);
}

// Before 6.15 (ep_check_params did not exist): maxevents was checked before the fd.
TEST(EpollWaitLegacy, MaxeventsBeforeFd) {
  ModelSys s(KernelProfile::for_version({6, 12, 0}));
  EXPECT_EQ(s.wait_rc(-1, 0), -EINVAL);
  EXPECT_EQ(s.wait_rc(-1, 1), -EBADF);
}

// ksys_read/ksys_write on a bad fd; epoll files have no read/write: EINVAL.
TEST_F(CtlErrors, ReadWriteDupCloseErrors) {
  EXPECT_EQ(s.read(closed, 8), -EBADF);
  EXPECT_EQ(s.write(-1, 8), -EBADF);
  EXPECT_EQ(s.read(ep, 8), -EINVAL);
  EXPECT_EQ(s.write(ep, 8), -EINVAL);
  EXPECT_EQ(s.dup(closed), -EBADF);
  EXPECT_EQ(s.close(closed), -EBADF);
  EXPECT_EQ(s.k.shutdown(s.main(), closed, SHUT_RD_), -EBADF);
}

// alloc_fd: EMFILE when the table (RLIMIT_NOFILE) is full; pipe2 needs two free numbers.
KernelProfile with_nofile(long n) {
  KernelProfile p;
  p.rlimit_nofile = n;
  return p;
}

TEST(FdLimits, Emfile) {
  ModelSys s(with_nofile(3));
  const int a = s.eventfd(), b = s.eventfd();
  EXPECT_GE(a, 0);
  EXPECT_GE(b, 0);
  int fds[2];
  EXPECT_EQ(s.k.pipe2(s.main(), fds, 0), -EMFILE);
  EXPECT_GE(s.epoll(), 0);
  EXPECT_EQ(s.k.epoll_create1(s.main(), 0), -EMFILE);
  EXPECT_EQ(s.dup(a), -EMFILE);
}

}  // namespace
