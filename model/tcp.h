// TCP on loopback, abstracted to what epoll can see: net/ipv4/tcp.c (tcp_poll, tcp_recvmsg,
// tcp_sendmsg, tcp_shutdown, tcp_close, tcp_set_rcvlowat), net/ipv4/tcp_input.c (tcp_fin,
// tcp_reset, tcp_done_with_error, tcp_data_ready, tcp_check_space, the state moves of
// tcp_rcv_state_process) and net/core/stream.c (sk_stream_write_space, sk_stream_wait_*),
// read at gregkh/linux 03bab42919c4 (6.18 era).
//
// Delivery on loopback is immediate: a segment sent is received, and acknowledged, before
// the sending call returns (TRACE_FORMAT.md v1.1 "Settled, with TCP"). Bytes are counted,
// not kept: a trace never looks at them. Send and receive buffers are in payload bytes,
// with the capacities real/calibrate measures (TcpCalibration).
#pragma once
#include <deque>
#include <cstddef>
#include <memory>
#include <string>

#include "file.h"
#include "sched.h"

namespace model {

// include/net/tcp_states.h
enum TcpState : int {
  TCP_ESTABLISHED = 1,
  TCP_SYN_SENT,
  TCP_SYN_RECV,
  TCP_FIN_WAIT1,
  TCP_FIN_WAIT2,
  TCP_TIME_WAIT,
  TCP_CLOSE,
  TCP_CLOSE_WAIT,
  TCP_LAST_ACK,
  TCP_LISTEN,
  TCP_CLOSING,
};
const char* tcp_state_name(int state);

struct InetHashinfo;

// struct sock + inet_sock + inet_connection_sock + tcp_sock, as far as epoll can see.
struct TcpSock : std::enable_shared_from_this<TcpSock> {
  explicit TcpSock(Globals& g);
  Globals* g;
  WaitQueueHead wq;  // sk->sk_wq->wait
  int state = TCP_CLOSE;
  int shutdown = 0;       // sk_shutdown: RCV_SHUTDOWN | SEND_SHUTDOWN
  int err = 0;            // sk_err (positive errno)
  bool dead = false;      // SOCK_DEAD: orphaned by close (sock_orphan: no wait queue)
  bool done = false;      // SOCK_DONE: a FIN was received
  bool nospace = false;   // SOCK_NOSPACE: a writer found no room (tcp_poll, tcp_sendmsg)
  bool connecting = false;  // socket->state SS_CONNECTING (inet_stream_connect)
  bool connected = false;   // socket->state SS_CONNECTED
  bool disconnecting = false;  // socket->state SS_DISCONNECTING (inet_shutdown of a connecting socket in SYN_RECV or CLOSE)

  // Addresses: 127.0.0.1 only; ports 0 = none.
  int port = 0;             // inet_num
  int dport = 0;            // inet_dport
  bool bind_locked = false;  // SOCK_BINDPORT_LOCK: bound by bind(2), kept at CLOSE
  bool reuse = false;       // SO_REUSEADDR
  bool reuseport = false;   // SO_REUSEPORT
  std::weak_ptr<TcpSock> peer;  // where our segments arrive on loopback

  // Receive side: bytes received in order and not read (rcv_nxt - copied_seq), and
  // their contents (a read gives them back: eventfd_read of a socket shows them).
  long rcv_bytes = 0;
  std::deque<char> rcv_data;
  // Send side: bytes written that the peer's window has not taken yet (write_seq - snd_nxt).
  long notsent = 0;
  std::deque<char> snd_data;
  bool fin_queued = false;  // tcp_send_fin queued a FIN behind notsent bytes
  int rcvlowat = 1;         // sk_rcvlowat
  int linger = -1;          // SO_LINGER: -1 off, else l_linger seconds
  int sndbuf;               // sk_sndbuf (as SO_SNDBUF reports it)
  int rcvbuf;               // sk_rcvbuf
  bool sndbuf_locked = false;  // SOCK_SNDBUF_LOCK
  bool rcvbuf_locked = false;  // SOCK_RCVBUF_LOCK

  // Listener: the accept queue (icsk_accept_queue, children ESTABLISHED or later) and its
  // bound (sk_max_ack_backlog).
  std::deque<std::shared_ptr<TcpSock>> accept_queue;
  int max_ack_backlog = 0;

  // Payload bytes the receive queue holds before the window closes, and the send queue
  // before a write stops: the calibrated capacities, scaled by a SO_RCVBUF/SO_SNDBUF.
  long rcv_capacity() const;
  long snd_capacity() const;

  void state_change();  // sock_def_wakeup
  void data_ready();    // sock_def_readable
  void error_report();  // sock_def_error_report
  void write_space();   // sk_stream_write_space
};

// include/net/sock.h __sk_stream_is_writeable(sk, 1) with tcp_stream_memory_free's
// notsent_lowat at its default (UINT_MAX): room below sk_sndbuf, and the free space at
// least half of what is queued.
bool sk_stream_is_writeable(const TcpSock& sk);
// tcp_epollin_ready: at least `target` bytes to read.
bool tcp_epollin_ready(const TcpSock& sk, int target);

// The loopback path, each step at the kernel's site:
// tcp_push_pending_frames for loopback: notsent bytes go to the peer while its window
// has room; the FIN follows the last of them. The peer ACKs at once (tcp_check_space).
void tcp_push(TcpSock& sk);
// tcp_fin: the peer's FIN has arrived.
void tcp_fin(TcpSock& sk);
// tcp_reset: an RST has arrived.
void tcp_reset(TcpSock& sk);
// tcp_done: the connection is over (CLOSE, both directions shut, sk_state_change).
void tcp_done(TcpSock& sk);
// tcp_send_active_reset: sk resets its connection; the peer gets tcp_reset.
void tcp_send_active_reset(TcpSock& sk);
// The ACK of our FIN has arrived (tcp_rcv_state_process FIN_WAIT1/CLOSING/LAST_ACK).
void tcp_fin_acked(TcpSock& sk);
// tcp_disconnect: back to an unconnected CLOSE socket (RST to a synchronized peer, own
// sk_err ECONNRESET then), sk_error_report.
void tcp_disconnect(TcpSock& sk);
// tcp_set_state: the new state; CLOSE unhashes and releases an unlocked port.
void tcp_set_state(TcpSock& sk, int state);

// A socket file with inet_stream_ops and tcp_prot.
struct TcpSocketFile : File {
  TcpSocketFile(Globals& g, std::shared_ptr<TcpSock> sk, int flags);
  std::shared_ptr<TcpSock> sk;
  poll_t poll(PollTable* pt) override;                          // tcp_poll
  MaySleep read(Task& t, void* buf, size_t n) override;         // tcp_recvmsg
  MaySleep write(Task& t, const void* buf, size_t n) override;  // tcp_sendmsg
  void release() override;                                      // inet_release -> tcp_close
  std::string describe() const override { return std::string("tcp socket ") + tcp_state_name(sk->state); }
  const void* private_data() const override { return sk.get(); }
};

// inet_shutdown with tcp_shutdown.
long tcp_inet_shutdown(TcpSock& sk, int how);
// tcp_set_rcvlowat (SO_RCVLOWAT): the mark, capped, and tcp_data_ready.
void tcp_set_rcvlowat(TcpSock& sk, int val);

}  // namespace model
