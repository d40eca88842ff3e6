// The model's rules: every wakeup site, every branch of ep_poll_callback and
// ep_send_events, every error path of every call. Each is named after the kernel function
// it follows. The observer reports them (Event::rule); `explain` prints them and rule
// coverage (`fuzz --coverage`, `check --coverage`) counts them.
#pragma once
#include <cstddef>
#include <string_view>

namespace model {

// X(id, kernel function, what happens)
#define EO_MODEL_RULES(X)                                                                                       \
  /* kernel/sched, fs/file.c, fs/file_table.c, fs/read_write.c */                                              \
  X(kTtwuWoken, "try_to_wake_up", "the task was asleep: woken")                                              \
  X(kTtwuRunning, "try_to_wake_up", "the task is already running: returns 0")                                 \
  X(kFdEmfile, "alloc_fd", "descriptor table full: EMFILE")                                                   \
  X(kCloseEbadf, "close_fd", "fd not open: EBADF")                                                            \
  X(kDupEbadf, "dup", "fd not open: EBADF")                                                                   \
  X(kFput, "__fput", "last reference dropped: eventpoll_release, then release")                             \
  /* kernel/fork.c, kernel/exit.c */                                                                           \
  X(kForkDupFd, "dup_fd", "fork: the child's table is a copy, each file referenced once more")               \
  X(kExitEndsTasks, "zap_other_threads", "exit: the process's other tasks end, their calls unchecked")       \
  X(kExitFiles, "close_files", "exit: every descriptor of the table closed from 0 up, as by close(2)")      \
  X(kReadEbadf, "ksys_read", "fd not open or not open for reading: EBADF")                                    \
  X(kWriteEbadf, "ksys_write", "fd not open or not open for writing: EBADF")                                  \
  X(kReadEinval, "vfs_read", "the file has no read operation: EINVAL")                                       \
  X(kWriteEinval, "vfs_write", "the file has no write operation: EINVAL")                                    \
  X(kReadEfault, "vfs_read", "buffer range not in user space (access_ok): EFAULT")                            \
  X(kWriteEfault, "vfs_write", "buffer range not in user space (access_ok): EFAULT")                          \
  /* fs/pipe.c */                                                                                              \
  X(kPipe2Einval, "__do_pipe_flags", "invalid flags: EINVAL")                                                 \
  X(kPipe2Enopkg, "create_pipe_files", "O_NOTIFICATION_PIPE without CONFIG_WATCH_QUEUE: ENOPKG")              \
  X(kPipeWriteExdev, "anon_pipe_write", "notification pipe (watch queue): EXDEV")                             \
  X(kPipeWriteEpipe, "anon_pipe_write", "no reader: EPIPE")                                                   \
  X(kPipeWriteMerge, "anon_pipe_write", "the len % PAGE_SIZE remainder merges into the last buffer")          \
  X(kPipeWriteEagain, "anon_pipe_write", "pipe full: EAGAIN")                                                 \
  X(kPipeWritePartial, "anon_pipe_write", "pipe filled up: partial write")                                    \
  X(kPipeWriteSleeps, "anon_pipe_write", "pipe full: the writer sleeps")                                      \
  X(kPipeWriteWakeBeforeSleep, "anon_pipe_write", "about to sleep and the pipe was empty: wake readers")      \
  X(kPipeWriteWakeReaders, "anon_pipe_write", "wake readers (pipe was empty, or polled since 5.15)")          \
  X(kPipeWriteNoWake, "anon_pipe_write", "pipe was not empty: readers not woken")                            \
  X(kPipeWriteWakeNextWriter, "anon_pipe_write", "writer had slept and the pipe is not full: wake next writer") \
  X(kPipeReadPacket, "anon_pipe_read", "a packet buffer (O_DIRECT) is consumed whole")                        \
  X(kPipeReadEof, "anon_pipe_read", "empty and no writer: end of file")                                       \
  X(kPipeReadEagain, "anon_pipe_read", "empty: EAGAIN")                                                       \
  X(kPipeReadSleeps, "anon_pipe_read", "empty: the reader sleeps")                                            \
  X(kPipeReadWakeBeforeSleep, "anon_pipe_read", "about to sleep after freeing a slot: wake writers")          \
  X(kPipeReadWakeWriters, "anon_pipe_read", "a slot was freed from a full pipe: wake writers")                \
  X(kPipeReadWakeNextReader, "anon_pipe_read", "reader had slept and data remains: wake next reader")         \
  X(kPipeReleaseLastWriter, "pipe_release", "last writer gone: wake everyone on both queues")                \
  X(kPipeReleaseLastReader, "pipe_release", "last reader gone: wake everyone on both queues")                \
  /* fs/eventfd.c */                                                                                           \
  X(kEventfd2Einval, "do_eventfd", "invalid flags: EINVAL")                                                   \
  X(kEfdReadEinval, "eventfd_read", "buffer shorter than 8 bytes: EINVAL")                                    \
  X(kEfdReadEagain, "eventfd_read", "count is 0: EAGAIN")                                                     \
  X(kEfdReadSleeps, "eventfd_read", "count is 0: the reader sleeps")                                          \
  X(kEfdReadSemaphore, "eventfd_read", "EFD_SEMAPHORE: reads 1")                                               \
  X(kEfdReadWake, "eventfd_read", "count read: wake with EPOLLOUT")                                           \
  X(kEfdWriteEinvalSize, "eventfd_write", "length is not 8: EINVAL")                                          \
  X(kEfdWriteEinvalMax, "eventfd_write", "value ULLONG_MAX: EINVAL")                                          \
  X(kEfdWriteEagain, "eventfd_write", "the count would reach ULLONG_MAX: EAGAIN")                             \
  X(kEfdWriteSleeps, "eventfd_write", "the count would reach ULLONG_MAX: the writer sleeps")                  \
  X(kEfdWriteWake, "eventfd_write", "count added (even 0): wake with EPOLLIN")                                 \
  X(kEfdReleaseWake, "eventfd_release", "wake with EPOLLHUP")                                                 \
  /* net/unix/af_unix.c, net/core/sock.c */                                                                    \
  X(kSocketpairEinval, "__sys_socketpair", "invalid type flags: EINVAL")                                      \
  X(kSocketpairUnsupported, "__sys_socketpair", "a socket the model has no rules for (SOCK_SEQPACKET, a protocol, another family's pair)") \
  X(kSockCreateEafnosupport, "__sock_create", "family outside [0, NPROTO): EAFNOSUPPORT")                   \
  X(kSockCreateEinvalType, "__sock_create", "type outside [0, SOCK_MAX): EINVAL")                           \
  X(kSocketpairProbedFamily, "__sock_create", "another family: the probed kernel's answer")                 \
  X(kSocketpairInetEopnotsupp, "sock_no_socketpair", "AF_INET/AF_INET6 stream or datagram: EOPNOTSUPP")     \
  X(kSocketpairInetRawEprotonosupport, "inet_create", "SOCK_RAW with protocol 0: EPROTONOSUPPORT")          \
  X(kSocketpairInetEsocktnosupport, "inet_create", "no protocol of that type: ESOCKTNOSUPPORT")             \
  X(kUnixCreateEprotonosupport, "unix_create", "protocol neither 0 nor PF_UNIX: EPROTONOSUPPORT")           \
  X(kUnixCreateEsocktnosupport, "unix_create", "type not STREAM/DGRAM/RAW/SEQPACKET: ESOCKTNOSUPPORT")      \
  X(kSocketEinval, "__sys_socket", "invalid type flags: EINVAL")                                             \
  X(kSocketUnsupported, "__sys_socket", "a family socket() has no rules for (AF_UNIX before net/unix lands)") \
  X(kSockfdEbadf, "sockfd_lookup", "fd not open: EBADF")                                                      \
  X(kSockfdEnotsock, "sockfd_lookup", "not a socket: ENOTSOCK")                                               \
  X(kAccept4Einval, "__sys_accept4_file", "flags other than SOCK_CLOEXEC|SOCK_NONBLOCK: EINVAL")             \
  X(kSocketOpUnsupported, "net/socket.c", "a socket operation the model has no rules for yet")                 \
  X(kShutdownEbadf, "__sys_shutdown", "fd not open: EBADF")                                                   \
  X(kShutdownEnotsock, "__sys_shutdown", "not a socket: ENOTSOCK")                                            \
  X(kShutdownEinval, "unix_shutdown", "how out of range: EINVAL")                                             \
  X(kUnixShutdown, "unix_shutdown", "own and peer's shutdown bits set, both sk_state_change")                \
  X(kUnixShutdownDgram, "unix_shutdown", "datagram socket: own shutdown bits set, own sk_state_change only") \
  X(kUnixSendEpipe, "unix_stream_sendmsg", "sending side shut down: EPIPE")                                   \
  X(kUnixSendError, "sock_alloc_send_pskb", "pending socket error: reported and cleared")                     \
  X(kUnixSendEagain, "sock_alloc_send_pskb", "sk_wmem_alloc >= sk_sndbuf: EAGAIN")                            \
  X(kUnixSendPartial, "sock_alloc_send_pskb", "send buffer full after some skbs: partial write")              \
  X(kUnixSendSleeps, "sock_alloc_send_pskb", "send buffer full: the writer sleeps")                           \
  X(kUnixSendPeerGone, "unix_stream_sendmsg", "peer dead or shut for reading: EPIPE")                        \
  X(kUnixSkbQueued, "unix_stream_sendmsg", "skb queued to the peer")                                          \
  X(kUnixDataReady, "sock_def_readable", "wake the peer with EPOLLIN|EPOLLPRI|EPOLLRDNORM|EPOLLRDBAND")       \
  X(kUnixSkbConsumed, "unix_stream_read_generic", "skb fully read: freed, the sender is uncharged")          \
  X(kUnixSkbPartial, "unix_stream_read_generic", "skb partly read: it stays queued, nothing freed")          \
  X(kUnixRecvError, "unix_stream_read_generic", "queue empty, socket error: reported once")                  \
  X(kUnixRecvEof, "unix_stream_read_generic", "queue empty and shut for reading: end of file")               \
  X(kUnixRecvEagain, "unix_stream_read_generic", "queue empty: EAGAIN")                                      \
  X(kUnixRecvSleeps, "unix_stream_read_generic", "queue empty: the reader sleeps")                           \
  X(kUnixWriteSpaceWake, "unix_write_space", "writable again: wake with EPOLLOUT|EPOLLWRNORM|EPOLLWRBAND")    \
  X(kUnixWriteSpaceNoWake, "unix_write_space", "skb freed but not yet writable: no wakeup")                  \
  X(kUnixStateChange, "sock_def_wakeup", "wake everyone with a NULL key")                                     \
  X(kUnixReleasePeer, "unix_release_sock", "the peer gets SHUTDOWN_MASK and sk_state_change")                \
  X(kUnixReleaseReset, "unix_release_sock", "closed with unread data: the peer gets ECONNRESET")             \
  X(kUnixReleasePurge, "unix_release_sock", "unread skbs freed: their sender is uncharged")                  \
  X(kUnixReleasePeerWait, "unix_release_sock", "wake everyone on peer_wait (datagram senders, peer_wake relays)") \
  X(kUnixReleaseEmbryoReset, "unix_release_sock", "an embryo released with its listener: the connector gets ECONNRESET") \
  X(kUnixReleaseListener, "unix_release_sock", "a listener closed: every unaccepted embryo is released")       \
  X(kUnixStreamNotconn, "unix_stream_sendmsg", "no peer (never connected, or a listener): ENOTCONN")           \
  X(kUnixStreamReadEinval, "unix_stream_read_generic", "not TCP_ESTABLISHED: EINVAL")                          \
  /* net/unix/af_unix.c: addresses, listen, connect, accept */                                                  \
  X(kUnixAutobind, "unix_autobind", "an abstract name of five hex digits (ENOSPC when none is free)")          \
  X(kUnixBindEinval, "unix_validate_addr", "address too short or long, or not AF_UNIX: EINVAL")              \
  X(kUnixBindBound, "unix_bind_abstract", "already bound: EINVAL")                                           \
  X(kUnixBindEaddrinuse, "unix_bind_abstract", "name bound by a socket of the same type: EADDRINUSE")        \
  X(kUnixBind, "unix_bind_abstract", "bound to the abstract name")                                            \
  X(kUnixListenEopnotsupp, "unix_listen", "not SOCK_STREAM/SOCK_SEQPACKET: EOPNOTSUPP")                      \
  X(kUnixListenUnbound, "unix_listen", "no address: EINVAL")                                                  \
  X(kUnixListenEinval, "unix_listen", "connected: EINVAL")                                                    \
  X(kUnixListenWakeConnectors, "unix_listen", "larger backlog: wake every connector sleeping on peer_wait") \
  X(kUnixListen, "unix_listen", "TCP_LISTEN with sk_max_ack_backlog = backlog")                              \
  X(kUnixListenPollIn, "unix_poll", "a listener with embryos queued: EPOLLIN")                                \
  X(kUnixConnectEinval, "unix_validate_addr", "address too short or long, or not AF_UNIX: EINVAL")           \
  X(kUnixConnectNoListener, "unix_find_abstract", "no socket of that type bound to the name: ECONNREFUSED") \
  X(kUnixConnectNotListening, "unix_stream_connect", "not listening, or shut for reading: ECONNREFUSED")    \
  X(kUnixConnectEagain, "unix_stream_connect", "backlog full, non-blocking: EAGAIN")                          \
  X(kUnixConnectSleeps, "unix_wait_for_peer", "backlog full: sleeps exclusive on the listener's peer_wait")  \
  X(kUnixConnectState, "unix_stream_connect", "not TCP_CLOSE: EISCONN (connected) or EINVAL (listening)")    \
  X(kUnixConnected, "unix_stream_connect", "connected to a new embryo queued on the listener, sk_data_ready") \
  X(kUnixAcceptEopnotsupp, "unix_accept", "not SOCK_STREAM/SOCK_SEQPACKET: EOPNOTSUPP")                      \
  X(kUnixAcceptEinval, "unix_accept", "not listening: EINVAL")                                                \
  X(kUnixAcceptSleeps, "skb_recv_datagram", "no embryo: sleeps exclusive at the tail of the listener's wq")  \
  X(kUnixAcceptShutdown, "unix_accept", "blocking and shut for reading: EINVAL")                              \
  X(kUnixAcceptEagain, "skb_recv_datagram", "no embryo, non-blocking listener: EAGAIN")                       \
  X(kUnixAcceptWakeConnector, "unix_accept", "wake_up_interruptible(&u->peer_wait): one sleeping connector") \
  X(kUnixAccepted, "unix_accept", "the embryo becomes the accepted socket")                                   \
  /* net/unix/af_unix.c: SOCK_SEQPACKET (unix_seqpacket_ops) */                                                 \
  X(kUnixSeqpacketNotconn, "unix_seqpacket_sendmsg", "not TCP_ESTABLISHED: ENOTCONN (sendmsg and recvmsg)")   \
  X(kUnixSeqpacketPollHup, "unix_dgram_poll", "SOCK_SEQPACKET in TCP_CLOSE: EPOLLHUP")                         \
  X(kUnixSeqpacketPeerDead, "unix_dgram_sendmsg", "SOCK_SEQPACKET peer dead: EPIPE, no disconnect")           \
  X(kUnixSeqpacketRecvEof, "__unix_dgram_recvmsg", "SOCK_SEQPACKET, empty, shut for reading, non-blocking: 0") \
  /* net/core/sock.c: options */                                                                                \
  X(kSockoptLevel, "unix_setsockopt", "level other than SOL_SOCKET: EOPNOTSUPP")                              \
  X(kSockoptSet, "sock_setsockopt", "an option AF_UNIX ignores (SO_LINGER, SO_REUSEADDR, SO_REUSEPORT, SO_RCVBUF)") \
  X(kSockoptReuseportNotInet, "sock_setsockopt", "SO_REUSEPORT on for a socket that is not inet: EOPNOTSUPP") \
  X(kSockoptSoError, "sock_getsockopt", "SO_ERROR: the pending error, cleared")                              \
  /* net/unix/af_unix.c: SOCK_DGRAM (unix_dgram_ops), net/core/datagram.c */                                   \
  X(kUnixDgramEmsgsize, "unix_dgram_sendmsg", "len > sk_sndbuf - 32: EMSGSIZE")                               \
  X(kUnixDgramSendShutdown, "sock_alloc_send_pskb", "sending side shut down: EPIPE")                         \
  X(kUnixDgramNotconn, "unix_dgram_sendmsg", "no peer (it was found dead before): ENOTCONN")                 \
  X(kUnixDgramEperm, "unix_may_send", "the peer is connected to another socket: EPERM")                      \
  X(kUnixDgramPeerDead, "unix_dgram_sendmsg", "peer dead: disconnected (TCP_CLOSE), ECONNREFUSED")           \
  X(kUnixDgramPeerChanged, "unix_dgram_sendmsg", "peer dead and no longer our peer: ECONNRESET")              \
  X(kUnixDgramDisconnectWakeup, "unix_dgram_peer_wake_disconnect_wakeup", "wake own wq with EPOLLOUT|EPOLLWRNORM|EPOLLWRBAND") \
  X(kUnixDgramDisconnectedPurge, "unix_dgram_disconnected", "datagrams from the old peer dropped, peer_wait woken") \
  X(kUnixDgramDisconnectedReset, "unix_dgram_disconnected", "old peer still points here: ECONNRESET, EPOLLERR wake") \
  X(kUnixDgramPeerRcvShutdown, "unix_dgram_sendmsg", "peer shut for reading: EPIPE")                         \
  X(kUnixDgramWaitForPeer, "unix_wait_for_peer", "peer's queue full: sleeps exclusive on its peer_wait")    \
  X(kUnixDgramFullEagain, "unix_dgram_sendmsg", "peer's queue full, non-blocking: EAGAIN")                    \
  X(kUnixDgramQueued, "unix_dgram_sendmsg", "datagram queued to the peer")                                    \
  X(kUnixDgramConnectEinval, "unix_dgram_connect", "address shorter than sa_family, or not a valid AF_UNIX one: EINVAL") \
  X(kUnixDgramConnectRefused, "unix_find_abstract", "no datagram socket bound to the name: ECONNREFUSED")   \
  X(kUnixDgramConnectEperm, "unix_may_send", "connect: the receiver is connected to another socket: EPERM") \
  X(kUnixDgramConnected, "unix_dgram_connect", "first peer: both sockets TCP_ESTABLISHED")                    \
  X(kUnixDgramReconnect, "unix_dgram_connect", "had a peer: own writers woken, a new peer purges the old one's datagrams") \
  X(kUnixPeerWakeConnect, "unix_dgram_peer_wake_connect", "peer_wake entry added to the peer's peer_wait")  \
  X(kUnixPeerWakeMeFull, "unix_dgram_peer_wake_me", "peer's queue full and alive: wait for the relay")       \
  X(kUnixPeerWakeMeRoom, "unix_dgram_peer_wake_me", "room (or peer dead): a fresh registration is undone")    \
  X(kUnixPeerWakeDisconnect, "unix_dgram_peer_wake_disconnect", "peer_wake entry taken off the peer's peer_wait") \
  X(kUnixPeerWakeRelay, "unix_dgram_peer_wake_relay", "peer_wait woken: unregister, wake own wq with the key") \
  X(kUnixDgramRecvError, "__skb_try_recv_datagram", "socket error: reported and cleared, before any datagram") \
  X(kUnixDgramRecvEagain, "__skb_try_recv_datagram", "queue empty, non-blocking: EAGAIN (also when shut down)") \
  X(kUnixDgramRecvSleeps, "__skb_wait_for_more_packets", "queue empty: sleeps exclusive at the tail of sk_wq") \
  X(kUnixDgramRecvShutdown, "__skb_wait_for_more_packets", "queue empty and shut for reading: 0")           \
  X(kUnixDgramRecvWakeFiltered, "receiver_wake_function", "key without EPOLLIN|EPOLLERR: reader not woken") \
  X(kUnixDgramRecvWakePeerWait, "__unix_dgram_recvmsg", "peer_wait has sleepers: wake with EPOLLOUT|EPOLLWRNORM|EPOLLWRBAND") \
  X(kUnixDgramRecvTrunc, "__unix_dgram_recvmsg", "buffer shorter than the datagram: the rest is discarded")  \
  X(kUnixDgramReceived, "__unix_dgram_recvmsg", "one datagram dequeued and freed: its sender is uncharged")  \
  /* net/ipv4: af_inet.c, tcp.c, tcp_input.c, inet_connection_sock.c, net/core/stream.c */                    \
  X(kInetCreateUnsupported, "inet_create", "AF_INET type or protocol the model has no rules for")             \
  X(kInetBindEinval, "inet_bind", "already bound, or address too short: EINVAL")                              \
  X(kInetBindEafnosupport, "inet_bind", "not an AF_INET address: EAFNOSUPPORT")                                \
  X(kInetBindEaddrnotavail, "inet_bind", "not a local address: EADDRNOTAVAIL")                               \
  X(kInetPortInUse, "inet_csk_bind_conflict", "port held (no SO_REUSEADDR/SO_REUSEPORT pair): EADDRINUSE")  \
  X(kInetPortShared, "inet_csk_bind_conflict", "port shared by SO_REUSEADDR or SO_REUSEPORT")                \
  X(kInetListenEinval, "inet_listen", "not an unconnected stream socket in CLOSE or LISTEN: EINVAL")          \
  X(kInetListenStart, "inet_csk_listen_start", "LISTEN, the backlog set (min(backlog, somaxconn))")           \
  X(kInetListenBacklog, "inet_listen", "already listening: only the backlog changes")                        \
  X(kConnectEisconn, "__inet_stream_connect", "connected, or not in CLOSE: EISCONN")                          \
  X(kConnectEalready, "__inet_stream_connect", "a connect is in progress: EALREADY")                          \
  X(kConnectEinval, "tcp_v4_connect", "address too short: EINVAL")                                           \
  X(kConnectEafnosupport, "tcp_v4_connect", "not an AF_INET address: EAFNOSUPPORT")                           \
  X(kConnectEinprogress, "__inet_stream_connect", "non-blocking: EINPROGRESS (the handshake goes on)")       \
  X(kConnectSleeps, "inet_wait_for_connect", "SYN_SENT: the caller sleeps on sk_sleep")                      \
  X(kConnectDone, "__inet_stream_connect", "ESTABLISHED: SS_CONNECTED, 0")                                   \
  X(kConnectFailed, "__inet_stream_connect", "CLOSE: the pending error (or ECONNABORTED), tcp_disconnect")  \
  X(kSynRefused, "tcp_v4_send_reset", "no listener on the port: the SYN is answered by RST")                 \
  X(kSynDropped, "tcp_conn_request", "the listener's accept queue is full: the SYN is dropped")              \
  X(kHandshake, "tcp_rcv_synsent_state_process", "SYN-ACK: ESTABLISHED, sk_state_change; the child queued") \
  X(kListenerDataReady, "tcp_child_process", "a child joined the accept queue: the listener's sk_data_ready") \
  X(kAcceptEinval, "inet_csk_accept", "not listening: EINVAL")                                                \
  X(kAcceptEagain, "inet_csk_accept", "accept queue empty, non-blocking: EAGAIN")                            \
  X(kAcceptSleeps, "inet_csk_wait_for_connect", "queue empty: sleeps exclusive at the tail (FIFO)")         \
  X(kAcceptDequeued, "inet_csk_accept", "the first child of the accept queue is taken")                     \
  X(kListenStopReset, "inet_csk_listen_stop", "a child still queued is reset (tcp_disconnect)")              \
  X(kTcpPollListen, "tcp_poll", "LISTEN: inet_csk_listen_poll")                                              \
  X(kTcpDataReady, "tcp_data_ready", "enough bytes (SO_RCVLOWAT) or FIN: sk_data_ready")                     \
  X(kTcpDataBelowLowat, "tcp_data_ready", "fewer bytes than SO_RCVLOWAT: no wakeup")                          \
  X(kTcpDataToClosed, "tcp_v4_rcv", "data for a closed or half-closed-and-orphaned socket: RST back")        \
  X(kTcpWindowFull, "tcp_push_pending_frames", "the peer's window is closed: bytes stay queued")            \
  X(kTcpFinQueued, "tcp_send_fin", "FIN behind unsent bytes: sent when they are")                           \
  X(kTcpFin, "tcp_fin", "FIN received: RCV_SHUTDOWN, SOCK_DONE, state moves, sk_state_change")              \
  X(kTcpFinAcked, "tcp_rcv_state_process", "our FIN acknowledged: FIN_WAIT2 or TIME_WAIT or CLOSE")         \
  X(kTcpReset, "tcp_reset", "RST received: sk_err by state, tcp_done, sk_error_report")                     \
  X(kTcpResetIgnored, "tcp_reset", "RST for a socket in CLOSE: ignored")                                     \
  X(kTcpDone, "tcp_done", "CLOSE, SHUTDOWN_MASK, sk_state_change")                                           \
  X(kTcpTimeWait, "tcp_time_wait", "TIME_WAIT: the port is held, the full socket is done")                   \
  X(kTcpCheckSpace, "tcp_check_space", "bytes acknowledged and SOCK_NOSPACE: sk_write_space")               \
  X(kTcpWriteSpaceWake, "sk_stream_write_space", "writeable again: wake with EPOLLOUT|EPOLLWRNORM|EPOLLWRBAND") \
  X(kTcpWriteSpaceNoWake, "sk_stream_write_space", "not writeable yet: no wakeup")                          \
  X(kTcpRecvData, "tcp_recvmsg_locked", "bytes copied; the window opens (tcp_cleanup_rbuf)")                 \
  X(kTcpRecvEof, "tcp_recvmsg_locked", "FIN received or shut for reading: 0")                               \
  X(kTcpRecvError, "tcp_recvmsg_locked", "pending error: reported and cleared")                              \
  X(kTcpRecvEnotconn, "tcp_recvmsg_locked", "CLOSE (or LISTEN): ENOTCONN")                                  \
  X(kTcpRecvEagain, "tcp_recvmsg_locked", "nothing to read: EAGAIN")                                         \
  X(kTcpRecvSleeps, "sk_wait_data", "fewer bytes than the target: the reader sleeps")                        \
  X(kTcpSendNotConnected, "sk_stream_wait_connect", "not connected: the error, EPIPE or EAGAIN")             \
  X(kTcpSendWaitConnect, "sk_stream_wait_connect", "SYN_SENT: the writer sleeps until connected")            \
  X(kTcpSendEpipe, "tcp_sendmsg_locked", "error or shut for sending: the error (sk_stream_error) or EPIPE") \
  X(kTcpSendQueued, "tcp_sendmsg_locked", "bytes queued and pushed")                                         \
  X(kTcpSendEagain, "sk_stream_wait_memory", "send queue full, non-blocking: EAGAIN (SOCK_NOSPACE set)")     \
  X(kTcpSendPartial, "tcp_sendmsg_locked", "send queue filled up: partial write")                           \
  X(kTcpSendSleeps, "sk_stream_wait_memory", "send queue full: the writer sleeps")                          \
  X(kTcpShutdownEinval, "inet_shutdown", "how out of range: EINVAL")                                         \
  X(kTcpShutdownEnotconn, "inet_shutdown", "CLOSE: ENOTCONN, the bits are still set and sk_state_change")   \
  X(kTcpShutdownSend, "tcp_shutdown", "SEND_SHUTDOWN: FIN (ESTABLISHED->FIN_WAIT1, CLOSE_WAIT->LAST_ACK)")   \
  X(kTcpShutdownDisconnect, "inet_shutdown", "listener (SHUT_RD) or SYN_SENT: tcp_disconnect")              \
  X(kTcpCloseListener, "__tcp_close", "listener: CLOSE, the queued children reset")                         \
  X(kTcpCloseUnread, "__tcp_close", "unread bytes: RST instead of FIN")                                     \
  X(kTcpCloseLinger0, "__tcp_close", "SO_LINGER with 0 seconds: tcp_disconnect, RST")                       \
  X(kTcpCloseFin, "__tcp_close", "FIN (tcp_close_state), the socket orphaned")                              \
  X(kTcpDisconnectReset, "tcp_disconnect", "a synchronized state: RST, own sk_err ECONNRESET")               \
  X(kTcpSetRcvlowat, "tcp_set_rcvlowat", "SO_RCVLOWAT set (capped at tcp_rmem[2]/2), tcp_data_ready")       \
  X(kSockSetSndbuf, "__sock_set_sndbuf", "SO_SNDBUF: doubled, locked, sk_write_space")                       \
  X(kSockSetRcvbuf, "__sock_set_rcvbuf", "SO_RCVBUF: doubled, locked")                                       \
  X(kSockSoError, "sk_getsockopt", "SO_ERROR: the pending error, cleared")                                   \
  X(kSockoptEinval, "sk_setsockopt", "an option or value the model does not take: EINVAL/ENOPROTOOPT")     \
  /* net/ipv4/udp.c, net/core/datagram.c, net/core/sock.c (datagram sockets) */                               \
  X(kUdpPortInUse, "udp_lib_lport_inuse", "port held (no SO_REUSEADDR or SO_REUSEPORT pair): EADDRINUSE")    \
  X(kUdpPortShared, "udp_lib_lport_inuse", "port shared by SO_REUSEADDR or SO_REUSEPORT")                    \
  X(kUdpAutobind, "inet_autobind", "unbound socket sends or connects: an ephemeral port")                     \
  X(kUdpConnect, "__ip4_datagram_connect", "peer set, ESTABLISHED (no handshake)")                           \
  X(kUdpConnectEinval, "inet_dgram_connect", "address too short: EINVAL")                                     \
  X(kUdpConnectEafnosupport, "__ip4_datagram_connect", "not an AF_INET address: EAFNOSUPPORT")                \
  X(kUdpSend, "udp_sendmsg", "one datagram sent on loopback")                                                 \
  X(kUdpSendEmsgsize, "udp_sendmsg", "more than 65507 bytes (65535 for the first test): EMSGSIZE")           \
  X(kUdpSendEdestaddrreq, "udp_sendmsg", "not connected and no address: EDESTADDRREQ")                       \
  X(kUdpSendError, "sock_alloc_send_pskb", "pending error (ICMP): reported and cleared")                      \
  X(kUdpSendEpipe, "sock_alloc_send_pskb", "shut for sending: EPIPE")                                         \
  X(kUdpWriteSpace, "sock_def_write_space_wfree", "skb freed (loopback_xmit) or SO_SNDBUF, writeable: EPOLLOUT") \
  X(kUdpRcvbufDrop, "__udp_enqueue_schedule_skb", "rmem + truesize over sk_rcvbuf, queue not empty (before 6.18: rmem over it): dropped") \
  X(kUdpDataReady, "__udp_enqueue_schedule_skb", "datagram queued, sk_data_ready (sock_def_readable)")       \
  X(kUdpWake, "sock_def_readable", "a watcher or sleeper on the socket's queue is woken (sync: one exclusive)") \
  X(kUdpPortUnreachable, "udp_rcv", "no socket takes the datagram: ICMP port unreachable")                   \
  X(kUdpErrorReport, "__udp4_lib_err", "connected sender: sk_err ECONNREFUSED, sk_error_report (EPOLLERR)")  \
  X(kUdpRecvDatagram, "udp_recvmsg", "one whole datagram read")                                               \
  X(kUdpRecvTruncated, "udp_recvmsg", "datagram longer than the buffer: the rest is discarded")              \
  X(kUdpRecvError, "__skb_recv_udp", "pending error: reported and cleared, before any datagram")             \
  X(kUdpRecvEagain, "__skb_recv_udp", "nothing queued, non-blocking: EAGAIN")                                 \
  X(kUdpRecvSleeps, "__skb_wait_for_more_packets", "nothing queued: the reader sleeps (exclusive)")          \
  X(kUdpRecvShutdown, "__skb_wait_for_more_packets", "blocking read, shut for reading, nothing queued: 0")   \
  X(kUdpRmemDeferred, "udp_rmem_release", "freed charge under sk_rcvbuf/4 and the reader queue not empty: kept") \
  X(kUdpShutdown, "inet_shutdown", "connected: the shutdown bits, sk_state_change")                           \
  X(kUdpShutdownEnotconn, "inet_shutdown", "unconnected: ENOTCONN, the bits are still set")                   \
  X(kUdpNoListen, "sock_no_listen", "listen or accept4 on a datagram socket: EOPNOTSUPP")                  \
  X(kUdpClose, "udp_lib_close", "unhashed (port freed), queues purged")                                       \
  /* fs/select.c */                                                                                            \
  X(kPollEinval, "do_sys_poll", "nfds above RLIMIT_NOFILE: EINVAL")                                           \
  X(kPollNval, "do_pollfd", "fd not open: POLLNVAL")                                                          \
  X(kPollVfsPoll, "do_pollfd", "fd open: vfs_poll calls its f_op->poll (every fd, every pass)")               \
  X(kPollReady, "do_poll", "some fd is ready: return")                                                        \
  X(kPollTimeout, "do_poll", "timed out: 0")                                                                  \
  X(kPollEintr, "do_poll", "signal: EINTR")                                                                   \
  X(kPollSleeps, "do_poll", "nothing ready: the task sleeps")                                                 \
  X(kPollWake, "pollwake", "key matches: wake the poller")                                                    \
  X(kPollWakeFiltered, "pollwake", "key does not match the polled events: ignored")                           \
  /* fs/eventpoll.c: creation and epoll_ctl */                                                                 \
  X(kEpCreateEinval, "do_epoll_create", "flags other than EPOLL_CLOEXEC: EINVAL")                             \
  X(kEpCreateSizeEinval, "epoll_create", "size <= 0: EINVAL")                                                 \
  X(kCtlEfault, "epoll_ctl", "event not readable (ADD/MOD/other ops): EFAULT")                                \
  X(kCtlEbadfEpfd, "do_epoll_ctl", "epfd not open: EBADF")                                                    \
  X(kCtlEbadfFd, "do_epoll_ctl", "fd not open: EBADF")                                                        \
  X(kCtlEperm, "do_epoll_ctl", "the target cannot be polled: EPERM")                                          \
  X(kCtlWakeupDropped, "ep_take_care_of_epollwakeup", "EPOLLWAKEUP without CAP_BLOCK_SUSPEND: dropped")       \
  X(kCtlEinvalTarget, "do_epoll_ctl", "epfd is not an epoll, or is the target itself: EINVAL")               \
  X(kCtlEinvalExclusiveMod, "do_epoll_ctl", "EPOLLEXCLUSIVE with MOD: EINVAL")                                \
  X(kCtlEinvalExclusiveAdd, "do_epoll_ctl", "EPOLLEXCLUSIVE on an epoll or with other bits: EINVAL")          \
  X(kCtlFullCheck, "do_epoll_ctl", "ADD involving nested epolls: full loop and path check")                   \
  X(kLoopCycle, "ep_loop_check_proc", "the epoll being added reaches back: ELOOP")                            \
  X(kLoopTooDeep, "ep_loop_check_proc", "more than EP_MAX_NESTS epolls below: ELOOP")                         \
  X(kLoopTooDeepUpwards, "ep_loop_check", "chain above and below longer than EP_MAX_NESTS: ELOOP (6.17+)")   \
  X(kCtlEexist, "do_epoll_ctl", "ADD of a registered (file, fd): EEXIST")                                     \
  X(kCtlEnoentDel, "do_epoll_ctl", "DEL of an unregistered (file, fd): ENOENT")                               \
  X(kCtlEnoentMod, "do_epoll_ctl", "MOD of an unregistered (file, fd): ENOENT")                               \
  X(kCtlEinvalModExclusive, "do_epoll_ctl", "MOD of an EPOLLEXCLUSIVE item: EINVAL")                          \
  X(kCtlEinvalOp, "do_epoll_ctl", "unknown op: EINVAL")                                                       \
  X(kInsertEnospc, "ep_insert", "max_user_watches reached: ENOSPC")                                           \
  X(kInsertTooManyPaths, "reverse_path_check", "too many or too deep wakeup paths: EINVAL")                  \
  X(kQueueExclusive, "ep_ptable_queue_proc", "EPOLLEXCLUSIVE: exclusive entry at the tail of the queue")      \
  X(kQueueShared, "ep_ptable_queue_proc", "entry at the head of the queue")                                   \
  X(kInsertReady, "ep_insert", "ready at ADD: queued")                                                        \
  X(kInsertWake, "ep_insert", "wake one epoll_wait waiter")                                                   \
  X(kModifyReady, "ep_modify", "ready at MOD and not queued: queued")                                         \
  X(kModifyWake, "ep_modify", "wake one epoll_wait waiter")                                                   \
  X(kRemoveQueued, "__ep_remove", "the item was queued: the event is dropped")                                \
  X(kReleaseFile, "eventpoll_release_file", "the watched file's last reference: its items are removed")      \
  X(kClearAndPut, "ep_clear_and_put", "the epoll file's last reference: every item is removed")              \
  X(kSafewake, "ep_poll_safewake", "wake the epolls and pollers watching this epoll")                        \
  /* fs/eventpoll.c: ep_poll_callback */                                                                       \
  X(kCbDisabled, "ep_poll_callback", "item disarmed by EPOLLONESHOT: ignored")                                \
  X(kCbFiltered, "ep_poll_callback", "key has none of the armed events: ignored")                             \
  X(kCbQueued, "ep_poll_callback", "queued on rdllist")                                                       \
  X(kCbAlreadyQueued, "ep_poll_callback", "already on rdllist")                                               \
  X(kCbOvflist, "ep_poll_callback", "a scan is in progress: chained on ovflist")                              \
  X(kCbOvflistAlready, "ep_poll_callback", "a scan is in progress: already on ovflist")                       \
  X(kCbWake, "ep_poll_callback", "wake one epoll_wait waiter")                                                \
  X(kCbNoWaiter, "ep_poll_callback", "ep->wq has no waiter")                                                  \
  X(kCbExclusiveWoke, "ep_poll_callback", "EPOLLEXCLUSIVE item woke a waiter: returns 1, the walk may stop")   \
  X(kCbExclusiveNoWake, "ep_poll_callback", "EPOLLEXCLUSIVE item woke nobody: returns 0, the walk goes on")   \
  X(kCbPollfree, "ep_poll_callback", "POLLFREE: the entry is detached from a dying queue")                     \
  /* fs/eventpoll.c: epoll_wait */                                                                             \
  X(kWaitEbadf, "do_epoll_wait", "epfd not open: EBADF")                                                      \
  X(kWaitEinvalMax, "ep_check_params", "maxevents <= 0 or > EP_MAX_EVENTS: EINVAL")                           \
  X(kWaitEinvalNotEpoll, "ep_check_params", "not an epoll: EINVAL")                                           \
  X(kPwait2Einval, "poll_select_set_timeout", "epoll_pwait2: invalid timespec: EINVAL")                       \
  X(kEpPollNoWait, "ep_poll", "timeout 0: no sleep")                                                          \
  X(kEpPollSleeps, "ep_poll", "nothing available: the task sleeps on ep->wq (head: LIFO)")                    \
  X(kEpPollTimeout, "ep_poll", "timed out: 0")                                                                \
  X(kEpPollEintr, "ep_poll", "signal and nothing harvested: EINTR")                                           \
  X(kEpPollEmptyHarvest, "ep_poll", "woken but nothing to harvest: loops")                                    \
  X(kSendMaxevents, "ep_send_events", "maxevents reached: the rest stays queued, first")                      \
  X(kSendNotReady, "ep_send_events", "queued item polls not ready: dropped")                                  \
  X(kSendOneshot, "ep_send_events", "EPOLLONESHOT: delivered and disarmed")                                   \
  X(kSendLevel, "ep_send_events", "level-triggered: delivered and requeued at the tail")                      \
  X(kSendEdge, "ep_send_events", "edge-triggered: delivered and left off the list")                           \
  X(kDoneScanOvflist, "ep_done_scan", "items chained during the scan go back on rdllist")                     \
  X(kDoneScanWake, "ep_done_scan", "rdllist not empty: wake one more epoll_wait waiter")                      \
  X(kEpollPollReady, "__ep_eventpoll_poll", "a queued item is ready: EPOLLIN|EPOLLRDNORM")                    \
  X(kEpollPollPrune, "__ep_eventpoll_poll", "a queued item is not ready: pruned")                           \
  X(kEpItemVfsPoll, "ep_item_poll", "a watched file that is no epoll: vfs_poll calls its f_op->poll")        \
  /* ipc/mqueue.c */                                                                                           \
  X(kMqOpenEnoent, "prepare_open", "no such queue and no O_CREAT: ENOENT")                                    \
  X(kMqOpenEexist, "prepare_open", "the queue exists and O_CREAT|O_EXCL: EEXIST")                              \
  X(kMqOpenEinvalAccmode, "prepare_open", "an existing queue opened O_WRONLY|O_RDWR: EINVAL")                  \
  X(kMqOpenEnospc, "mqueue_create_attr", "queues_max queues exist (no CAP_SYS_RESOURCE): ENOSPC")              \
  X(kMqOpenEinvalAttr, "mqueue_get_inode", "mq_maxmsg or mq_msgsize <= 0: EINVAL")                            \
  X(kMqOpenEinvalLimit, "mqueue_get_inode", "mq_maxmsg or mq_msgsize above the limit: EINVAL")               \
  X(kMqOpenCreated, "mqueue_create_attr", "a new queue")                                                      \
  X(kMqUnlinkEnoent, "mq_unlink", "no such queue: ENOENT")                                                    \
  X(kMqUnlinked, "mq_unlink", "the name is gone; the queue lives while open")                                \
  X(kMqSendEinvalPrio, "do_mq_timedsend", "msg_prio >= MQ_PRIO_MAX: EINVAL (before the descriptor)")          \
  X(kMqSendEbadf, "do_mq_timedsend", "not a queue, or not open for writing: EBADF")                           \
  X(kMqSendEmsgsize, "do_mq_timedsend", "msg_len > mq_msgsize: EMSGSIZE")                                     \
  X(kMqSendEagain, "do_mq_timedsend", "queue full and O_NONBLOCK: EAGAIN")                                    \
  X(kMqSendSleeps, "do_mq_timedsend", "queue full: the sender sleeps (wq_sleep)")                             \
  X(kMqPipelinedSend, "pipelined_send", "a receiver waits: the message goes to it, not into the queue")        \
  X(kMqSendQueued, "msg_insert", "queued at the tail of its priority")                                        \
  X(kMqSendWakeWaitQ, "__do_notify", "wake_up(&info->wait_q) after every queued message")                    \
  X(kMqNotifySignal, "__do_notify", "count became 1 with a SIGEV_SIGNAL registration: signal, unregister")   \
  X(kMqNotifyNone, "__do_notify", "count became 1 with a SIGEV_NONE registration: unregister only")           \
  X(kMqReceiveEbadf, "do_mq_timedreceive", "not a queue, or not open for reading: EBADF")                     \
  X(kMqReceiveEmsgsize, "do_mq_timedreceive", "msg_len < mq_msgsize: EMSGSIZE")                               \
  X(kMqReceiveEagain, "do_mq_timedreceive", "queue empty and O_NONBLOCK: EAGAIN")                             \
  X(kMqReceiveSleeps, "do_mq_timedreceive", "queue empty: the receiver sleeps (wq_sleep)")                    \
  X(kMqPipelinedReceive, "pipelined_receive", "a sender waits: its message moves into the queue, it is woken") \
  X(kMqReceiveWakeWaitQ, "pipelined_receive", "no sender waits: wake_up_interruptible(&info->wait_q)")         \
  X(kMqGetattrEbadf, "do_mq_getsetattr", "not a queue: EBADF")                                                \
  X(kMqNotifyEinval, "do_mq_notify", "invalid sigev_notify: EINVAL")                                          \
  X(kMqNotifyEbadf, "do_mq_notify", "not a queue: EBADF")                                                     \
  X(kMqNotifyEbusy, "do_mq_notify", "a process is registered already (even the caller): EBUSY")              \
  X(kMqNotifyRegistered, "do_mq_notify", "the process is registered")                                         \
  X(kMqNotifyUnregister, "do_mq_notify", "null sigevent: the caller's registration (if any) is removed")     \
  X(kMqFlushDropsNotify, "mqueue_flush_file", "a close by the owner process drops its registration")

enum class Rule : unsigned short {
  kNone,
#define EO_RULE_ENUM(id, site, text) id,
  EO_MODEL_RULES(EO_RULE_ENUM)
#undef EO_RULE_ENUM
      kCount
};

struct RuleInfo {
  std::string_view name;  // the enumerator without its k, e.g. "CbQueued"
  std::string_view site;  // kernel function
  std::string_view text;  // what happens
};

const RuleInfo& rule_info(Rule r);
inline constexpr size_t kRuleCount = static_cast<size_t>(Rule::kCount);

}  // namespace model
