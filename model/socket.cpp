// net/socket.c __sys_socketpair / __sock_create, net/ipv4/af_inet.c inet_create and
// net/ipv6/af_inet6.c inet6_create as of 6.18 (gregkh/linux; the order of the checks is
// the same since 4.x). A family's create runs only once the descriptors are reserved.
#include "socket.h"

#include <cstring>

#include "af_inet.h"
#include "af_unix.h"

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

// __sys_socket -> __sock_create. The family's create for a single socket is not modelled
// yet: the model says so (a rule and an error) rather than invent a socket.
long do_socket(Globals& g, FdTable& fdt, int domain, int type, int protocol) {
  const int flags = type & ~SOCK_TYPE_MASK_;
  if (flags & ~(SOCK_CLOEXEC_ | SOCK_NONBLOCK_)) return g.fail(Rule::kSocketEinval, -EINVAL);
  type &= SOCK_TYPE_MASK_;
  if (domain < 0 || domain >= g.profile.nproto) return g.fail(Rule::kSockCreateEafnosupport, -EAFNOSUPPORT);
  if (type < 0 || type >= SOCK_MAX_) return g.fail(Rule::kSockCreateEinvalType, -EINVAL);
  if (domain == AF_INET_) return inet_create(g, fdt, type, protocol, flags & (O_NONBLOCK_ | O_CLOEXEC_));
  return g.fail(Rule::kSocketUnsupported, -EAFNOSUPPORT);
}

// sockfd_lookup_light: the file, then sock_from_file.
File* sockfd_lookup(Globals& g, FdTable& fdt, int fd, long* err) {
  File* f = fdt.fget(fd);
  if (!f) {
    *err = g.fail(Rule::kSockfdEbadf, -EBADF);
    return nullptr;
  }
  if (!dynamic_cast<UnixSocketFile*>(f) && !tcp_file(f)) {
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
  return g.fail(Rule::kSocketOpUnsupported, -EOPNOTSUPP);
}

// __sys_listen
long do_listen(Globals& g, FdTable& fdt, int fd, int backlog) {
  long err = 0;
  File* f = sockfd_lookup(g, fdt, fd, &err);
  if (!f) return err;
  if (TcpSocketFile* tf = tcp_file(f)) return inet_listen(*tf->sk, backlog);
  return g.fail(Rule::kSocketOpUnsupported, -EOPNOTSUPP);
}

// __sys_connect
long do_connect(Globals& g, FdTable& fdt, int fd, const std::vector<uint8_t>& addr) {
  long err = 0;
  if (!sockfd_lookup(g, fdt, fd, &err)) return err;
  if (addr.size() > kSockaddrStorage) return -EINVAL;
  return g.fail(Rule::kSocketOpUnsupported, -EOPNOTSUPP);
}

// __sys_accept4 -> __sys_accept4_file -> do_accept: the descriptor, the flags, a free
// descriptor for the new socket, then sock_from_file.
long do_accept4(Globals& g, FdTable& fdt, int fd, int flags) {
  File* f = fdt.fget(fd);
  if (!f) return g.fail(Rule::kSockfdEbadf, -EBADF);
  if (flags & ~(SOCK_CLOEXEC_ | SOCK_NONBLOCK_)) return g.fail(Rule::kAccept4Einval, -EINVAL);
  if (!fdt.has_free(1)) return g.fail(Rule::kFdEmfile, -EMFILE);
  if (!dynamic_cast<UnixSocketFile*>(f)) return g.fail(Rule::kSockfdEnotsock, -ENOTSOCK);
  return g.fail(Rule::kSocketOpUnsupported, -EOPNOTSUPP);
}

// __sys_setsockopt
long do_setsockopt(Globals& g, FdTable& fdt, int fd, int level, int optname, const void* optval, int optlen) {
  if (optlen < 0) return -EINVAL;
  long err = 0;
  File* f = sockfd_lookup(g, fdt, fd, &err);
  if (!f) return err;
  if (TcpSocketFile* tf = tcp_file(f)) return inet_setsockopt(*tf->sk, level, optname, optval, optlen);
  return g.fail(Rule::kSocketOpUnsupported, -EOPNOTSUPP);
}

// __sys_getsockopt
long do_getsockopt(Globals& g, FdTable& fdt, int fd, int level, int optname, int* value) {
  long err = 0;
  File* f = sockfd_lookup(g, fdt, fd, &err);
  if (!f) return err;
  if (TcpSocketFile* tf = tcp_file(f)) {
    if (level != SOL_SOCKET_ || optname != SO_ERROR_) return g.fail(Rule::kSockoptEinval, -ENOPROTOOPT);
    *value = static_cast<int>(inet_sock_error(*tf->sk));  // sk_getsockopt SO_ERROR
    return 0;
  }
  return g.fail(Rule::kSocketOpUnsupported, -EOPNOTSUPP);
}

// __sys_getsockname: a socket the model has gives its family (unix_getname of an unbound
// socket: the family alone).
long do_getsockname(Globals& g, FdTable& fdt, int fd, std::vector<uint8_t>* addr) {
  long err = 0;
  File* f = sockfd_lookup(g, fdt, fd, &err);
  if (!f) return err;
  if (const TcpSocketFile* tf = tcp_file(f)) {  // inet_getname
    addr->assign(kSockaddrInSize, 0);
    inet_getname(*tf->sk, addr->data());
    return 0;
  }
  const uint16_t family = AF_UNIX_;
  addr->assign(sizeof family, 0);
  std::memcpy(addr->data(), &family, sizeof family);
  return 0;
}

}  // namespace model
