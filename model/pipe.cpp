// fs/pipe.c as of 6.18 (anon_pipe_read, anon_pipe_write, pipe_poll, pipe_release).
#include "pipe.h"

#include <algorithm>
#include <cstring>

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

// anon_pipe_read, one pass of its loop until it returns or would sleep. `woken` is true
// when the task comes back from wait_event (wake_writer cleared, wake_next_reader set).
struct PipeRead final : FileCall<PipeFile> {
  PipeRead(PipeFile* f, char* out, size_t n) : FileCall(f), out(out), total_len(n) {}
  char* out;  // the reader's buffer (nullptr: bytes discarded)
  size_t total_len;
  bool woken = false;
  ExclusiveWait w;

  long run(Task& t) {
    PipeInodeInfo* pipe = file->pipe;
    long ret = 0;
    bool wake_writer = false;
    bool wake_next_reader = woken;
    for (;;) {
      if (!pipe->empty()) {
        PipeBuffer& buf = pipe->slot(pipe->tail);
        const size_t chars = std::min<size_t>(static_cast<size_t>(buf.len), total_len);
        if (out) std::memcpy(out + ret, buf.data.data() + buf.offset, chars);
        buf.offset += static_cast<int>(chars);
        buf.len -= static_cast<int>(chars);
        ret += static_cast<long>(chars);
        if (buf.packet) {  // anon_pipe_read: a packet buffer is consumed whole, one per read
          pipe->g->rule(Rule::kPipeReadPacket);
          total_len = chars;
          buf.len = 0;
        }
        if (!buf.len) {
          wake_writer |= pipe->full();  // a slot freed while the pipe was full
          buf = {};
          pipe->tail++;  // pipe_update_tail
        }
        total_len -= chars;
        if (!total_len) break;
        if (!pipe->empty()) continue;
      }
      if (!pipe->writers) {
        if (!ret) pipe->g->rule(Rule::kPipeReadEof);
        break;
      }
      if (ret) break;
      if (file->nonblock()) {
        ret = pipe->g->fail(Rule::kPipeReadEagain, -EAGAIN);
        break;
      }
      if (wake_writer) {
        wake_up_interruptible_sync_poll(pipe->wr_wait, EPOLLOUT | EPOLLWRNORM, Rule::kPipeReadWakeBeforeSleep);
      }
      if (t.signal_pending) return -EINTR;
      if (pipe_readable(pipe)) {  // wait_event: condition already true, no sleep
        wake_writer = false;
        wake_next_reader = true;
        continue;
      }
      pipe->g->rule(Rule::kPipeReadSleeps);
      w.prepare(t, pipe->rd_wait);
      return kBlocked;
    }
    if (pipe->empty()) wake_next_reader = false;
    if (wake_writer) {
      wake_up_interruptible_sync_poll(pipe->wr_wait, EPOLLOUT | EPOLLWRNORM, Rule::kPipeReadWakeWriters);
    }
    if (wake_next_reader) wake_up_interruptible_sync_poll(pipe->rd_wait, EPOLLIN | EPOLLRDNORM, Rule::kPipeReadWakeNextReader);
    return ret;
  }

  long resume(Task& t) override {
    if (t.signal_pending) return -EINTR;  // -ERESTARTSYS, handler without SA_RESTART
    if (!pipe_readable(file->pipe)) {
      w.prepare(t, file->pipe->rd_wait);
      t.sched->sleep_again(t);
      return kBlocked;
    }
    w.finish();
    woken = true;
    const long r = run(t);
    if (r == kBlocked) t.sched->sleep_again(t);
    return r;
  }

};

// anon_pipe_write as a resumable loop: ret and the remaining length survive a sleep.
struct PipeWrite final : FileCall<PipeFile> {
  PipeWrite(PipeFile* f, const char* src, size_t n) : FileCall(f), src(src), remaining(n) {}
  const char* src;  // the writer's bytes; src + ret is the next one to copy
  size_t remaining;
  long ret = 0;
  bool was_empty = false;
  bool wake_next_writer = false;
  ExclusiveWait w;

  long start(Task& t) {
    PipeInodeInfo* pipe = file->pipe;
    const size_t page = static_cast<size_t>(pipe->g->profile.page_size);
    if (!pipe->readers) {
      ret = pipe->g->fail(Rule::kPipeWriteEpipe, -EPIPE);  // SIGPIPE is ignored by the trace's process
      return out();
    }
    was_empty = pipe->empty();
    // Only the len % PAGE_SIZE remainder may merge into the last buffer.
    const size_t chars = remaining & (page - 1);
    if (chars && !was_empty) {
      PipeBuffer& last = pipe->slot(pipe->head - 1);
      const size_t offset = static_cast<size_t>(last.offset + last.len);
      if (last.can_merge && offset + chars <= page) {
        pipe->g->rule(Rule::kPipeWriteMerge);
        last.data.append(src, chars);
        last.len += static_cast<int>(chars);
        ret = static_cast<long>(chars);
        remaining -= chars;
        if (!remaining) return out();
      }
    }
    return loop(t);
  }

