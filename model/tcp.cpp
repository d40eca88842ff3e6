// net/ipv4/tcp.c, tcp_input.c and net/core/stream.c at gregkh/linux 03bab42919c4 (6.18
// era), on loopback with immediate delivery (see tcp.h).
#include "tcp.h"

#include <algorithm>
#include <climits>

#include "af_unix.h"  // RCV_SHUTDOWN, SEND_SHUTDOWN, SHUTDOWN_MASK
#include "inet_connection_sock.h"

namespace model {

const char* tcp_state_name(int state) {
  static const char* const kNames[] = {"?",          "ESTABLISHED", "SYN_SENT",   "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
                                       "TIME_WAIT",  "CLOSE",       "CLOSE_WAIT", "LAST_ACK", "LISTEN",    "CLOSING"};
  return state >= 0 && state <= TCP_CLOSING ? kNames[state] : "?";
}

// tcp_init_sock: sk_sndbuf and sk_rcvbuf from tcp_wmem[1] and tcp_rmem[1].
TcpSock::TcpSock(Globals& g_)
    : g(&g_),
      wq(g_, "sk->sk_wq->wait", this),
      sndbuf(g_.profile.tcp_cal.wmem_default),
      rcvbuf(g_.profile.tcp_cal.rmem_default) {}

// The calibrated capacities hold for the default (autotuned) buffers; a buffer locked by
// SO_RCVBUF/SO_SNDBUF scales them.
long TcpSock::rcv_capacity() const {
  const TcpCalibration& c = g->profile.tcp_cal;
  if (!rcvbuf_locked) return c.rcv_capacity;
  return static_cast<long>(static_cast<double>(c.rcv_capacity) * rcvbuf / c.rmem_default);
}

long TcpSock::snd_capacity() const {
  const TcpCalibration& c = g->profile.tcp_cal;
  if (!sndbuf_locked) return c.snd_capacity;
  return static_cast<long>(static_cast<double>(c.snd_capacity) * sndbuf / c.sndbuf_settled);
}

// sock_def_wakeup
void TcpSock::state_change() {
  if (!dead && wq.active()) wake_up_interruptible_all(wq, Rule::kUnixStateChange);
}

// sock_def_readable
void TcpSock::data_ready() {
  if (!dead && wq.active())
    wake_up_interruptible_sync_poll(wq, EPOLLIN | EPOLLPRI | EPOLLRDNORM | EPOLLRDBAND, Rule::kTcpDataReady);
}

// sock_def_error_report
void TcpSock::error_report() {
  if (!dead && wq.active()) wake_up_interruptible_poll(wq, EPOLLERR, Rule::kTcpReset);
}

// sk_stream_write_space: only once writeable; SOCK_NOSPACE is cleared then.
void TcpSock::write_space() {
  if (dead || !sk_stream_is_writeable(*this)) {
    g->rule(Rule::kTcpWriteSpaceNoWake);
    return;
  }
  nospace = false;
  if (wq.active()) wake_up_interruptible_poll(wq, EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND, Rule::kTcpWriteSpaceWake);
}

// sk_stream_wspace >= sk_stream_min_wspace and __sk_stream_memory_free.
bool sk_stream_is_writeable(const TcpSock& sk) {
  const long queued = sk.notsent;
  const long cap = sk.snd_capacity();
  return queued < cap && cap - queued >= queued / 2;
}

// tcp_epollin_ready: the bytes meet the target, or the window is closed (the receive
// window at most one MSS: the queue holds its capacity).
bool tcp_epollin_ready(const TcpSock& sk, int target) {
  if (sk.rcv_bytes <= 0) return false;
  return sk.rcv_bytes >= target || sk.rcv_bytes >= sk.rcv_capacity();
}

namespace {

// tcp_data_ready
void tcp_data_ready(TcpSock& sk) {
  if (tcp_epollin_ready(sk, sk.rcvlowat) || sk.done) {
    sk.data_ready();
  } else {
    sk.g->rule(Rule::kTcpDataBelowLowat);
  }
}

// tcp_check_space: an ACK freed room; sk_write_space only if a writer found none.
void tcp_check_space(TcpSock& sk) {
  if (!sk.nospace) return;
  sk.g->rule(Rule::kTcpCheckSpace);
  sk.write_space();
}

// tcp_time_wait: the port stays held by a timewait socket; the full socket is done.
void tcp_time_wait(TcpSock& sk) {
  sk.g->rule(Rule::kTcpTimeWait);
  inet_hashinfo(*sk.g).timewait.emplace(sk.port, sk.reuse);
  tcp_done(sk);
}

}  // namespace

void tcp_set_state(TcpSock& sk, int state) {
  const int old = sk.state;
  sk.state = state;
  if (state == TCP_CLOSE && old != TCP_CLOSE) {
    // inet_unhash; inet_put_port unless bind(2) chose the port (SOCK_BINDPORT_LOCK).
    if (!sk.bind_locked) inet_put_port(sk);
  }
}

void tcp_done(TcpSock& sk) {
  const auto keep = sk.shared_from_this();
  sk.g->rule(Rule::kTcpDone);
  tcp_set_state(sk, TCP_CLOSE);
  sk.shutdown = SHUTDOWN_MASK;
  sk.peer.reset();
  if (sk.dead) {
    inet_put_port(sk);  // inet_csk_destroy_sock
  } else {
    sk.state_change();
    sk.g->sched->wake_point("tcp_done after sk_state_change");
  }
  inet_unhash(sk);
}

// tcp_reset -> tcp_done_with_error: the error by state, the write queue purged, tcp_done,
// then sk_error_report.
void tcp_reset(TcpSock& sk) {
  int err = ECONNRESET;
  switch (sk.state) {
    case TCP_SYN_SENT: err = ECONNREFUSED; break;
    case TCP_CLOSE_WAIT: err = EPIPE; break;
    case TCP_CLOSE: sk.g->rule(Rule::kTcpResetIgnored); return;
    default: break;
  }
  const auto keep = sk.shared_from_this();
  sk.g->rule(Rule::kTcpReset);
  sk.err = err;
  sk.notsent = 0;  // tcp_write_queue_purge
  sk.snd_data.clear();
  sk.fin_queued = false;
  tcp_done(sk);
  sk.error_report();
  sk.g->sched->wake_point("tcp_done_with_error after sk_error_report");
}

void tcp_send_active_reset(TcpSock& sk) {
  if (auto p = sk.peer.lock()) {
    sk.peer.reset();
    tcp_reset(*p);
  }
}

// tcp_fin
void tcp_fin(TcpSock& sk) {
  const auto keep = sk.shared_from_this();
  sk.g->rule(Rule::kTcpFin);
  sk.shutdown |= RCV_SHUTDOWN;
  sk.done = true;  // SOCK_DONE
  switch (sk.state) {
    case TCP_SYN_RECV:
    case TCP_ESTABLISHED: tcp_set_state(sk, TCP_CLOSE_WAIT); break;
    case TCP_FIN_WAIT1: tcp_set_state(sk, TCP_CLOSING); break;  // simultaneous close
    case TCP_FIN_WAIT2: tcp_time_wait(sk); break;
    default: break;  // CLOSE_WAIT, CLOSING, LAST_ACK: a retransmitted FIN
  }
  sk.state_change();
  sk.g->sched->wake_point("tcp_fin after sk_state_change");
}

// tcp_rcv_state_process, the ACK of our FIN.
void tcp_fin_acked(TcpSock& sk) {
  const auto keep = sk.shared_from_this();
  switch (sk.state) {
    case TCP_FIN_WAIT1:
      sk.g->rule(Rule::kTcpFinAcked);
      tcp_set_state(sk, TCP_FIN_WAIT2);
      sk.shutdown |= SEND_SHUTDOWN;
      sk.state_change();  // wakes a lingering close()
      sk.g->sched->wake_point("tcp_rcv_state_process FIN_WAIT1 after sk_state_change");
      break;
    case TCP_CLOSING:
      sk.g->rule(Rule::kTcpFinAcked);
      tcp_time_wait(sk);
      break;
    case TCP_LAST_ACK:
      sk.g->rule(Rule::kTcpFinAcked);
      tcp_done(sk);
      break;
    default: break;
  }
}

// The loopback path of tcp_push_pending_frames / tcp_write_xmit: the peer takes what its
// window allows (tcp_rcv_established -> tcp_data_queue -> tcp_data_ready), ACKs it at once
// (tcp_ack -> tcp_check_space), and the FIN goes after the last byte.
void tcp_push(TcpSock& sk) {
  const auto keep = sk.shared_from_this();
  std::shared_ptr<TcpSock> p = sk.peer.lock();
  if (!p) return;
  if (sk.notsent > 0) {
    // A socket that is gone, or half-closed for reading in FIN_WAIT* (RFC 1122: MUST
    // reset; an orphan after close is one), answers data with RST.
    const bool refuses = p->state == TCP_CLOSE || ((p->state == TCP_FIN_WAIT1 || p->state == TCP_FIN_WAIT2) &&
                                                   (p->shutdown & RCV_SHUTDOWN));
    if (refuses) {
      sk.g->rule(Rule::kTcpDataToClosed);
      sk.peer.reset();
      if (p->state != TCP_CLOSE) tcp_reset(*p);  // tcp_rcv_state_process: TCPABORTONDATA
      tcp_reset(sk);
      return;
    }
    const long room = std::max(0L, p->rcv_capacity() - p->rcv_bytes);
    const long n = std::min(sk.notsent, room);
    if (n > 0) {
      sk.notsent -= n;
      p->rcv_bytes += n;
      p->rcv_data.insert(p->rcv_data.end(), sk.snd_data.begin(), sk.snd_data.begin() + n);
      sk.snd_data.erase(sk.snd_data.begin(), sk.snd_data.begin() + n);
      tcp_data_ready(*p);
      sk.g->sched->wake_point("tcp_data_queue after tcp_data_ready");
      tcp_check_space(sk);
    }
    if (sk.notsent > 0) sk.g->rule(Rule::kTcpWindowFull);
  }
  if (sk.notsent == 0 && sk.fin_queued) {
    sk.fin_queued = false;
    tcp_fin(*p);
    tcp_fin_acked(sk);
  }
}

namespace {

// tcp_close_state: the move a FIN makes, and whether to send one.
bool tcp_close_state(TcpSock& sk) {
  switch (sk.state) {
    case TCP_ESTABLISHED:
    case TCP_SYN_RECV: tcp_set_state(sk, TCP_FIN_WAIT1); return true;
    case TCP_CLOSE_WAIT: tcp_set_state(sk, TCP_LAST_ACK); return true;
    case TCP_SYN_SENT: tcp_set_state(sk, TCP_CLOSE); return false;
    default: return false;  // CLOSE, LISTEN, FIN_WAIT*, CLOSING, LAST_ACK, TIME_WAIT: no move
  }
}

// tcp_send_fin: the FIN joins the write queue; on loopback it is delivered with it.
void tcp_send_fin(TcpSock& sk) {
  sk.fin_queued = true;
  if (sk.notsent > 0) sk.g->rule(Rule::kTcpFinQueued);
  tcp_push(sk);
}

// tcp_need_reset: the states in which a disconnect sends RST.
bool tcp_need_reset(int state) {
  return state == TCP_ESTABLISHED || state == TCP_CLOSE_WAIT || state == TCP_FIN_WAIT1 || state == TCP_FIN_WAIT2 ||
         state == TCP_SYN_RECV;
}

}  // namespace

// tcp_disconnect: back to an unconnected CLOSE socket; RST to a synchronized peer.
void tcp_disconnect(TcpSock& sk) {
  const auto keep = sk.shared_from_this();
  const int old = sk.state;
  if (old != TCP_CLOSE) tcp_set_state(sk, TCP_CLOSE);
  if (old == TCP_LISTEN) {
    inet_csk_listen_stop(sk);
  } else if (tcp_need_reset(old) || (sk.notsent > 0 && (old == TCP_CLOSING || old == TCP_LAST_ACK))) {
    sk.g->rule(Rule::kTcpDisconnectReset);
    tcp_send_active_reset(sk);
    sk.err = ECONNRESET;
  } else if (old == TCP_SYN_SENT) {
    sk.err = ECONNRESET;
  }
  sk.peer.reset();
  sk.rcv_bytes = 0;
  sk.rcv_data.clear();
  sk.notsent = 0;
  sk.snd_data.clear();
  sk.fin_queued = false;
  sk.shutdown = 0;
  sk.done = false;
  sk.dport = 0;
  inet_unhash(sk);
  sk.error_report();
}

TcpSocketFile::TcpSocketFile(Globals& g_, std::shared_ptr<TcpSock> s, int flags)
    : File(g_, with_rw_ops(FMODE_READ | FMODE_WRITE), flags), sk(std::move(s)) {}

// tcp_poll, every branch (no urgent data, no Fast Open, no error queue in the model).
poll_t TcpSocketFile::poll(PollTable* pt) {
  TcpSock& s = *sk;
  poll_wait(this, s.wq, pt);
  if (s.state == TCP_LISTEN) return inet_csk_listen_poll(s);
  poll_t mask = 0;
  const int shutdown = s.shutdown;
  if (shutdown == SHUTDOWN_MASK || s.state == TCP_CLOSE) mask |= EPOLLHUP;
  if (shutdown & RCV_SHUTDOWN) mask |= EPOLLIN | EPOLLRDNORM | EPOLLRDHUP;
  if (s.state != TCP_SYN_SENT && s.state != TCP_SYN_RECV) {
    const int target = std::max(s.rcvlowat, 1);  // sock_rcvlowat(sk, 0, INT_MAX)
    if (tcp_epollin_ready(s, target)) mask |= EPOLLIN | EPOLLRDNORM;
    if (!(shutdown & SEND_SHUTDOWN)) {
      if (sk_stream_is_writeable(s)) {
        mask |= EPOLLOUT | EPOLLWRNORM;
      } else {
        s.nospace = true;  // send SIGIO later; the race breaker's second test is the same
      }
    } else {
      mask |= EPOLLOUT | EPOLLWRNORM;
    }
  }
  if (s.err) mask |= EPOLLERR;
  return mask;
}

namespace {

// sk_wait_event on sk_sleep (sk_wait_data, sk_stream_wait_connect, sk_stream_wait_memory):
// a non-exclusive entry at the head; the caller tests again after every wakeup.
MaySleep sk_wait(Task& t, TcpSock& sk) {
  WaitQueueEntry wait;
  init_wait(wait, t);  // DEFINE_WAIT_FUNC(wait, woken_wake_function): any wakeup
  prepare_to_wait(sk.wq, wait);
  co_await schedule(t);
  finish_wait(sk.wq, wait);
  co_return 0;
}

// tcp_cleanup_rbuf: bytes were read, the window update lets the peer send more.
void tcp_cleanup_rbuf(TcpSock& sk) {
  if (auto p = sk.peer.lock()) tcp_push(*p);
}

}  // namespace

// sock_read_iter -> inet_recvmsg -> tcp_recvmsg -> tcp_recvmsg_locked, for read(2).
MaySleep TcpSocketFile::read(Task& t, void* buf, size_t n) {
  if (n == 0) co_return 0;  // sock_read_iter
  const std::shared_ptr<TcpSock> keep = sk;
  TcpSock& s = *keep;
  Globals& gl = *s.g;
  if (s.state == TCP_LISTEN) co_return gl.fail(Rule::kTcpRecvEnotconn, -ENOTCONN);
  long timeo = nonblock() ? 0 : MAX_SCHEDULE_TIMEOUT;
  const long len = static_cast<long>(std::min<size_t>(n, INT_MAX));
  const long target = std::max<long>(std::min<long>(s.rcvlowat, len), 1);  // sock_rcvlowat
  long copied = 0;
  for (;;) {
    if (s.rcv_bytes > 0) {
      const long chunk = std::min(s.rcv_bytes, len - copied);
      if (buf) std::copy_n(s.rcv_data.begin(), chunk, static_cast<char*>(buf) + copied);
      s.rcv_data.erase(s.rcv_data.begin(), s.rcv_data.begin() + chunk);
      s.rcv_bytes -= chunk;
      copied += chunk;
      gl.rule(Rule::kTcpRecvData);
      tcp_cleanup_rbuf(s);
      if (copied == len) break;
      continue;
    }
    if (copied >= target) break;
    if (copied) {
      if (!timeo || s.err || s.state == TCP_CLOSE || (s.shutdown & RCV_SHUTDOWN) || t.signal_pending) break;
    } else {
      if (s.done) {
        gl.rule(Rule::kTcpRecvEof);
        break;
      }
      if (s.err) co_return gl.fail(Rule::kTcpRecvError, -std::exchange(s.err, 0));
      if (s.shutdown & RCV_SHUTDOWN) {
        gl.rule(Rule::kTcpRecvEof);
        break;
      }
      if (s.state == TCP_CLOSE) co_return gl.fail(Rule::kTcpRecvEnotconn, -ENOTCONN);
      if (!timeo) co_return gl.fail(Rule::kTcpRecvEagain, -EAGAIN);
      if (t.signal_pending) co_return -EINTR;  // sock_intr_errno
    }
    gl.rule(Rule::kTcpRecvSleeps);
    co_await sk_wait(t, s);  // sk_wait_data
  }
  co_return copied;
}

// sock_write_iter -> inet_sendmsg -> tcp_sendmsg -> tcp_sendmsg_locked, for write(2).
MaySleep TcpSocketFile::write(Task& t, const void* buf, size_t n) {
  const std::shared_ptr<TcpSock> keep = sk;
  TcpSock& s = *keep;
  Globals& gl = *s.g;
  long timeo = nonblock() ? 0 : MAX_SCHEDULE_TIMEOUT;
  long err = 0;
  long copied = 0;
  // sk_stream_wait_connect, unless ESTABLISHED or CLOSE_WAIT.
  while (s.state != TCP_ESTABLISHED && s.state != TCP_CLOSE_WAIT) {
    if (s.err) co_return gl.fail(Rule::kTcpSendNotConnected, -std::exchange(s.err, 0));
    if (s.state != TCP_SYN_SENT && s.state != TCP_SYN_RECV) co_return gl.fail(Rule::kTcpSendNotConnected, -EPIPE);
    if (!timeo) co_return gl.fail(Rule::kTcpSendNotConnected, -EAGAIN);
    if (t.signal_pending) co_return -EINTR;
    gl.rule(Rule::kTcpSendWaitConnect);
    co_await sk_wait(t, s);
  }
  const long len = static_cast<long>(std::min<size_t>(n, INT_MAX));
  if (s.err || (s.shutdown & SEND_SHUTDOWN)) {
    err = -EPIPE;
  } else {
    while (copied < len) {
      const long cap = s.snd_capacity();
      if (s.notsent < cap) {  // sk_stream_memory_free
        const long chunk = std::min(len - copied, cap - s.notsent);
        const char* from = static_cast<const char*>(buf) + copied;
        if (buf) s.snd_data.insert(s.snd_data.end(), from, from + chunk);
        else s.snd_data.insert(s.snd_data.end(), static_cast<size_t>(chunk), '\0');
        s.notsent += chunk;
        copied += chunk;
        gl.rule(Rule::kTcpSendQueued);
        tcp_push(s);
        if (s.err) break;  // the push met RST: what was copied is returned
        continue;
      }
      // wait_for_space -> sk_stream_wait_memory
      s.nospace = true;
      if (!timeo) {
        err = -EAGAIN;
        break;
      }
      if (t.signal_pending) {
        err = -EINTR;
        break;
      }
      gl.rule(Rule::kTcpSendSleeps);
      co_await sk_wait(t, s);
      if (s.err || (s.shutdown & SEND_SHUTDOWN)) {
        err = -EPIPE;
        break;
      }
    }
  }
  if (copied) {
    if (err == -EAGAIN) gl.rule(Rule::kTcpSendPartial);
    co_return copied;
  }
  if (err == -EAGAIN) co_return gl.fail(Rule::kTcpSendEagain, err);
  if (err == -EPIPE) {  // sk_stream_error: the pending error first
    gl.rule(Rule::kTcpSendEpipe);
    co_return s.err ? -std::exchange(s.err, 0) : -EPIPE;
  }
  co_return err;
}

// inet_release -> tcp_close -> __tcp_close (SO_LINGER with a time does not make the
// model's close wait: the loopback path has already delivered everything it can).
void TcpSocketFile::release() {
  const std::shared_ptr<TcpSock> s = std::move(sk);
  Globals& gl = *s->g;
  s->shutdown = SHUTDOWN_MASK;
  if (s->state == TCP_LISTEN) {
    gl.rule(Rule::kTcpCloseListener);
    tcp_set_state(*s, TCP_CLOSE);
    inet_csk_listen_stop(*s);
  } else if (s->rcv_bytes > 0) {
    gl.rule(Rule::kTcpCloseUnread);
    tcp_set_state(*s, TCP_CLOSE);
    tcp_send_active_reset(*s);
  } else if (s->linger == 0) {
    gl.rule(Rule::kTcpCloseLinger0);
    tcp_disconnect(*s);
  } else if (tcp_close_state(*s)) {
    gl.rule(Rule::kTcpCloseFin);
    tcp_send_fin(*s);
  }
  s->dead = true;  // sock_orphan: SOCK_DEAD, no wait queue
  if (s->state == TCP_CLOSE) {
    inet_unhash(*s);  // inet_csk_destroy_sock
    inet_put_port(*s);
  }
}

// inet_shutdown with tcp_shutdown.
long tcp_inet_shutdown(TcpSock& s, int how) {
  const auto keep = s.shared_from_this();
  Globals& gl = *s.g;
  const int mode = how + 1;  // SHUT_RD/WR/RDWR -> RCV/SEND/both
  if (how < SHUT_RD_ || how > SHUT_RDWR_) return gl.fail(Rule::kTcpShutdownEinval, -EINVAL);
  if (s.connecting) {
    if (s.state == TCP_SYN_SENT || s.state == TCP_SYN_RECV || s.state == TCP_CLOSE) {
      s.connecting = false;  // SS_DISCONNECTING (SYN_SENT goes back to SS_UNCONNECTED below)
      s.disconnecting = s.state != TCP_SYN_SENT;
    } else {
      s.connecting = false;
      s.connected = true;
    }
  }
  long err = 0;
  switch (s.state) {
    case TCP_LISTEN:
      if (!(mode & RCV_SHUTDOWN)) break;
      [[fallthrough]];
    case TCP_SYN_SENT:
      gl.rule(Rule::kTcpShutdownDisconnect);
      tcp_disconnect(s);
      s.connected = false;
      break;
    case TCP_CLOSE:
      err = gl.fail(Rule::kTcpShutdownEnotconn, -ENOTCONN);
      [[fallthrough]];
    default:
      s.shutdown |= mode;
      if (mode & SEND_SHUTDOWN) {  // tcp_shutdown
        if (s.state == TCP_ESTABLISHED || s.state == TCP_SYN_SENT || s.state == TCP_SYN_RECV ||
            s.state == TCP_CLOSE_WAIT) {
          gl.rule(Rule::kTcpShutdownSend);
          if (tcp_close_state(s)) tcp_send_fin(s);
        }
      }
      break;
  }
  s.state_change();  // wake up anyone sleeping in poll
  gl.sched->wake_point("inet_shutdown after sk_state_change");
  return err;
}

// tcp_set_rcvlowat: capped at half of the locked sk_rcvbuf, else of tcp_rmem[2]; at
// least 1; then tcp_data_ready ("check if we need to signal EPOLLIN right now").
void tcp_set_rcvlowat(TcpSock& sk, int val) {
  const int cap = sk.rcvbuf_locked ? sk.rcvbuf >> 1 : sk.g->profile.tcp_cal.rmem_max >> 1;
  val = std::min(val, cap);
  sk.rcvlowat = val ? val : 1;
  sk.g->rule(Rule::kTcpSetRcvlowat);
  tcp_data_ready(sk);
}

}  // namespace model
