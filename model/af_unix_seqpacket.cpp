#include "af_unix_seqpacket.h"

namespace model {

// unix_seqpacket_recvmsg: only a connected socket receives.
MaySleep UnixSeqpacketSocketFile::read(Task& t, void* buf, size_t n) {
  if (n == 0) co_return 0;  // sock_read_iter: "match SYS5 semantics", before the protocol
  if (sk->state != TCP_ESTABLISHED_) co_return g->fail(Rule::kUnixSeqpacketNotconn, -ENOTCONN);
  co_return co_await UnixDgramSocketFile::read(t, buf, n);
}

// unix_seqpacket_sendmsg: a pending error first, then only a connected socket sends (to
// its peer, whatever address it was given).
MaySleep UnixSeqpacketSocketFile::write(Task& t, const void* buf, size_t n) {
  if (const int err = sock_error(*sk)) co_return g->fail(Rule::kUnixSendError, err);
  if (sk->state != TCP_ESTABLISHED_) co_return g->fail(Rule::kUnixSeqpacketNotconn, -ENOTCONN);
  co_return co_await UnixDgramSocketFile::write(t, buf, n);
}

}  // namespace model