  long loop(Task& t) {
    PipeInodeInfo* pipe = file->pipe;
    const size_t page = static_cast<size_t>(pipe->g->profile.page_size);
    for (;;) {
      if (!pipe->readers) {
        if (!ret) ret = pipe->g->fail(Rule::kPipeWriteEpipe, -EPIPE);
        break;
      }
      if (!pipe->full()) {
        const size_t copied = std::min(page, remaining);
        pipe->slot(pipe->head) = {0, static_cast<int>(copied), !pipe->direct, pipe->direct, std::string(src + ret, copied)};
        pipe->head++;
        ret += static_cast<long>(copied);
        remaining -= copied;
        if (!remaining) break;
        continue;
      }
      if (file->nonblock()) {
        ret = ret ? pipe->g->fail(Rule::kPipeWritePartial, ret) : pipe->g->fail(Rule::kPipeWriteEagain, -EAGAIN);
        break;
      }
      if (t.signal_pending) {
        if (!ret) ret = -EINTR;
        break;
      }
      if (was_empty) {
        wake_up_interruptible_sync_poll(pipe->rd_wait, EPOLLIN | EPOLLRDNORM, Rule::kPipeWriteWakeBeforeSleep);
      }
      if (!pipe_writable(pipe)) {
        pipe->g->rule(Rule::kPipeWriteSleeps);
        w.prepare(t, pipe->wr_wait);
        return kBlocked;
      }
      after_wait();
    }
    return out();
  }

  void after_wait() {
    was_empty = file->pipe->empty();
    wake_next_writer = true;
  }

  long out() {
    PipeInodeInfo* pipe = file->pipe;
    if (pipe->full()) wake_next_writer = false;
    bool wake_readers = false;
    switch (pipe->g->profile.pipe_reader_wake) {
      case PipeReaderWake::kOnlyWhenEmpty: wake_readers = was_empty; break;
      case PipeReaderWake::kAlways: wake_readers = true; break;
      case PipeReaderWake::kWhenEmptyOrPolled: wake_readers = was_empty || pipe->poll_usage; break;
    }
    if (wake_readers) wake_up_interruptible_sync_poll(pipe->rd_wait, EPOLLIN | EPOLLRDNORM, Rule::kPipeWriteWakeReaders);
    else pipe->g->rule(Rule::kPipeWriteNoWake);
    if (wake_next_writer) {
      wake_up_interruptible_sync_poll(pipe->wr_wait, EPOLLOUT | EPOLLWRNORM, Rule::kPipeWriteWakeNextWriter);
    }
    return ret;
  }

  long resume(Task& t) override {
    if (t.signal_pending) {
      w.finish();
      if (!ret) ret = -EINTR;
      return out();
    }
    if (!pipe_writable(file->pipe)) {
      w.prepare(t, file->pipe->wr_wait);
      t.sched->sleep_again(t);
      return kBlocked;
    }
    w.finish();
    after_wait();
    const long r = loop(t);
    if (r == kBlocked) t.sched->sleep_again(t);
    return r;
  }

};

template <typename Call>
long run_or_sleep(Task& t, std::unique_ptr<Call> call, long r) {
  if (r == kBlocked) t.sched->sleep(t, std::move(call));
  return r;
}

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

long PipeFile::read(Task& t, void* buf, size_t n) {
  if (!(f_mode & FMODE_READ)) return g->fail(Rule::kReadEbadf, -EBADF);  // vfs_read: not opened for reading
  if (n == 0) return 0;
  auto call = std::make_unique<PipeRead>(this, static_cast<char*>(buf), n);
  const long r = call->run(t);
  return run_or_sleep(t, std::move(call), r);
}

long PipeFile::write(Task& t, const void* buf, size_t n) {
  if (!(f_mode & FMODE_WRITE)) return g->fail(Rule::kWriteEbadf, -EBADF);  // vfs_write: not opened for writing
  // anon_pipe_write refuses a notification pipe before anything else, even a null write.
  if (pipe->watch_queue) return g->fail(Rule::kPipeWriteExdev, -EXDEV);
  if (n == 0) return 0;
  auto call = std::make_unique<PipeWrite>(this, static_cast<const char*>(buf), n);
  const long r = call->start(t);
  return run_or_sleep(t, std::move(call), r);
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
