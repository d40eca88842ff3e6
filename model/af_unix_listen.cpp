#include "af_unix_listen.h"

#include <cstdio>
#include <cstring>

#include "af_unix_dgram.h"
#include "wait.h"

namespace model {

namespace {

constexpr size_t kSunPath = 2;         // offsetof(struct sockaddr_un, sun_path)
constexpr size_t kSockaddrUn = 110;    // sizeof(struct sockaddr_un)
constexpr uint16_t kAfUnix = AF_UNIX_;

std::string bytes(const std::vector<uint8_t>& a) { return std::string(a.begin(), a.end()); }
std::string table_key(int type, const std::string& addr) { return std::string(1, static_cast<char>(type)) + addr; }

uint16_t family(const std::vector<uint8_t>& a) {
  uint16_t f = 0;
  if (a.size() >= sizeof f) std::memcpy(&f, a.data(), sizeof f);
  return f;
}


// __unix_set_addr_hash: bound under this name from now on.
void set_addr(UnixSock& sk, std::string addr) {
  sk.g->unix_names[table_key(sk.type, addr)] = &sk;
  sk.addr = std::move(addr);
}


// unix_autobind: an abstract name of five hex digits, the next free one.
long unix_autobind(UnixSock& sk) {
  Globals& g = *sk.g;
  if (sk.addr) return 0;
  for (unsigned tries = 0; tries <= 0xfffff; ++tries) {
    char name[8];
    std::snprintf(name, sizeof name, "%05x", g.unix_autobind_next++ & 0xfffff);
    std::string addr(kSunPath + 1, '\0');
    std::memcpy(addr.data(), &kAfUnix, sizeof kAfUnix);
    addr += name;
    if (!g.unix_names.contains(table_key(sk.type, addr))) {
      g.rule(Rule::kUnixAutobind);
      set_addr(sk, std::move(addr));
      return 0;
    }
  }
  return g.fail(Rule::kUnixAutobind, -ENOSPC);
}

}  // namespace

bool valid_addr(const std::vector<uint8_t>& a) {
  return a.size() > kSunPath && a.size() <= kSockaddrUn && family(a) == kAfUnix;
}

UnixSock* find_abstract(Globals& g, int type, const std::vector<uint8_t>& a) {
  const auto it = g.unix_names.find(table_key(type, bytes(a)));
  return it == g.unix_names.end() ? nullptr : it->second;
}

void unix_remove_socket(UnixSock& sk) {
  if (!sk.addr) return;
  const auto it = sk.g->unix_names.find(table_key(sk.type, *sk.addr));
  if (it != sk.g->unix_names.end() && it->second == &sk) sk.g->unix_names.erase(it);
}

// unix_bind: a bare family autobinds; then unix_validate_addr, then unix_bind_abstract.
long unix_bind(UnixSock& sk, const std::vector<uint8_t>& a) {
  Globals& g = *sk.g;
  if (a.size() == kSunPath && family(a) == kAfUnix) return unix_autobind(sk);
  if (!valid_addr(a)) return g.fail(Rule::kUnixBindEinval, -EINVAL);
  if (a[kSunPath] != 0) return g.fail(Rule::kSocketOpUnsupported, -EOPNOTSUPP);  // unix_bind_bsd: a path
  if (sk.addr) return g.fail(Rule::kUnixBindBound, -EINVAL);
  if (find_abstract(g, sk.type, a)) return g.fail(Rule::kUnixBindEaddrinuse, -EADDRINUSE);
  g.rule(Rule::kUnixBind);
  set_addr(sk, bytes(a));
  return 0;
}

// unix_listen, after __sys_listen clamped the backlog to net.core.somaxconn.
long unix_listen(UnixSock& sk, int backlog) {
  Globals& g = *sk.g;
  if (sk.type != SOCK_STREAM_ && sk.type != SOCK_SEQPACKET_) return g.fail(Rule::kUnixListenEopnotsupp, -EOPNOTSUPP);
  if (!sk.addr) return g.fail(Rule::kUnixListenUnbound, -EINVAL);
  if (sk.state != TCP_CLOSE_ && sk.state != TCP_LISTEN_) return g.fail(Rule::kUnixListenEinval, -EINVAL);
  // A larger backlog lets connectors sleeping for room try again.
  if (static_cast<unsigned>(backlog) > sk.max_ack_backlog)
    wake_up_interruptible_all(sk.peer_wait, Rule::kUnixListenWakeConnectors);
  sk.max_ack_backlog = static_cast<unsigned>(backlog);
  sk.state = TCP_LISTEN_;
  g.rule(Rule::kUnixListen);
  return 0;
}

// unix_stream_connect: the embryo (newsk) is made first, then the listener looked up; a
// full backlog gives EAGAIN without a wait, else the connector sleeps on the listener's
// peer_wait and starts again. Success connects sk to the embryo, queues the embryo's skb
// on the listener and wakes it (sk_data_ready).
MaySleep unix_stream_connect(Task& t, UnixSocketFile& sock, std::vector<uint8_t> a) {
  UnixSock& sk = *sock.sk;
  Globals& g = *sk.g;
  if (!valid_addr(a)) co_return g.fail(Rule::kUnixConnectEinval, -EINVAL);
  if (a[kSunPath] != 0) co_return g.fail(Rule::kSocketOpUnsupported, -EOPNOTSUPP);  // unix_find_bsd: a path
  long timeo = sock.nonblock() ? 0 : MAX_SCHEDULE_TIMEOUT;  // sock_sndtimeo
  auto newsk = std::make_shared<UnixSock>(g, sk.type);      // unix_create1
  for (;;) {  // restart:
    UnixSock* found = find_abstract(g, sk.type, a);
    if (!found) co_return g.fail(Rule::kUnixConnectNoListener, -ECONNREFUSED);
    const std::shared_ptr<UnixSock> other = found->shared_from_this();  // held while we sleep
    if (other->state != TCP_LISTEN_ || (other->shutdown & RCV_SHUTDOWN))
      co_return g.fail(Rule::kUnixConnectNotListening, -ECONNREFUSED);
    if (unix_recvq_full(*other)) {
      if (!timeo) co_return g.fail(Rule::kUnixConnectEagain, -EAGAIN);
      g.rule(Rule::kUnixConnectSleeps);
      timeo = co_await unix_wait_for_peer(t, *other, timeo);
      if (t.signal_pending) co_return -EINTR;  // sock_intr_errno
      continue;
    }
    if (sk.state != TCP_CLOSE_)
      co_return g.fail(Rule::kUnixConnectState, sk.state == TCP_ESTABLISHED_ ? -EISCONN : -EINVAL);
    newsk->peer = sock.sk;
    newsk->state = TCP_ESTABLISHED_;
    newsk->addr = other->addr;  // the listener's address is the accepted socket's
    sk.state = TCP_ESTABLISHED_;
    sk.peer = newsk;
    // sock_wmalloc(newsk, 1): charged to the embryo until accept frees it.
    Skb skb{0, 0, unix_skb_truesize(g.profile.unix_cal, g.profile.page_size, 1), newsk, {}, newsk};
    newsk->wmem_alloc += skb.truesize;
    other->receive_queue.push_back(std::move(skb));
    g.rule(Rule::kUnixConnected);
    other->data_ready();
    g.sched->wake_point("unix_stream_connect after sk_data_ready");
    co_return 0;
  }
}

// unix_accept: skb_recv_datagram on the listener's queue (an exclusive wait at the tail of
// its wq; a non-blocking listener file gives EAGAIN, a shut-down one EINVAL), then the
// embryo's skb is freed and one sleeping connector woken.
MaySleep unix_accept(Task& t, UnixSocketFile& sock, std::shared_ptr<UnixSock>* out) {
  UnixSock& sk = *sock.sk;
  Globals& g = *sk.g;
  if (sk.type != SOCK_STREAM_ && sk.type != SOCK_SEQPACKET_) co_return g.fail(Rule::kUnixAcceptEopnotsupp, -EOPNOTSUPP);
  if (sk.state != TCP_LISTEN_) co_return g.fail(Rule::kUnixAcceptEinval, -EINVAL);
  const long timeo = sock.nonblock() ? 0 : MAX_SCHEDULE_TIMEOUT;  // arg->flags: the listener file's
  long err = 0;
  if (!co_await __skb_recv_datagram(t, sk, timeo, Rule::kUnixAcceptSleeps, &err)) {  // skb_recv_datagram
    if (err == 0) co_return g.fail(Rule::kUnixAcceptShutdown, -EINVAL);  // receive shutdown
    if (err == -EAGAIN) co_return g.fail(Rule::kUnixAcceptEagain, err);
    co_return err;
  }
  Skb skb = std::move(sk.receive_queue.front());
  sk.receive_queue.pop_front();
  *out = std::move(skb.embryo);
  sock_wfree(skb);  // skb_free_datagram
  wake_up(sk.peer_wait, Rule::kUnixAcceptWakeConnector);  // wake_up_interruptible: one connector
  g.sched->wake_point("unix_accept after wake_up_interruptible(&u->peer_wait)");
  g.rule(Rule::kUnixAccepted);
  co_return 0;
}

std::vector<uint8_t> unix_getname(const UnixSock& sk) {
  if (sk.addr) return std::vector<uint8_t>(sk.addr->begin(), sk.addr->end());
  std::vector<uint8_t> out(kSunPath);
  std::memcpy(out.data(), &kAfUnix, sizeof kAfUnix);
  return out;
}

}  // namespace model
