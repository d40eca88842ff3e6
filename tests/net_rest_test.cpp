// real/net_rest: the network part of "settled" (TRACE_FORMAT.md v1.1) on this machine's
// loopback, and its rule on chosen rows.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>
#include <vector>

#include "real/fd.h"
#include "real/net_rest.h"

namespace {

using real::Fd;
using real::NetRest;
using Row = NetRest::Row;

constexpr int kTcp = IPPROTO_TCP;

TEST(NetRest, HalfOpenHandshakesAndUnackedBytesAreNotAtRest) {
  EXPECT_FALSE(NetRest::at_rest({Row{kTcp, 2, 40000, 5000}}, nullptr));                // SYN_SENT
  EXPECT_FALSE(NetRest::at_rest({Row{kTcp, 12, 5000, 40000}}, nullptr));               // NEW_SYN_RECV
  EXPECT_FALSE(NetRest::at_rest({Row{kTcp, 1, 40000, 5000, 0, 0, 1, 0}}, nullptr));    // unacked
  EXPECT_TRUE(NetRest::at_rest({Row{kTcp, 1, 40000, 5000, 0, 0, 1, 1}}, nullptr));     // lost: a timer's
  EXPECT_TRUE(NetRest::at_rest({Row{kTcp, 1, 40000, 5000}, Row{kTcp, 6, 5000, 40001}}, nullptr));
  // A SYN to a listener whose accept queue is full (rqueue > wqueue) waits for its timer.
  EXPECT_TRUE(NetRest::at_rest({Row{kTcp, 2, 40000, 5000}, Row{kTcp, 10, 5000, 0, 2, 1}}, nullptr));
  EXPECT_FALSE(NetRest::at_rest({Row{kTcp, 2, 40000, 5000}, Row{kTcp, 10, 5000, 0, 1, 1}}, nullptr));
}

sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// A TCP listener on 127.0.0.1 with a port the kernel picks; *a gets its address.
Fd listener(int backlog, sockaddr_in* a) {
  Fd l(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  *a = loopback(0);
  socklen_t len = sizeof *a;
  if (::bind(l.get(), reinterpret_cast<sockaddr*>(a), sizeof *a) != 0 || ::listen(l.get(), backlog) != 0 ||
      ::getsockname(l.get(), reinterpret_cast<sockaddr*>(a), &len) != 0) {
    return Fd();
  }
  return l;
}

// Both sources: inet_diag, and /proc/net where inet_diag is a module not loaded (guests).
class NetRestSource : public testing::TestWithParam<NetRest::Source> {};
INSTANTIATE_TEST_SUITE_P(Sources, NetRestSource, testing::Values(NetRest::Source::kAuto, NetRest::Source::kProc));

TEST_P(NetRestSource, SeesTheRunsConnectionsOnLoopback) {
  NetRest net;
  std::string error;
  ASSERT_TRUE(net.open(100, &error, GetParam())) << error;
  sockaddr_in a{};
  Fd l = listener(0, &a);
  ASSERT_TRUE(l);
  Fd c1(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  Fd c2(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  ::connect(c1.get(), reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::connect(c2.get(), reinterpret_cast<sockaddr*>(&a), sizeof a);  // backlog 0: its SYN is dropped
  const std::vector<int> fds{l.get(), c1.get(), c2.get()};
  net.note(fds);
  ASSERT_TRUE(net.any());
  NetRest::View v;
  for (int i = 0; i < 200 && !(v = net.look()).at_rest; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_TRUE(v.at_rest) << v.why;
  int established = 0, syn_sent = 0, listening = 0;
  for (const Row& r : v.rows) {
    established += r.state == 1;
    syn_sent += r.state == 2;
    listening += r.state == 10;
  }
  EXPECT_EQ(established, 2);  // the client and its child in the accept queue
  EXPECT_EQ(syn_sent, 1);
  EXPECT_EQ(listening, 1);
  // The queue has room again, but c2's SYN was dropped: only its retransmission timer
  // (1 s) moves it. It is at rest once it has stayed SYN_SENT for kHandshakeQuiet.
  Fd a1(::accept4(l.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(a1);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 200 && !(v = net.look()).at_rest; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_TRUE(v.at_rest) << v.why;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));  // before the 1 s timer
  syn_sent = 0;
  for (const Row& r : v.rows) syn_sent += r.state == 2 && r.retransmits == 0;
  EXPECT_EQ(syn_sent, 1);
  // A fresh half-open handshake is not at rest until it has been seen for kHandshakeQuiet.
  const std::set<size_t> none;
  EXPECT_FALSE(NetRest::at_rest(v.rows, nullptr, &none));
}

// A connection filled until EAGAIN holds unsent bytes (zero window) and is at rest; both
// sources show the same rows.
TEST(NetRest, ProcShowsWhatInetDiagShows) {
  NetRest diag, proc;
  std::string error;
  ASSERT_TRUE(diag.open(100, &error)) << error;
  ASSERT_TRUE(proc.open(100, &error, NetRest::Source::kProc)) << error;
  sockaddr_in a{};
  Fd l = listener(4, &a);
  ASSERT_TRUE(l);
  Fd c(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(::connect(c.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  Fd s(::accept4(l.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(s);
  static char block[65536];
  while (::send(c.get(), block, sizeof block, MSG_DONTWAIT) > 0) {
  }
  const std::vector<int> fds{l.get(), c.get(), s.get()};
  diag.note(fds);
  proc.note(fds);
  NetRest::View d, p;
  for (int i = 0; i < 500; ++i) {
    d = diag.look();
    p = proc.look();
    if (d.at_rest && p.at_rest && d.rows.size() == 3 && p.rows.size() == 3) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_TRUE(d.at_rest) << d.why;
  EXPECT_TRUE(p.at_rest) << p.why;
  ASSERT_EQ(p.rows.size(), 3u);
  // /proc shows a listener's write_seq - snd_una (0), inet_diag its max_ack_backlog.
  for (Row& r : d.rows) r.wqueue = r.state == 10 ? 0 : r.wqueue;
  EXPECT_EQ(p.rows, d.rows);
  EXPECT_TRUE(std::any_of(p.rows.begin(), p.rows.end(), [](const Row& r) { return r.wqueue > 0; }));  // unsent bytes
}

}  // namespace
