// UDP on loopback, as far as epoll can see: net/ipv4/udp.c (udp_lib_get_port,
// __udp4_lib_lookup / compute_score, __udp4_lib_err, udp_sendmsg, __udp_enqueue_schedule_skb,
// udp_rmem_release, __skb_recv_udp, udp_recvmsg, udp_poll, first_packet_length,
// __udp_disconnect), net/ipv4/datagram.c (__ip4_datagram_connect), net/ipv4/af_inet.c
// (inet_dgram_connect, inet_send_prepare/inet_autobind, inet_shutdown), net/core/datagram.c
// (datagram_poll, __skb_wait_for_more_packets) and net/core/sock.c (sock_wfree ->
// sock_def_write_space_wfree, sock_writeable, sock_alloc_send_pskb). udp.c read at
// gregkh/linux 1b87044469352e69 (the pre-6.15 enqueue test) and a later udp.c with the
// per-NUMA producer queue and 6.18's "Accept the packet if queue is empty"; the other
// files' rules as in 6.18, each confirmed by a trace on 6.18.44 (traces/udp).
//
// Delivery on loopback is immediate (TRACE_FORMAT.md v1.1 "Settled, with TCP"): loopback_xmit
// orphans the skb first (sock_wfree: the sender's sk_write_space), then the receiver's
// softirq queues it or, with no socket on the port, answers with ICMP port unreachable,
// which sets ECONNREFUSED on a connected sender. A datagram is charged at its truesize
// (udp_truesize, calibrated by real/calibrate: UdpCalibration).
#pragma once
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "file.h"
#include "sched.h"

namespace model {

// One datagram in a receive queue: its payload and the truesize it is charged.
struct UdpDatagram {
  std::vector<char> data;
  int truesize = 0;
};

// struct sock + inet_sock + udp_sock, as far as epoll can see.
struct UdpSock : std::enable_shared_from_this<UdpSock> {
  explicit UdpSock(Globals& g);
  Globals* g;
  WaitQueueHead wq;          // sk->sk_wq->wait
  bool connected = false;    // sk_state TCP_ESTABLISHED (else TCP_CLOSE)
  int shutdown = 0;          // sk_shutdown
  int err = 0;               // sk_err (positive errno)
  bool dead = false;         // SOCK_DEAD: closed
  int port = 0;              // inet_num (127.0.0.1 only; 0 = unbound)
  int dport = 0;             // inet_dport
  bool bind_locked = false;  // SOCK_BINDPORT_LOCK
  bool reuse = false;        // SO_REUSEADDR (sk_reuse)
  bool reuseport = false;    // SO_REUSEPORT
  int sndbuf;                // sk_sndbuf
  int rcvbuf;                // sk_rcvbuf
  unsigned long hash_order = 0;  // when it was (re)hashed: the newest heads hslot2

  // sk_receive_queue (where the softirq queues) and udp_sk->reader_queue (where reads take
  // from, refilled from the former when empty); sk_rmem_alloc charges both, and
  // forward_deficit is what reads freed but udp_rmem_release has not given back yet.
  std::deque<UdpDatagram> receive_queue;
  std::deque<UdpDatagram> reader_queue;
  long rmem_alloc = 0;
  long forward_deficit = 0;

  void data_ready();    // sock_def_readable
  void error_report();  // sock_def_error_report
  void write_space();   // sock_def_write_space (sock_def_write_space_wfree from sock_wfree)
  void state_change();  // sock_def_wakeup
};

// The truesize of one loopback datagram of `len` payload bytes, as __ip_append_data
// allocates it (linear up to SKB_MAX_ALLOC, else a small head and page frags).
int udp_truesize(Globals& g, int len);
// sock_writeable: sk_wmem_alloc < sk_sndbuf / 2 (on loopback the skb is freed before
// the send returns: only the socket's own reference is left).
bool udp_sock_writeable(const UdpSock& sk);

// A socket file with inet_dgram_ops and udp_prot.
struct UdpSocketFile : File {
  UdpSocketFile(Globals& g, std::shared_ptr<UdpSock> sk, int flags);
  std::shared_ptr<UdpSock> sk;
  poll_t poll(PollTable* pt) override;                          // udp_poll
  MaySleep read(Task& t, void* buf, size_t n) override;         // udp_recvmsg
  MaySleep write(Task& t, const void* buf, size_t n) override;  // udp_sendmsg
  void release() override;                                      // udp_lib_close
  std::string describe() const override { return sk && sk->connected ? "udp socket connected" : "udp socket"; }
  const void* private_data() const override { return sk.get(); }
};
UdpSocketFile* udp_file(File* f);

// inet_bind for UDP: the checks of __inet_bind, then udp_lib_get_port.
long udp_bind(UdpSock& sk, const uint8_t* addr, size_t len);
// inet_dgram_connect -> __ip4_datagram_connect.
long udp_connect(UdpSock& sk, const uint8_t* addr, size_t len);
// inet_shutdown on a datagram socket.
long udp_inet_shutdown(UdpSock& sk, int how);
// sk_setsockopt for SOL_SOCKET, ip_setsockopt (ENOPROTOOPT) for the others.
long udp_setsockopt(UdpSock& sk, int level, int optname, const void* optval, int optlen);
// getsockopt(SO_ERROR): the pending error, cleared.
long udp_sock_error(UdpSock& sk);
// inet_getname: 127.0.0.1 and the port (or the peer's), 16 bytes.
void udp_getname(const UdpSock& sk, uint8_t out[16]);

}  // namespace model
