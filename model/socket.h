// socketpair(2) up to the protocol family: net/socket.c __sys_socketpair and __sock_create
// (6.18), with the families the model can answer: AF_UNIX (net/unix/af_unix.c, fully),
// AF_INET/AF_INET6 (inet_create's built-in type table, then sock_no_socketpair) and every
// other family as real/calibrate probed it on the running kernel (KernelProfile).
#pragma once
#include <cstdint>
#include <vector>

#include "file.h"
#include "may_sleep.h"

namespace model {

// __sys_socketpair: EINVAL for type flags, EMFILE, then __sock_create's checks and the
// family's create and socketpair operation.
long do_socketpair(Globals& g, FdTable& fdt, int domain, int type, int protocol, int sv[2]);

// __sys_socket: EINVAL for type flags, __sock_create's checks, the family's create, then
// a descriptor (EMFILE after the socket exists, as sock_map_fd does).
long do_socket(Globals& g, FdTable& fdt, int domain, int type, int protocol);

// The socket behind fd for bind, listen, connect, accept4, setsockopt and getsockopt
// (sockfd_lookup / sock_from_file): nullptr with *err -EBADF or -ENOTSOCK.
File* sockfd_lookup(Globals& g, FdTable& fdt, int fd, long* err);

// The calls on a socket descriptor (net/socket.c __sys_bind, __sys_listen, __sys_connect,
// __sys_accept4, __sys_setsockopt, __sys_getsockopt): the generic checks, then the
// family's operation. An address is the bytes the user passes.
long do_bind(Globals& g, FdTable& fdt, int fd, const std::vector<uint8_t>& addr);
long do_listen(Globals& g, FdTable& fdt, int fd, int backlog);
MaySleep do_connect(Globals& g, FdTable& fdt, Task& t, int fd, std::vector<uint8_t> addr);
MaySleep do_accept4(Globals& g, FdTable& fdt, Task& t, int fd, int flags);
long do_setsockopt(Globals& g, FdTable& fdt, int fd, int level, int optname, const void* optval, int optlen);
long do_getsockopt(Globals& g, FdTable& fdt, int fd, int level, int optname, int* value);
// sizeof(struct sockaddr_storage): move_addr_to_kernel refuses longer addresses.
inline constexpr size_t kSockaddrStorage = 128;
// getsockname, for the executor's address bookkeeping (not a call of the language).
long do_getsockname(Globals& g, FdTable& fdt, int fd, std::vector<uint8_t>* addr);

}  // namespace model
