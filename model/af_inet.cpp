// net/ipv4/af_inet.c, net/socket.c and the socket options of net/core/sock.c for TCP, at
// gregkh/linux 03bab42919c4 (6.18 era).
#include "af_inet.h"

#include <algorithm>
#include <climits>
#include <cstring>

#include "af_unix.h"  // SEND_SHUTDOWN
#include "inet_connection_sock.h"
#include "udp.h"

namespace model {

namespace {

constexpr int SOCK_MIN_SNDBUF = 2 * (2048 + 256);  // 2 * TCP_SKB_MIN_TRUESIZE
constexpr int SOCK_MIN_RCVBUF = 2048 + 256;        // TCP_SKB_MIN_TRUESIZE

struct Sin {
  int family = 0;
  int port = 0;       // host order
  uint32_t addr = 0;  // host order
};

Sin parse(const uint8_t* a, size_t len) {
  Sin s;
  if (len >= 2) s.family = a[0] | (a[1] << 8);
  if (len >= kSockaddrInSize) {
    s.port = (a[2] << 8) | a[3];
    s.addr = (uint32_t{a[4]} << 24) | (uint32_t{a[5]} << 16) | (uint32_t{a[6]} << 8) | a[7];
  }
  return s;
}

bool is_local(uint32_t addr) { return (addr >> 24) == 127 || addr == 0; }  // loopback, INADDR_ANY

}  // namespace

TcpSocketFile* tcp_file(File* f) { return dynamic_cast<TcpSocketFile*>(f); }

// inet_create with the inetsw_array entries: SOCK_STREAM is TCP (protocol 0 or
// IPPROTO_TCP), SOCK_DGRAM is UDP (protocol 0 or IPPROTO_UDP); ping and raw sockets are
// not in the model.
long inet_create(Globals& g, FdTable& fdt, int type, int protocol, int flags) {
  if (type == SOCK_DGRAM_ && (protocol == 0 || protocol == IPPROTO_UDP_)) {
    if (!fdt.has_free(1)) return g.fail(Rule::kFdEmfile, -EMFILE);
    return fdt.install(new UdpSocketFile(g, std::make_shared<UdpSock>(g), flags));
  }
  if (type != SOCK_STREAM_ || (protocol != 0 && protocol != IPPROTO_TCP_))
    return g.fail(Rule::kInetCreateUnsupported, -ESOCKTNOSUPPORT);
  if (!fdt.has_free(1)) return g.fail(Rule::kFdEmfile, -EMFILE);
  return fdt.install(new TcpSocketFile(g, std::make_shared<TcpSock>(g), flags));
}

// inet_bind -> __inet_bind: the address checks, then inet_csk_get_port. A port given by
// the caller is locked (SOCK_BINDPORT_LOCK); one the kernel picked is not.
long inet_bind(TcpSock& sk, const uint8_t* addr, size_t len) {
  Globals& g = *sk.g;
  if (len < kSockaddrInSize) return g.fail(Rule::kInetBindEinval, -EINVAL);
  const Sin a = parse(addr, len);
  if (a.family != AF_INET_) return g.fail(Rule::kInetBindEafnosupport, -EAFNOSUPPORT);
  if (!is_local(a.addr)) return g.fail(Rule::kInetBindEaddrnotavail, -EADDRNOTAVAIL);
  if (sk.state != TCP_CLOSE || sk.port) return g.fail(Rule::kInetBindEinval, -EINVAL);
  if (const long err = inet_csk_get_port(sk, a.port)) return err;
  sk.bind_locked = a.port != 0;
  return 0;
}

// __sys_listen: a backlog above somaxconn (as unsigned: a negative one too) is somaxconn.
long inet_listen(TcpSock& sk, int backlog) {
  Globals& g = *sk.g;
  const int somaxconn = g.profile.tcp_cal.somaxconn;
  if (static_cast<unsigned>(backlog) > static_cast<unsigned>(somaxconn)) backlog = somaxconn;
  if (sk.connecting || sk.connected || sk.disconnecting) return g.fail(Rule::kInetListenEinval, -EINVAL);
  if (sk.state != TCP_CLOSE && sk.state != TCP_LISTEN) return g.fail(Rule::kInetListenEinval, -EINVAL);
  if (sk.state == TCP_LISTEN) {
    g.rule(Rule::kInetListenBacklog);
    sk.max_ack_backlog = backlog;
    return 0;
  }
  if (!sk.port) {  // inet_csk_listen_start -> get_port(inet_num 0): autobind
    if (const long err = inet_csk_get_port(sk, 0)) return err;
  } else if (const long err = inet_csk_get_port(sk, sk.port)) {  // the port re-checked as a listener
    return err;
  }
  inet_csk_listen_start(sk, backlog);
  return 0;
}

namespace {

// tcp_v4_connect + tcp_connect on loopback: SYN_SENT, an ephemeral port if none, then the
// SYN's fate: RST from a port nobody listens on, a drop at a full accept queue, or the
// whole handshake. The client's own segments are processed when the caller releases the
// socket, so the caller tests its state first (tcp_v4_connect returns before them).
enum class Syn { kRefused, kDropped, kEstablished };

Syn tcp_v4_connect(TcpSock& sk, int port) {
  Globals& g = *sk.g;
  tcp_set_state(sk, TCP_SYN_SENT);
  if (!sk.port) inet_csk_get_port(sk, 0);  // inet_hash_connect
  sk.dport = port;
  std::shared_ptr<TcpSock> listener = inet_lookup_listener(g, port, sk.port);
  if (!listener) {
    g.rule(Rule::kSynRefused);
    return Syn::kRefused;
  }
  inet_ehash(sk);
  return tcp_loopback_handshake(sk, *listener) ? Syn::kEstablished : Syn::kDropped;
}

// inet_wait_for_connect: non-exclusive on sk_sleep while SYN_SENT or SYN_RECV.
MaySleep inet_wait_for_connect(Task& t, TcpSock& sk) {
  WaitQueueEntry wait;
  init_wait(wait, t);
  add_wait_queue(sk.wq, wait);
  while (sk.state == TCP_SYN_SENT || sk.state == TCP_SYN_RECV) {
    if (t.signal_pending) break;  // schedule() does not sleep with a signal pending
    sk.g->rule(Rule::kConnectSleeps);
    co_await schedule(t);  // wait_woken
    if (!wait.queued()) add_wait_queue(sk.wq, wait);
  }
  remove_wait_queue(sk.wq, wait);
  co_return 0;
}

}  // namespace

MaySleep inet_stream_connect(Task& t, TcpSocketFile& f, const uint8_t* addr, size_t len) {
  const std::shared_ptr<TcpSock> keep = f.sk;
  TcpSock& sk = *keep;
  Globals& g = *sk.g;
  if (len < 2) co_return g.fail(Rule::kConnectEinval, -EINVAL);
  long err = 0;
  bool refused_later = false;  // the RST waits in the backlog until the socket is released
  if (sk.disconnecting) {  // __inet_stream_connect: a sock->state it has no case for
    co_return g.fail(Rule::kConnectEinval, -EINVAL);
  } else if (sk.connected) {
    co_return g.fail(Rule::kConnectEisconn, -EISCONN);
  } else if (sk.connecting) {
    err = g.fail(Rule::kConnectEalready, -EALREADY);
  } else {
    if (sk.state != TCP_CLOSE) co_return g.fail(Rule::kConnectEisconn, -EISCONN);
    if (len < kSockaddrInSize) co_return g.fail(Rule::kConnectEinval, -EINVAL);
    const Sin a = parse(addr, len);
    if (a.family != AF_INET_) co_return g.fail(Rule::kConnectEafnosupport, -EAFNOSUPPORT);
    if (!is_local(a.addr)) co_return -ENETUNREACH;  // nothing outside the run: no route modelled
    const Syn syn = tcp_v4_connect(sk, a.port);
    sk.connecting = true;  // SS_CONNECTING
    err = -EINPROGRESS;
    if (syn == Syn::kRefused) {
      if (f.nonblock()) refused_later = true;
      else tcp_reset(sk);  // processed in inet_wait_for_connect's release_sock
    }
    if (f.nonblock()) {
      // The state was SYN_SENT when tested: the handshake's own segments come after.
      if (refused_later) tcp_reset(sk);
      co_return g.fail(Rule::kConnectEinprogress, err);
    }
  }
  if (sk.state == TCP_SYN_SENT || sk.state == TCP_SYN_RECV) {
    if (f.nonblock()) co_return err;  // EALREADY
    co_await inet_wait_for_connect(t, sk);
    if (t.signal_pending && (sk.state == TCP_SYN_SENT || sk.state == TCP_SYN_RECV)) co_return -EINTR;
  }
  if (sk.state == TCP_CLOSE) {  // sock_error: RST, timeout, or another disconnect
    const long e = inet_sock_error(sk);
    g.rule(Rule::kConnectFailed);
    sk.connecting = false;  // SS_UNCONNECTED
    tcp_disconnect(sk);
    co_return e ? -e : -ECONNABORTED;
  }
  g.rule(Rule::kConnectDone);
  sk.connecting = false;
  sk.connected = true;  // SS_CONNECTED
  co_return 0;
}

MaySleep inet_accept4(Task& t, TcpSocketFile& f, int flags, File** out) {
  const std::shared_ptr<TcpSock> keep = f.sk;
  std::shared_ptr<TcpSock> child;
  // inet_accept: the listener's file flags decide whether it waits (arg.flags = f_flags).
  if (const long err = co_await inet_csk_accept(t, *keep, f.nonblock(), &child)) co_return err;
  child->connected = true;  // sock_graft, SS_CONNECTED
  *out = new TcpSocketFile(*f.g, std::move(child), flags & (O_NONBLOCK_ | O_CLOEXEC_));
  co_return 0;
}

void inet_getname(const TcpSock& sk, uint8_t out[kSockaddrInSize], bool peer) {
  std::memset(out, 0, kSockaddrInSize);
  out[0] = AF_INET_;
  const int port = peer ? sk.dport : sk.port;
  if (!port) return;  // INADDR_ANY port 0
  out[2] = static_cast<uint8_t>(port >> 8);
  out[3] = static_cast<uint8_t>(port);
  out[4] = 127;
  out[7] = 1;
}

long inet_setsockopt(TcpSock& sk, int level, int optname, const void* optval, int optlen) {
  Globals& g = *sk.g;
  const TcpCalibration& c = g.profile.tcp_cal;
  if (level == SOL_SOCKET_ && optname == SO_LINGER_) {
    int ling[2] = {0, 0};  // struct linger {l_onoff, l_linger}
    if (optlen < static_cast<int>(sizeof ling)) return g.fail(Rule::kSockoptEinval, -EINVAL);
    std::memcpy(ling, optval, sizeof ling);
    sk.linger = ling[0] ? ling[1] : -1;
    return 0;
  }
  int value = 0;
  if (optlen < static_cast<int>(sizeof value)) return g.fail(Rule::kSockoptEinval, -EINVAL);
  std::memcpy(&value, optval, sizeof value);
  if (level == IPPROTO_TCP_) {
    if (optname == TCP_NODELAY_) return 0;  // Nagle changes no readiness on loopback
    return g.fail(Rule::kSockoptEinval, -ENOPROTOOPT);
  }
  if (level != SOL_SOCKET_) return g.fail(Rule::kSockoptEinval, -ENOPROTOOPT);
  switch (optname) {
    case SO_RCVLOWAT_: tcp_set_rcvlowat(sk, value < 0 ? INT_MAX : value); return 0;
    case SO_SNDBUF_: {
      long v = std::min<unsigned long>(static_cast<uint32_t>(value), static_cast<unsigned long>(c.core_wmem_max));
      v = std::min<long>(v, INT_MAX / 2);
      g.rule(Rule::kSockSetSndbuf);
      sk.sndbuf_locked = true;
      sk.sndbuf = std::max(static_cast<int>(v * 2), SOCK_MIN_SNDBUF);
      sk.write_space();
      return 0;
    }
    case SO_RCVBUF_: {
      long v = std::min<unsigned long>(static_cast<uint32_t>(value), static_cast<unsigned long>(c.core_rmem_max));
      v = std::min<long>(v, INT_MAX / 2);
      g.rule(Rule::kSockSetRcvbuf);
      sk.rcvbuf_locked = true;
      sk.rcvbuf = std::max(static_cast<int>(v * 2), SOCK_MIN_RCVBUF);
      return 0;
    }
    case SO_REUSEADDR_: sk.reuse = value != 0; return 0;
    case SO_REUSEPORT_: sk.reuseport = value != 0; return 0;
    default: return g.fail(Rule::kSockoptEinval, -ENOPROTOOPT);
  }
}

long inet_sock_error(TcpSock& sk) {
  sk.g->rule(Rule::kSockSoError);
  return std::exchange(sk.err, 0);
}

}  // namespace model
