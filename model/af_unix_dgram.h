// AF_UNIX SOCK_DGRAM sockets, pairs and connected by name (SOCK_RAW is made SOCK_DGRAM by unix_create):
// net/unix/af_unix.c (gregkh/linux 0d60e99f2d3e, 6.18.30) unix_dgram_ops: unix_dgram_poll,
// unix_dgram_sendmsg, unix_dgram_recvmsg, unix_dgram_connect, and the peer_wake relay of asymmetric
// associations; net/core/datagram.c __skb_try_recv_datagram and
// __skb_wait_for_more_packets. The struct sock, release and shutdown are af_unix.h's.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "af_unix.h"

namespace model {

struct UnixDgramSocketFile : UnixSocketFile {
  using UnixSocketFile::UnixSocketFile;
  poll_t poll(PollTable* pt) override;                      // unix_dgram_poll
  MaySleep read(Task& t, void* buf, size_t n) override;         // unix_dgram_recvmsg
  MaySleep write(Task& t, const void* buf, size_t n) override;  // unix_dgram_sendmsg
  std::string describe() const override { return "unix dgram socket"; }
};

// unix_dgram_connect: 0, or -EINVAL, -ECONNREFUSED (no socket of this type has the name),
// -EPERM (the receiver is connected to another socket). AF_UNSPEC disconnects.
long unix_dgram_connect(UnixSock& sk, const std::vector<uint8_t>& addr);
// unix_recvq_full_lockless: more datagrams queued than sk_max_ack_backlog.
bool unix_recvq_full(const UnixSock& sk);
// unix_wait_for_peer: an exclusive entry on other's peer_wait; sleeps only while other is
// alive, not shut for receiving, and full. The timeout left.
MaySleep unix_wait_for_peer(Task& t, UnixSock& other, long timeo);
// __skb_wait_for_more_packets (net/core/datagram.c) with the queue empty: an exclusive
// entry with receiver_wake_function at the tail of sk's wq; 0: try again, else stop with
// *err set (0 for RCV_SHUTDOWN).
MaySleep __skb_wait_for_more_packets(Task& t, UnixSock& sk, long* err, long* timeo_p, Rule sleeps);
// __skb_recv_datagram (net/core/datagram.c), shared by unix_dgram_recvmsg and unix_accept:
// 1 once a datagram heads sk's queue, else 0 with *err (-errno; 0 for RCV_SHUTDOWN).
// `sleeps` is the caller's rule for a sleep in __skb_wait_for_more_packets.
MaySleep __skb_recv_datagram(Task& t, UnixSock& sk, long timeo, Rule sleeps, long* err);
// unix_dgram_peer_wake_relay: the func of every socket's peer_wake entry (unix_create1).
int unix_dgram_peer_wake_relay(WaitQueueEntry* q, unsigned mode, int flags, poll_t key);
// unix_dgram_peer_wake_disconnect: takes sk's peer_wake off other's peer_wait.
void unix_dgram_peer_wake_disconnect(UnixSock& sk, UnixSock& other);

}  // namespace model
