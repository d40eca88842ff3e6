// AF_UNIX SOCK_SEQPACKET sockets: net/unix/af_unix.c (6952350/linux-6.18.y 27d8ad92)
// unix_seqpacket_ops. They connect like stream sockets (unix_stream_connect, unix_accept,
// af_unix_listen.h) and move messages like datagram ones: unix_seqpacket_sendmsg and
// unix_seqpacket_recvmsg check the state, then run unix_dgram_sendmsg/recvmsg; poll is
// unix_dgram_poll (with its SOCK_SEQPACKET branch: HUP while TCP_CLOSE).
#pragma once
#include "af_unix_dgram.h"

namespace model {

struct UnixSeqpacketSocketFile final : UnixDgramSocketFile {
  using UnixDgramSocketFile::UnixDgramSocketFile;
  MaySleep read(Task& t, void* buf, size_t n) override;         // unix_seqpacket_recvmsg
  MaySleep write(Task& t, const void* buf, size_t n) override;  // unix_seqpacket_sendmsg
  std::string describe() const override { return "unix seqpacket socket"; }
};

}  // namespace model
