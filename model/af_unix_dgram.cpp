// net/unix/af_unix.c (gregkh/linux 0d60e99f2d3e, 6.18.30) unix_dgram_ops, with
// net/core/sock.c sock_alloc_send_pskb and net/core/datagram.c __skb_try_recv_datagram,
// __skb_wait_for_more_packets, receiver_wake_function.
#include "af_unix_dgram.h"

#include <algorithm>
#include <cstring>

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

template <typename Call>
long run_call(Task& t, std::unique_ptr<Call> call) {
  const long r = call->run(t);
  if (r == kBlocked) t.sched->sleep(t, std::move(call));
  return r;
}

// unix_dgram_sendmsg of one datagram to the peer, resumable: the skb, once allocated, is
// kept across a sleep in unix_wait_for_peer.
struct DgramSend final : FileCall<UnixDgramSocketFile> {
  DgramSend(UnixDgramSocketFile* f, const char* src, size_t len) : FileCall(f), src(src), len(len) {}
  const char* src;
  size_t len;
  enum class Sleep { kNone, kWmem, kPeer } sleeping = Sleep::kNone;
  bool have_skb = false;
  Skb skb;
  std::shared_ptr<UnixSock> other;
  WaitQueueEntry wait;       // sock_wait_for_wmem, on sk's wq
  WaitQueueEntry peer_wait;  // unix_wait_for_peer, on other's peer_wait

  // out_free: consume_skb gives the charge back (sock_wfree -> unix_write_space).
  void free_skb() {
    if (have_skb) sock_wfree(skb);
    have_skb = false;
  }
  long drop(Rule r, long err) {
    free_skb();
    return file->sk->g->fail(r, err);
  }

  // sock_alloc_send_pskb: 0 once the skb is charged, or -errno, or kBlocked.
  long alloc(Task& t) {
    UnixSock& sk = *file->sk;
    Globals& g = *sk.g;
    for (;;) {
      if (int err = sock_error(sk)) return g.fail(Rule::kUnixSendError, err);
      if (sk.shutdown & SEND_SHUTDOWN) return g.fail(Rule::kUnixDgramSendShutdown, -EPIPE);
      if (sk.wmem_alloc - 1 < sk.sndbuf) break;
      if (file->nonblock()) return g.fail(Rule::kUnixSendEagain, -EAGAIN);
      if (t.signal_pending) return -EINTR;
      if (!sock_prepare_wmem_wait(sk, t, wait)) continue;
      g.rule(Rule::kUnixSendSleeps);
      sleeping = Sleep::kWmem;
      return kBlocked;
    }
    const UnixCalibration& cal = g.profile.unix_cal;
    const int size = static_cast<int>(len);
    const int data_len = dgram_data_len(cal, g.profile.page_size, size);
    skb = Skb{size, 0, alloc_skb_truesize(cal, g.profile.page_size, size - data_len, data_len), file->sk,
              std::string(src, len)};
    sk.wmem_alloc += skb.truesize;  // skb_set_owner_w
    have_skb = true;
    return 0;
  }

  long run(Task& t) {
    UnixSock& sk = *file->sk;
    Globals& g = *sk.g;
    if (!have_skb) {
      if (sleeping == Sleep::kNone && len > static_cast<size_t>(sk.sndbuf - 32))
        return g.fail(Rule::kUnixDgramEmsgsize, -EMSGSIZE);
      sleeping = Sleep::kNone;
      if (const long r = alloc(t)) return r;
      other = sk.peer;  // unix_peer_get
      if (!other) return drop(Rule::kUnixDgramNotconn, -ENOTCONN);
    }
    // restart:
    for (;;) {
      if (other->peer && other->peer.get() != &sk) return drop(Rule::kUnixDgramEperm, -EPERM);  // unix_may_send
      if (other->dead) {
        if (sk.peer != other) return drop(Rule::kUnixDgramPeerChanged, -ECONNRESET);
        sk.peer.reset();
        unix_dgram_peer_wake_disconnect_wakeup(sk, *other);
        unix_dgram_disconnected(sk, *other);
        return drop(Rule::kUnixDgramPeerDead, -ECONNREFUSED);
      }
      if (other->shutdown & RCV_SHUTDOWN) return drop(Rule::kUnixDgramPeerRcvShutdown, -EPIPE);
      // A peer connected back to us is never "full": only asymmetric associations are.
      if (other.get() != &sk && other->peer.get() != &sk && unix_recvq_full(*other)) {
        if (!file->nonblock()) {
          // unix_wait_for_peer: exclusive on the peer's peer_wait, sleeps only if still full.
          peer_wait.flags = WQ_FLAG_EXCLUSIVE;
          peer_wait.priv = &t;
          peer_wait.func = autoremove_wake_function;
          if (!peer_wait.queued()) __add_wait_queue_entry_tail(other->peer_wait, peer_wait);
          if (!other->dead && !(other->shutdown & RCV_SHUTDOWN) && unix_recvq_full(*other)) {
            g.rule(Rule::kUnixDgramWaitForPeer);
            sleeping = Sleep::kPeer;
            return kBlocked;
          }
          peer_wait.del_init();
          if (t.signal_pending) {
            free_skb();
            return -EINTR;
          }
          continue;
        }
        if (sk.peer != other || unix_dgram_peer_wake_me(sk, *other)) return drop(Rule::kUnixDgramFullEagain, -EAGAIN);
        continue;  // restart_locked: room now
      }
      other->receive_queue.push_back(std::move(skb));
      have_skb = false;
      g.rule(Rule::kUnixDgramQueued);
      other->data_ready();
      return static_cast<long>(len);
    }
  }

