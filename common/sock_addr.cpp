#include "common/sock_addr.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

namespace eo {

namespace {

template <class T>
SockAddr bytes_of(const T& s, size_t len = sizeof(T)) {
  SockAddr out(len);
  std::memcpy(out.data(), &s, len);
  return out;
}

}  // namespace

SockAddr loopback_any_port() {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return bytes_of(in);
}

SockAddr abstract_unix(const std::string& name) {
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  const size_t n = std::min(name.size(), sizeof un.sun_path - 1);
  std::memcpy(un.sun_path + 1, name.data(), n);  // sun_path[0] = 0: the abstract namespace
  return bytes_of(un, offsetof(sockaddr_un, sun_path) + 1 + n);
}

int family_of(const SockAddr& a) {
  if (a.size() < sizeof(sa_family_t)) return AF_UNSPEC;
  sa_family_t f = 0;
  std::memcpy(&f, a.data(), sizeof f);
  return f;
}

int SocketAddresses::id_of(const std::string& proc, int fd) const {
  const auto it = id_by_fd_.find(proc);
  if (it == id_by_fd_.end() || fd < 0 || static_cast<size_t>(fd) >= it->second.size()) return -1;
  return it->second[static_cast<size_t>(fd)];
}

int SocketAddresses::id_of(const std::string& name) const {
  const auto it = id_by_name_.find(name);
  return it == id_by_name_.end() ? -1 : it->second;
}

void SocketAddresses::created(const std::string& proc, int fd) {
  if (fd < 0) return;
  std::vector<int>& ids = id_by_fd_[proc];
  if (static_cast<size_t>(fd) >= ids.size()) ids.resize(static_cast<size_t>(fd) + 1, -1);
  ids[static_cast<size_t>(fd)] = static_cast<int>(addr_by_id_.size());
  addr_by_id_.emplace_back();
}

void SocketAddresses::duplicated(const std::string& proc, int from, int to) {
  const int id = id_of(proc, from);
  if (to < 0) return;
  if (id < 0) {  // a descriptor the trace did not make (stdin): an identity of its own
    created(proc, to);
    return;
  }
  std::vector<int>& ids = id_by_fd_[proc];
  if (static_cast<size_t>(to) >= ids.size()) ids.resize(static_cast<size_t>(to) + 1, -1);
  ids[static_cast<size_t>(to)] = id;
}

void SocketAddresses::closed(const std::string& proc, int fd) {
  if (id_of(proc, fd) >= 0) id_by_fd_[proc][static_cast<size_t>(fd)] = -1;
}

void SocketAddresses::forked(const std::string& parent, const std::string& child) {
  const auto it = id_by_fd_.find(parent);
  id_by_fd_[child] = it == id_by_fd_.end() ? std::vector<int>{} : it->second;
}

void SocketAddresses::exited(const std::string& proc) { id_by_fd_.erase(proc); }

void SocketAddresses::named(const std::string& proc, const std::string& name, int fd) {
  id_by_name_[name] = id_of(proc, fd);
}

void SocketAddresses::noted(const std::string& proc, int fd, const SockAddr& a) {
  const int id = id_of(proc, fd);
  if (id >= 0 && !a.empty()) addr_by_id_[static_cast<size_t>(id)] = a;
}

SockAddr SocketAddresses::address_of(const std::string& name) const {
  const int id = id_of(name);
  return id < 0 ? SockAddr{} : addr_by_id_[static_cast<size_t>(id)];
}

SockAddr SocketAddresses::fresh(const std::string& name) {
  const int id = id_of(name);
  if (id < 0) return {};
  switch (family_of(addr_by_id_[static_cast<size_t>(id)])) {
    case AF_INET:
      return loopback_any_port();
    case AF_UNIX:
    {
      std::string name = tag_.substr(0, kTagWidth);
      name.resize(kTagWidth, '.');
      const std::string n = std::to_string(fresh_names_++);
      return abstract_unix(name + "." + std::string(n.size() < 6 ? 6 - n.size() : 0, '0') + n);
    }
    default:
      return {};
  }
}

std::optional<SockAddr> SocketAddresses::bind_before_listen(const std::string& name) const {
  const int id = id_of(name);
  if (id < 0) return std::nullopt;
  const SockAddr& a = addr_by_id_[static_cast<size_t>(id)];
  if (family_of(a) != AF_INET || a.size() < sizeof(sockaddr_in)) return std::nullopt;
  sockaddr_in in{};
  std::memcpy(&in, a.data(), sizeof in);
  if (in.sin_port != 0) return std::nullopt;
  return loopback_any_port();
}

}  // namespace eo
