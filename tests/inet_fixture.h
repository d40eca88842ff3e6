// The TCP and UDP model tests' shorthands: AF_INET sockets on 127.0.0.1.
#pragma once
#include <cstdint>
#include <vector>

#include "model/af_inet.h"
#include "model_fixture.h"

namespace eo_test {

// AF_INET sockets of one type (SOCK_STREAM: TCP, SOCK_DGRAM: UDP) on 127.0.0.1.
template <int Type>
struct InetSys : ModelSys {
  int sock(int flags = SOCK_NONBLOCK_) { return static_cast<int>(k.socket(main(), AF_INET_, Type | flags, 0)); }
  std::vector<uint8_t> addr(int fd) {
    std::vector<uint8_t> a;
    k.getsockname(main(), fd, &a);
    return a;
  }
  long bind_fresh(int fd) { return k.bind(main(), fd, {AF_INET_, 0, 0, 0, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}); }
  long setopt(int fd, int opt, int v) { return k.setsockopt(main(), fd, SOL_SOCKET_, opt, &v, sizeof v); }
  long so_error(int fd) {
    const long r = k.getsockopt(main(), fd, SOL_SOCKET_, SO_ERROR_);
    return r < 0 ? r : static_cast<long>(main().value);
  }
};

}  // namespace eo_test