  long resume(Task& t) override {
    wait.del_init();
    peer_wait.del_init();  // finish_wait
    long r = -EINTR;
    if (sleeping == Sleep::kPeer && t.signal_pending) free_skb();  // sock_intr_errno
    else r = run(t);
    if (r == kBlocked) t.sched->sleep_again(t);
    return r;
  }

  // A call cancelled while holding its skb: the charge goes back, without wakeups (teardown).
  ~DgramSend() override {
    if (have_skb) skb.owner->wmem_alloc -= skb.truesize;
  }
};

// __unix_dgram_recvmsg: one datagram per call, cut to the buffer.
struct DgramRecv final : FileCall<UnixDgramSocketFile> {
  DgramRecv(UnixDgramSocketFile* f, char* out, size_t size) : FileCall(f), out(out), size(size) {}
  char* out;
  size_t size;
  WaitQueueEntry wait;

  long run(Task& t) {
    UnixSock& sk = *file->sk;
    Globals& g = *sk.g;
    for (;;) {
      // __skb_try_recv_datagram: the error comes first, even before queued datagrams.
      if (int err = sock_error(sk)) return g.fail(Rule::kUnixDgramRecvError, err);
      if (!sk.receive_queue.empty()) break;
      if (file->nonblock()) return g.fail(Rule::kUnixDgramRecvEagain, -EAGAIN);
      // __skb_wait_for_more_packets: prepare_to_wait_exclusive, then the checks.
      if (!wait.queued()) {
        wait.flags = WQ_FLAG_EXCLUSIVE;
        wait.priv = &t;
        wait.func = receiver_wake_function;
        __add_wait_queue_entry_tail(sk.wq, wait);
      }
      if (int err = sock_error(sk)) {
        wait.del_init();
        return g.fail(Rule::kUnixDgramRecvError, err);
      }
      if (!sk.receive_queue.empty()) {
        wait.del_init();
        continue;
      }
      if (sk.shutdown & RCV_SHUTDOWN) {
        wait.del_init();
        return g.fail(Rule::kUnixDgramRecvShutdown, 0);
      }
      if (t.signal_pending) {
        wait.del_init();
        return -EINTR;
      }
      g.rule(Rule::kUnixDgramRecvSleeps);
      return kBlocked;
    }
    Skb skb = std::move(sk.receive_queue.front());
    sk.receive_queue.pop_front();
    if (sk.peer_wait.active())
      wake_up_interruptible_sync_poll(sk.peer_wait, kWriteSpace, Rule::kUnixDgramRecvWakePeerWait);
    const size_t n = std::min(size, static_cast<size_t>(skb.len));
    if (n < static_cast<size_t>(skb.len)) g.rule(Rule::kUnixDgramRecvTrunc);
    if (out) std::memcpy(out, skb.data.data(), n);
    g.rule(Rule::kUnixDgramReceived);
    sock_wfree(skb);  // skb_free_datagram -> consume_skb
    return static_cast<long>(n);
  }

  long resume(Task& t) override {
    wait.del_init();
    const long r = run(t);
    if (r == kBlocked) t.sched->sleep_again(t);
    return r;
  }
};

}  // namespace

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

// unix_dgram_poll
poll_t UnixDgramSocketFile::poll(PollTable* pt) {
  poll_wait(this, sk->wq, pt);
  poll_t mask = 0;
  if (sk->err) mask |= EPOLLERR;
  if (sk->shutdown & RCV_SHUTDOWN) mask |= EPOLLRDHUP | EPOLLIN | EPOLLRDNORM;
  if (sk->shutdown == SHUTDOWN_MASK) mask |= EPOLLHUP;
  if (!sk->receive_queue.empty()) mask |= EPOLLIN | EPOLLRDNORM;
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

long UnixDgramSocketFile::read(Task& t, void* buf, size_t n) {
  if (n == 0) return 0;  // sock_read_iter: "match SYS5 semantics"
  return run_call(t, std::make_unique<DgramRecv>(this, static_cast<char*>(buf), n));
}

long UnixDgramSocketFile::write(Task& t, const void* buf, size_t n) {
  return run_call(t, std::make_unique<DgramSend>(this, static_cast<const char*>(buf), n));
}

}  // namespace model
