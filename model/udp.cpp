// net/ipv4/udp.c, net/ipv4/datagram.c, net/core/datagram.c and the datagram parts of
// net/ipv4/af_inet.c and net/core/sock.c as of 6.18 (versions read: see udp.h), on
// loopback with immediate delivery.
#include "udp.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <map>

#include "af_inet.h"  // socket option numbers, kSockaddrInSize
#include "af_unix.h"  // RCV_SHUTDOWN, SEND_SHUTDOWN, SHUTDOWN_MASK

namespace model {

// net->ipv4.udp_table for 127.0.0.1: the sockets holding each port.
struct UdpTable {
  std::map<int, std::vector<std::weak_ptr<UdpSock>>> ports;
  // udp_lib_get_port picks a random free port of ip_local_port_range; the model counts
  // down from its top (TCP's ports count up from the bottom, so a TCP connect to a UDP
  // socket's address never finds a TCP listener by coincidence).
  int next_ephemeral = 60999;
  unsigned long hash_counter = 0;
};

namespace {

constexpr int SOCK_MIN_SNDBUF = 2 * (2048 + 256);  // include/net/sock.h, 2 * TCP_SKB_MIN_TRUESIZE
constexpr int SOCK_MIN_RCVBUF = 2048 + 256;        // TCP_SKB_MIN_TRUESIZE
constexpr int kMaxPayload = 0xFFFF - 20 - 8;       // __ip_append_data: 65535 less the IP and UDP headers

UdpTable& udp_table(Globals& g) {
  if (!g.udp) g.udp = std::make_shared<UdpTable>();
  return *g.udp;
}

int port_of(const uint8_t* a) { return (a[2] << 8) | a[3]; }
int family_of(const uint8_t* a, size_t len) { return len >= 2 ? a[0] | (a[1] << 8) : 0; }
uint32_t addr_of(const uint8_t* a) {
  return (uint32_t{a[4]} << 24) | (uint32_t{a[5]} << 16) | (uint32_t{a[6]} << 8) | a[7];
}
bool is_local(uint32_t addr) { return (addr >> 24) == 127 || addr == 0; }  // loopback, INADDR_ANY

// udp_lib_lport_inuse: another holder conflicts unless both set SO_REUSEADDR or both
// SO_REUSEPORT (every local address is 127.0.0.1 or the wildcard: always equal).
bool lport_inuse(const UdpSock& sk, const std::vector<std::weak_ptr<UdpSock>>& holders) {
  for (const auto& w : holders) {
    const auto other = w.lock();
    if (!other || other.get() == &sk) continue;
    if (sk.reuse && other->reuse) continue;
    if (sk.reuseport && other->reuseport) continue;
    return true;
  }
  return false;
}

// udp_lib_get_port: 0 picks a free port; another is taken unless in use.
long udp_get_port(UdpSock& sk, int port) {
  UdpTable& t = udp_table(*sk.g);
  if (port == 0) {
    for (;;) {
      const int p = t.next_ephemeral--;
      if (t.next_ephemeral < 32768) t.next_ephemeral = 60999;
      const auto it = t.ports.find(p);
      if (it == t.ports.end() || std::all_of(it->second.begin(), it->second.end(), [](const auto& w) { return w.expired(); })) {
        port = p;
        break;
      }
    }
  } else {
    const auto it = t.ports.find(port);
    if (it != t.ports.end() && lport_inuse(sk, it->second)) return sk.g->fail(Rule::kUdpPortInUse, -EADDRINUSE);
    if (it != t.ports.end()) sk.g->rule(Rule::kUdpPortShared);
  }
  auto& holders = t.ports[port];
  std::erase_if(holders, [](const auto& w) { return w.expired(); });
  holders.push_back(sk.weak_from_this());
  sk.port = port;
  sk.hash_order = ++t.hash_counter;
  return 0;
}

// udp_lib_unhash
void udp_unhash(UdpSock& sk) {
  if (!sk.port || !sk.g->udp) return;
  auto& ports = sk.g->udp->ports;
  if (auto it = ports.find(sk.port); it != ports.end()) {
    std::erase_if(it->second, [&](const auto& w) { return w.expired() || w.lock().get() == &sk; });
    if (it->second.empty()) ports.erase(it);
  }
  sk.port = 0;
  sk.bind_locked = false;
}

// inet_autobind: an unbound socket that sends or connects gets an ephemeral port.
void inet_autobind(UdpSock& sk) {
  if (sk.port) return;
  sk.g->rule(Rule::kUdpAutobind);
  udp_get_port(sk, 0);
}

// __udp4_lib_lookup -> udp4_lib_lookup2 / compute_score for a datagram from `sport` to
// `dport`: a socket connected elsewhere scores -1, a connected match beats an unconnected
// one (a peer port 0 matches any); between equals the newest in the hash chain wins.
std::shared_ptr<UdpSock> udp4_lib_lookup(Globals& g, int sport, int dport) {
  if (!g.udp) return nullptr;
  const auto it = g.udp->ports.find(dport);
  if (it == g.udp->ports.end()) return nullptr;
  std::shared_ptr<UdpSock> best;
  int best_score = 0;
  for (const auto& w : it->second) {
    const auto sk = w.lock();
    if (!sk || sk->dead) continue;
    int score = 2;
    if (sk->connected) {
      score += 4;  // inet_daddr: always 127.0.0.1 here
      if (sk->dport) {  // a peer port of 0 (connected to an unbound socket's address) takes any
        if (sk->dport != sport) continue;
        score += 4;
      }
    }
    if (score > best_score || (score == best_score && sk->hash_order > best->hash_order)) {
      best = sk;
      best_score = score;
    }
  }
  return best;
}

// __udp_enqueue_schedule_skb: drop when the charge would pass sk_rcvbuf, unless the queue
// is empty (changes::kUdpAcceptOnlyIntoEmpty, 6.18); before, when the charge already
// passed it ("Always allow at least one packet for small buffer"); then sk_data_ready.
void udp_enqueue(UdpSock& sk, UdpDatagram d) {
  Globals& g = *sk.g;
  const long size = d.truesize;
  const bool full = g.profile.udp_accept_only_into_empty ? sk.rmem_alloc != 0 : sk.rmem_alloc > sk.rcvbuf;
  if (sk.rmem_alloc + size > sk.rcvbuf && full) {
    g.rule(Rule::kUdpRcvbufDrop);
    return;
  }
  g.rule(Rule::kUdpDataReady);
  sk.rmem_alloc += size;
  sk.receive_queue.push_back(std::move(d));
  sk.data_ready();
  g.sched->wake_point("__udp_enqueue_schedule_skb after sk_data_ready");
}

// The loopback path of one datagram from sk: sock_wfree (sk_write_space) as loopback_xmit
// orphans it, then udp_rcv: queued, or ICMP port unreachable back to the sender
// (__udp4_lib_err: a connected sender gets ECONNREFUSED and sk_error_report).
void udp_loopback_deliver(UdpSock& sk, UdpDatagram d) {
  Globals& g = *sk.g;
  sk.write_space();
  g.sched->wake_point("sock_wfree after sk_write_space");
  if (const auto to = udp4_lib_lookup(g, sk.port, sk.dport)) {
    udp_enqueue(*to, std::move(d));
    return;
  }
  g.rule(Rule::kUdpPortUnreachable);
  if (sk.dead || !sk.connected) return;  // __udp4_lib_err: no recverr, unconnected: nothing
  g.rule(Rule::kUdpErrorReport);
  sk.err = ECONNREFUSED;
  sk.error_report();
  g.sched->wake_point("__udp4_lib_err after sk_error_report");
}

// udp_rmem_release(partial): the freed truesize is given back only once it reaches a
// quarter of sk_rcvbuf or the reader queue is empty; then the receive queue is spliced in.
void udp_rmem_release(UdpSock& sk, int size) {
  sk.forward_deficit += size;
  if (sk.forward_deficit < (sk.rcvbuf >> 2) && !sk.reader_queue.empty()) {
    sk.g->rule(Rule::kUdpRmemDeferred);
    return;
  }
  sk.rmem_alloc -= std::exchange(sk.forward_deficit, 0);
  for (auto& d : sk.receive_queue) sk.reader_queue.push_back(std::move(d));
  sk.receive_queue.clear();
}

// The reader queue, refilled from the receive queue when empty (__skb_recv_udp,
// first_packet_length).
bool fill_reader_queue(UdpSock& sk) {
  if (sk.reader_queue.empty()) {
    for (auto& d : sk.receive_queue) sk.reader_queue.push_back(std::move(d));
    sk.receive_queue.clear();
  }
  return !sk.reader_queue.empty();
}

// __skb_wait_for_more_packets: exclusive on sk_sleep; 1 to stop with *err set (the error,
// or 0 when shut for reading), 0 to look at the queues again.
MaySleep skb_wait_for_more_packets(Task& t, UdpSock& sk, long* err) {
  WaitQueueEntry wait;
  init_wait(wait, t);
  prepare_to_wait_exclusive(sk.wq, wait);
  long stop = 0;
  if (sk.err) {
    *err = -std::exchange(sk.err, 0);
    stop = 1;
  } else if (!sk.receive_queue.empty()) {
    stop = 0;
  } else if (sk.shutdown & RCV_SHUTDOWN) {
    *err = 0;
    stop = 1;
  } else if (t.signal_pending) {
    *err = -EINTR;
    stop = 1;
  } else {
    sk.g->rule(Rule::kUdpRecvSleeps);
    co_await schedule(t);
  }
  finish_wait(sk.wq, wait);
  co_return stop;
}

}  // namespace

UdpSock::UdpSock(Globals& g_)
    : g(&g_),
      wq(g_, "sk->sk_wq->wait", this),
      sndbuf(g_.profile.udp_cal.wmem_default),
      rcvbuf(g_.profile.udp_cal.rmem_default) {}

// sock_def_readable
void UdpSock::data_ready() {
  if (!dead && wq.active())
    wake_up_interruptible_sync_poll(wq, EPOLLIN | EPOLLPRI | EPOLLRDNORM | EPOLLRDBAND, Rule::kUdpWake);
}

// sock_def_error_report
void UdpSock::error_report() {
  if (!dead && wq.active()) wake_up_interruptible_poll(wq, EPOLLERR, Rule::kUdpWake);
}

// sock_def_write_space_wfree / sock_def_write_space: once writeable, wake with EPOLLOUT.
// Every datagram sent frees its skb at once on loopback, so every send wakes.
void UdpSock::write_space() {
  if (dead || !udp_sock_writeable(*this)) return;
  g->rule(Rule::kUdpWriteSpace);
  if (wq.active()) wake_up_interruptible_sync_poll(wq, EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND, Rule::kUdpWake);
}

// sock_def_wakeup
void UdpSock::state_change() {
  if (!dead && wq.active()) wake_up_interruptible_all(wq, Rule::kUdpWake);
}

int udp_truesize(Globals& g, int len) {
  const UdpCalibration& c = g.profile.udp_cal;
  if (len >= c.paged_from) return len + c.paged_extra;
  int size = c.steps.empty() ? 0 : c.steps.front().second;
  for (const auto& [from, truesize] : c.steps) {
    if (len >= from) size = truesize;
  }
  return size;
}

// sk_wmem_alloc is 1 (the socket's own reference) whenever a call returns on loopback.
bool udp_sock_writeable(const UdpSock& sk) { return 1 < (sk.sndbuf >> 1); }

UdpSocketFile::UdpSocketFile(Globals& g_, std::shared_ptr<UdpSock> s, int flags)
    : File(g_, with_rw_ops(FMODE_READ | FMODE_WRITE), flags), sk(std::move(s)) {}

UdpSocketFile* udp_file(File* f) { return dynamic_cast<UdpSocketFile*>(f); }

// udp_poll -> datagram_poll, then the reader queue; a blocking file's poll also runs
// first_packet_length (the checksum check), which refills the reader queue.
poll_t UdpSocketFile::poll(PollTable* pt) {
  UdpSock& s = *sk;
  poll_wait(this, s.wq, pt);
  poll_t mask = 0;
  if (s.err) mask |= EPOLLERR;
  if (s.shutdown & RCV_SHUTDOWN) mask |= EPOLLRDHUP | EPOLLIN | EPOLLRDNORM;
  if (s.shutdown == SHUTDOWN_MASK) mask |= EPOLLHUP;
  if (!s.receive_queue.empty() || !s.reader_queue.empty()) mask |= EPOLLIN | EPOLLRDNORM;
  if (udp_sock_writeable(s)) mask |= EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND;
  if ((mask & EPOLLRDNORM) && !nonblock() && !(s.shutdown & RCV_SHUTDOWN)) fill_reader_queue(s);
  return mask;
}

// sock_read_iter -> inet_recvmsg -> udp_recvmsg -> __skb_recv_udp, for read(2): one
// datagram, truncated to n (MSG_TRUNC is not asked for: the copied length is returned).
MaySleep UdpSocketFile::read(Task& t, void* buf, size_t n) {
  if (n == 0) co_return 0;  // sock_read_iter
  const std::shared_ptr<UdpSock> keep = sk;
  UdpSock& s = *keep;
  Globals& gl = *s.g;
  for (;;) {
    if (s.err) co_return gl.fail(Rule::kUdpRecvError, -std::exchange(s.err, 0));  // sock_error
    if (fill_reader_queue(s)) {
      UdpDatagram d = std::move(s.reader_queue.front());
      s.reader_queue.pop_front();
      udp_rmem_release(s, d.truesize);
      const size_t len = d.data.size();
      const size_t copied = std::min(n, len);
      if (buf) std::copy_n(d.data.begin(), copied, static_cast<char*>(buf));
      gl.rule(copied < len ? Rule::kUdpRecvTruncated : Rule::kUdpRecvDatagram);
      co_return static_cast<long>(copied);
    }
    if (nonblock()) co_return gl.fail(Rule::kUdpRecvEagain, -EAGAIN);
    long err = -EAGAIN;
    if (co_await skb_wait_for_more_packets(t, s, &err)) {
      if (err == 0) gl.rule(Rule::kUdpRecvShutdown);
      co_return err;
    }
  }
}

// sock_write_iter -> inet_sendmsg (inet_send_prepare: autobind) -> udp_sendmsg ->
// ip_make_skb (sock_alloc_send_pskb) -> udp_send_skb, for write(2): one datagram of n bytes.
MaySleep UdpSocketFile::write(Task&, const void* buf, size_t n) {
  const std::shared_ptr<UdpSock> keep = sk;
  UdpSock& s = *keep;
  Globals& gl = *s.g;
  inet_autobind(s);
  if (n > 0xFFFF) co_return gl.fail(Rule::kUdpSendEmsgsize, -EMSGSIZE);
  if (!s.connected) co_return gl.fail(Rule::kUdpSendEdestaddrreq, -EDESTADDRREQ);
  if (n > static_cast<size_t>(kMaxPayload)) co_return gl.fail(Rule::kUdpSendEmsgsize, -EMSGSIZE);
  // sock_alloc_send_pskb: the pending error, then SEND_SHUTDOWN; sk_wmem_alloc is always
  // below sk_sndbuf on loopback, so it never waits.
  if (s.err) co_return gl.fail(Rule::kUdpSendError, -std::exchange(s.err, 0));
  if (s.shutdown & SEND_SHUTDOWN) co_return gl.fail(Rule::kUdpSendEpipe, -EPIPE);
  UdpDatagram d;
  if (buf) d.data.assign(static_cast<const char*>(buf), static_cast<const char*>(buf) + n);
  else d.data.assign(n, '\0');
  d.truesize = udp_truesize(gl, static_cast<int>(n));
  gl.rule(Rule::kUdpSend);
  udp_loopback_deliver(s, std::move(d));
  co_return static_cast<long>(n);
}

// udp_lib_close -> sk_common_release: unhashed (the port freed), orphaned, queues purged.
void UdpSocketFile::release() {
  const std::shared_ptr<UdpSock> s = std::move(sk);
  s->g->rule(Rule::kUdpClose);
  udp_unhash(*s);
  s->dead = true;
  s->receive_queue.clear();
  s->reader_queue.clear();
  s->rmem_alloc = 0;
}

// inet_bind -> __inet_bind: the address checks, then udp_v4_get_port.
long udp_bind(UdpSock& sk, const uint8_t* addr, size_t len) {
  Globals& g = *sk.g;
  if (len < kSockaddrInSize) return g.fail(Rule::kInetBindEinval, -EINVAL);
  if (family_of(addr, len) != AF_INET_) return g.fail(Rule::kInetBindEafnosupport, -EAFNOSUPPORT);
  if (!is_local(addr_of(addr))) return g.fail(Rule::kInetBindEaddrnotavail, -EADDRNOTAVAIL);
  if (sk.connected || sk.port) return g.fail(Rule::kInetBindEinval, -EINVAL);
  const int port = port_of(addr);
  if (const long err = udp_get_port(sk, port)) return err;
  sk.bind_locked = port != 0;
  return 0;
}

// inet_dgram_connect (length, autobind) -> __ip4_datagram_connect: the peer is set and
// the state ESTABLISHED, whether or not anyone has the port (UDP has no handshake).
long udp_connect(UdpSock& sk, const uint8_t* addr, size_t len) {
  Globals& g = *sk.g;
  if (len < 2) return g.fail(Rule::kUdpConnectEinval, -EINVAL);
  inet_autobind(sk);
  if (len < kSockaddrInSize) return g.fail(Rule::kUdpConnectEinval, -EINVAL);
  if (family_of(addr, len) != AF_INET_) return g.fail(Rule::kUdpConnectEafnosupport, -EAFNOSUPPORT);
  if (!is_local(addr_of(addr))) return -ENETUNREACH;  // nothing outside the run: no route modelled
  g.rule(Rule::kUdpConnect);
  sk.dport = port_of(addr);
  sk.connected = true;
  sk.hash_order = ++udp_table(g).hash_counter;  // udp_lib_rehash: the new address heads its chain
  return 0;
}

// inet_shutdown: an unconnected socket (TCP_CLOSE) says ENOTCONN but takes the bits all
// the same ("Hack to wake up other listeners"); then sk_state_change.
long udp_inet_shutdown(UdpSock& sk, int how) {
  Globals& g = *sk.g;
  if (how < SHUT_RD_ || how > SHUT_RDWR_) return g.fail(Rule::kTcpShutdownEinval, -EINVAL);
  const auto keep = sk.shared_from_this();
  long err = 0;
  if (!sk.connected) err = g.fail(Rule::kUdpShutdownEnotconn, -ENOTCONN);
  else g.rule(Rule::kUdpShutdown);
  sk.shutdown |= how + 1;
  sk.state_change();
  g.sched->wake_point("inet_shutdown after sk_state_change");
  return err;
}

long udp_setsockopt(UdpSock& sk, int level, int optname, const void* optval, int optlen) {
  Globals& g = *sk.g;
  const TcpCalibration& c = g.profile.tcp_cal;  // net.core.wmem_max / rmem_max
  if (level != SOL_SOCKET_) return g.fail(Rule::kSockoptEinval, -ENOPROTOOPT);  // ip_setsockopt
  int value = 0;
  if (optlen < static_cast<int>(sizeof value)) return g.fail(Rule::kSockoptEinval, -EINVAL);
  std::memcpy(&value, optval, sizeof value);
  switch (optname) {
    case SO_SNDBUF_: {
      long v = std::min<unsigned long>(static_cast<uint32_t>(value), static_cast<unsigned long>(c.core_wmem_max));
      v = std::min<long>(v, INT_MAX / 2);
      g.rule(Rule::kSockSetSndbuf);
      sk.sndbuf = std::max(static_cast<int>(v * 2), SOCK_MIN_SNDBUF);
      sk.write_space();  // "Wake up sending tasks if we upped the value"
      return 0;
    }
    case SO_RCVBUF_: {
      long v = std::min<unsigned long>(static_cast<uint32_t>(value), static_cast<unsigned long>(c.core_rmem_max));
      v = std::min<long>(v, INT_MAX / 2);
      g.rule(Rule::kSockSetRcvbuf);
      sk.rcvbuf = std::max(static_cast<int>(v * 2), SOCK_MIN_RCVBUF);
      return 0;
    }
    case SO_LINGER_:
      if (optlen < static_cast<int>(2 * sizeof value)) return g.fail(Rule::kSockoptEinval, -EINVAL);
      return 0;  // a datagram socket's close never lingers
    case SO_RCVLOWAT_: return 0;  // sk_rcvlowat: udp_recvmsg and datagram_poll do not look at it
    case SO_REUSEADDR_: sk.reuse = value != 0; return 0;
    case SO_REUSEPORT_: sk.reuseport = value != 0; return 0;
    default: return g.fail(Rule::kSockoptEinval, -ENOPROTOOPT);
  }
}

long udp_sock_error(UdpSock& sk) {
  sk.g->rule(Rule::kSockSoError);
  return std::exchange(sk.err, 0);
}

void udp_getname(const UdpSock& sk, uint8_t out[16]) {
  std::memset(out, 0, kSockaddrInSize);
  out[0] = AF_INET_;
  if (!sk.port) return;
  out[2] = static_cast<uint8_t>(sk.port >> 8);
  out[3] = static_cast<uint8_t>(sk.port);
  out[4] = 127;
  out[7] = 1;
}

}  // namespace model
