// AF_UNIX socket pairs: net/unix/af_unix.c (6.18: unix_stream_sendmsg,
// unix_stream_read_generic, unix_poll, unix_shutdown, unix_release_sock, unix_write_space)
// with the net/core/sock.c pieces they call (sock_alloc_send_pskb, sock_wfree,
// sock_def_readable, sock_def_wakeup). The struct sock here is shared with the datagram
// sockets of af_unix_dgram.h, which bring their own poll, sendmsg and recvmsg.
#pragma once
#include <deque>
#include <optional>
#include <memory>
#include <string>

#include "file.h"
#include "sched.h"

namespace model {

inline constexpr int RCV_SHUTDOWN = 1;
inline constexpr int SEND_SHUTDOWN = 2;
inline constexpr int SHUTDOWN_MASK = 3;
// sk_state values AF_UNIX uses (include/net/tcp_states.h).
inline constexpr int TCP_ESTABLISHED_ = 1;
inline constexpr int TCP_CLOSE_ = 7;
inline constexpr int TCP_LISTEN_ = 10;

struct UnixSock;

// struct sk_buff, as much as the accounting needs.
struct Skb {
  int len = 0;       // payload
  int consumed = 0;  // UNIXCB(skb).consumed
  int truesize = 0;
  std::shared_ptr<UnixSock> owner;  // skb->sk: the sender, charged in sk_wmem_alloc
  std::string data;  // the payload bytes
  // unix_stream_connect's skb on a listener's queue: the embryo socket it brings (skb->sk).
  std::shared_ptr<UnixSock> embryo;
};

// struct sock + struct unix_sock. The socket's wait queue (sk->sk_wq->wait) lives here;
// `orphaned` stands for sock_orphan() clearing sk_wq at close.
struct UnixSock : std::enable_shared_from_this<UnixSock> {  // sock_hold: a shared_ptr
  UnixSock(Globals& g, int type);
  Globals* g;
  int type;  // sk_type: SOCK_STREAM_, SOCK_DGRAM_ or SOCK_SEQPACKET_
  WaitQueueHead wq;
  // unix_sock.peer_wait: datagram senders wait here for room in this socket's queue, and
  // other sockets' peer_wake entries hang here (unix_dgram_peer_wake_connect).
  WaitQueueHead peer_wait;
  // unix_sock.peer_wake: relays a wakeup of the peer's peer_wait to this socket's wq;
  // peer_wake_other is its .private (the socket whose peer_wait holds it, or null).
  WaitQueueEntry peer_wake;
  UnixSock* peer_wake_other = nullptr;
  unsigned max_ack_backlog;  // sk_max_ack_backlog = net.unix.max_dgram_qlen at creation
  bool orphaned = false;
  std::shared_ptr<UnixSock> peer;  // unix_peer(sk), holds a reference (sock_hold)
  std::deque<Skb> receive_queue;
  long wmem_alloc = 1;  // sk_wmem_alloc: 1 + truesize of sent skbs not yet freed
  int sndbuf;
  int shutdown = 0;
  int err = 0;
  bool dead = false;    // SOCK_DEAD
  int state = TCP_CLOSE_;  // sk_state
  // unix_sock.addr: the bound sockaddr_un as given (family and abstract name), none if unbound.
  std::optional<std::string> addr;

  bool writable() const;  // unix_writable
  void set_sndbuf(int val);  // sock_setsockopt(SO_SNDBUF)
  void write_space();     // unix_write_space
  void data_ready();      // sock_def_readable
  void state_change();    // sock_def_wakeup
};

// A socket file with unix_stream_ops; UnixDgramSocketFile (af_unix_dgram.h) overrides
// what unix_dgram_ops change.
struct UnixSocketFile : File {
  UnixSocketFile(Globals& g, std::shared_ptr<UnixSock> sk, int flags);
  std::shared_ptr<UnixSock> sk;
  poll_t poll(PollTable* pt) override;                      // unix_poll
  MaySleep read(Task& t, void* buf, size_t n) override;         // unix_stream_recvmsg
  MaySleep write(Task& t, const void* buf, size_t n) override;  // unix_stream_sendmsg
  void release() override;                                  // unix_release -> unix_release_sock
  std::string describe() const override { return "unix stream socket"; }
  const void* private_data() const override { return sk.get(); }
  long shutdown(int how);                                   // unix_shutdown
};

// unix_release_sock: the socket dies (its name freed, its peer told, its queue purged; a
// listener's embryos released with embrion set: their connectors get ECONNRESET).
void unix_release_sock(UnixSock& sk, bool embrion);
// Takes a bound socket's name out of the abstract namespace (unix_remove_socket).
void unix_remove_socket(UnixSock& sk);
// sock_alloc_file with the proto_ops unix_create chose for the type (stream, dgram,
// seqpacket); flags: O_NONBLOCK and O_CLOEXEC.
UnixSocketFile* unix_sock_file(Globals& g, std::shared_ptr<UnixSock> sk, int flags);

// The truesize of an skb from alloc_skb_with_frags(header_len, data_len): the kmalloc'ed
// linear head with skb_shared_info, the sk_buff, and whole pages for data_len.
int alloc_skb_truesize(const UnixCalibration& cal, int page_size, int header_len, int data_len);
// The truesize of one skb carrying `len` bytes (alloc_skb_with_frags), and how
// unix_stream_sendmsg cuts a write into skbs.
int unix_skb_truesize(const UnixCalibration& cal, int page_size, int len);
int unix_max_skb_payload(const UnixCalibration& cal, int page_size, int sndbuf);

// sock_wfree: the skb's sender is uncharged and gets sk_write_space (unix_write_space).
void sock_wfree(Skb& skb);
// sock_error: the pending sk_err as -errno, cleared; 0 if none.
int sock_error(UnixSock& sk);
// sock_alloc_send_pskb's wait for send buffer room (net/core/sock.c): 0 once there is room
// (the caller allocates and charges the skb), or sock_error's errno, -EPIPE after
// SEND_SHUTDOWN, -EAGAIN for a non-blocking socket, -EINTR on a signal. May sleep in
// sock_wait_for_wmem.
MaySleep sock_alloc_send_pskb(Task& t, UnixSock& sk, bool noblock);

// The AF_UNIX part of socketpair (model/socket.cpp has the rest): unix_create and
// unix_socketpair. `type` without its flags; `flags` the O_NONBLOCK/O_CLOEXEC file flags.
long unix_create_pair(Globals& g, FdTable& fdt, int type, int protocol, int flags, int sv[2]);
// shutdown(2): -EBADF, -ENOTSOCK, or unix_shutdown.
long do_shutdown(Globals& g, FdTable& fdt, int fd, int how);

}  // namespace model
