// socketpair(2) up to the protocol family: net/socket.c __sys_socketpair and __sock_create
// (6.18), with the families the model can answer: AF_UNIX (net/unix/af_unix.c, fully),
// AF_INET/AF_INET6 (inet_create's built-in type table, then sock_no_socketpair) and every
// other family as real/calibrate probed it on the running kernel (KernelProfile).
#pragma once
#include "file.h"

namespace model {

// __sys_socketpair: EINVAL for type flags, EMFILE, then __sock_create's checks and the
// family's create and socketpair operation.
long do_socketpair(Globals& g, FdTable& fdt, int domain, int type, int protocol, int sv[2]);

}  // namespace model
