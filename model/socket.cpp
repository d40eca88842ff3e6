// net/socket.c __sys_socketpair / __sock_create, net/ipv4/af_inet.c inet_create and
// net/ipv6/af_inet6.c inet6_create as of 6.18 (gregkh/linux; the order of the checks is
// the same since 4.x). A family's create runs only once the descriptors are reserved.
#include "socket.h"

#include "af_unix.h"

namespace model {

namespace {

constexpr int SOCK_TYPE_MASK_ = 0xf;
constexpr int SOCK_PACKET_ = 10;
constexpr int SOCK_MAX_ = SOCK_PACKET_ + 1;  // include/linux/net.h
constexpr int AF_INET_ = 2;
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

}  // namespace model
