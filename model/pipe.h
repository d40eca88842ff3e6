// Anonymous pipes: fs/pipe.c as of 6.18 (anon_pipe_read / anon_pipe_write / pipe_poll /
// pipe_release); the pipe reader wake rule follows the profile (5.5-5.13, 5.14, 5.15+).
#pragma once
#include <string>
#include <vector>

#include "file.h"
#include "sched.h"

namespace model {

// struct pipe_buffer. The bytes are kept: a trace may read what eventfd_write wrote.
struct PipeBuffer {
  int offset = 0;
  int len = 0;
  bool can_merge = false;  // PIPE_BUF_FLAG_CAN_MERGE
  bool packet = false;     // PIPE_BUF_FLAG_PACKET (O_DIRECT writer)
  std::string data;        // the page: bytes [offset, offset + len) are unread
};

// struct pipe_inode_info
struct PipeInodeInfo {
  explicit PipeInodeInfo(Globals& g);
  Globals* g;
  WaitQueueHead rd_wait;
  WaitQueueHead wr_wait;
  unsigned head = 0, tail = 0;
  unsigned max_usage;       // slots: PIPE_DEF_BUFFERS
  std::vector<PipeBuffer> bufs;  // ring of max_usage slots
  int readers = 1, writers = 1;
  int files = 2;            // struct files referring to this inode
  bool poll_usage = false;  // set by every ->poll: "epoll's historical nasty semantics"
  bool direct = false;      // O_DIRECT: packet mode, no merging
  bool watch_queue = false;  // pipe->watch_queue: an O_NOTIFICATION_PIPE (CONFIG_WATCH_QUEUE)

  bool empty() const { return head == tail; }
  bool full() const { return head - tail >= max_usage; }  // pipe_full: slots, not bytes
  PipeBuffer& slot(unsigned i) { return bufs[i % bufs.size()]; }
  long bytes() const;       // for tests: bytes queued
};

struct PipeFile final : File {
  PipeFile(Globals& g, PipeInodeInfo* pipe, unsigned mode, int flags);
  PipeInodeInfo* pipe;
  poll_t poll(PollTable* pt) override;  // pipe_poll
  MaySleep read(Task& t, void* buf, size_t n) override;         // anon_pipe_read
  MaySleep write(Task& t, const void* buf, size_t n) override;  // anon_pipe_write
  void release() override;                                  // pipe_release
  std::string describe() const override { return f_mode & FMODE_READ ? "pipe read end" : "pipe write end"; }
  const void* private_data() const override { return pipe; }
};

// do_pipe2 -> __do_pipe_flags: EINVAL for unknown flags, create_pipe_files (ENOPKG for
// O_NOTIFICATION_PIPE without CONFIG_WATCH_QUEUE), then EMFILE.
long do_pipe2(Globals& g, FdTable& fdt, int fds[2], int flags);

}  // namespace model
