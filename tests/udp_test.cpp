// model/udp.cpp against Linux: each expected mask or result is what Linux 6.18.44 gave on
// loopback (the traces under traces/udp/ and probes of the same calls), or the rule of
// net/ipv4/udp.c named in the test.
#include <gtest/gtest.h>

#include <vector>

#include "model/af_inet.h"
#include "model/udp.h"
#include "inet_fixture.h"

namespace {

using namespace model;
using eo_test::ModelSys;

constexpr poll_t kOut = EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND;
constexpr poll_t kIn = EPOLLIN | EPOLLRDNORM;

struct Udp : eo_test::InetSys<SOCK_DGRAM_> {
  long connect(int fd, int to) { return k.connect(main(), fd, addr(to)); }
  // A bound receiver and a sender connected to it: [receiver, sender].
  std::pair<int, int> pair(int rflags = SOCK_NONBLOCK_) {
    const int r = sock(rflags);
    EXPECT_EQ(bind_fresh(r), 0);
    const int s = sock();
    EXPECT_EQ(connect(s, r), 0);
    return {r, s};
  }
};

TEST(Udp, FreshSocketIsWritableOnly) {  // datagram_poll: no HUP for an unconnected socket
  Udp s;
  const int u = s.sock();
  EXPECT_EQ(s.mask(u), kOut);
  EXPECT_EQ(s.write(u, 10), -EDESTADDRREQ);  // udp_sendmsg, no address
  EXPECT_EQ(s.read(u, 10), -EAGAIN);
}

TEST(Udp, EachWriteIsOneDatagramAndEachReadTakesOne) {  // udp_recvmsg; traces/udp/send-receive
  Udp s;
  auto [r, w] = s.pair();
  EXPECT_EQ(s.mask(r), kOut);
  EXPECT_EQ(s.write(w, 10), 10);
  EXPECT_EQ(s.write(w, 0), 0);
  EXPECT_EQ(s.mask(r), kOut | kIn);
  EXPECT_EQ(s.read(r, 5), 5);  // truncated: the other 5 bytes are gone
  EXPECT_EQ(s.read(r, 100), 0);  // the empty datagram
  EXPECT_EQ(s.read(r, 100), -EAGAIN);
  EXPECT_EQ(s.write(w, 65507), 65507);
  EXPECT_EQ(s.write(w, 65508), -EMSGSIZE);  // __ip_append_data: over 0xFFFF with the headers
}

TEST(Udp, EdgeTriggeredEpolloutFiresAfterEverySend) {  // sock_wfree -> sock_def_write_space_wfree
  Udp s;
  auto [r, w] = s.pair();
  const int ep = s.epoll();
  ASSERT_EQ(s.add(ep, w, EPOLLOUT | EPOLLET), 0);
  EXPECT_EQ(s.wait(ep).size(), 1u);
  EXPECT_EQ(s.wait(ep).size(), 0u);
  EXPECT_EQ(s.write(w, 10), 10);
  ASSERT_EQ(s.wait(ep).size(), 1u);  // the edge again
  EXPECT_EQ(s.wait(ep).size(), 0u);
  EXPECT_EQ(s.read(r, 100), 10);
  EXPECT_EQ(s.wait(ep).size(), 0u);  // the reader frees nothing of the sender's
  EXPECT_EQ(s.setopt(w, SO_SNDBUF_, 1), 0);
  EXPECT_EQ(s.wait(ep).size(), 1u);  // __sock_set_sndbuf -> sk_write_space
}

TEST(Udp, FullReceiveQueueDropsAndFreedRoomComesBackLate) {  // __udp_enqueue_schedule_skb, udp_rmem_release
  Udp s;
  auto [r, w] = s.pair();
  ASSERT_EQ(s.setopt(r, SO_RCVBUF_, 4096), 0);  // sk_rcvbuf 8192: 9 datagrams of truesize 832
  for (int i = 0; i < 10; ++i) EXPECT_EQ(s.write(w, 100), 100);  // the 10th is dropped silently
  EXPECT_EQ(s.read(r, 100), 100);
  EXPECT_EQ(s.write(w, 100), 100);  // dropped: 832 freed is under sk_rcvbuf / 4, not given back
  int n = 0;
  while (s.read(r, 100) == 100) ++n;
  EXPECT_EQ(n, 8);  // traces/udp/rcvbuf-full-drops
}

TEST(Udp, EmptyQueueTakesOneDatagramOfAnySize) {  // "Accept the packet if queue is empty"
  Udp s;
  auto [r, w] = s.pair();
  ASSERT_EQ(s.setopt(r, SO_RCVBUF_, 1), 0);  // sk_rcvbuf 2304 (SOCK_MIN_RCVBUF)
  EXPECT_EQ(s.write(w, 60000), 60000);
  EXPECT_EQ(s.write(w, 10), 10);  // dropped
  EXPECT_EQ(s.read(r, 100000), 60000);
  EXPECT_EQ(s.read(r, 100000), -EAGAIN);
}

TEST(Udp, TruesizeFollowsTheCalibratedSteps) {  // SO_MEMINFO on 6.18.44 (real/calibrate)
  Globals g{KernelProfile{}};
  EXPECT_EQ(udp_truesize(g, 0), 832);
  EXPECT_EQ(udp_truesize(g, 197), 832);
  EXPECT_EQ(udp_truesize(g, 198), 1280);
  EXPECT_EQ(udp_truesize(g, 16004), 16640);
  EXPECT_EQ(udp_truesize(g, 16005), 16837);
  EXPECT_EQ(udp_truesize(g, 65507), 66339);
}

TEST(Udp, RefusedPortGivesEpollerrThenTheErrorOnce) {  // udp_rcv -> icmp_send -> __udp4_lib_err
  Udp s;
  const int gone = s.sock();
  ASSERT_EQ(s.bind_fresh(gone), 0);
  const std::vector<uint8_t> a = s.addr(gone);
  ASSERT_EQ(s.k.close(s.main(), gone), 0);
  const int w = s.sock();
  ASSERT_EQ(s.k.connect(s.main(), w, a), 0);
  EXPECT_EQ(s.write(w, 10), 10);
  EXPECT_EQ(s.mask(w), kOut | EPOLLERR);
  EXPECT_EQ(s.read(w, 10), -ECONNREFUSED);  // __skb_recv_udp: sock_error first
  EXPECT_EQ(s.mask(w), kOut);
  EXPECT_EQ(s.write(w, 10), 10);
  EXPECT_EQ(s.so_error(w), ECONNREFUSED);
  EXPECT_EQ(s.so_error(w), 0);
}

TEST(Udp, ConnectedSocketTakesDatagramsFromItsPeerOnly) {  // compute_score: -1 for another source
  Udp s;
  auto [r, w] = s.pair();
  const int other = s.sock();
  ASSERT_EQ(s.bind_fresh(other), 0);
  ASSERT_EQ(s.connect(r, other), 0);
  EXPECT_EQ(s.write(w, 10), 10);
  EXPECT_EQ(s.so_error(w), ECONNREFUSED);
  EXPECT_EQ(s.read(r, 100), -EAGAIN);
}

TEST(Udp, PeerPortZeroTakesDatagramsFromAnyPort) {  // compute_score: inet_dport only when set
  Udp s;
  const int u0 = s.sock();
  ASSERT_EQ(s.connect(u0, u0), 0);  // never bound: 0.0.0.0 port 0; connect autobinds
  const int u1 = s.sock();
  ASSERT_EQ(s.connect(u1, u0), 0);
  EXPECT_EQ(s.write(u1, 3), 3);
  EXPECT_EQ(s.read(u0, 10), 3);  // traces/udp/connect-to-port-zero
  EXPECT_EQ(s.so_error(u1), 0);
}

TEST(Udp, BlockedReadersAreExclusiveAndShutdownEndsThemWithZero) {  // __skb_wait_for_more_packets
  Udp s;
  auto [r, w] = s.pair(0);
  std::vector<char> b1(100), b2(100);
  EXPECT_EQ(s.k.read(s.t("t1"), r, b1.data(), b1.size()), kBlocked);
  EXPECT_EQ(s.k.read(s.t("t2"), r, b2.data(), b2.size()), kBlocked);
  EXPECT_EQ(s.write(w, 10), 10);
  EXPECT_FALSE(s.t("t1").pending);
  EXPECT_EQ(s.t("t1").result, 10);
  EXPECT_TRUE(s.t("t2").pending);
  EXPECT_EQ(s.k.shutdown(s.main(), r, SHUT_RD_), -ENOTCONN);  // unconnected: the bits all the same
  EXPECT_FALSE(s.t("t2").pending);
  EXPECT_EQ(s.t("t2").result, 0);
}

TEST(Udp, ShutdownBitsAndEpipe) {  // inet_shutdown, sock_alloc_send_pskb
  Udp s;
  auto [r, w] = s.pair();
  EXPECT_EQ(s.k.shutdown(s.main(), w, SHUT_WR_), 0);
  EXPECT_EQ(s.mask(w), kOut);
  EXPECT_EQ(s.write(w, 10), -EPIPE);
  EXPECT_EQ(s.k.shutdown(s.main(), w, SHUT_RD_), 0);
  EXPECT_EQ(s.mask(w), kOut | kIn | EPOLLRDHUP | EPOLLHUP);
  EXPECT_EQ(s.read(w, 10), -EAGAIN);  // non-blocking: EAGAIN, not 0
  EXPECT_EQ(s.k.shutdown(s.main(), r, 7), -EINVAL);
}

TEST(Udp, PortsConflictUnlessBothReuse) {  // udp_lib_lport_inuse
  Udp s;
  const int a = s.sock(), b = s.sock(), t = static_cast<int>(s.k.socket(s.main(), AF_INET_, SOCK_STREAM_, 0));
  ASSERT_EQ(s.bind_fresh(a), 0);
  EXPECT_EQ(s.k.bind(s.main(), b, s.addr(a)), -EADDRINUSE);
  EXPECT_EQ(s.setopt(b, SO_REUSEADDR_, 1), 0);
  EXPECT_EQ(s.k.bind(s.main(), b, s.addr(a)), -EADDRINUSE);
  EXPECT_EQ(s.setopt(a, SO_REUSEADDR_, 1), 0);
  EXPECT_EQ(s.k.bind(s.main(), b, s.addr(a)), 0);
  EXPECT_EQ(s.k.bind(s.main(), b, s.addr(a)), -EINVAL);  // bound already
  EXPECT_EQ(s.k.bind(s.main(), t, s.addr(a)), 0);         // TCP's ports are apart
  EXPECT_EQ(s.k.listen(s.main(), a, 1), -EOPNOTSUPP);
}

}  // namespace
