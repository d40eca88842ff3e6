// model/tcp.cpp, inet_connection_sock.cpp and af_inet.cpp against Linux: each expected
// mask or result is what Linux 6.18.44 gave on loopback (a probe of the same calls, and
// the traces under traces/tcp/), or the rule of net/ipv4 named in the test.
#include <gtest/gtest.h>

#include <vector>

#include "model/af_inet.h"
#include "model/inet_connection_sock.h"
#include "inet_fixture.h"

namespace {

using namespace model;
using eo_test::ModelSys;

constexpr poll_t kOut = EPOLLOUT | EPOLLWRNORM;
constexpr poll_t kIn = EPOLLIN | EPOLLRDNORM;
constexpr poll_t kRdhup = kIn | EPOLLRDHUP;

struct Tcp : eo_test::InetSys<SOCK_STREAM_> {
  int listener(int backlog = 8, int flags = SOCK_NONBLOCK_) {
    const int l = sock(flags);
    EXPECT_EQ(bind_fresh(l), 0);
    EXPECT_EQ(k.listen(main(), l, backlog), 0);
    return l;
  }
  long connect(int fd, int to, Task* task = nullptr) { return k.connect(task ? *task : main(), fd, addr(to)); }
  long accept(int l, int flags = SOCK_NONBLOCK_) { return k.accept4(main(), l, flags); }
  // A connected pair: [client, accepted].
  std::pair<int, int> pair() {
    l_ = listener();
    const int c = sock();
    EXPECT_EQ(connect(c, l_), -EINPROGRESS);
    const int a = static_cast<int>(accept(l_));
    EXPECT_GE(a, 0);
    return {c, a};
  }
  long linger(int fd, int secs) {
    const int l[2] = {1, secs};
    return k.setsockopt(main(), fd, SOL_SOCKET_, SO_LINGER_, l, sizeof l);
  }
  int l_ = -1;
};

TEST(Tcp, FreshSocketIsOutAndHup) {  // tcp_poll: TCP_CLOSE gives EPOLLHUP (epoll-shim #3)
  Tcp s;
  EXPECT_EQ(s.mask(s.sock()), kOut | EPOLLHUP);
}

TEST(Tcp, ListenerIsReadableOnlyWithAQueuedConnection) {  // inet_csk_listen_poll
  Tcp s;
  const int l = s.listener();
  EXPECT_EQ(s.mask(l), 0u);
  EXPECT_EQ(s.accept(l), -EAGAIN);
  const int c = s.sock();
  EXPECT_EQ(s.connect(c, l), -EINPROGRESS);  // the state was SYN_SENT when tested
  EXPECT_EQ(s.mask(c), kOut);                  // connected by the time the call returned
  EXPECT_EQ(s.mask(l), kIn);
  const long a = s.accept(l);
  EXPECT_GE(a, 0);
  EXPECT_EQ(s.mask(l), 0u);
  EXPECT_EQ(s.mask(static_cast<int>(a)), kOut);
  // connect again: SS_CONNECTING, now ESTABLISHED: 0 (SS_CONNECTED); then EISCONN.
  EXPECT_EQ(s.connect(c, l), 0);
  EXPECT_EQ(s.connect(c, l), -EISCONN);
}

TEST(Tcp, BlockingConnectReturnsZero) {
  Tcp s;
  const int l = s.listener();
  const int c = s.sock(0);
  EXPECT_EQ(s.connect(c, l), 0);
}

TEST(Tcp, RefusedConnectIsOutErrHupAndSoErrorClearsErr) {
  Tcp s;
  const int gone = s.sock();
  ASSERT_EQ(s.bind_fresh(gone), 0);
  auto a = s.addr(gone);
  s.close(gone);
  const int c = s.sock();
  EXPECT_EQ(s.k.connect(s.main(), c, a), -EINPROGRESS);
  EXPECT_EQ(s.mask(c), kRdhup | kOut | EPOLLERR | EPOLLHUP);
  EXPECT_EQ(s.so_error(c), ECONNREFUSED);
  EXPECT_EQ(s.mask(c), kRdhup | kOut | EPOLLHUP);
  // A blocking connect sees the RST itself: ECONNREFUSED, then tcp_disconnect clears
  // sk_shutdown (a fresh socket's mask again).
  const int b = s.sock(0);
  EXPECT_EQ(s.k.connect(s.main(), b, a), -ECONNREFUSED);
  EXPECT_EQ(s.mask(b), kOut | EPOLLHUP);
}

TEST(Tcp, PeerFinIsInRdhupWithOutAndOwnShutWrKeepsOut) {  // mio #933/#939; tcp_poll
  Tcp s;
  auto [c, a] = s.pair();
  EXPECT_EQ(s.k.shutdown(s.main(), a, SHUT_WR_), 0);
  EXPECT_EQ(s.mask(c), kRdhup | kOut);
  EXPECT_EQ(s.mask(a), kOut);
  EXPECT_EQ(s.read(c, 10), 0);
  EXPECT_EQ(s.write(a, 1), -EPIPE);
  // Both directions shut: EPOLLHUP on both (mio #1110), and both are CLOSE.
  EXPECT_EQ(s.k.shutdown(s.main(), c, SHUT_WR_), 0);
  EXPECT_EQ(s.mask(c), kRdhup | kOut | EPOLLHUP);
  EXPECT_EQ(s.mask(a), kRdhup | kOut | EPOLLHUP);
}

TEST(Tcp, LingerZeroCloseResetsThePeer) {  // tcp_disconnect -> tcp_reset
  Tcp s;
  auto [c, a] = s.pair();
  EXPECT_EQ(s.linger(a, 0), 0);
  EXPECT_EQ(s.close(a), 0);
  EXPECT_EQ(s.mask(c), kRdhup | kOut | EPOLLERR | EPOLLHUP);
  EXPECT_EQ(s.read(c, 10), -ECONNRESET);
  EXPECT_EQ(s.mask(c), kRdhup | kOut | EPOLLHUP);
  EXPECT_EQ(s.read(c, 10), 0);
}

TEST(Tcp, CloseWithUnreadDataSendsRst) {  // __tcp_close: data_was_unread
  Tcp s;
  auto [c, a] = s.pair();
  EXPECT_EQ(s.write(c, 5), 5);
  EXPECT_EQ(s.close(a), 0);
  EXPECT_EQ(s.mask(c) & EPOLLERR, EPOLLERR);
  EXPECT_EQ(s.write(c, 1), -ECONNRESET);
  EXPECT_EQ(s.write(c, 1), -EPIPE);
}

TEST(Tcp, FullAcceptQueueLeavesTheClientInSynSent) {  // sk_acceptq_is_full: backlog 0 holds 1
  Tcp s;
  const int l = s.listener(0);
  const int c1 = s.sock(), c2 = s.sock();
  EXPECT_EQ(s.connect(c1, l), -EINPROGRESS);
  EXPECT_EQ(s.connect(c2, l), -EINPROGRESS);
  EXPECT_EQ(s.mask(c1), kOut);
  EXPECT_EQ(s.mask(c2), 0u);  // SYN_SENT: nothing
  EXPECT_EQ(s.connect(c2, l), -EALREADY);
}

TEST(Tcp, BlockedAcceptsAreWokenOneAtATimeInFifoOrder) {  // inet_csk_wait_for_connect
  Tcp s;
  const int l = s.listener(8, 0);
  EXPECT_EQ(s.k.accept4(s.t("t1"), l, 0), kBlocked);
  EXPECT_EQ(s.k.accept4(s.t("t2"), l, 0), kBlocked);
  const int c1 = s.sock();
  EXPECT_EQ(s.connect(c1, l), -EINPROGRESS);
  EXPECT_FALSE(s.t("t1").pending);
  EXPECT_TRUE(s.t("t2").pending);
  EXPECT_GE(s.t("t1").result, 0);
  const int c2 = s.sock();
  EXPECT_EQ(s.connect(c2, l), -EINPROGRESS);
  EXPECT_FALSE(s.t("t2").pending);
  // shutdown(SHUT_RD) of a listener ends blocked accepts with EINVAL (inet_shutdown).
  EXPECT_EQ(s.k.accept4(s.t("t3"), l, 0), kBlocked);
  EXPECT_EQ(s.k.shutdown(s.main(), l, SHUT_RD_), 0);
  EXPECT_FALSE(s.t("t3").pending);
  EXPECT_EQ(s.t("t3").result, -EINVAL);
}

TEST(Tcp, RcvlowatHoldsBackEpollinAndItsWakeup) {  // tcp_poll target, tcp_data_ready
  Tcp s;
  auto [c, a] = s.pair();
  const int ep = s.epoll();
  EXPECT_EQ(s.add(ep, a, EPOLLIN | EPOLLET), 0);
  EXPECT_EQ(s.setopt(a, SO_RCVLOWAT_, 10), 0);
  EXPECT_EQ(s.write(c, 4), 4);
  EXPECT_TRUE(s.wait(ep).empty());
  EXPECT_EQ(s.write(c, 6), 6);
  EXPECT_EQ(s.wait(ep).size(), 1u);
  EXPECT_EQ(s.read(a, 3), 3);  // a non-blocking read takes what there is, below the mark too
  EXPECT_EQ(s.mask(a), kOut);
  // Lowering the mark signals at once (tcp_set_rcvlowat -> tcp_data_ready).
  EXPECT_EQ(s.setopt(a, SO_RCVLOWAT_, 1), 0);
  EXPECT_EQ(s.wait(ep).size(), 1u);
}

TEST(Tcp, WriteSpaceReturnsAfterThePeerDrains) {  // sk_stream_write_space, tcp_check_space
  Tcp s;
  auto [c, a] = s.pair();
  const int ep = s.epoll();
  EXPECT_EQ(s.add(ep, c, EPOLLOUT | EPOLLET), 0);
  EXPECT_EQ(s.wait(ep).size(), 1u);
  const long filled = s.fill(c);
  const TcpCalibration& cal = s.k.profile().tcp_cal;
  EXPECT_EQ(filled, cal.rcv_capacity + cal.snd_capacity);
  EXPECT_EQ(s.mask(c), 0u);
  EXPECT_TRUE(s.wait(ep).empty());
  EXPECT_EQ(s.drain(a), filled);  // the window opens as the reader reads: everything comes
  EXPECT_EQ(s.mask(c), kOut);
  EXPECT_EQ(s.wait(ep).size(), 1u);
}

TEST(Tcp, ListenerCloseResetsQueuedConnections) {  // inet_csk_listen_stop
  Tcp s;
  const int l = s.listener();
  const int c = s.sock();
  EXPECT_EQ(s.connect(c, l), -EINPROGRESS);
  EXPECT_EQ(s.close(l), 0);
  EXPECT_EQ(s.mask(c), kRdhup | kOut | EPOLLERR | EPOLLHUP);
  EXPECT_EQ(s.read(c, 1), -ECONNRESET);
}

TEST(Tcp, BindToAHeldPortIsEaddrinuseUnlessBothReuse) {  // inet_csk_bind_conflict
  Tcp s;
  const int a = s.sock(), b = s.sock();
  ASSERT_EQ(s.bind_fresh(a), 0);
  auto addr = s.addr(a);
  EXPECT_EQ(s.k.bind(s.main(), b, addr), -EADDRINUSE);
  const int c = s.sock(), d = s.sock();
  EXPECT_EQ(s.setopt(c, SO_REUSEADDR_, 1), 0);
  EXPECT_EQ(s.setopt(d, SO_REUSEADDR_, 1), 0);
  ASSERT_EQ(s.bind_fresh(c), 0);
  auto ca = s.addr(c);
  EXPECT_EQ(s.k.bind(s.main(), d, ca), 0);
}

TEST(Tcp, NothingIsLeftAfterTheFilesClose) {
  Tcp s;
  {
    auto [c, a] = s.pair();
    s.close(c);
    s.close(a);
    s.close(s.l_);
  }
  EXPECT_EQ(s.k.globals().live_files, 0);
  EXPECT_TRUE(s.k.globals().inet->established.empty());
}

}  // namespace
