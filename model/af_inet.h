// The AF_INET socket layer for TCP: net/ipv4/af_inet.c (inet_create, inet_bind,
// inet_listen, __inet_stream_connect, inet_accept, inet_getname), net/socket.c
// (__sys_listen, __sys_accept4) and the SOL_SOCKET/IPPROTO_TCP options of
// net/core/sock.c sk_setsockopt / sk_getsockopt and tcp_setsockopt, at gregkh/linux
// 03bab42919c4 (6.18 era). Only 127.0.0.1 is a local address (TRACE_FORMAT.md v1.1:
// loopback only). Addresses are struct sockaddr_in bytes, as the executors pass them.
#pragma once
#include <cstddef>
#include <cstdint>

#include "tcp.h"

namespace model {

inline constexpr int SO_REUSEADDR_ = 2, SO_ERROR_ = 4, SO_SNDBUF_ = 7, SO_RCVBUF_ = 8, SO_LINGER_ = 13,
                     SO_REUSEPORT_ = 15, SO_RCVLOWAT_ = 18, TCP_NODELAY_ = 1;
inline constexpr uint32_t kLoopback = 0x7f000001;  // 127.0.0.1, host order
inline constexpr size_t kSockaddrInSize = 16;

// socket(AF_INET, type, protocol): a TCP socket file; other types are not modelled (-ESOCKTNOSUPPORT
// with the rule that says so). `flags` are the O_NONBLOCK/O_CLOEXEC file flags.
long inet_create(Globals& g, FdTable& fdt, int type, int protocol, int flags);
// The TCP socket behind a file, or nullptr.
TcpSocketFile* tcp_file(File* f);

long inet_bind(TcpSock& sk, const uint8_t* addr, size_t len);
// __sys_listen (backlog capped by somaxconn) -> inet_listen.
long inet_listen(TcpSock& sk, int backlog);
// __inet_stream_connect: 0, -EINPROGRESS, -ECONNREFUSED, ...; a blocking connect sleeps
// while the handshake is not done.
MaySleep inet_stream_connect(Task& t, TcpSocketFile& f, const uint8_t* addr, size_t len);
// inet_accept: 0 with the accepted socket's file in *out (FLAGS: its O_NONBLOCK and
// O_CLOEXEC), or -errno. Blocks unless the listener's file is O_NONBLOCK. __sys_accept4
// (do_accept4) has reserved the descriptor before and installs the file.
MaySleep inet_accept4(Task& t, TcpSocketFile& f, int flags, File** out);
// inet_getname: the local (or peer) sockaddr_in, 16 bytes into out.
void inet_getname(const TcpSock& sk, uint8_t out[kSockaddrInSize], bool peer = false);
// sk_setsockopt / tcp_setsockopt: an int option, or SO_LINGER's struct linger.
long inet_setsockopt(TcpSock& sk, int level, int optname, const void* optval, int optlen);
// getsockopt(SOL_SOCKET, SO_ERROR): the pending error (positive errno) or 0, cleared.
long inet_sock_error(TcpSock& sk);

}  // namespace model
