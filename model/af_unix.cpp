// net/unix/af_unix.c (gregkh/linux 0d60e99f2d3e, 6.18 era) with net/core/sock.c
// (sock_alloc_send_pskb, sock_wfree, sock_def_readable, sock_def_wakeup) and the skb
// truesize of net/core/skbuff.c alloc_skb_with_frags.
#include "af_unix.h"

#include "af_unix_dgram.h"
#include "af_unix_seqpacket.h"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstring>

#include "wait_event.h"

namespace model {

namespace {

int align_up(int x, int a) { return (x + a - 1) / a * a; }

// kmalloc_size_roundup for the kmalloc-cg caches: 8..256 in their buckets, then powers of 2.
int kmalloc_size_roundup(int size) {
  for (int b : {8, 16, 32, 64, 96, 128, 192, 256}) {
    if (size <= b) return b;
  }
  int b = 512;
  while (b < size) b <<= 1;
  return b;
}

}  // namespace

// alloc_skb_with_frags: a linear head from kmalloc (GFP_KERNEL_ACCOUNT, so no small-head
// cache), data_len in whole pages. truesize = aligned sk_buff + head bucket + the pages.
int alloc_skb_truesize(const UnixCalibration& cal, int page_size, int header_len, int data_len) {
  return cal.sk_buff_size + kmalloc_size_roundup(align_up(header_len, 64) + cal.shinfo_size) +
         align_up(data_len, page_size);
}

// unix_stream_sendmsg's split: a linear head of at most SKB_MAX_HEAD(0) bytes, the rest paged.
int unix_skb_truesize(const UnixCalibration& cal, int page_size, int len) {
  const int max_head = page_size - cal.shinfo_size;  // SKB_MAX_HEAD(0)
  const int data_len = std::min(len, align_up(std::max(0, len - max_head), page_size));
  return alloc_skb_truesize(cal, page_size, len - data_len, data_len);
}

// unix_stream_sendmsg: "keep two messages in the pipe" (sndbuf/2 - 64), and at most an
// order-0 head plus UNIX_SKB_FRAGS_SZ per skb.
int unix_max_skb_payload(const UnixCalibration& cal, int page_size, int sndbuf) {
  return std::min((sndbuf >> 1) - 64, page_size - cal.shinfo_size + cal.frags_size);
}

// unix_create1
UnixSock::UnixSock(Globals& g_, int type_)
    : g(&g_),
      type(type_),
      wq(g_, "sk->sk_wq->wait", this),
      peer_wait(g_, "u->peer_wait", this),
      max_ack_backlog(static_cast<unsigned>(g_.profile.unix_cal.max_dgram_qlen)),
      sndbuf(g_.profile.unix_cal.sndbuf) {
  peer_wake.priv = this;  // container_of(q, struct unix_sock, peer_wake)
  peer_wake.func = unix_dgram_peer_wake_relay;
}

// unix_writable: not listening and sk_wmem_alloc * 4 <= sk_sndbuf.
bool UnixSock::writable() const { return state != TCP_LISTEN_ && (wmem_alloc << 2) <= sndbuf; }

// unix_write_space: wake writers only if the socket is writable now.
void UnixSock::write_space() {
  if (!writable()) {
    g->rule(Rule::kUnixWriteSpaceNoWake);
    return;
  }
  if (!orphaned && wq.active())
    wake_up_interruptible_sync_poll(wq, EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND, Rule::kUnixWriteSpaceWake);
}

// sk_setsockopt SO_SNDBUF (net/core/sock.c): capped at net.core.wmem_max, doubled (at
// least SOCK_MIN_SNDBUF, twice TCP_SKB_MIN_TRUESIZE), then sk_write_space: writers may go on.
void UnixSock::set_sndbuf(int val) {
  const long capped = std::min<long>(std::min<unsigned long>(static_cast<uint32_t>(val),
                                                             static_cast<unsigned long>(g->profile.tcp_cal.core_wmem_max)),
                                     INT_MAX / 2);
  const int sock_min_sndbuf = 2 * (2048 + g->profile.unix_cal.sk_buff_size);
  g->rule(Rule::kSockSetSndbuf);
  sndbuf = std::max(static_cast<int>(capped * 2), sock_min_sndbuf);
  write_space();
}

// sock_def_readable
void UnixSock::data_ready() {
  if (!orphaned && wq.active())
    wake_up_interruptible_sync_poll(wq, EPOLLIN | EPOLLPRI | EPOLLRDNORM | EPOLLRDBAND, Rule::kUnixDataReady);
}

// sock_def_wakeup
void UnixSock::state_change() {
  if (!orphaned && wq.active()) wake_up_interruptible_all(wq, Rule::kUnixStateChange);
}

// sock_wfree: uncharge all but one byte, call sk_write_space, then drop the last one.
void sock_wfree(Skb& skb) {
  UnixSock& sk = *skb.owner;
  sk.wmem_alloc -= skb.truesize - 1;
  sk.write_space();
  sk.wmem_alloc -= 1;
  skb.owner.reset();
}

// sock_error: report and clear sk_err.
int sock_error(UnixSock& sk) { return -std::exchange(sk.err, 0); }

namespace {

// sock_wait_for_wmem (net/core/sock.c): sleep on sk_sleep(sk) until the charge is under
// sk_sndbuf, the socket is shut for sending or has an error, or a signal comes. Returns
// the timeout left (MAX_SCHEDULE_TIMEOUT: blocking sockets wait for ever).
MaySleep sock_wait_for_wmem(Task& t, UnixSock& sk, long timeo) {
  WaitQueueEntry wait;
  init_wait(wait, t);  // DEFINE_WAIT
  for (;;) {
    if (!timeo) break;
    if (t.signal_pending) break;
    prepare_to_wait(sk.wq, wait);
    if (sk.wmem_alloc < sk.sndbuf) break;  // refcount_read(&sk->sk_wmem_alloc)
    if (sk.shutdown & SEND_SHUTDOWN) break;
    if (sk.err) break;
    sk.g->rule(Rule::kUnixSendSleeps);
    timeo = co_await schedule_timeout(t, timeo);
  }
  finish_wait(sk.wq, wait);
  co_return timeo;
}

}  // namespace

MaySleep sock_alloc_send_pskb(Task& t, UnixSock& sk, bool noblock) {
  long timeo = noblock ? 0 : MAX_SCHEDULE_TIMEOUT;  // sock_sndtimeo
  for (;;) {
    if (const int err = sock_error(sk)) co_return err;
    if (sk.shutdown & SEND_SHUTDOWN) co_return -EPIPE;
    if (sk.wmem_alloc - 1 < sk.sndbuf) break;  // sk_wmem_alloc_get
    if (!timeo) co_return -EAGAIN;
    if (t.signal_pending) co_return -EINTR;  // sock_intr_errno
    timeo = co_await sock_wait_for_wmem(t, sk, timeo);
  }
  co_return 0;
}

UnixSocketFile::UnixSocketFile(Globals& g_, std::shared_ptr<UnixSock> s, int flags)
    : File(g_, with_rw_ops(FMODE_READ | FMODE_WRITE), flags), sk(std::move(s)) {}

// unix_poll (stream)
poll_t UnixSocketFile::poll(PollTable* pt) {
  poll_wait(this, sk->wq, pt);
  poll_t mask = 0;
  const int shutdown = sk->shutdown;
  if (sk->err) mask |= EPOLLERR;
  if (shutdown == SHUTDOWN_MASK) mask |= EPOLLHUP;
  if (shutdown & RCV_SHUTDOWN) mask |= EPOLLRDHUP | EPOLLIN | EPOLLRDNORM;
  if (!sk->receive_queue.empty()) mask |= EPOLLIN | EPOLLRDNORM;
  if (!sk->receive_queue.empty() && sk->state == TCP_LISTEN_) g->rule(Rule::kUnixListenPollIn);
  if (sk->state == TCP_CLOSE_) mask |= EPOLLHUP;  // connection-based: not connected (yet)
  if (sk->writable()) mask |= EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND;
  return mask;
}

namespace {

// unix_stream_data_wait: sleep on sk_sleep(sk) until data, an error, RCV_SHUTDOWN or a
// signal. The model waits only with an empty queue, so `last` is NULL and any skb is new.
MaySleep unix_stream_data_wait(Task& t, UnixSock& sk, long timeo) {
  WaitQueueEntry wait;
  init_wait(wait, t);  // DEFINE_WAIT
  for (;;) {
    prepare_to_wait(sk.wq, wait);
    if (!sk.receive_queue.empty() || sk.err || (sk.shutdown & RCV_SHUTDOWN) || t.signal_pending || !timeo) break;
    sk.g->rule(Rule::kUnixRecvSleeps);
    timeo = co_await schedule_timeout(t, timeo);
    if (sk.dead) break;  // SOCK_DEAD
  }
  finish_wait(sk.wq, wait);
  co_return timeo;
}

}  // namespace

// sock_read_iter -> unix_stream_recvmsg -> unix_stream_read_generic, for read(2): consume
// whole skbs while bytes are wanted (target = sock_rcvlowat = 1); each skb fully consumed
// is freed, which gives its sender a write-space callback.
MaySleep UnixSocketFile::read(Task& t, void* buf, size_t n) {
  if (n == 0) co_return 0;  // sock_read_iter: "match SYS5 semantics"
  UnixSock& sk = *this->sk;
  if (sk.state != TCP_ESTABLISHED_) co_return g->fail(Rule::kUnixStreamReadEinval, -EINVAL);
  char* const to = static_cast<char*>(buf);  // the reader's buffer
  size_t size = n;
  long timeo = nonblock() ? 0 : MAX_SCHEDULE_TIMEOUT;  // sock_rcvtimeo
  long copied = 0;
  long err = 0;
  for (;;) {  // redo:
    if (sk.receive_queue.empty()) {
      if (copied >= 1) break;
      // POSIX 1003.1g mandates this order.
      if ((err = sock_error(sk))) {
        sk.g->rule(Rule::kUnixRecvError);
        break;
      }
      if (sk.shutdown & RCV_SHUTDOWN) {
        sk.g->rule(Rule::kUnixRecvEof);
        break;
      }
      if (!timeo) {
        err = sk.g->fail(Rule::kUnixRecvEagain, -EAGAIN);
        break;
      }
      timeo = co_await unix_stream_data_wait(t, sk, timeo);
      if (t.signal_pending) co_return -EINTR;  // sock_intr_errno
      continue;
    }
    Skb& skb = sk.receive_queue.front();
    const int chunk = static_cast<int>(std::min<size_t>(static_cast<size_t>(skb.len - skb.consumed), size));
    if (to) std::memcpy(to + copied, skb.data.data() + skb.consumed, static_cast<size_t>(chunk));
    copied += chunk;
    size -= static_cast<size_t>(chunk);
    skb.consumed += chunk;
    if (skb.len - skb.consumed) {
      sk.g->rule(Rule::kUnixSkbPartial);  // the skb stays, nothing freed
      break;
    }
    Skb done = std::move(skb);
    sk.receive_queue.pop_front();
    sk.g->rule(Rule::kUnixSkbConsumed);
    sock_wfree(done);
    sk.g->sched->wake_point("unix_stream_read_generic after consume_skb (sock_wfree -> unix_write_space)");
    if (!size) break;
  }
  co_return copied ? copied : err;
}

// unix_stream_sendmsg: SEND_SHUTDOWN is checked once, before the loop; then skb by skb,
// each allocated by sock_alloc_send_pskb (which may sleep for room) and queued on the peer.
// An error after some bytes were sent returns the bytes.
MaySleep UnixSocketFile::write(Task& t, const void* buf, size_t len) {
  UnixSock& sk = *this->sk;
  Globals& g = *sk.g;
  const char* const from = static_cast<const char*>(buf);  // the writer's bytes
  size_t sent = 0;
  if (!sk.peer) co_return g.fail(Rule::kUnixStreamNotconn, -ENOTCONN);
  if (sk.shutdown & SEND_SHUTDOWN) co_return g.fail(Rule::kUnixSendEpipe, -EPIPE);  // pipe_err
  while (sent < len) {
    // Keep two messages in the pipe, and at most an order-0 head plus UNIX_SKB_FRAGS_SZ.
    const int cap = unix_max_skb_payload(g.profile.unix_cal, g.profile.page_size, sk.sndbuf);
    const int size = static_cast<int>(std::min<size_t>(len - sent, static_cast<size_t>(cap)));
    if (const long err = co_await sock_alloc_send_pskb(t, sk, nonblock())) {  // out_err: sent ? : err
      if (sent) {
        if (err == -EAGAIN) g.rule(Rule::kUnixSendPartial);
        co_return static_cast<long>(sent);
      }
      switch (err) {
        case -EAGAIN: co_return g.fail(Rule::kUnixSendEagain, err);
        case -EPIPE: co_return g.fail(Rule::kUnixSendEpipe, err);
        case -EINTR: co_return err;
        default: co_return g.fail(Rule::kUnixSendError, err);
      }
    }
    UnixSock& other = *sk.peer;
    Skb skb{size, 0, unix_skb_truesize(g.profile.unix_cal, g.profile.page_size, size), this->sk,
            std::string(from + sent, static_cast<size_t>(size)), nullptr};
    sk.wmem_alloc += skb.truesize;  // skb_set_owner_w
    if (other.dead || (other.shutdown & RCV_SHUTDOWN)) {
      sock_wfree(skb);  // pipe_err_free: kfree_skb
      co_return sent ? static_cast<long>(sent) : g.fail(Rule::kUnixSendPeerGone, -EPIPE);
    }
    other.receive_queue.push_back(std::move(skb));
    g.rule(Rule::kUnixSkbQueued);
    other.data_ready();
    g.sched->wake_point("unix_stream_sendmsg after sk_data_ready");
    sent += static_cast<size_t>(size);
  }
  co_return static_cast<long>(sent);
}

// unix_release_sock: a listener also releases every embryo still queued (embrion = 1).
void unix_release_sock(UnixSock& sk, bool embrion) {
  Globals* g = sk.g;
  unix_remove_socket(sk);  // its name is free from now on
  const int state = std::exchange(sk.state, TCP_CLOSE_);
  sk.shutdown = SHUTDOWN_MASK;
  sk.orphaned = true;  // sock_orphan: sk_wq = NULL
  sk.dead = true;
  std::shared_ptr<UnixSock> skpair = std::move(sk.peer);
  // Datagram senders waiting for room in this socket, and peer_wake relays, go on.
  wake_up_interruptible_all(sk.peer_wait, Rule::kUnixReleasePeerWait);
  if (skpair) {
    if (sk.type == SOCK_STREAM_ || sk.type == SOCK_SEQPACKET_) {
      g->rule(Rule::kUnixReleasePeer);
      skpair->shutdown = SHUTDOWN_MASK;
      if (!sk.receive_queue.empty() || embrion) {
        g->rule(embrion ? Rule::kUnixReleaseEmbryoReset : Rule::kUnixReleaseReset);
        skpair->err = ECONNRESET;
      }
      skpair->state_change();
      g->sched->wake_point("unix_release_sock after sk_state_change");
    }
    unix_dgram_peer_wake_disconnect(sk, *skpair);
  }
  if (!sk.receive_queue.empty()) g->rule(state == TCP_LISTEN_ ? Rule::kUnixReleaseListener : Rule::kUnixReleasePurge);
  while (!sk.receive_queue.empty()) {
    Skb skb = std::move(sk.receive_queue.front());
    sk.receive_queue.pop_front();
    if (state == TCP_LISTEN_ && skb.embryo) unix_release_sock(*skb.embryo, true);
    skb.embryo.reset();
    sock_wfree(skb);  // kfree_skb: the sender is uncharged
    g->sched->wake_point("unix_release_sock after kfree_skb (sock_wfree -> unix_write_space)");
  }
}

// unix_release
void UnixSocketFile::release() {
  unix_release_sock(*sk, false);
  sk.reset();
}

// unix_shutdown: SHUT_RD/WR/RDWR map to RCV/SEND/both; a stream peer gets the mirror image.
long UnixSocketFile::shutdown(int how) {
  if (how < SHUT_RD_ || how > SHUT_RDWR_) return g->fail(Rule::kShutdownEinval, -EINVAL);
  g->rule(sk->type != SOCK_DGRAM_ ? Rule::kUnixShutdown : Rule::kUnixShutdownDgram);
  const int mode = how + 1;
  sk->shutdown |= mode;
  std::shared_ptr<UnixSock> other = sk->peer;
  sk->state_change();
  g->sched->wake_point("unix_shutdown after sk_state_change");
  if (other && (sk->type == SOCK_STREAM_ || sk->type == SOCK_SEQPACKET_)) {  // a datagram peer is left alone
    int peer_mode = 0;
    if (mode & RCV_SHUTDOWN) peer_mode |= SEND_SHUTDOWN;
    if (mode & SEND_SHUTDOWN) peer_mode |= RCV_SHUTDOWN;
    other->shutdown |= peer_mode;
    other->state_change();
  }
  return 0;
}

// sock_alloc_file with the proto_ops unix_create chose for the type.

UnixSocketFile* unix_sock_file(Globals& g, std::shared_ptr<UnixSock> sk, int flags) {
  if (sk->type == SOCK_DGRAM_) return new UnixDgramSocketFile(g, std::move(sk), flags);
  if (sk->type == SOCK_SEQPACKET_) return new UnixSeqpacketSocketFile(g, std::move(sk), flags);
  return new UnixSocketFile(g, std::move(sk), flags);
}

// unix_create (the protocol, then the type dispatch) and unix_socketpair, for a pair whose
// descriptors __sys_socketpair has reserved.
long unix_create_pair(Globals& g, FdTable& fdt, int type, int protocol, int flags, int sv[2]) {
  if (protocol != 0 && protocol != AF_UNIX_) return g.fail(Rule::kUnixCreateEprotonosupport, -EPROTONOSUPPORT);
  // unix_create's type dispatch: SOCK_RAW is made SOCK_DGRAM; SOCK_SEQPACKET is a socket
  // the model does not have yet, kept apart from the unknown types.
  switch (type) {
    case SOCK_STREAM_:
      break;
    case SOCK_RAW_:
      type = SOCK_DGRAM_;
      break;
    case SOCK_DGRAM_:
      break;
    case SOCK_SEQPACKET_:
      break;
    default:
      return g.fail(Rule::kUnixCreateEsocktnosupport, -ESOCKTNOSUPPORT);
  }
  auto a = std::make_shared<UnixSock>(g, type);
  auto b = std::make_shared<UnixSock>(g, type);
  a->peer = b;  // unix_socketpair: unix_peer(ska) = skb and back
  b->peer = a;
  a->state = b->state = TCP_ESTABLISHED_;
  sv[0] = fdt.install(unix_sock_file(g, a, flags));
  sv[1] = fdt.install(unix_sock_file(g, b, flags));
  return 0;
}

long do_shutdown(Globals& g, FdTable& fdt, int fd, int how) {
  File* f = fdt.fget(fd);
  if (!f) return g.fail(Rule::kShutdownEbadf, -EBADF);
  auto* sock = dynamic_cast<UnixSocketFile*>(f);
  if (!sock) return g.fail(Rule::kShutdownEnotsock, -ENOTSOCK);
  return sock->shutdown(how);
}

}  // namespace model
