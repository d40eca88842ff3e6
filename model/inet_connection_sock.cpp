// net/ipv4/inet_connection_sock.c, inet_hashtables.c, the loopback handshake of
// tcp_input.c / tcp_minisocks.c, at gregkh/linux 03bab42919c4 (6.18 era).
#include "inet_connection_sock.h"

#include <algorithm>

#include "af_unix.h"  // SHUTDOWN_MASK
#include "wait_event.h"

namespace model {

InetHashinfo& inet_hashinfo(Globals& g) {
  if (!g.inet) g.inet = std::make_shared<InetHashinfo>();
  return *g.inet;
}

namespace {

// inet_csk_bind_conflict for 127.0.0.1: every live holder of the port conflicts unless
// both set SO_REUSEADDR and the holder is not listening, or both set SO_REUSEPORT.
bool bind_conflict(const TcpSock& sk, const std::vector<std::weak_ptr<TcpSock>>& holders) {
  for (const auto& w : holders) {
    const auto other = w.lock();
    if (!other || other.get() == &sk) continue;
    if (sk.reuse && other->reuse && other->state != TCP_LISTEN) continue;
    if (sk.reuseport && other->reuseport) continue;
    return true;
  }
  return false;
}

bool port_free(const InetHashinfo& h, const TcpSock& sk, int port) {
  const auto it = h.bound.find(port);
  if (it != h.bound.end() && bind_conflict(sk, it->second)) return false;
  const auto [lo, hi] = h.timewait.equal_range(port);
  for (auto tw = lo; tw != hi; ++tw) {
    if (!(sk.reuse && tw->second)) return false;
  }
  return true;
}

}  // namespace

long inet_csk_get_port(TcpSock& sk, int port) {
  InetHashinfo& h = inet_hashinfo(*sk.g);
  if (port == 0) {
    // inet_csk_find_open_port: a port nobody holds.
    for (;;) {
      const int p = h.next_ephemeral++;
      if (h.next_ephemeral > 60999) h.next_ephemeral = 32768;
      const auto it = h.bound.find(p);
      const bool held = it != h.bound.end() &&
                        std::any_of(it->second.begin(), it->second.end(), [](const auto& w) { return !w.expired(); });
      if (!held && h.timewait.find(p) == h.timewait.end()) {
        port = p;
        break;
      }
    }
  } else if (!port_free(h, sk, port)) {
    return sk.g->fail(Rule::kInetPortInUse, -EADDRINUSE);
  } else if (h.bound.count(port)) {
    sk.g->rule(Rule::kInetPortShared);
  }
  auto& holders = h.bound[port];
  std::erase_if(holders, [](const auto& w) { return w.expired(); });
  holders.push_back(sk.weak_from_this());
  sk.port = port;
  return 0;
}

void inet_put_port(TcpSock& sk) {
  if (!sk.port || !sk.g->inet) return;
  auto it = sk.g->inet->bound.find(sk.port);
  if (it != sk.g->inet->bound.end()) {
    std::erase_if(it->second, [&](const auto& w) { return w.expired() || w.lock().get() == &sk; });
    if (it->second.empty()) sk.g->inet->bound.erase(it);
  }
  sk.port = 0;
  sk.bind_locked = false;
}

// inet_ehashfn stands in: the kernel's jhash of the 4-tuple is keyed by net_secret, random
// at boot, so which listener a port goes to cannot be predicted, only that it spreads by
// hash. A fixed 32-bit mix of the one varying part (the client's port) does that here.
static uint32_t inet_ehashfn(int port, int sport) {
  uint32_t h = static_cast<uint32_t>(sport) * 0x9e3779b1u ^ static_cast<uint32_t>(port);
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  return h ^ (h >> 16);
}

std::shared_ptr<TcpSock> inet_lookup_listener(Globals& g, int port, int sport) {
  if (!g.inet) return nullptr;
  const auto it = g.inet->bound.find(port);
  if (it == g.inet->bound.end()) return nullptr;
  std::vector<std::shared_ptr<TcpSock>> group;  // sock_reuseport.socks: in the order they listened
  for (const auto& w : it->second) {
    auto sk = w.lock();
    if (!sk || sk->state != TCP_LISTEN) continue;
    if (!sk->reuseport) return sk;  // every local address is 127.0.0.1: the first listener scores
    group.push_back(std::move(sk));
  }
  if (group.empty()) return nullptr;
  // reuseport_select_sock -> reuseport_select_sock_by_hash: socks[reciprocal_scale(hash, n)].
  const uint64_t i = (uint64_t{inet_ehashfn(port, sport)} * group.size()) >> 32;
  return group[i];
}

void inet_ehash(TcpSock& sk) {
  auto& v = inet_hashinfo(*sk.g).established;
  if (std::find_if(v.begin(), v.end(), [&](const auto& p) { return p.get() == &sk; }) == v.end())
    v.push_back(sk.shared_from_this());
}

void inet_unhash(TcpSock& sk) {
  if (!sk.g->inet) return;
  std::erase_if(sk.g->inet->established, [&](const auto& p) { return p.get() == &sk; });
}

bool sk_acceptq_is_full(const TcpSock& sk) {
  return static_cast<long>(sk.accept_queue.size()) > sk.max_ack_backlog;
}

void inet_csk_listen_start(TcpSock& sk, int backlog) {
  sk.g->rule(Rule::kInetListenStart);
  sk.max_ack_backlog = backlog;
  tcp_set_state(sk, TCP_LISTEN);
}

// inet_csk_listen_stop -> inet_child_forget: each child is disconnected (RST to its
// client) and destroyed.
void inet_csk_listen_stop(TcpSock& sk) {
  while (!sk.accept_queue.empty()) {
    std::shared_ptr<TcpSock> child = std::move(sk.accept_queue.front());
    sk.accept_queue.pop_front();
    sk.g->rule(Rule::kListenStopReset);
    tcp_disconnect(*child);
    child->dead = true;
    inet_unhash(*child);
  }
}

poll_t inet_csk_listen_poll(const TcpSock& sk) {
  sk.g->rule(Rule::kTcpPollListen);
  return sk.accept_queue.empty() ? 0 : EPOLLIN | EPOLLRDNORM;
}

bool tcp_loopback_handshake(TcpSock& client, TcpSock& listener) {
  Globals& g = *client.g;
  if (sk_acceptq_is_full(listener)) {  // tcp_conn_request: drop, no SYN-ACK
    g.rule(Rule::kSynDropped);
    return false;
  }
  // tcp_v4_syn_recv_sock: the child shares the listener's port and options.
  auto child = std::make_shared<TcpSock>(g);
  child->port = listener.port;
  child->dport = client.port;
  child->rcvlowat = listener.rcvlowat;
  child->sndbuf = listener.sndbuf;
  child->rcvbuf = listener.rcvbuf;
  child->sndbuf_locked = listener.sndbuf_locked;
  child->rcvbuf_locked = listener.rcvbuf_locked;
  child->linger = listener.linger;
  child->reuse = listener.reuse;
  child->peer = client.weak_from_this();
  child->state = TCP_ESTABLISHED;
  client.peer = child;
  client.dport = listener.port;
  inet_ehash(*child);
  inet_ehash(client);
  // The SYN-ACK: the client is connected (tcp_finish_connect).
  g.rule(Rule::kHandshake);
  tcp_set_state(client, TCP_ESTABLISHED);
  client.state_change();
  g.sched->wake_point("tcp_finish_connect after sk_state_change");
  // The ACK: the child joins the accept queue (inet_csk_complete_hashdance,
  // sk_acceptq_added) and the listener is told (tcp_child_process: sk_data_ready).
  listener.accept_queue.push_back(std::move(child));
  g.rule(Rule::kListenerDataReady);
  listener.data_ready();
  g.sched->wake_point("tcp_child_process after the listener's sk_data_ready");
  return true;
}

namespace {

// inet_csk_wait_for_connect: an exclusive entry at the tail (wake-one, FIFO), kept across
// wakeups until the queue has a child, the socket stops listening, a signal, or timeout.
MaySleep inet_csk_wait_for_connect(Task& t, TcpSock& sk) {
  WaitQueueEntry wait;
  init_wait(wait, t);  // DEFINE_WAIT
  long err = 0;
  for (;;) {
    prepare_to_wait_exclusive(sk.wq, wait);
    if (sk.accept_queue.empty() && !t.signal_pending) {
      sk.g->rule(Rule::kAcceptSleeps);
      co_await schedule_timeout(t, MAX_SCHEDULE_TIMEOUT);
    }
    err = 0;
    if (!sk.accept_queue.empty()) break;
    err = -EINVAL;
    if (sk.state != TCP_LISTEN) break;
    err = -EINTR;  // sock_intr_errno
    if (t.signal_pending) break;
  }
  finish_wait(sk.wq, wait);
  co_return err;
}

}  // namespace

MaySleep inet_csk_accept(Task& t, TcpSock& sk, bool nonblock, std::shared_ptr<TcpSock>* child) {
  const auto keep = sk.shared_from_this();
  if (sk.state != TCP_LISTEN) co_return sk.g->fail(Rule::kAcceptEinval, -EINVAL);
  if (sk.accept_queue.empty()) {
    if (nonblock) co_return sk.g->fail(Rule::kAcceptEagain, -EAGAIN);
    const long err = co_await inet_csk_wait_for_connect(t, sk);
    if (err) co_return err == -EINVAL ? sk.g->fail(Rule::kAcceptEinval, err) : err;
  }
  sk.g->rule(Rule::kAcceptDequeued);
  *child = std::move(sk.accept_queue.front());  // reqsk_queue_remove, sk_acceptq_removed
  sk.accept_queue.pop_front();
  co_return 0;
}

}  // namespace model
