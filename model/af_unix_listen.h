// AF_UNIX sockets with addresses: net/unix/af_unix.c (6952350/linux-6.18.y 27d8ad92)
// unix_bind (abstract names and unix_autobind), unix_listen, unix_stream_connect (the
// embryo socket queued on the listener, EAGAIN or unix_wait_for_peer when the backlog is
// full), unix_accept (skb_recv_datagram on the listener's queue) and unix_getname, for
// SOCK_STREAM and SOCK_SEQPACKET (unix_dgram_connect is af_unix_dgram.h's).
#pragma once
#include <cstdint>
#include <vector>

#include "af_unix.h"

namespace model {

// unix_validate_addr: longer than the family, at most a sockaddr_un, AF_UNIX.
bool valid_addr(const std::vector<uint8_t>& a);
// unix_find_abstract: the live socket of that type bound to the abstract name, or null
// (ECONNREFUSED: the type is part of the name's hash, so another type is never found).
UnixSock* find_abstract(Globals& g, int type, const std::vector<uint8_t>& a);
long unix_bind(UnixSock& sk, const std::vector<uint8_t>& addr);
long unix_listen(UnixSock& sk, int backlog);
MaySleep unix_stream_connect(Task& t, UnixSocketFile& sock, std::vector<uint8_t> addr);
// unix_accept: 0 with the accepted socket in *out, or -errno.
MaySleep unix_accept(Task& t, UnixSocketFile& sock, std::shared_ptr<UnixSock>* out);
// unix_getname(peer = 0): the bound address, or the family alone.
std::vector<uint8_t> unix_getname(const UnixSock& sk);

}  // namespace model
