// fs/pipe.c as of 6.18 (anon_pipe_read, anon_pipe_write, pipe_poll, pipe_release).
#include "pipe.h"

#include <algorithm>
#include <cstring>

#include "wait_event.h"

namespace model {

PipeInodeInfo::PipeInodeInfo(Globals& g_)
    : g(&g_), rd_wait(g_, "pipe->rd_wait", this), wr_wait(g_, "pipe->wr_wait", this),
      max_usage(static_cast<unsigned>(g_.profile.pipe_def_buffers)), bufs(max_usage) {}

long PipeInodeInfo::bytes() const {
  long n = 0;
  for (unsigned i = tail; i != head; ++i) n += bufs[i % bufs.size()].len;
  return n;
}

PipeFile::PipeFile(Globals& g_, PipeInodeInfo* p, unsigned mode, int flags) : File(g_, with_rw_ops(mode), flags), pipe(p) {}

namespace {

bool pipe_readable(const PipeInodeInfo* p) { return !p->empty() || !p->writers; }
bool pipe_writable(const PipeInodeInfo* p) { return !p->full() || !p->readers; }

}  // namespace

// pipe_poll: marks the pipe as polled, registers on the queues of the file's modes.
poll_t PipeFile::poll(PollTable* pt) {
  pipe->poll_usage = true;
  if (f_mode & FMODE_READ) poll_wait(this, pipe->rd_wait, pt);
  if (f_mode & FMODE_WRITE) poll_wait(this, pipe->wr_wait, pt);
  poll_t mask = 0;
  if (f_mode & FMODE_READ) {
    if (!pipe->empty()) mask |= EPOLLIN | EPOLLRDNORM;
    if (!pipe->writers) mask |= EPOLLHUP;  // anonymous pipes: f_pipe never equals w_counter
  }
  if (f_mode & FMODE_WRITE) {
    if (!pipe->full()) mask |= EPOLLOUT | EPOLLWRNORM;
    if (!pipe->readers) mask |= EPOLLERR;
  }
  return mask;
}

// anon_pipe_read (fs/pipe.c).
MaySleep PipeFile::read(Task& t, void* buf, size_t n) {
  if (!(f_mode & FMODE_READ)) co_return g->fail(Rule::kReadEbadf, -EBADF);  // vfs_read: not opened for reading
  char* const to = static_cast<char*>(buf);  // the reader's buffer (null: bytes discarded)
  size_t total_len = n;
  bool wake_writer = false;
  bool wake_next_reader = false;
  long ret = 0;

  if (total_len == 0) co_return 0;  // a null read succeeds
  // Writers are woken only if the pipe was full and is no longer; the wakeup is a sync one
  // (WF_SYNC): they should get going and produce more data for us.
  for (;;) {
    if (!pipe->empty()) {
      PipeBuffer& buf_ = pipe->slot(pipe->tail);
      const size_t chars = std::min<size_t>(static_cast<size_t>(buf_.len), total_len);
      if (to) std::memcpy(to + ret, buf_.data.data() + buf_.offset, chars);  // copy_page_to_iter
      ret += static_cast<long>(chars);
      buf_.offset += static_cast<int>(chars);
      buf_.len -= static_cast<int>(chars);
      if (buf_.packet) {  // a packet buffer is consumed whole, one per read
        g->rule(Rule::kPipeReadPacket);
        total_len = chars;
        buf_.len = 0;
      }
      if (!buf_.len) {
        wake_writer |= pipe->full();  // a slot freed while the pipe was full
        buf_ = {};
        pipe->tail++;  // pipe_update_tail
      }
      total_len -= chars;
      if (!total_len) break;  // the common path: the read succeeded
      if (!pipe->empty()) continue;
    }
    if (!pipe->writers) {
      if (!ret) g->rule(Rule::kPipeReadEof);
      break;
    }
    if (ret) break;
    if (nonblock()) {
      ret = g->fail(Rule::kPipeReadEagain, -EAGAIN);
      break;
    }
    // Nothing read; a zero-length buffer seen and removed may still have made room, so the
    // writers are woken before sleeping if the pipe was full.
    if (wake_writer) {
      wake_up_interruptible_sync_poll(pipe->wr_wait, EPOLLOUT | EPOLLWRNORM, Rule::kPipeReadWakeBeforeSleep);
    }
    // Nothing read and the wakeups done: a signal ends the wait with -ERESTARTSYS, which
    // the call returns as it is (the trace's handlers do not restart it: EINTR).
    g->rule(Rule::kPipeReadSleeps);
    PipeInodeInfo* const p = pipe;
    if (co_await wait_event_interruptible_exclusive(t, pipe->rd_wait, [p] { return pipe_readable(p); }) < 0) {
      co_return -EINTR;
    }
    wake_writer = false;
    wake_next_reader = true;
  }
  if (pipe->empty()) wake_next_reader = false;
  if (wake_writer) wake_up_interruptible_sync_poll(pipe->wr_wait, EPOLLOUT | EPOLLWRNORM, Rule::kPipeReadWakeWriters);
  if (wake_next_reader) {
    wake_up_interruptible_sync_poll(pipe->rd_wait, EPOLLIN | EPOLLRDNORM, Rule::kPipeReadWakeNextReader);
  }
  co_return ret;
}

// anon_pipe_write (fs/pipe.c).
MaySleep PipeFile::write(Task& t, const void* buf, size_t n) {
  if (!(f_mode & FMODE_WRITE)) co_return g->fail(Rule::kWriteEbadf, -EBADF);  // vfs_write: not opened for writing
  const char* const from = static_cast<const char*>(buf);  // the writer's bytes; from + ret is the next
  const size_t page = static_cast<size_t>(g->profile.page_size);
  size_t remaining = n;  // iov_iter_count(from)
  long ret = 0;
  bool was_empty = false;
  bool wake_next_writer = false;

  // A notification pipe is refused before anything else, even a null write.
  if (pipe->watch_queue) co_return g->fail(Rule::kPipeWriteExdev, -EXDEV);
  if (remaining == 0) co_return 0;  // a null write succeeds

  if (!pipe->readers) {
    ret = g->fail(Rule::kPipeWriteEpipe, -EPIPE);  // SIGPIPE is ignored by the trace's process
  } else {
    // If the pipe is not empty, the len % PAGE_SIZE remainder may merge into the last
    // buffer: small writes merge, large ones stay page-aligned.
    was_empty = pipe->empty();
    const size_t chars = remaining & (page - 1);
    bool done = false;
    if (chars && !was_empty) {
      PipeBuffer& last = pipe->slot(pipe->head - 1);
      const size_t offset = static_cast<size_t>(last.offset + last.len);
      if (last.can_merge && offset + chars <= page) {
        g->rule(Rule::kPipeWriteMerge);
        last.data.append(from, chars);
        last.len += static_cast<int>(chars);
        ret = static_cast<long>(chars);
        remaining -= chars;
        done = !remaining;
      }
    }
    while (!done) {
      if (!pipe->readers) {
        if (!ret) ret = g->fail(Rule::kPipeWriteEpipe, -EPIPE);
        break;
      }
      if (!pipe->full()) {
        const size_t copied = std::min(page, remaining);
        pipe->slot(pipe->head) = {0, static_cast<int>(copied), !pipe->direct, pipe->direct,
                                  std::string(from + ret, copied)};
        pipe->head++;
        ret += static_cast<long>(copied);
        remaining -= copied;
        if (!remaining) break;
      }
      if (!pipe->full()) continue;
      // Wait for buffer space to become available.
      if (nonblock()) {
        if (ret) g->rule(Rule::kPipeWritePartial);
        else ret = g->fail(Rule::kPipeWriteEagain, -EAGAIN);
        break;
      }
      if (t.signal_pending) {
        if (!ret) ret = -EINTR;  // -ERESTARTSYS
        break;
      }
      // The readers are woken if necessary before waiting for space; afterwards the pipe
      // may have become empty while this writer slept.
      if (was_empty) {
        wake_up_interruptible_sync_poll(pipe->rd_wait, EPOLLIN | EPOLLRDNORM, Rule::kPipeWriteWakeBeforeSleep);
      }
      g->rule(Rule::kPipeWriteSleeps);
      PipeInodeInfo* const p = pipe;
      co_await wait_event_interruptible_exclusive(t, pipe->wr_wait, [p] { return pipe_writable(p); });
      was_empty = pipe->empty();
      wake_next_writer = true;
    }
  }
  // out:
  if (pipe->full()) wake_next_writer = false;
  // A sync wakeup: the reader should process the data at once. Which writes wake the
  // readers is the profile's (5.5..5.14: only into an empty pipe; 5.15+: also when the pipe
  // was ever polled, "epoll nonsensically wants a wakeup").
  bool wake_readers = false;
  switch (g->profile.pipe_reader_wake) {
    case PipeReaderWake::kOnlyWhenEmpty: wake_readers = was_empty; break;
    case PipeReaderWake::kAlways: wake_readers = true; break;
    case PipeReaderWake::kWhenEmptyOrPolled: wake_readers = was_empty || pipe->poll_usage; break;
  }
  if (wake_readers) wake_up_interruptible_sync_poll(pipe->rd_wait, EPOLLIN | EPOLLRDNORM, Rule::kPipeWriteWakeReaders);
  else g->rule(Rule::kPipeWriteNoWake);
  if (wake_next_writer) {
    wake_up_interruptible_sync_poll(pipe->wr_wait, EPOLLOUT | EPOLLWRNORM, Rule::kPipeWriteWakeNextWriter);
  }
  co_return ret;
}

// pipe_release: when the last reader or the last writer goes, but not both, everyone on
// both queues is woken with a NULL key.
void PipeFile::release() {
  if (f_mode & FMODE_READ) pipe->readers--;
  if (f_mode & FMODE_WRITE) pipe->writers--;
  if (!pipe->readers != !pipe->writers) {
    const Rule r = pipe->readers ? Rule::kPipeReleaseLastWriter : Rule::kPipeReleaseLastReader;
    wake_up_interruptible_all(pipe->rd_wait, r);
    wake_up_interruptible_all(pipe->wr_wait, r);
  }
  if (--pipe->files == 0) delete pipe;  // put_pipe_info -> free_pipe_info
  pipe = nullptr;
}

// __do_pipe_flags (fs/pipe.c, 6.18; the same since 5.8 brought O_NOTIFICATION_PIPE).
long do_pipe2(Globals& g, FdTable& fdt, int fds[2], int flags) {
  const int valid = O_CLOEXEC_ | O_NONBLOCK_ | O_DIRECT_ | (g.profile.has_notification_pipe_flag ? O_NOTIFICATION_PIPE_ : 0);
  if (flags & ~valid) return g.fail(Rule::kPipe2Einval, -EINVAL);
  // create_pipe_files -> watch_queue_init: a kernel built without CONFIG_WATCH_QUEUE answers -ENOPKG.
  // The pipe is made before the descriptors are reserved, so this comes before EMFILE.
  const bool notification = flags & O_NOTIFICATION_PIPE_;
  if (notification && !g.profile.config_watch_queue) return g.fail(Rule::kPipe2Enopkg, -ENOPKG);
  if (!fdt.has_free(2)) return g.fail(Rule::kFdEmfile, -EMFILE);
  auto* pipe = new PipeInodeInfo(g);
  pipe->direct = flags & O_DIRECT_;
  pipe->watch_queue = notification;
  const int fl = flags & (O_NONBLOCK_ | O_CLOEXEC_);
  fds[0] = fdt.install(new PipeFile(g, pipe, FMODE_READ, fl));
  fds[1] = fdt.install(new PipeFile(g, pipe, FMODE_WRITE, fl));
  return 0;
}

}  // namespace model
