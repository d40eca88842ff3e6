// net/unix/af_unix.c (gregkh/linux 0d60e99f2d3e, 6.18.30) unix_dgram_ops, with
// net/core/sock.c sock_alloc_send_pskb and net/core/datagram.c __skb_try_recv_datagram,
// __skb_wait_for_more_packets, receiver_wake_function.
#include "af_unix_dgram.h"

#include <algorithm>
#include <cstring>

#include "af_unix_listen.h"
#include "wait_event.h"

namespace model {

namespace {

// MAX_SKB_FRAGS with the default CONFIG_MAX_SKB_FRAGS.
constexpr int kMaxSkbFrags = 17;

int page_align(int x, int page) { return (x + page - 1) / page * page; }

// unix_dgram_sendmsg: a datagram longer than SKB_MAX_ALLOC (an order-2 head) puts up to
// MAX_SKB_FRAGS pages of it in frags; the rest stays linear.
int dgram_data_len(const UnixCalibration& cal, int page_size, int len) {
  const int skb_max_alloc = (page_size << 2) - cal.shinfo_size;  // SKB_MAX_ORDER(0, 2)
  if (len <= skb_max_alloc) return 0;
  return page_align(std::min(len - skb_max_alloc, kMaxSkbFrags * page_size), page_size);
}

constexpr poll_t kWriteSpace = EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND;

// unix_dgram_peer_wake_connect: 1 if sk's peer_wake was not registered and now is.
bool unix_dgram_peer_wake_connect(UnixSock& sk, UnixSock& other) {
  if (sk.peer_wake_other) return false;
  sk.peer_wake_other = &other;
  __add_wait_queue(other.peer_wait, sk.peer_wake);
  sk.g->rule(Rule::kUnixPeerWakeConnect);
  return true;
}

// unix_dgram_peer_wake_me: registers for the relay; 1 if other's queue is full and other
// alive (the caller must wait), else undoes a fresh registration.
bool unix_dgram_peer_wake_me(UnixSock& sk, UnixSock& other) {
  const bool connected = unix_dgram_peer_wake_connect(sk, other);
  if (unix_recvq_full(other) && !other.dead) {
    sk.g->rule(Rule::kUnixPeerWakeMeFull);
    return true;
  }
  sk.g->rule(Rule::kUnixPeerWakeMeRoom);
  if (connected) unix_dgram_peer_wake_disconnect(sk, other);
  return false;
}

// unix_dgram_peer_wake_disconnect_wakeup
void unix_dgram_peer_wake_disconnect_wakeup(UnixSock& sk, UnixSock& other) {
  unix_dgram_peer_wake_disconnect(sk, other);
  if (!sk.orphaned) wake_up_interruptible_poll(sk.wq, kWriteSpace, Rule::kUnixDgramDisconnectWakeup);
}

// unix_dgram_disconnected: datagrams queued from the old peer are dropped.
void unix_dgram_disconnected(UnixSock& sk, UnixSock& other) {
  if (sk.receive_queue.empty()) return;
  sk.g->rule(Rule::kUnixDgramDisconnectedPurge);
  while (!sk.receive_queue.empty()) {
    Skb skb = std::move(sk.receive_queue.front());
    sk.receive_queue.pop_front();
    sock_wfree(skb);
  }
  wake_up_interruptible_all(sk.peer_wait, Rule::kUnixDgramDisconnectedPurge);
  if (!other.dead && other.peer.get() == &sk) {
    other.err = ECONNRESET;
    // sk_error_report -> sock_def_error_report
    if (!other.orphaned && other.wq.active())
      wake_up_interruptible_poll(other.wq, EPOLLERR, Rule::kUnixDgramDisconnectedReset);
  }
}

// receiver_wake_function: a blocked reader ignores keys without EPOLLIN or EPOLLERR.
int receiver_wake_function(WaitQueueEntry* e, unsigned mode, int sync, poll_t key) {
  if (key && !(key & (EPOLLIN | EPOLLERR))) {
    static_cast<Task*>(e->priv)->sched->globals().rule(Rule::kUnixDgramRecvWakeFiltered);
    return 0;
  }
  return autoremove_wake_function(e, mode, sync, key);
}

// The skb of a datagram being sent, charged to the sender (skb_set_owner_w) from
// sock_alloc_send_pskb until it is queued on the receiver. An error path frees it
// (consume_skb -> sock_wfree, with its write-space callback); a call abandoned while
// holding it gives the charge back without wakeups (teardown).
struct ChargedSkb {
  Skb skb;
  bool held = false;
  void consume() {
    if (held) sock_wfree(skb);
    held = false;
  }
  ~ChargedSkb() {
    if (held) skb.owner->wmem_alloc -= skb.truesize;
  }
};

}  // namespace

// unix_wait_for_peer: an exclusive entry on the peer's peer_wait; sleeps only if the peer
// is still alive, not shut for receiving, and full.
MaySleep unix_wait_for_peer(Task& t, UnixSock& other, long timeo) {
  WaitQueueEntry wait;
  init_wait(wait, t);  // DEFINE_WAIT
  prepare_to_wait_exclusive(other.peer_wait, wait);
  const bool sched = !other.dead && !(other.shutdown & RCV_SHUTDOWN) && unix_recvq_full(other);
  if (sched) {
    other.g->rule(Rule::kUnixDgramWaitForPeer);
    timeo = co_await schedule_timeout(t, timeo);
  }
  finish_wait(other.peer_wait, wait);
  co_return timeo;
}

// __skb_wait_for_more_packets (net/core/datagram.c): an exclusive entry with
// receiver_wake_function, then the checks; 0: try to receive again (after a sleep, or
// because a datagram came), else stop with *err set (0 and 1 for RCV_SHUTDOWN). The model
// waits only with an empty queue, so the `last` skb it compares with is NULL.
MaySleep __skb_wait_for_more_packets(Task& t, UnixSock& sk, long* err, long* timeo_p, Rule sleeps) {
  WaitQueueEntry wait;
  init_wait_func(wait, t, receiver_wake_function);  // DEFINE_WAIT_FUNC
  prepare_to_wait_exclusive(sk.wq, wait);
  long error = 0;
  if ((error = sock_error(sk))) {
    *err = error;  // out_err
  } else if (!sk.receive_queue.empty()) {
    error = 0;  // a datagram came: out
  } else if (sk.shutdown & RCV_SHUTDOWN) {
    *err = 0;  // out_noerr
    error = 1;
  } else if (t.signal_pending) {
    error = -EINTR;  // interrupted: sock_intr_errno
    *err = error;
  } else {
    sk.g->rule(sleeps);
    *timeo_p = co_await schedule_timeout(t, *timeo_p);
  }
  finish_wait(sk.wq, wait);
  co_return error;
}

// __skb_recv_datagram (net/core/datagram.c): __skb_try_recv_datagram (the pending error
// first, even before queued datagrams), and while the queue is empty and time is left,
// __skb_wait_for_more_packets. 1: a datagram is at the head of the queue; 0 with *err set.
MaySleep __skb_recv_datagram(Task& t, UnixSock& sk, long timeo, Rule sleeps, long* err) {
  bool got = false;
  for (;;) {
    if ((*err = sock_error(sk))) {
    } else if (!sk.receive_queue.empty()) {
      got = true;
      break;
    } else {
      *err = -EAGAIN;
    }
    if (*err != -EAGAIN || !timeo) break;
    if (co_await __skb_wait_for_more_packets(t, sk, err, &timeo, sleeps)) break;
  }
  co_return got ? 1 : 0;
}

bool unix_recvq_full(const UnixSock& sk) { return sk.receive_queue.size() > sk.max_ack_backlog; }


void unix_dgram_peer_wake_disconnect(UnixSock& sk, UnixSock& other) {
  if (sk.peer_wake_other != &other) return;
  sk.peer_wake.del_init();
  sk.peer_wake_other = nullptr;
  sk.g->rule(Rule::kUnixPeerWakeDisconnect);
}

// unix_dgram_peer_wake_relay: unregister, then pass the wakeup on to the socket's own wq.
int unix_dgram_peer_wake_relay(WaitQueueEntry* q, unsigned, int, poll_t key) {
  UnixSock& u = *static_cast<UnixSock*>(q->priv);
  q->del_init();
  u.peer_wake_other = nullptr;
  if (!u.orphaned) wake_up_interruptible_poll(u.wq, key, Rule::kUnixPeerWakeRelay);
  return 0;
}

// unix_dgram_connect: find the receiver by name (no autobind: only SO_PASSCRED asks for
// one), check it may take our datagrams, then connect or reconnect. Reconnecting wakes
// our own writers, and a new peer drops what the old one had queued here.
long unix_dgram_connect(UnixSock& sk, const std::vector<uint8_t>& a) {
  Globals& g = *sk.g;
  constexpr size_t kFamilyEnd = 2;  // offsetofend(struct sockaddr, sa_family)
  if (a.size() < kFamilyEnd) return g.fail(Rule::kUnixDgramConnectEinval, -EINVAL);
  std::shared_ptr<UnixSock> other;  // AF_UNSPEC: none (disconnect)
  const bool unspec = a[0] == 0 && a[1] == 0;
  if (!unspec) {
    if (!valid_addr(a)) return g.fail(Rule::kUnixDgramConnectEinval, -EINVAL);
    if (a[2] != 0) return g.fail(Rule::kSocketOpUnsupported, -EOPNOTSUPP);  // unix_find_bsd: a path
    // unix_find_other; a dead socket has left the table already (unix_release_sock
    // removes the name first), so the kernel's "VFS overslept" retry cannot happen here.
    UnixSock* found = find_abstract(g, sk.type, a);
    if (!found) return g.fail(Rule::kUnixDgramConnectRefused, -ECONNREFUSED);
    other = found->shared_from_this();
    if (other->peer && other->peer.get() != &sk) return g.fail(Rule::kUnixDgramConnectEperm, -EPERM);  // unix_may_send
    sk.state = TCP_ESTABLISHED_;
    other->state = TCP_ESTABLISHED_;
  }
  if (!sk.peer) {
    if (other) g.rule(Rule::kUnixDgramConnected);
    sk.peer = std::move(other);
    return 0;
  }
  const std::shared_ptr<UnixSock> old_peer = sk.peer;
  sk.peer = other;
  if (!other) sk.state = TCP_CLOSE_;
  g.rule(Rule::kUnixDgramReconnect);
  unix_dgram_peer_wake_disconnect_wakeup(sk, *old_peer);
  if (other != old_peer) {
    unix_dgram_disconnected(sk, *old_peer);
    if (!old_peer->peer) old_peer->state = TCP_CLOSE_;
  }
  g.sched->wake_point("unix_dgram_connect after unix_dgram_disconnected");
  return 0;
}

// unix_dgram_poll
poll_t UnixDgramSocketFile::poll(PollTable* pt) {
  poll_wait(this, sk->wq, pt);
  poll_t mask = 0;
  if (sk->err) mask |= EPOLLERR;
  if (sk->shutdown & RCV_SHUTDOWN) mask |= EPOLLRDHUP | EPOLLIN | EPOLLRDNORM;
  if (sk->shutdown == SHUTDOWN_MASK) mask |= EPOLLHUP;
  if (!sk->receive_queue.empty()) mask |= EPOLLIN | EPOLLRDNORM;
  if (sk->type == SOCK_SEQPACKET_ && sk->state == TCP_CLOSE_) {  // connection-based: not connected
    g->rule(Rule::kUnixSeqpacketPollHup);
    mask |= EPOLLHUP;
  }
  // poll_requested_events: without a write event asked for, the EPOLLOUT tests are skipped.
  const poll_t requested = pt ? pt->key : ~poll_t{0};
  if (!(requested & kWriteSpace)) return mask;
  bool writable = sk->writable();
  if (writable) {
    UnixSock* other = sk->peer.get();
    if (other && other->peer.get() != sk.get() && unix_recvq_full(*other) && unix_dgram_peer_wake_me(*sk, *other))
      writable = false;
  }
  if (writable) mask |= kWriteSpace;
  return mask;
}

// __unix_dgram_recvmsg via __skb_recv_datagram: one datagram per call, cut to the buffer;
// the receive frees room, so the senders waiting on peer_wait are woken.
MaySleep UnixDgramSocketFile::read(Task& t, void* buf, size_t size) {
  if (size == 0) co_return 0;  // sock_read_iter: "match SYS5 semantics"
  UnixSock& sk = *this->sk;
  Globals& g = *sk.g;
  const long timeo = nonblock() ? 0 : MAX_SCHEDULE_TIMEOUT;  // sock_rcvtimeo
  long err = 0;
  if (!co_await __skb_recv_datagram(t, sk, timeo, Rule::kUnixDgramRecvSleeps, &err)) {
    // EOF on a disconnected non-blocking SOCK_SEQPACKET socket.
    if (sk.type == SOCK_SEQPACKET_ && err == -EAGAIN && (sk.shutdown & RCV_SHUTDOWN)) {
      g.rule(Rule::kUnixSeqpacketRecvEof);
      co_return 0;
    }
    switch (err) {
      case -EAGAIN: co_return g.fail(Rule::kUnixDgramRecvEagain, err);
      case 0: g.rule(Rule::kUnixDgramRecvShutdown); co_return 0;
      case -EINTR: co_return err;
      default: co_return g.fail(Rule::kUnixDgramRecvError, err);
    }
  }
  Skb skb = std::move(sk.receive_queue.front());
  sk.receive_queue.pop_front();
  if (sk.peer_wait.active())
    wake_up_interruptible_sync_poll(sk.peer_wait, kWriteSpace, Rule::kUnixDgramRecvWakePeerWait);
  g.sched->wake_point("unix_dgram_recvmsg after wake_up_interruptible_sync_poll(&u->peer_wait)");
  const size_t n = std::min(size, static_cast<size_t>(skb.len));
  if (n < static_cast<size_t>(skb.len)) g.rule(Rule::kUnixDgramRecvTrunc);
  if (buf) std::memcpy(buf, skb.data.data(), n);
  g.rule(Rule::kUnixDgramReceived);
  sock_wfree(skb);  // skb_free_datagram -> consume_skb
  co_return static_cast<long>(n);
}

// unix_dgram_sendmsg of one datagram to the connected peer. The skb is allocated (and the
// sender charged) first; then the peer is checked, and a full peer of an asymmetric
// association makes a blocking sender wait (unix_wait_for_peer) and start again.
MaySleep UnixDgramSocketFile::write(Task& t, const void* buf, size_t len) {
  UnixSock& sk = *this->sk;
  Globals& g = *sk.g;
  if (len > static_cast<size_t>(sk.sndbuf - 32)) co_return g.fail(Rule::kUnixDgramEmsgsize, -EMSGSIZE);
  if (const long err = co_await sock_alloc_send_pskb(t, sk, nonblock())) {
    switch (err) {
      case -EAGAIN: co_return g.fail(Rule::kUnixSendEagain, err);
      case -EPIPE: co_return g.fail(Rule::kUnixDgramSendShutdown, err);
      case -EINTR: co_return err;
      default: co_return g.fail(Rule::kUnixSendError, err);
    }
  }
  const UnixCalibration& cal = g.profile.unix_cal;
  const int size = static_cast<int>(len);
  const int data_len = dgram_data_len(cal, g.profile.page_size, size);
  ChargedSkb out;
  out.skb = Skb{size, 0, alloc_skb_truesize(cal, g.profile.page_size, size - data_len, data_len), this->sk,
                std::string(static_cast<const char*>(buf), len), nullptr};
  sk.wmem_alloc += out.skb.truesize;  // skb_set_owner_w
  out.held = true;
  auto drop = [&](Rule r, long err) {  // out_unlock / out_sock_put / out_free
    out.consume();
    return g.fail(r, err);
  };
  long timeo = nonblock() ? 0 : MAX_SCHEDULE_TIMEOUT;  // sock_sndtimeo
  const std::shared_ptr<UnixSock> other = sk.peer;       // unix_peer_get
  if (!other) co_return drop(Rule::kUnixDgramNotconn, -ENOTCONN);
  for (;;) {  // restart:
    if (other->peer && other->peer.get() != &sk) co_return drop(Rule::kUnixDgramEperm, -EPERM);  // unix_may_send
    if (other->dead) {
      // SOCK_SEQPACKET never disconnects here: it only races with the peer's release.
      if (sk.type == SOCK_SEQPACKET_) co_return drop(Rule::kUnixSeqpacketPeerDead, -EPIPE);
      if (sk.peer != other) co_return drop(Rule::kUnixDgramPeerChanged, -ECONNRESET);
      sk.peer.reset();
      unix_dgram_peer_wake_disconnect_wakeup(sk, *other);
      sk.state = TCP_CLOSE_;
      unix_dgram_disconnected(sk, *other);
      co_return drop(Rule::kUnixDgramPeerDead, -ECONNREFUSED);
    }
    if (other->shutdown & RCV_SHUTDOWN) co_return drop(Rule::kUnixDgramPeerRcvShutdown, -EPIPE);
    // A peer connected back to us is never "full": only asymmetric associations are.
    if (other.get() != &sk && other->peer.get() != &sk && unix_recvq_full(*other)) {
      if (timeo) {
        timeo = co_await unix_wait_for_peer(t, *other, timeo);
        if (t.signal_pending) {  // err = sock_intr_errno(timeo): out_sock_put, out_free
          out.consume();
          co_return -EINTR;
        }
        continue;  // restart
      }
      if (sk.peer != other || unix_dgram_peer_wake_me(sk, *other)) co_return drop(Rule::kUnixDgramFullEagain, -EAGAIN);
      continue;  // restart_locked: room now
    }
    other->receive_queue.push_back(std::move(out.skb));
    out.held = false;
    g.rule(Rule::kUnixDgramQueued);
    other->data_ready();
    co_return static_cast<long>(len);
  }
}

}  // namespace model
