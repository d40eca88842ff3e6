// The connection-oriented half of net/ipv4 the model needs: port ownership
// (inet_hashtables.c inet_csk_get_port / inet_csk_bind_conflict, inet_put_port), the
// listener and its accept queue (inet_connection_sock.c inet_csk_listen_start/stop,
// inet_csk_accept, inet_csk_wait_for_connect, include/net/inet_connection_sock.h
// inet_csk_listen_poll, include/net/sock.h sk_acceptq_is_full), gregkh/linux 03bab42919c4.
#pragma once
#include <map>
#include <memory>
#include <vector>

#include "tcp.h"

namespace model {

// The per-namespace tables (struct inet_hashinfo) for 127.0.0.1.
struct InetHashinfo {
  // bhash: the sockets holding each port (bound, listening, connected).
  std::map<int, std::vector<std::weak_ptr<TcpSock>>> bound;
  // Ports held by TIME_WAIT sockets (tcp_time_wait's inet_timewait_sock); the model has
  // no TIME_WAIT timer, so they stay held for the run (60 s on a kernel).
  std::multimap<int, bool> timewait;  // port -> the socket's SO_REUSEADDR
  // ehash: connected and orphaned sockets live here until tcp_done.
  std::vector<std::shared_ptr<TcpSock>> established;
  int next_ephemeral = 32768;  // ip_local_port_range's low end; the kernel picks at random
};
InetHashinfo& inet_hashinfo(Globals& g);

// inet_csk_get_port: port 0 picks a free ephemeral port; another is taken unless it
// conflicts. 0 or -EADDRINUSE.
long inet_csk_get_port(TcpSock& sk, int port);
// inet_put_port: the port is released.
void inet_put_port(TcpSock& sk);
// The listening socket on a port, if any (__inet_lookup_listener); in an SO_REUSEPORT group
// the one the SYN's source port `sport` hashes to (inet_lookup_reuseport).
std::shared_ptr<TcpSock> inet_lookup_listener(Globals& g, int port, int sport = 0);
// inet_ehash: the connection keeps itself alive until tcp_done; inet_unhash drops it.
void inet_ehash(TcpSock& sk);
void inet_unhash(TcpSock& sk);

// sk_acceptq_is_full: more queued than the backlog allows (backlog N holds N + 1).
bool sk_acceptq_is_full(const TcpSock& sk);
// inet_csk_listen_start: LISTEN with the backlog (min(backlog, somaxconn) by __sys_listen).
void inet_csk_listen_start(TcpSock& sk, int backlog);
// inet_csk_listen_stop: the children still queued are reset (tcp_disconnect).
void inet_csk_listen_stop(TcpSock& sk);
// inet_csk_listen_poll: EPOLLIN|EPOLLRDNORM while the accept queue is not empty.
poll_t inet_csk_listen_poll(const TcpSock& sk);
// The loopback handshake with a listener (tcp_conn_request, tcp_check_req,
// inet_csk_complete_hashdance): false if the listener's queue is full (the SYN is dropped;
// SYN retransmission is a timer the model does not have); else the child is queued,
// the client ESTABLISHED, and the listener gets sk_data_ready.
bool tcp_loopback_handshake(TcpSock& client, TcpSock& listener);
// inet_csk_accept: the first child of the queue (*child), or -EINVAL (not listening),
// -EAGAIN (empty, non-blocking), -EINTR; a blocking accept sleeps in
// inet_csk_wait_for_connect (exclusive, at the tail: FIFO).
MaySleep inet_csk_accept(Task& t, TcpSock& sk, bool nonblock, std::shared_ptr<TcpSock>* child);

}  // namespace model
