// model/af_unix_dgram.cpp against net/unix/af_unix.c (gregkh/linux 0d60e99f2d3e, 6.18.30)
// unix_dgram_ops and net/core/datagram.c. Expected values are results of Linux 6.18.44
// recorded in traces/unix-dgram/ (named in each test), or rules of af_unix.c named there.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model/af_inet.h"
#include "model/af_unix.h"
#include "model/af_unix_dgram.h"
#include "model/af_unix_seqpacket.h"
#include "model/coverage.h"
#include "model_fixture.h"

namespace {

using namespace model;
using eo_test::ModelSys;

std::pair<int, int> dgram_pair(ModelSys& s, int type = SOCK_DGRAM_ | SOCK_NONBLOCK_) {
  int sv[2] = {-1, -1};
  EXPECT_EQ(s.k.socketpair(s.main(), AF_UNIX_, type, 0, sv), 0);
  return {sv[0], sv[1]};
}

UnixSocketFile& file(ModelSys& s, int fd) { return dynamic_cast<UnixSocketFile&>(*s.k.fdtable().fget(fd)); }
UnixSock& sk(ModelSys& s, int fd) { return *file(s, fd).sk; }

// POLL* bits are the EPOLL* ones (include/uapi/linux/eventpoll.h).
constexpr short POLLIN_ = EPOLLIN, POLLOUT_ = EPOLLOUT, POLLRDHUP_ = EPOLLRDHUP;

// unix_create: SOCK_RAW is SOCK_DGRAM; SOCK_SEQPACKET is not modelled (traces/unix-dgram/raw-pair).
TEST(UnixDgram, RawIsDgramSeqpacketIsItsOwnType) {
  ModelSys s;
  auto [a, b] = dgram_pair(s, SOCK_RAW_ | SOCK_NONBLOCK_);
  EXPECT_NE(dynamic_cast<UnixDgramSocketFile*>(&file(s, a)), nullptr);
  EXPECT_EQ(sk(s, a).type, SOCK_DGRAM_);
  EXPECT_EQ(s.write(a, 10), 10);
  EXPECT_EQ(s.write(a, 20), 20);
  EXPECT_EQ(s.read(b, 100), 10);
  EXPECT_EQ(s.read(b, 100), 20);
  EXPECT_EQ(s.read(b, 100), -EAGAIN);
  int sv[2];
  ASSERT_EQ(s.k.socketpair(s.main(), AF_UNIX_, SOCK_SEQPACKET_, 0, sv), 0);
  EXPECT_NE(dynamic_cast<UnixSeqpacketSocketFile*>(&file(s, sv[0])), nullptr);
  EXPECT_EQ(sk(s, sv[0]).type, SOCK_SEQPACKET_);
}

// One datagram per read, the rest of a long one discarded (traces/unix-dgram/boundaries).
TEST(UnixDgram, BoundariesAndTruncation) {
  ModelSys s;
  auto [a, b] = dgram_pair(s);
  EXPECT_EQ(s.write(a, 100), 100);
  EXPECT_EQ(s.write(a, 1), 1);
  EXPECT_EQ(s.write(a, 0), 0);
  EXPECT_EQ(s.write(a, 300), 300);
  EXPECT_EQ(s.read(b, 1000), 100);
  EXPECT_EQ(s.read(b, 1000), 1);
  EXPECT_EQ(s.read(b, 1000), 0);
  EXPECT_EQ(s.read(b, 10), 10);
  EXPECT_EQ(s.read(b, 1000), -EAGAIN);
  EXPECT_EQ(sk(s, a).wmem_alloc, 1) << "every datagram freed gives its charge back";
}

// sndbuf accounting of sock_alloc_send_pskb, the queue limit skipped for a pair, EMSGSIZE
// (traces/unix-dgram/fill-no-qlen).
TEST(UnixDgram, FillTotalsIgnoreMaxDgramQlen) {
  ModelSys s;
  auto [a, b] = dgram_pair(s);
  EXPECT_EQ(s.fill(a, 1), 278);
  EXPECT_EQ(s.poll1(a, POLLOUT_), 0);
  EXPECT_EQ(s.drain(b, 1), 278);
  EXPECT_EQ(s.fill(a), 262144);
  EXPECT_EQ(s.drain(b), 262144);
  EXPECT_EQ(s.write(a, 212960), 212960);
  EXPECT_EQ(s.write(a, 212961), -EMSGSIZE);
}

// unix_write_space wakes only once wmem * 4 <= sndbuf (traces/unix-dgram/epollout-after-read).
TEST(UnixDgram, EpolloutEdgeAfterReads) {
  ModelSys s;
  auto [a, b] = dgram_pair(s);
  const int ep = s.epoll();
  s.add(ep, a, EPOLLOUT | EPOLLET);
  EXPECT_EQ(s.wait(ep).size(), 1u);
  EXPECT_EQ(s.fill(a, 16384), 180224);
  for (int i = 0; i < 9; ++i) {
    EXPECT_TRUE(s.wait(ep).empty()) << i;
    EXPECT_EQ(s.read(b, 16384), 16384);
  }
  EXPECT_EQ(s.wait(ep), eo_test::evs({{static_cast<uint64_t>(a), EPOLLOUT}}));
}

// receiver_wake_function filters a write-space key; shutdown's NULL key wakes; a blocking
// read of a shut-down socket gives 0 (traces/unix-dgram/blocked-reader).
TEST(UnixDgram, BlockedReaderIgnoresWriteSpace) {
  ModelSys s;
  auto [a, b] = dgram_pair(s, SOCK_DGRAM_);
  char buf[100];
  Task& t1 = s.t("t1");
  EXPECT_EQ(s.k.read(t1, b, buf, sizeof buf), kBlocked);
  EXPECT_EQ(s.write(a, 42), 42);
  EXPECT_TRUE(t1.completed);
  EXPECT_EQ(t1.result, 42);
  EXPECT_EQ(s.k.read(t1, b, buf, sizeof buf), kBlocked);
  EXPECT_EQ(s.write(b, 10), 10);
  EXPECT_EQ(s.read(a, 100), 10);  // unix_write_space(b): EPOLLOUT key on b's queue
  EXPECT_FALSE(t1.completed);
  EXPECT_EQ(s.k.shutdown(s.main(), b, SHUT_RD_), 0);
  EXPECT_TRUE(t1.completed);
  EXPECT_EQ(t1.result, 0);
}

// The refused write-space wakeup does not use up the one exclusive wakeup: an
// EPOLLEXCLUSIVE epoll waiter queued behind the reader gets it
// (traces/unix-dgram/reader-filters-write-space).
TEST(UnixDgram, FilteredReaderLeavesExclusiveWakeupToEpoll) {
  ModelSys s;
  auto [a, b] = dgram_pair(s, SOCK_DGRAM_);
  const int ep = s.epoll();
  char buf[100];
  Task& t1 = s.t("t1");
  EXPECT_EQ(s.k.read(t1, b, buf, sizeof buf), kBlocked);
  EXPECT_EQ(s.add(ep, b, EPOLLOUT | EPOLLET | EPOLLEXCLUSIVE), 0);
  EXPECT_EQ(s.wait(ep).size(), 1u);
  s.block_in_wait("t2", ep, 8);
  EXPECT_EQ(s.write(b, 10), 10);
  EXPECT_EQ(s.read(a, 100), 10);
  EXPECT_FALSE(t1.completed);
  EXPECT_TRUE(s.t("t2").completed);
  EXPECT_EQ(s.t("t2").events, eo_test::evs({{static_cast<uint64_t>(b), EPOLLOUT}}));
}

// __skb_wait_for_more_packets waits exclusively at the tail (traces/unix-dgram/two-readers).
TEST(UnixDgram, ReadersWokenOneByOneFifo) {
  ModelSys s;
  auto [a, b] = dgram_pair(s, SOCK_DGRAM_);
  char b1[10], b2[10];
  Task& t1 = s.t("t1");
  Task& t2 = s.t("t2");
  EXPECT_EQ(s.k.read(t1, b, b1, sizeof b1), kBlocked);
  EXPECT_EQ(s.k.read(t2, b, b2, sizeof b2), kBlocked);
  EXPECT_EQ(s.write(a, 1), 1);
  EXPECT_TRUE(t1.completed);
  EXPECT_FALSE(t2.completed);
  EXPECT_EQ(s.write(a, 2), 2);
  EXPECT_TRUE(t2.completed);
  EXPECT_EQ(t2.result, 2);
}

// unix_release_sock leaves a dgram peer's state alone; its first send finds the peer dead:
// ECONNREFUSED, the queue purged, then ENOTCONN (traces/unix-dgram/peer-close).
TEST(UnixDgram, PeerCloseThenEconnrefusedThenEnotconn) {
  ModelSys s;
  auto [a, b] = dgram_pair(s);
  const int ep = s.epoll();
  s.add(ep, a, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET);
  EXPECT_EQ(s.write(b, 10), 10);
  EXPECT_EQ(s.write(b, 20), 20);
  EXPECT_EQ(s.write(a, 30), 30);
  EXPECT_EQ(s.wait(ep).size(), 1u);
  EXPECT_EQ(s.close(b), 0);
  EXPECT_EQ(s.wait(ep), eo_test::evs({{static_cast<uint64_t>(a), EPOLLIN | EPOLLOUT}}));
  EXPECT_EQ(s.poll1(a, POLLIN_ | POLLOUT_ | POLLRDHUP_), POLLIN_ | POLLOUT_);
  EXPECT_EQ(s.read(a, 100), 10);
  EXPECT_EQ(s.write(a, 5), -ECONNREFUSED);
  EXPECT_EQ(s.wait(ep), eo_test::evs({{static_cast<uint64_t>(a), EPOLLOUT}}));
  EXPECT_EQ(s.read(a, 100), -EAGAIN);
  EXPECT_EQ(s.write(a, 5), -ENOTCONN);
  EXPECT_EQ(sk(s, a).wmem_alloc, 1);
}

// unix_shutdown of a dgram socket sets only its own bits (traces/unix-dgram/shutdown).
TEST(UnixDgram, ShutdownIsOneSided) {
  ModelSys s;
  auto [a, b] = dgram_pair(s);
  EXPECT_EQ(s.k.shutdown(s.main(), a, SHUT_WR_), 0);
  EXPECT_EQ(s.write(a, 1), -EPIPE);
  EXPECT_EQ(s.write(b, 1), 1);
  EXPECT_EQ(s.k.shutdown(s.main(), a, SHUT_RD_), 0);
  EXPECT_EQ(sk(s, b).shutdown, 0);
  EXPECT_EQ(s.write(b, 1), -EPIPE);
  EXPECT_EQ(s.read(a, 10), 1);
  EXPECT_EQ(s.read(a, 10), -EAGAIN) << "non-blocking: __skb_try_recv_datagram never looks at RCV_SHUTDOWN";
}

// An abstract AF_UNIX address: the family, a NUL, then the name.
std::vector<uint8_t> abstract(const std::string& name) {
  std::vector<uint8_t> a{AF_UNIX_, 0, 0};
  a.insert(a.end(), name.begin(), name.end());
  return a;
}
int dgram_socket(ModelSys& s, int flags = SOCK_NONBLOCK_) {
  return static_cast<int>(s.k.socket(s.main(), AF_UNIX_, SOCK_DGRAM_ | flags, 0));
}
// A datagram socket bound to `name`.
int receiver(ModelSys& s, const std::string& name) {
  const int r = dgram_socket(s);
  EXPECT_EQ(s.k.bind(s.main(), r, abstract(name)), 0);
  return r;
}

// unix_dgram_connect's errors (traces/unix-dgram/connect-errors): no such name, a name
// of another type, an address of the family alone, a receiver connected elsewhere.
TEST(UnixDgramConnect, Errors) {
  ModelSys s;
  const int a = receiver(s, "a"), b = receiver(s, "b"), x = dgram_socket(s);
  const int l = static_cast<int>(s.k.socket(s.main(), AF_UNIX_, SOCK_STREAM_ | SOCK_NONBLOCK_, 0));
  ASSERT_EQ(s.k.bind(s.main(), l, abstract("l")), 0);
  EXPECT_EQ(s.k.connect(s.main(), x, abstract("nobody")), -ECONNREFUSED);
  EXPECT_EQ(s.k.connect(s.main(), x, abstract("l")), -ECONNREFUSED) << "the type is part of the name";
  EXPECT_EQ(s.k.connect(s.main(), x, {AF_UNIX_, 0}), -EINVAL);
  EXPECT_EQ(s.k.connect(s.main(), x, {AF_UNIX_}), -EINVAL);
  EXPECT_EQ(s.write(x, 1), -ENOTCONN);
  ASSERT_EQ(s.k.connect(s.main(), a, abstract("b")), 0);
  EXPECT_EQ(s.k.connect(s.main(), x, abstract("a")), -EPERM) << "unix_may_send: a's peer is b";
  EXPECT_EQ(sk(s, x).peer, nullptr);
  EXPECT_EQ(s.k.connect(s.main(), x, abstract("b")), 0);
  EXPECT_EQ(sk(s, x).peer, file(s, b).sk);
  EXPECT_EQ(sk(s, x).addr, std::nullopt) << "no autobind without SO_PASSCRED";
}

// Many senders to one bound receiver (traces/unix-dgram/many-to-one-full): the queue
// limit, then one read relays EPOLLOUT to every registered sender.
TEST(UnixDgramConnect, ManyToOnePeerWake) {
  ModelSys s;
  const int r = receiver(s, "r"), s1 = dgram_socket(s), s2 = dgram_socket(s);
  ASSERT_EQ(s.k.connect(s.main(), s1, abstract("r")), 0);
  ASSERT_EQ(s.k.connect(s.main(), s2, abstract("r")), 0);
  const int ep1 = s.epoll(), ep2 = s.epoll();
  s.add(ep1, s1, EPOLLOUT | EPOLLET);
  s.add(ep2, s2, EPOLLOUT);
  EXPECT_EQ(s.wait(ep1).size(), 1u);
  EXPECT_EQ(s.wait(ep2).size(), 1u);
  const long qlen = s.k.profile().unix_cal.max_dgram_qlen;
  EXPECT_EQ(s.fill(s1, 10), 10 * (qlen + 1));
  EXPECT_EQ(s.write(s2, 10), -EAGAIN);
  EXPECT_TRUE(s.wait(ep1).empty());
  EXPECT_TRUE(s.wait(ep2).empty());
  EXPECT_EQ(sk(s, s2).peer_wake_other, &sk(s, r));
  EXPECT_EQ(s.read(r, 100), 10);
  EXPECT_EQ(s.wait(ep1), eo_test::evs({{static_cast<uint64_t>(s1), EPOLLOUT}}));
  EXPECT_EQ(s.wait(ep2), eo_test::evs({{static_cast<uint64_t>(s2), EPOLLOUT}}));
}

// The receiver closes (traces/unix-dgram/receiver-closes): nothing sets the senders'
// sk_err; each finds the dead peer at its next send; the name is free.
TEST(UnixDgramConnect, ReceiverClosed) {
  ModelSys s;
  const int r = receiver(s, "r"), s1 = dgram_socket(s);
  ASSERT_EQ(s.k.connect(s.main(), s1, abstract("r")), 0);
  ASSERT_EQ(s.write(s1, 10), 10);
  ASSERT_EQ(s.close(r), 0);
  EXPECT_EQ(s.poll1(s1, POLLIN_ | POLLOUT_ | POLLRDHUP_), POLLOUT_);
  EXPECT_EQ(s.write(s1, 10), -ECONNREFUSED);
  EXPECT_EQ(sk(s, s1).state, TCP_CLOSE_);
  EXPECT_EQ(s.write(s1, 10), -ENOTCONN);
  const int r2 = receiver(s, "r");
  EXPECT_EQ(s.k.connect(s.main(), s1, abstract("r")), 0);
  EXPECT_EQ(s.write(s1, 10), 10);
  EXPECT_EQ(s.read(r2, 100), 10);
}

// Reconnecting (traces/unix-dgram/reconnect): the datagrams of the old peer are purged
// and, as it is connected back, it gets ECONNRESET; the same peer again still wakes
// our writers (unix_dgram_peer_wake_disconnect_wakeup runs before the comparison).
TEST(UnixDgramConnect, ReconnectPurgesAndWakes) {
  ModelSys s;
  const int a = receiver(s, "a"), b = receiver(s, "b"), c = receiver(s, "c");
  ASSERT_EQ(s.k.connect(s.main(), a, abstract("b")), 0);
  ASSERT_EQ(s.k.connect(s.main(), b, abstract("a")), 0);
  ASSERT_EQ(s.write(b, 10), 10);
  const int ep = s.epoll();
  s.add(ep, a, EPOLLOUT | EPOLLET);
  EXPECT_EQ(s.wait(ep).size(), 1u);
  ASSERT_EQ(s.k.connect(s.main(), a, abstract("c")), 0);
  EXPECT_TRUE(sk(s, a).receive_queue.empty());
  EXPECT_EQ(sk(s, b).err, ECONNRESET);
  EXPECT_EQ(s.wait(ep), eo_test::evs({{static_cast<uint64_t>(a), EPOLLOUT}}));
  ASSERT_EQ(s.k.connect(s.main(), a, abstract("c")), 0);
  EXPECT_EQ(s.wait(ep), eo_test::evs({{static_cast<uint64_t>(a), EPOLLOUT}})) << "same peer: woken too";
  EXPECT_EQ(s.write(b, 1), -ECONNRESET) << "sock_alloc_send_pskb reports the error first";
  EXPECT_EQ(s.write(b, 1), -EPERM);
  (void)c;
}

// AF_UNSPEC dissolves the association (unix_dgram_connect's 1003.1g branch; a trace cannot
// name AF_UNSPEC, so only this test reaches it).
TEST(UnixDgramConnect, AfUnspecDisconnects) {
  ModelSys s;
  const int r = receiver(s, "r"), x = dgram_socket(s);
  ASSERT_EQ(s.k.connect(s.main(), x, abstract("r")), 0);
  ASSERT_EQ(s.k.connect(s.main(), r, abstract("r")), 0) << "a receiver may connect to itself";
  EXPECT_EQ(s.k.connect(s.main(), x, {0, 0}), 0);
  EXPECT_EQ(sk(s, x).peer, nullptr);
  EXPECT_EQ(sk(s, x).state, TCP_CLOSE_);
  EXPECT_EQ(s.write(x, 1), -ENOTCONN);
  EXPECT_EQ(s.write(r, 1), 1);
  EXPECT_EQ(s.read(r, 10), 1);
}

// sk_setsockopt SO_SNDBUF (traces/unix-dgram/so-sndbuf): doubled, at least
// SOCK_MIN_SNDBUF (4608 on 6.18.44), capped at net.core.wmem_max; sk_write_space wakes.
TEST(UnixDgramConnect, SoSndbuf) {
  ModelSys s;
  const int r = receiver(s, "r"), x = dgram_socket(s);
  ASSERT_EQ(s.k.connect(s.main(), x, abstract("r")), 0);
  auto set = [&](int v) { return s.k.setsockopt(s.main(), x, SOL_SOCKET_, SO_SNDBUF_, &v, sizeof v); };
  ASSERT_EQ(set(1), 0);
  EXPECT_EQ(sk(s, x).sndbuf, 4608);
  EXPECT_EQ(s.write(x, 4577), -EMSGSIZE);
  ASSERT_EQ(set(4096), 0);
  const int ep = s.epoll();
  s.add(ep, x, EPOLLOUT | EPOLLET);
  EXPECT_EQ(s.wait(ep).size(), 1u);
  EXPECT_EQ(s.fill(x, 1000), 4000);
  EXPECT_TRUE(s.wait(ep).empty());
  ASSERT_EQ(set(100000), 0);
  EXPECT_EQ(s.wait(ep), eo_test::evs({{static_cast<uint64_t>(x), EPOLLOUT}})) << "sk_write_space";
  ASSERT_EQ(set(-1), 0);
  EXPECT_EQ(sk(s, x).sndbuf, 2 * s.k.profile().tcp_cal.core_wmem_max);
  (void)r;
}

// The shared __skb_recv_datagram loop: each caller's sleep is reported under its own rule.
TEST(UnixDgramConnect, RecvDatagramSleepRuleIsTheCallers) {
  ModelSys s;
  RuleCoverage cov;
  s.k.set_observer(&cov);
  const int r = dgram_socket(s, 0);
  char buf[8];
  EXPECT_EQ(s.k.read(s.t("t1"), r, buf, sizeof buf), kBlocked);
  EXPECT_EQ(cov.count(Rule::kUnixDgramRecvSleeps), 1u);
  EXPECT_EQ(cov.count(Rule::kUnixAcceptSleeps), 0u);
  const int l = static_cast<int>(s.k.socket(s.main(), AF_UNIX_, SOCK_STREAM_, 0));
  ASSERT_EQ(s.k.bind(s.main(), l, abstract("l")), 0);
  ASSERT_EQ(s.k.listen(s.main(), l, 1), 0);
  EXPECT_EQ(s.k.accept4(s.t("t2"), l, 0), kBlocked);
  EXPECT_EQ(cov.count(Rule::kUnixAcceptSleeps), 1u);
  EXPECT_EQ(cov.count(Rule::kUnixDgramRecvSleeps), 1u);
  s.k.set_observer(nullptr);
}

// The queue limit and the peer_wake relay, which only an asymmetric association reaches:
// a sends to c, whose own peer is gone (connect(a, c) leaves the same state). Rules:
// unix_recvq_full_lockless (len > sk_max_ack_backlog), unix_dgram_sendmsg (EAGAIN after
// unix_dgram_peer_wake_me), unix_dgram_poll, __unix_dgram_recvmsg waking peer_wait,
// unix_dgram_peer_wake_relay, unix_wait_for_peer.
struct Asymmetric : ::testing::Test {
  ModelSys s;
  int a = -1, b = -1, c = -1, d = -1, ep = -1;
  void SetUp() override {
    std::tie(a, b) = dgram_pair(s);
    std::tie(c, d) = dgram_pair(s);
    ASSERT_EQ(s.close(d), 0);
    ASSERT_EQ(s.write(c, 1), -ECONNREFUSED);  // unix_peer(c) = NULL now
    ASSERT_EQ(s.k.bind(s.main(), c, abstract("c")), 0);
    ASSERT_EQ(s.k.connect(s.main(), a, abstract("c")), 0);  // a's old peer b is connected back: purge, reset
    ASSERT_EQ(sk(s, a).peer, file(s, c).sk);
    ep = s.epoll();
    s.add(ep, a, EPOLLOUT | EPOLLET);
    ASSERT_EQ(s.wait(ep).size(), 1u);
  }
};

TEST_F(Asymmetric, QueueFullEagainThenRelayedEpollout) {
  const long qlen = s.k.profile().unix_cal.max_dgram_qlen;
  EXPECT_EQ(s.fill(a, 1), qlen + 1) << "full once more than max_dgram_qlen are queued";
  EXPECT_EQ(sk(s, a).peer_wake_other, &sk(s, c)) << "the failed send registered on c's peer_wait";
  EXPECT_EQ(s.poll1(a, POLLOUT_), 0);
  EXPECT_TRUE(s.wait(ep).empty());
  EXPECT_EQ(s.poll1(a, POLLIN_), 0) << "no write event asked: no EPOLLOUT test";
  EXPECT_EQ(s.read(c, 10), 1);  // wakes c's peer_wait: the relay wakes a's queue
  EXPECT_EQ(sk(s, a).peer_wake_other, nullptr);
  EXPECT_EQ(s.wait(ep), eo_test::evs({{static_cast<uint64_t>(a), EPOLLOUT}}));
  EXPECT_EQ(s.write(a, 1), 1);
  EXPECT_EQ(s.write(a, 1), -EAGAIN);
}

TEST_F(Asymmetric, BlockedSenderWaitsOnPeerWait) {
  file(s, a).f_flags &= ~O_NONBLOCK_;
  const long qlen = s.k.profile().unix_cal.max_dgram_qlen;
  for (long i = 0; i <= qlen; ++i) ASSERT_EQ(s.write(a, 1), 1);
  char x = 'x';
  Task& t1 = s.t("t1");
  EXPECT_EQ(s.k.write(t1, a, &x, 1), kBlocked);
  EXPECT_TRUE(sk(s, c).peer_wait.active());
  EXPECT_EQ(s.read(c, 10), 1);
  EXPECT_TRUE(t1.completed);
  EXPECT_EQ(t1.result, 1);
  EXPECT_EQ(sk(s, c).receive_queue.size(), static_cast<size_t>(qlen + 1));
}

}  // namespace
