// net/socket.c __sys_socketpair / __sock_create, net/ipv4/af_inet.c inet_create and
// net/ipv6/af_inet6.c inet6_create as of 6.18 (gregkh/linux; the order of the checks is
// the same since 4.x). A family's create runs only once the descriptors are reserved.
#include "socket.h"

#include <cstring>
#include <utility>

#include "af_inet.h"
#include "af_unix.h"
#include "af_unix_dgram.h"
#include "af_unix_listen.h"
#include "udp.h"

namespace model {

namespace {

constexpr int SOCK_TYPE_MASK_ = 0xf;
constexpr int SOCK_PACKET_ = 10;
constexpr int SOCK_MAX_ = SOCK_PACKET_ + 1;  // include/linux/net.h
constexpr int AF_INET6_ = 10;
constexpr int AF_PACKET_ = 17;

// A family the model has no rules for: what socketpair(family, type, 0) gives on the
// probed kernel (asked now, real/calibrate), or EAFNOSUPPORT (no such family) unprobed.
long probed_family(Globals& g, int family, int type, int protocol) {
  const auto& probe = g.profile.other_family_socketpair;
  if (protocol != 0 || !probe) return g.fail(Rule::kSocketpairUnsupported, -EAFNOSUPPORT);
  const int err = probe(family, type);
  // 0: the family made a pair (AF_TIPC has a socketpair operation); the model has no such
  // sockets, so it says what it cannot model instead of inventing a pair.
  if (err == 0) return g.fail(Rule::kSocketpairUnsupported, -EAFNOSUPPORT);
  return g.fail(Rule::kSocketpairProbedFamily, -err);
}

// inet_create / inet6_create with protocol 0 against the built-in protocol switch
// (inetsw_array / inetsw6_array: STREAM->TCP, DGRAM->UDP (and ping), RAW with a wildcard
// protocol that protocol 0 does not match), then sock_no_socketpair. Protocols registered
// by modules (SCTP's SEQPACKET, DCCP before 6.16) are assumed absent: with protocol 0 they
// are never autoloaded (their module aliases name their protocol number).
long inet_family(Globals& g, int family, int type, int protocol) {
  if (protocol != 0) return g.fail(Rule::kSocketpairUnsupported, -EPROTONOSUPPORT);  // not modelled
  if (family == AF_INET_ && type == SOCK_PACKET_) {
    // __sock_create's compatibility rule: PF_INET + SOCK_PACKET is PF_PACKET.
    return probed_family(g, AF_PACKET_, type, protocol);
  }
  switch (type) {
    case SOCK_STREAM_:
    case SOCK_DGRAM_:
      return g.fail(Rule::kSocketpairInetEopnotsupp, -EOPNOTSUPP);  // sock_no_socketpair
    case SOCK_RAW_:
      return g.fail(Rule::kSocketpairInetRawEprotonosupport, -EPROTONOSUPPORT);
    default:
      return g.fail(Rule::kSocketpairInetEsocktnosupport, -ESOCKTNOSUPPORT);
  }
}

}  // namespace

// __sys_socketpair
long do_socketpair(Globals& g, FdTable& fdt, int domain, int type, int protocol, int sv[2]) {
  const int flags = type & ~SOCK_TYPE_MASK_;
  if (flags & ~(SOCK_CLOEXEC_ | SOCK_NONBLOCK_)) return g.fail(Rule::kSocketpairEinval, -EINVAL);
  type &= SOCK_TYPE_MASK_;
  // get_unused_fd_flags for both descriptors, before any socket exists.
  if (!fdt.has_free(2)) return g.fail(Rule::kFdEmfile, -EMFILE);
  // __sock_create: the family's range, then the type's, then the family's create.
  if (domain < 0 || domain >= g.profile.nproto) return g.fail(Rule::kSockCreateEafnosupport, -EAFNOSUPPORT);
  if (type < 0 || type >= SOCK_MAX_) return g.fail(Rule::kSockCreateEinvalType, -EINVAL);
  const int fl = flags & (O_NONBLOCK_ | O_CLOEXEC_);
  if (domain == AF_UNIX_) return unix_create_pair(g, fdt, type, protocol, fl, sv);
  if (domain == AF_INET_ || domain == AF_INET6_) return inet_family(g, domain, type, protocol);
  return probed_family(g, domain, type, protocol);
}

// __sys_socket -> __sock_create -> the family's create, then sock_map_fd (a descriptor
// only once the socket exists: EMFILE comes after the family's errors).
long do_socket(Globals& g, FdTable& fdt, int domain, int type, int protocol) {
  const int flags = type & ~SOCK_TYPE_MASK_;
  if (flags & ~(SOCK_CLOEXEC_ | SOCK_NONBLOCK_)) return g.fail(Rule::kSocketEinval, -EINVAL);
  type &= SOCK_TYPE_MASK_;
  if (domain < 0 || domain >= g.profile.nproto) return g.fail(Rule::kSockCreateEafnosupport, -EAFNOSUPPORT);
  if (type < 0 || type >= SOCK_MAX_) return g.fail(Rule::kSockCreateEinvalType, -EINVAL);
  if (domain == AF_INET_) return inet_create(g, fdt, type, protocol, flags & (O_NONBLOCK_ | O_CLOEXEC_));
  if (domain != AF_UNIX_) return g.fail(Rule::kSocketUnsupported, -EAFNOSUPPORT);
  // unix_create
  if (protocol != 0 && protocol != AF_UNIX_) return g.fail(Rule::kUnixCreateEprotonosupport, -EPROTONOSUPPORT);
  if (type == SOCK_RAW_) type = SOCK_DGRAM_;
  if (type != SOCK_STREAM_ && type != SOCK_DGRAM_ && type != SOCK_SEQPACKET_)
    return g.fail(Rule::kUnixCreateEsocktnosupport, -ESOCKTNOSUPPORT);
  if (!fdt.has_free(1)) return g.fail(Rule::kFdEmfile, -EMFILE);
  return fdt.install(unix_sock_file(g, std::make_shared<UnixSock>(g, type), flags & (O_NONBLOCK_ | O_CLOEXEC_)));
}

// sockfd_lookup_light: the file, then sock_from_file.
File* sockfd_lookup(Globals& g, FdTable& fdt, int fd, long* err) {
  File* f = fdt.fget(fd);
  if (!f) {
    *err = g.fail(Rule::kSockfdEbadf, -EBADF);
    return nullptr;
  }
  if (!dynamic_cast<UnixSocketFile*>(f) && !tcp_file(f) && !udp_file(f)) {
    *err = g.fail(Rule::kSockfdEnotsock, -ENOTSOCK);
    return nullptr;
  }
  return f;
}


// __sys_bind: sockfd_lookup, move_addr_to_kernel, then the family's bind.
long do_bind(Globals& g, FdTable& fdt, int fd, const std::vector<uint8_t>& addr) {
  long err = 0;
  File* f = sockfd_lookup(g, fdt, fd, &err);
  if (!f) return err;
  if (addr.size() > kSockaddrStorage) return -EINVAL;
  if (TcpSocketFile* tf = tcp_file(f)) return inet_bind(*tf->sk, addr.data(), addr.size());
  if (UdpSocketFile* uf = udp_file(f)) return udp_bind(*uf->sk, addr.data(), addr.size());
  return unix_bind(*static_cast<UnixSocketFile*>(f)->sk, addr);
}

// __sys_listen: the backlog capped at somaxconn (a negative one too, taken unsigned).
long do_listen(Globals& g, FdTable& fdt, int fd, int backlog) {
  long err = 0;
  File* f = sockfd_lookup(g, fdt, fd, &err);
  if (!f) return err;
  // net.core.somaxconn, as calibrated (4096 by default since 5.4).
  const auto somaxconn = static_cast<unsigned>(g.profile.tcp_cal.somaxconn);
  if (static_cast<unsigned>(backlog) > somaxconn) backlog = static_cast<int>(somaxconn);
  if (TcpSocketFile* tf = tcp_file(f)) return inet_listen(*tf->sk, backlog);
  if (udp_file(f)) return g.fail(Rule::kUdpNoListen, -EOPNOTSUPP);  // inet_dgram_ops: sock_no_listen
  return unix_listen(*static_cast<UnixSocketFile*>(f)->sk, backlog);
}

// __sys_connect -> __sys_connect_file -> the family's connect: __inet_stream_connect or
// unix_stream_connect, or unix_dgram_connect for datagram sockets.
MaySleep do_connect(Globals& g, FdTable& fdt, Task& t, int fd, std::vector<uint8_t> addr) {
  long err = 0;
  File* f = sockfd_lookup(g, fdt, fd, &err);
  if (!f) co_return err;
  if (addr.size() > kSockaddrStorage) co_return -EINVAL;
  if (TcpSocketFile* tf = tcp_file(f)) co_return co_await inet_stream_connect(t, *tf, addr.data(), addr.size());
  if (UdpSocketFile* uf = udp_file(f)) co_return udp_connect(*uf->sk, addr.data(), addr.size());
  auto* sock = static_cast<UnixSocketFile*>(f);
  if (sock->sk->type == SOCK_DGRAM_) co_return unix_dgram_connect(*sock->sk, addr);
  co_return co_await unix_stream_connect(t, *sock, std::move(addr));
}

// __sys_accept4 -> __sys_accept4_file -> do_accept: the descriptor, the flags, a free
// descriptor for the new socket, then sock_from_file and unix_accept.
MaySleep do_accept4(Globals& g, FdTable& fdt, Task& t, int fd, int flags) {
  File* f = fdt.fget(fd);
  if (!f) co_return g.fail(Rule::kSockfdEbadf, -EBADF);
  if (flags & ~(SOCK_CLOEXEC_ | SOCK_NONBLOCK_)) co_return g.fail(Rule::kAccept4Einval, -EINVAL);
  // get_unused_fd_flags: the number is held from here on, while the accept sleeps too
  // (TCP as AF_UNIX: a socket made meanwhile gets the next number; fuzz seed 2454254864).
  struct Reservation {
    FdTable& fdt;
    int fd;
    ~Reservation() {
      if (fd >= 0) fdt.put_unused_fd(fd);
    }
  } newfd{fdt, fdt.reserve()};
  if (newfd.fd < 0) co_return g.fail(Rule::kFdEmfile, std::exchange(newfd.fd, -1));
  if (udp_file(f)) co_return g.fail(Rule::kUdpNoListen, -EOPNOTSUPP);  // inet_dgram_ops: sock_no_accept
  if (TcpSocketFile* tf = tcp_file(f)) {
    File* accepted = nullptr;
    if (const long r = co_await inet_accept4(t, *tf, flags, &accepted); r < 0) co_return r;
    fdt.fd_install(newfd.fd, accepted);
    co_return std::exchange(newfd.fd, -1);
  }
  auto* sock = dynamic_cast<UnixSocketFile*>(f);
  if (!sock) co_return g.fail(Rule::kSockfdEnotsock, -ENOTSOCK);
  std::shared_ptr<UnixSock> tsk;
  if (const long r = co_await unix_accept(t, *sock, &tsk); r < 0) co_return r;
  fdt.fd_install(newfd.fd, unix_sock_file(g, std::move(tsk), flags));  // sock_graft, fd_install
  co_return std::exchange(newfd.fd, -1);
}

// __sys_setsockopt -> do_sock_setsockopt: SOL_SOCKET options go to sock_setsockopt
// (SO_SNDBUF sets sk_sndbuf; the others the model has change nothing an AF_UNIX socket
// does, and SO_REUSEPORT may only be turned off); any other level is
// EOPNOTSUPP (unix_setsockopt for stream, no setsockopt op for the others).
long do_setsockopt(Globals& g, FdTable& fdt, int fd, int level, int optname, const void* optval, int optlen) {
  if (optlen < 0) return -EINVAL;
  long err = 0;
  File* f = sockfd_lookup(g, fdt, fd, &err);
  if (!f) return err;
  if (TcpSocketFile* tf = tcp_file(f)) return inet_setsockopt(*tf->sk, level, optname, optval, optlen);
  if (UdpSocketFile* uf = udp_file(f)) return udp_setsockopt(*uf->sk, level, optname, optval, optlen);
  if (level != SOL_SOCKET_) return g.fail(Rule::kSockoptLevel, -EOPNOTSUPP);
  int val = 0;
  std::memcpy(&val, optval, sizeof val);  // the first int (l_onoff of a struct linger)
  switch (optname) {
    case SO_REUSEPORT_:
      // sk_setsockopt: turning it on needs an inet socket (since changes::kReuseportInetOnly).
      if (val != 0 && g.profile.reuseport_inet_only) return g.fail(Rule::kSockoptReuseportNotInet, -EOPNOTSUPP);
      g.rule(Rule::kSockoptSet);
      return 0;
    case SO_REUSEADDR_:
    case SO_RCVBUF_:
    case SO_LINGER_:
      g.rule(Rule::kSockoptSet);
      return 0;
    case SO_SNDBUF_:
      static_cast<UnixSocketFile*>(f)->sk->set_sndbuf(val);
      return 0;
    default:  // SO_RCVLOWAT and the rest: not modelled
      return g.fail(Rule::kSocketOpUnsupported, -EOPNOTSUPP);
  }
}

// __sys_getsockopt -> sock_getsockopt(SO_ERROR): the pending error, cleared.
long do_getsockopt(Globals& g, FdTable& fdt, int fd, int level, int optname, int* value) {
  long err = 0;
  File* f = sockfd_lookup(g, fdt, fd, &err);
  if (!f) return err;
  if (level != SOL_SOCKET_ || optname != SO_ERROR_) return g.fail(Rule::kSocketOpUnsupported, -EOPNOTSUPP);
  g.rule(Rule::kSockoptSoError);
  if (TcpSocketFile* tf = tcp_file(f)) {
    *value = static_cast<int>(inet_sock_error(*tf->sk));  // sk_getsockopt SO_ERROR
    return 0;
  }
  if (UdpSocketFile* uf = udp_file(f)) {
    *value = static_cast<int>(udp_sock_error(*uf->sk));
    return 0;
  }
  *value = -sock_error(*static_cast<UnixSocketFile*>(f)->sk);
  return 0;
}

// __sys_getsockname -> inet_getname or unix_getname
long do_getsockname(Globals& g, FdTable& fdt, int fd, std::vector<uint8_t>* addr) {
  File* f = fdt.fget(fd);
  if (const TcpSocketFile* tf = tcp_file(f)) {
    addr->assign(kSockaddrInSize, 0);
    inet_getname(*tf->sk, addr->data());
    return 0;
  }
  if (const UdpSocketFile* uf = udp_file(f)) {
    addr->assign(kSockaddrInSize, 0);
    udp_getname(*uf->sk, addr->data());
    return 0;
  }
  auto* sock = dynamic_cast<UnixSocketFile*>(f);
  if (!sock) return f ? -ENOTSOCK : -EBADF;
  (void)g;
  *addr = unix_getname(*sock->sk);
  return 0;
}

}  // namespace model
