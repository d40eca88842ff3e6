// Socket addresses for the trace language (TRACE_FORMAT.md v1.1 "Sockets with addresses"
// and "precise points"): addresses never appear in a trace, a socket is named for its
// address. Both executors share this bookkeeping: each socket the trace makes is an
// identity (a dup shares it), its address is taken after every call that may change it
// (socket, socketpair, bind, listen, connect, accept4), and OTHER means the last address
// of the socket its name was bound to, wherever and whenever that was.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace eo {

// The bytes of a struct sockaddr_* as getsockname wrote them; empty: none (a non-socket,
// or a call that could not read it).
using SockAddr = std::vector<uint8_t>;

// 127.0.0.1 port 0 (the only AF_INET address a trace binds).
SockAddr loopback_any_port();
// An abstract AF_UNIX address: a NUL, then `name`.
SockAddr abstract_unix(const std::string& name);
// The address family of an address (AF_UNSPEC for an empty one).
int family_of(const SockAddr& a);

class SocketAddresses {
 public:
  // Abstract names made by fresh() begin with this (unique to one run on this machine),
  // padded or cut to kTagWidth, so that a name has the same length on every executor: an
  // error can depend on it (tcp_v4_connect: EINVAL below sizeof(struct sockaddr_in), else
  // EAFNOSUPPORT for an AF_UNIX address).
  static constexpr int kTagWidth = 24;
  explicit SocketAddresses(std::string tag = "eo") : tag_(std::move(tag)) {}

  // Descriptor numbers are per process (`proc`); socket identities and names are not.
  // Descriptor `fd` of `proc` now refers to a new open file (a creating call other than dup).
  void created(const std::string& proc, int fd);
  // Descriptor `to` now refers to the open file of `from` (dup).
  void duplicated(const std::string& proc, int from, int to);
  // Descriptor `fd` was closed.
  void closed(const std::string& proc, int fd);
  // fork: `child`'s descriptors are a copy of `parent`'s; exit: `proc` has none any more.
  void forked(const std::string& parent, const std::string& child);
  void exited(const std::string& proc);
  // The name a creating call bound to `fd` (-1: it failed) denotes that open file from now on.
  void named(const std::string& proc, const std::string& name, int fd);
  // The socket that `fd` refers to has address `a` now (ignored when a is empty).
  void noted(const std::string& proc, int fd, const SockAddr& a);

  // OTHER: the last address of the socket `name` was bound to; empty for a non-socket
  // (the kernel then says EINVAL) or an unknown name.
  SockAddr address_of(const std::string& name) const;
  // bind(S) without OTHER: for an AF_INET socket 127.0.0.1 port 0, for an AF_UNIX one an
  // abstract name unique to the run; empty when S is not a socket the trace made.
  SockAddr fresh(const std::string& name);
  // listen(S) on an AF_INET socket without a port binds it to 127.0.0.1 port 0 first
  // (the kernel would take 0.0.0.0): that address, or nullopt when nothing is to be bound.
  std::optional<SockAddr> bind_before_listen(const std::string& name) const;

 private:
  int id_of(const std::string& proc, int fd) const;
  int id_of(const std::string& name) const;
  std::string tag_;
  int fresh_names_ = 0;
  // By process, by descriptor number; -1: not open (or not made by the trace).
  std::map<std::string, std::vector<int>, std::less<>> id_by_fd_;
  std::vector<SockAddr> addr_by_id_;          // the last address noted, by identity
  std::map<std::string, int> id_by_name_;     // -1: the creating call failed
};

}  // namespace eo
