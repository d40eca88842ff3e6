// model/af_unix.cpp against net/unix/af_unix.c (+ the net/core/sock.c pieces it calls):
// skb truesize accounting and fill totals, the per-skb EPOLLIN wakeups, the EPOLLOUT
// wakeups of unix_write_space, and the masks and errors after close and shutdown.
// Expected values are measurements of Linux 6.18.44 (/tmp/probes/REPORT.md d, e, f; probes
// d_unix_acct.c, e_unix_et.c, e2_unix_writable.c, f_unix_close.c, f2_outq_close.c) or rules
// of net/unix/af_unix.c (UNIX, ColinIanKing/linux-next 24114f6dc0b6) named in each test.
// SIOCOUTQ of a stream socket is sk_wmem_alloc_get() (unix_outq_len): the model's
// UnixSock::wmem_alloc - 1.
#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "model/af_unix.h"
#include "model/observer.h"
#include "model_fixture.h"

namespace {

using namespace model;
using eo_test::ModelSys;

poll_t got(ModelSys& s, int ep) {
  poll_t m = 0;
  for (const EpollEvent& e : s.wait(ep)) m |= e.events;
  return m;
}

UnixSock& sk(ModelSys& s, int fd) { return *dynamic_cast<UnixSocketFile&>(*s.k.fdtable().fget(fd)).sk; }
long outq(ModelSys& s, int fd) { return sk(s, fd).wmem_alloc - 1; }  // SIOCOUTQ

struct Fill {
  long total = 0;
  int writes = 0;
  std::vector<long> partial;  // sizes of short writes
  long err = 0;
};
Fill fill(ModelSys& s, int fd, size_t chunk) {
  Fill f;
  for (;;) {
    const long r = s.write(fd, chunk);
    if (r < 0) {
      f.err = r;
      return f;
    }
    f.total += r;
    f.writes++;
    if (static_cast<size_t>(r) != chunk) f.partial.push_back(r);
  }
}

constexpr poll_t kConnected = EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND;                    // 0x304
constexpr poll_t kBothShut = EPOLLIN | EPOLLOUT | EPOLLHUP | EPOLLRDNORM | EPOLLWRNORM |  // 0x2355
                             EPOLLWRBAND | EPOLLRDHUP;
constexpr poll_t kRcvShut = EPOLLIN | EPOLLOUT | EPOLLRDNORM | EPOLLWRNORM | EPOLLWRBAND | EPOLLRDHUP;  // 0x2345

// ---------------------------------------------------------------------------------------
// Accounting (REPORT d)

// unix_stream_sendmsg + alloc_skb_with_frags: SIOCOUTQ after one write = sum of skb truesizes
// (measured: REPORT.md d)
TEST(Unix, OutqAfterOneWriteMatchesMeasuredTruesize) {
  {
    ModelSys s;
    auto [a, b] = s.socketpair();
    EXPECT_EQ(sk(s, a).sndbuf, 212992) << "SO_SNDBUF of a fresh socket (measured: REPORT.md d)";
    EXPECT_EQ(outq(s, a), 0);
    (void)b;
  }
  const std::vector<std::pair<size_t, long>> rows = {
      {1, 768},         {192, 768},       {193, 1280},      {704, 1280},     {705, 2304},
      {1728, 2304},     {1729, 4352},     {3776, 4352},     {4096, 4864},    {5000, 6400},
      {8192, 8960},     {16384, 17152},   {32768, 33536},   {50000, 51712},  {65536, 67072},
      {100000, 103168}, {106432, 108288}, {120000, 123904},
  };
  for (auto [size, expect] : rows) {
    ModelSys s;
    auto [a, b] = s.socketpair();
    EXPECT_EQ(s.write(a, size), static_cast<long>(size)) << size;
    EXPECT_EQ(outq(s, a), expect) << "write of " << size;
    (void)b;
  }
}

// sock_alloc_send_pskb: a new skb only while sk_wmem_alloc_get < sk_sndbuf; 65536 = 36544 +
// 28992 bytes (measured: REPORT.md d)
TEST(Unix, FillWith65536ByteWrites) {
  ModelSys s;
  auto [a, b] = s.socketpair();
  const Fill f = fill(s, a, 65536);
  EXPECT_EQ(f.total, 233152);
  EXPECT_EQ(f.writes, 4);
  EXPECT_EQ(f.partial, std::vector<long>{36544});
  EXPECT_EQ(f.err, -EAGAIN);
  EXPECT_EQ(outq(s, a), 238336);
  (void)b;
}

// sock_alloc_send_pskb: 768-byte truesize per 1-byte skb (measured: REPORT.md d)
TEST(Unix, FillWithOneByteWrites) {
  ModelSys s;
  auto [a, b] = s.socketpair();
  const Fill f = fill(s, a, 1);
  EXPECT_EQ(f.total, 278);
  EXPECT_EQ(f.writes, 278);
  (void)b;
}

// sock_alloc_send_pskb: 4864-byte truesize per 4096-byte skb (measured: REPORT.md d)
TEST(Unix, FillWith4096ByteWrites) {
  ModelSys s;
  auto [a, b] = s.socketpair();
  const Fill f = fill(s, a, 4096);
  EXPECT_EQ(f.total, 180224);
  EXPECT_EQ(f.writes, 44);
  EXPECT_TRUE(f.partial.empty());
  (void)b;
}

// unix_stream_sendmsg: a write is cut into skbs; a partial write returns the skbs that were
// allocated (measured: REPORT.md d)
TEST(Unix, FillWith100000ByteWrites) {
  ModelSys s;
  auto [a, b] = s.socketpair();
  const Fill f = fill(s, a, 100000);
  EXPECT_EQ(f.total, 236544);
  EXPECT_EQ(f.writes, 3);
  EXPECT_EQ(f.partial, std::vector<long>{36544});
  (void)b;
}

// sock_alloc_send_pskb: the check is made before each skb, so one write may go past sndbuf
// (measured: REPORT.md d)
TEST(Unix, FillWith212992ByteWritesTakesOneWrite) {
  ModelSys s;
  auto [a, b] = s.socketpair();
  const Fill f = fill(s, a, 212992);
  EXPECT_EQ(f.total, 212992);
  EXPECT_EQ(f.writes, 1);
  (void)b;
}

// unix_stream_sendmsg: skb size min(sndbuf/2 - 64, ...); SO_SNDBUF 4096 is stored doubled as
// sk_sndbuf = 8192 (measured: REPORT.md d; set here on the model's sock directly)
TEST(Unix, FillWithSndbuf8192Is8064) {
  ModelSys s;
  auto [a, b] = s.socketpair();
  sk(s, a).sndbuf = 8192;
  const Fill f = fill(s, a, 65536);
  EXPECT_EQ(f.total, 8064);
  (void)b;
}

// unix_writable: sk_wmem_alloc * 4 <= sk_sndbuf (measured: REPORT.md d)
TEST(Unix, LtOutPresentAfter69OneByteSkbsGoneAfter70) {
  ModelSys s;
  auto [a, b] = s.socketpair();
  for (int i = 0; i < 69; ++i) ASSERT_EQ(s.write(a, 1), 1);
  EXPECT_TRUE(s.mask(a) & EPOLLOUT);
  ASSERT_EQ(s.write(a, 1), 1);
  EXPECT_FALSE(s.mask(a) & EPOLLOUT);
  (void)b;
}

// ---------------------------------------------------------------------------------------
// Edge-triggered watchers (REPORT e)

// sock_wfree -> unix_write_space: EPOLLOUT only when the reader frees a whole skb (measured: REPORT.md e)
TEST(Unix, EtOutFiresOnlyWhenThePeerFullyConsumesAnSkb) {
  ModelSys s;
  auto [a, b] = s.socketpair();
  const int ep = s.epoll();
  ASSERT_EQ(s.add(ep, a, EPOLLOUT | EPOLLET), 0);
  EXPECT_EQ(got(s, ep), EPOLLOUT);
  EXPECT_EQ(got(s, ep), 0u);
  ASSERT_EQ(s.write(a, 10), 10);
  EXPECT_EQ(got(s, ep), 0u);
  ASSERT_EQ(s.read(b, 5), 5);
  EXPECT_EQ(got(s, ep), 0u) << "partly consumed skb is not freed";
  ASSERT_EQ(s.read(b, 5), 5);
  EXPECT_EQ(got(s, ep), EPOLLOUT);
  ASSERT_EQ(s.write(a, 10), 10);
  ASSERT_EQ(s.write(a, 10), 10);
  EXPECT_EQ(got(s, ep), 0u);
  ASSERT_EQ(s.read(b, 20), 20);
  const auto ev = s.wait(ep);
  ASSERT_EQ(ev.size(), 1u) << "two skbs freed, one ready item";
  EXPECT_EQ(ev[0].events, EPOLLOUT);
  EXPECT_EQ(got(s, ep), 0u);
}

// unix_write_space: wakes only if unix_writable after the free (measured: REPORT.md e)
TEST(Unix, EtOutAfterFillFiresOnlyWhenWritableAgain) {
  ModelSys s;
  auto [a, b] = s.socketpair();
  const int ep = s.epoll();
  ASSERT_EQ(s.add(ep, a, EPOLLOUT | EPOLLET), 0);
  EXPECT_EQ(got(s, ep), EPOLLOUT);
  ASSERT_EQ(s.fill(a, 65536), 233152);
  EXPECT_EQ(got(s, ep), 0u);
  EXPECT_FALSE(s.mask(a) & EPOLLOUT);
  ASSERT_EQ(s.read(b, 36544), 36544);
  EXPECT_EQ(outq(s, a), 201216);
  EXPECT_EQ(got(s, ep), 0u);
  for (long expect : {134144L, 67072L}) {
    ASSERT_EQ(s.read(b, 65536), 65536);
    EXPECT_EQ(outq(s, a), expect);
    EXPECT_EQ(got(s, ep), 0u) << "OUTQ " << expect << ": not writable";
  }
  ASSERT_EQ(s.read(b, 65536), 65536);
  EXPECT_EQ(outq(s, a), 0);
  EXPECT_EQ(got(s, ep), EPOLLOUT);
  EXPECT_EQ(s.read(b, 65536), -EAGAIN);
}

// sock_def_readable: one EPOLLIN wakeup per skb queued to the peer (measured: REPORT.md e)
TEST(Unix, EtInFiresOnEverySend) {
  ModelSys s;
  auto [a, b] = s.socketpair();
  const int ep = s.epoll();
  ASSERT_EQ(s.add(ep, b, EPOLLIN | EPOLLET), 0);
  EXPECT_EQ(got(s, ep), 0u);
  ASSERT_EQ(s.write(a, 10), 10);
  EXPECT_EQ(got(s, ep), EPOLLIN);
  ASSERT_EQ(s.write(a, 10), 10);
  EXPECT_EQ(got(s, ep), EPOLLIN) << "data already queued: still a wakeup";
  ASSERT_EQ(s.write(a, 50000), 50000);
  EXPECT_EQ(got(s, ep), EPOLLIN);
  ASSERT_EQ(s.read(b, 5), 5);
  EXPECT_EQ(got(s, ep), 0u);
}

// ---------------------------------------------------------------------------------------
// Close and shutdown (REPORT f)

// unix_poll: connected, writable, nothing queued -> OUT|WRNORM|WRBAND (measured: REPORT.md f)
TEST(Unix, FreshConnectedMask) {
  ModelSys s;
  auto [a, b] = s.socketpair();
  EXPECT_EQ(s.mask(a), kConnected);  // 0x304
  EXPECT_EQ(s.mask(b), kConnected);
}

// unix_release_sock: peer gets SHUTDOWN_MASK; no ECONNRESET when nothing was unread (measured: REPORT.md f)
TEST(Unix, PeerClosedWithNothingUnread) {
  ModelSys s;
  auto [a, b] = s.socketpair();
  ASSERT_EQ(s.close(b), 0);
  EXPECT_EQ(s.mask(a), kBothShut);  // 0x2355
  EXPECT_EQ(s.read(a, 100), 0);
  EXPECT_EQ(s.read(a, 100), 0);
  EXPECT_EQ(s.write(a, 10), -EPIPE);
  EXPECT_EQ(s.mask(a), kBothShut);
}

// unix_stream_read_generic: queued data is read before EOF (measured: REPORT.md f)
TEST(Unix, DataSentBeforeCloseIsReadThenEof) {
  ModelSys s;
  auto [a, b] = s.socketpair();
  ASSERT_EQ(s.write(b, 7), 7);
  ASSERT_EQ(s.close(b), 0);
  EXPECT_EQ(s.read(a, 100), 7);
  EXPECT_EQ(s.read(a, 100), 0);
}

// unix_release_sock: closing with unread data sets the peer's sk_err = ECONNRESET;
// sock_error reports it once (measured: REPORT.md f)
TEST(Unix, PeerClosedWithUnreadDataGivesEconnresetOnceThenEof) {
  ModelSys s;
  auto [a, b] = s.socketpair();
  ASSERT_EQ(s.write(a, 10), 10);
  ASSERT_EQ(s.close(b), 0);
  EXPECT_EQ(s.mask(a), kBothShut | EPOLLERR);  // 0x235d
  EXPECT_EQ(s.read(a, 100), -ECONNRESET);
  EXPECT_EQ(s.mask(a), kBothShut);
  EXPECT_EQ(s.read(a, 100), 0);
  EXPECT_EQ(s.write(a, 10), -EPIPE);
}

// unix_stream_sendmsg: SEND_SHUTDOWN -> EPIPE before sk_err is looked at, so the error stays
// (measured: REPORT.md f)
TEST(Unix, WriteFirstAfterPeerCloseKeepsTheError) {
  ModelSys s;
  auto [a, b] = s.socketpair();
  ASSERT_EQ(s.write(a, 10), 10);
  ASSERT_EQ(s.close(b), 0);
  EXPECT_EQ(s.write(a, 10), -EPIPE);
  EXPECT_EQ(s.mask(a), kBothShut | EPOLLERR);
  EXPECT_EQ(s.read(a, 100), -ECONNRESET);
}

// unix_release_sock: the closer's receive queue is purged (sock_wfree -> unix_write_space of
// the sender) after skpair->sk_state_change (measured: REPORT.md f)
TEST(Unix, PeerCloseWithUnreadDataFreesOutqAndEtOutWatcherGets0x1c) {
  ModelSys s;
  auto [a, b] = s.socketpair();
  ASSERT_EQ(s.write(a, 100000), 100000);
  EXPECT_EQ(outq(s, a), 103168);
  const int ep = s.epoll();
  ASSERT_EQ(s.add(ep, a, EPOLLOUT | EPOLLET), 0);
  got(s, ep);
  ASSERT_EQ(s.close(b), 0);
  EXPECT_EQ(outq(s, a), 0);
  EXPECT_EQ(got(s, ep), EPOLLOUT | EPOLLERR | EPOLLHUP);  // 0x1c
}

// unix_shutdown: SHUT_RD -> self RCV_SHUTDOWN, peer SEND_SHUTDOWN (measured: REPORT.md f)
TEST(Unix, ShutdownRd) {
  ModelSys s;
  auto [a, b] = s.socketpair();
  ASSERT_EQ(s.k.shutdown(s.main(), a, SHUT_RD_), 0);
  EXPECT_EQ(s.mask(a), kRcvShut);    // 0x2345
  EXPECT_EQ(s.mask(b), kConnected);  // 0x304
  EXPECT_EQ(s.read(a, 100), 0);
  EXPECT_EQ(s.write(a, 10), 10);
  EXPECT_EQ(s.read(b, 100), 10);
  EXPECT_EQ(s.write(b, 10), -EPIPE);
}

// unix_shutdown: SHUT_WR -> self SEND_SHUTDOWN, peer RCV_SHUTDOWN (measured: REPORT.md f)
TEST(Unix, ShutdownWr) {
  ModelSys s;
  auto [a, b] = s.socketpair();
  ASSERT_EQ(s.k.shutdown(s.main(), a, SHUT_WR_), 0);
  EXPECT_EQ(s.mask(a), kConnected);  // 0x304: EPOLLOUT is reported after SEND_SHUTDOWN
  EXPECT_EQ(s.mask(b), kRcvShut);    // 0x2345
  EXPECT_EQ(s.read(a, 100), -EAGAIN);
  EXPECT_EQ(s.write(a, 10), -EPIPE);
  EXPECT_EQ(s.read(b, 100), 0);
}

// unix_shutdown: SHUT_RDWR -> both directions on both sides (measured: REPORT.md f)
TEST(Unix, ShutdownRdwr) {
  ModelSys s;
  auto [a, b] = s.socketpair();
  ASSERT_EQ(s.k.shutdown(s.main(), a, SHUT_RDWR_), 0);
  EXPECT_EQ(s.mask(a), kBothShut);
  EXPECT_EQ(s.mask(b), kBothShut);
  EXPECT_EQ(s.read(a, 100), 0);
  EXPECT_EQ(s.read(b, 100), 0);
  EXPECT_EQ(s.write(a, 10), -EPIPE);
  EXPECT_EQ(s.write(b, 10), -EPIPE);
}

// unix_shutdown: SHUT_WR on both sides adds up to SHUTDOWN_MASK on each (measured: REPORT.md f)
TEST(Unix, ShutdownWrOnBothSides) {
  ModelSys s;
  auto [a, b] = s.socketpair();
  ASSERT_EQ(s.k.shutdown(s.main(), a, SHUT_WR_), 0);
  ASSERT_EQ(s.k.shutdown(s.main(), b, SHUT_WR_), 0);
  EXPECT_EQ(s.mask(a), kBothShut);
  EXPECT_EQ(s.mask(b), kBothShut);
}

// unix_stream_read_generic: RCV_SHUTDOWN ends the read only once the queue is empty (measured: REPORT.md f)
TEST(Unix, ShutdownRdStillReadsQueuedData) {
  ModelSys s;
  auto [a, b] = s.socketpair();
  ASSERT_EQ(s.write(b, 5), 5);
  ASSERT_EQ(s.k.shutdown(s.main(), a, SHUT_RD_), 0);
  EXPECT_EQ(s.read(a, 100), 5);
  EXPECT_EQ(s.read(a, 100), 0);
}

// unix_shutdown: mode = how + 1 must be within SHUTDOWN_MASK -> else -EINVAL (measured: REPORT.md f)
TEST(Unix, ShutdownWithHow3IsEinval) {
  ModelSys s;
  auto [a, b] = s.socketpair();
  EXPECT_EQ(s.k.shutdown(s.main(), a, 3), -EINVAL);
  EXPECT_EQ(s.mask(a), kConnected);
  (void)b;
}

// __sys_shutdown: sockfd_lookup_light -> -EBADF for no file, -ENOTSOCK for a non-socket file
TEST(Unix, ShutdownOnAPipeIsEnotsockAndOnABadFdEbadf) {
  ModelSys s;
  auto [r, w] = s.pipe();
  EXPECT_EQ(s.k.shutdown(s.main(), r, SHUT_RD_), -ENOTSOCK);
  EXPECT_EQ(s.k.shutdown(s.main(), w, SHUT_WR_), -ENOTSOCK);
  EXPECT_EQ(s.k.shutdown(s.main(), 99, SHUT_RD_), -EBADF);
}

// ---------------------------------------------------------------------------------------
// Blocking calls

// unix_stream_data_wait: a blocking read sleeps on sk_sleep until sk_data_ready
TEST(Unix, BlockingReadIsWokenByASend) {
  ModelSys s;
  auto [a, b] = s.socketpair(0);
  Task& t = s.t("t1");
  std::vector<char> buf(100);
  EXPECT_EQ(s.k.read(t, b, buf.data(), buf.size()), kBlocked);
  EXPECT_FALSE(t.completed);
  ASSERT_EQ(s.write(a, 12), 12);
  EXPECT_TRUE(t.completed);
  EXPECT_EQ(t.result, 12);
}

// sock_wait_for_wmem: a blocking send sleeps until the peer frees enough skbs
TEST(Unix, BlockingSendIsWokenWhenThePeerReads) {
  ModelSys s;
  auto [a, b] = s.socketpair(0);
  ASSERT_EQ(s.write(a, 212992), 212992);
  Task& t = s.t("t1");
  std::vector<char> buf(1000);
  EXPECT_EQ(s.k.write(t, a, buf.data(), buf.size()), kBlocked);
  EXPECT_FALSE(t.completed);
  ASSERT_EQ(s.read(b, 212992), 212992);
  EXPECT_TRUE(t.completed);
  EXPECT_EQ(t.result, 1000);
}

// ---------------------------------------------------------------------------------------
// The exact wakeups, seen through the observer

struct Recorder final : Observer {
  std::vector<Event> wakeups;
  void on_event(const Event& e) override {
    if (e.kind == EventKind::kWakeUp) wakeups.push_back(e);
  }
};

// sock_def_readable: wake_up_interruptible_sync_poll(&wq->wait, EPOLLIN|EPOLLPRI|EPOLLRDNORM|
// EPOLLRDBAND) per skb; unix_write_space: (..., EPOLLOUT|EPOLLWRNORM|EPOLLWRBAND) per freed skb
TEST(Unix, ObserverSendWakesPeerPerSkbAndConsumeWakesSender) {
  ModelSys s;
  auto [a, b] = s.socketpair();
  const int ep = s.epoll();
  ASSERT_EQ(s.add(ep, a, EPOLLOUT | EPOLLET), 0);
  ASSERT_EQ(s.add(ep, b, EPOLLIN | EPOLLET), 0);
  const WaitQueueHead* wq_a = &sk(s, a).wq;
  const WaitQueueHead* wq_b = &sk(s, b).wq;
  Recorder rec;
  s.k.set_observer(&rec);

  ASSERT_EQ(s.write(a, 50000), 50000);  // 36544 + 13456: two skbs
  ASSERT_EQ(rec.wakeups.size(), 2u);
  for (const Event& e : rec.wakeups) {
    EXPECT_EQ(e.site, "sock_def_readable");
    EXPECT_EQ(e.detail, "wake_up_interruptible_sync_poll");
    EXPECT_EQ(e.queue, wq_b);
    EXPECT_EQ(e.key, EPOLLIN | EPOLLPRI | EPOLLRDNORM | EPOLLRDBAND);
  }

  rec.wakeups.clear();
  ASSERT_EQ(s.read(b, 100), 100);
  EXPECT_TRUE(rec.wakeups.empty()) << "partial read frees no skb";
  ASSERT_EQ(s.read(b, 65536), 49900);
  ASSERT_EQ(rec.wakeups.size(), 2u);
  for (const Event& e : rec.wakeups) {
    EXPECT_EQ(e.site, "unix_write_space");
    EXPECT_EQ(e.detail, "wake_up_interruptible_sync_poll");
    EXPECT_EQ(e.queue, wq_a);
    EXPECT_EQ(e.key, EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND);
  }

  rec.wakeups.clear();
  ASSERT_EQ(s.k.shutdown(s.main(), a, SHUT_WR_), 0);
  ASSERT_EQ(rec.wakeups.size(), 2u) << "sk_state_change of self, then of the peer";
  EXPECT_EQ(rec.wakeups[0].site, "sock_def_wakeup");
  EXPECT_EQ(rec.wakeups[0].detail, "wake_up_interruptible_all");
  EXPECT_EQ(rec.wakeups[0].queue, wq_a);
  EXPECT_EQ(rec.wakeups[0].key, 0u);
  EXPECT_EQ(rec.wakeups[1].queue, wq_b);
  EXPECT_EQ(rec.wakeups[1].key, 0u);
  s.k.set_observer(nullptr);
}

}  // namespace
