// AF_UNIX sockets with addresses: net/unix/af_unix.c (6952350/linux-6.18.y 27d8ad92)
// unix_bind (abstract names and unix_autobind), unix_listen, unix_stream_connect (the
// embryo socket queued on the listener, EAGAIN or unix_wait_for_peer when the backlog is
// full), unix_accept (skb_recv_datagram on the listener's queue) and unix_getname, for
// SOCK_STREAM and SOCK_SEQPACKET (unix_dgram_connect is not modelled).
#pragma once
#include <cstdint>
#include <vector>

#include "af_unix.h"

namespace model {

long unix_bind(UnixSock& sk, const std::vector<uint8_t>& addr);
long unix_listen(UnixSock& sk, int backlog);
MaySleep unix_stream_connect(Task& t, UnixSocketFile& sock, std::vector<uint8_t> addr);
// unix_accept: 0 with the accepted socket in *out, or -errno.
MaySleep unix_accept(Task& t, UnixSocketFile& sock, std::shared_ptr<UnixSock>* out);
// unix_getname(peer = 0): the bound address, or the family alone.
std::vector<uint8_t> unix_getname(const UnixSock& sk);

}  // namespace model
