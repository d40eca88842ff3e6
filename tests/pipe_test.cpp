// model/pipe.cpp against fs/pipe.c: capacity in slots, the merge rule, which reads and
// writes wake which queue, and what pipe_poll reports. Expected values are measurements of
// Linux 6.18.44 (/tmp/probes/REPORT.md, probes a_pipe_fill.c, b_pipe_et_out.c,
// c_pipe_et_in.c) or rules of fs/pipe.c (PIPE-NEXT, ColinIanKing/linux-next 01fa584d1587)
// named in each test.
#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include "model/observer.h"
#include "model/pipe.h"
#include "model_fixture.h"

namespace {

using namespace model;
using eo_test::ModelSys;

// What the probes' ew() prints: the OR of the returned masks, 0 for no event.
poll_t got(ModelSys& s, int ep) {
  poll_t m = 0;
  for (const EpollEvent& e : s.wait(ep)) m |= e.events;
  return m;
}

// The probes' fill(): writes of `chunk` until one fails; the total, the number of
// successful writes, the last successful write and the error that ended it.
struct Fill {
  long total = 0;
  int writes = 0;
  long last = 0;
  long err = 0;
};
Fill fill(ModelSys& s, int fd, size_t chunk) {
  Fill f;
  for (;;) {
    const long r = s.write(fd, chunk);
    if (r < 0) {
      f.err = r;
      return f;
    }
    f.total += r;
    f.writes++;
    f.last = r;
  }
}

// ---------------------------------------------------------------------------------------
// Capacity (REPORT a)

// pipe_full: capacity is PIPE_DEF_BUFFERS (16) slots of a page (measured: REPORT.md a)
TEST(Pipe, FillOfEmptyPipeWith65536ByteWritesIs65536) {
  ModelSys s;
  auto [r, w] = s.pipe();
  const Fill f = fill(s, w, 65536);
  EXPECT_EQ(f.total, 65536);
  EXPECT_EQ(f.writes, 1);
  EXPECT_EQ(f.err, -EAGAIN);
  (void)r;
}

// anon_pipe_write: only len % PAGE_SIZE merges into the last buffer (measured: REPORT.md a)
TEST(Pipe, MergeCaseWrite20Read5Then4096ByteWritesTakes61440More) {
  ModelSys s;
  auto [r, w] = s.pipe();
  ASSERT_EQ(s.write(w, 20), 20);
  ASSERT_EQ(s.read(r, 5), 5);
  const Fill f = fill(s, w, 4096);
  EXPECT_EQ(f.total, 61440);
  EXPECT_EQ(f.writes, 15);
  EXPECT_EQ(f.last, 4096);
  EXPECT_EQ(f.err, -EAGAIN);
}

// anon_pipe_write: small writes merge into the last page until it is full (measured: REPORT.md a)
TEST(Pipe, OneByteWritesFill65536) {
  ModelSys s;
  auto [r, w] = s.pipe();
  const Fill f = fill(s, w, 1);
  EXPECT_EQ(f.total, 65536);
  EXPECT_EQ(f.writes, 65536);
  EXPECT_EQ(f.err, -EAGAIN);
  (void)r;
}

// anon_pipe_write: a multiple of PAGE_SIZE never merges; a 1-byte write then finds the last
// page full and no free slot (measured: REPORT.md a)
TEST(Pipe, Write100Then4096ByteWritesTakes61440MoreThenOneByteIsEagain) {
  ModelSys s;
  auto [r, w] = s.pipe();
  ASSERT_EQ(s.write(w, 100), 100);
  const Fill f = fill(s, w, 4096);
  EXPECT_EQ(f.total, 61440);
  EXPECT_EQ(f.writes, 15);
  EXPECT_EQ(s.write(w, 1), -EAGAIN);
  (void)r;
}

// anon_pipe_write: the remainder merges only if offset + chars <= PAGE_SIZE (measured: REPORT.md a)
TEST(Pipe, Write100Then4000ByteWritesTakes60000More) {
  ModelSys s;
  auto [r, w] = s.pipe();
  ASSERT_EQ(s.write(w, 100), 100);
  const Fill f = fill(s, w, 4000);
  EXPECT_EQ(f.total, 60000);
  EXPECT_EQ(f.writes, 15);
  (void)r;
}

// anon_pipe_write: a partial write returns what fit in the free slots (measured: REPORT.md a)
TEST(Pipe, Write1Then65536ByteWritesTakes61440InOnePartialWrite) {
  ModelSys s;
  auto [r, w] = s.pipe();
  ASSERT_EQ(s.write(w, 1), 1);
  const Fill f = fill(s, w, 65536);
  EXPECT_EQ(f.total, 61440);
  EXPECT_EQ(f.writes, 1);
  EXPECT_EQ(f.last, 61440);
  (void)r;
}

// anon_pipe_write: a nonblocking write larger than the pipe returns 16 slots' worth (measured: REPORT.md a)
TEST(Pipe, SingleWriteOf100000IntoEmptyPipeReturns65536) {
  ModelSys s;
  auto [r, w] = s.pipe();
  EXPECT_EQ(s.write(w, 100000), 65536);
  (void)r;
}

// anon_pipe_write: 5000 = page + 904; the 904 merges only every other write (measured: REPORT.md a)
TEST(Pipe, FiveThousandByteWritesFill54096InElevenWritesLastPartial) {
  ModelSys s;
  auto [r, w] = s.pipe();
  const Fill f = fill(s, w, 5000);
  EXPECT_EQ(f.total, 54096);
  EXPECT_EQ(f.writes, 11);
  EXPECT_EQ(f.last, 4096);
  (void)r;
}

// ---------------------------------------------------------------------------------------
// EPOLLOUT on the write end (REPORT b)

// anon_pipe_read: writers are woken only when a slot is freed from a full pipe (measured: REPORT.md b)
TEST(Pipe, EtOutFiresOnlyWhenAReadFreesASlotOfAFullPipe) {
  ModelSys s;
  auto [r, w] = s.pipe();
  const int ep = s.epoll();
  ASSERT_EQ(s.add(ep, w, EPOLLOUT | EPOLLET), 0);
  EXPECT_EQ(got(s, ep), EPOLLOUT);
  EXPECT_EQ(got(s, ep), 0u);
  ASSERT_EQ(s.fill(w, 65536), 65536);
  EXPECT_EQ(got(s, ep), 0u);
  ASSERT_EQ(s.read(r, 1), 1);
  EXPECT_EQ(got(s, ep), 0u) << "1 byte read frees no slot";
  ASSERT_EQ(s.read(r, 4095), 4095);
  EXPECT_EQ(got(s, ep), EPOLLOUT) << "the rest of the slot: the slot is freed";
  ASSERT_EQ(s.read(r, 4096), 4096);
  EXPECT_EQ(got(s, ep), 0u) << "the pipe was not full before this read";
}

// anon_pipe_read: wake_writer is set when the freed slot was freed from a full pipe (measured: REPORT.md b)
TEST(Pipe, EtOutFiresOnAWholeSlotReadFromAFullPipeOnly) {
  ModelSys s;
  auto [r, w] = s.pipe();
  const int ep = s.epoll();
  ASSERT_EQ(s.add(ep, w, EPOLLOUT | EPOLLET), 0);
  EXPECT_EQ(got(s, ep), EPOLLOUT);
  ASSERT_EQ(s.fill(w, 65536), 65536);
  EXPECT_EQ(got(s, ep), 0u);
  ASSERT_EQ(s.read(r, 4096), 4096);
  EXPECT_EQ(got(s, ep), EPOLLOUT);
  ASSERT_EQ(s.read(r, 4096), 4096);
  EXPECT_EQ(got(s, ep), 0u);
}

// pipe_poll: EPOLLOUT iff !pipe_full (slots, not bytes) (measured: REPORT.md b)
TEST(Pipe, LtMaskOfFullWriteEndIsNoneAndStaysNoneAfterPartialRead) {
  ModelSys s;
  auto [r, w] = s.pipe();
  ASSERT_EQ(s.fill(w, 65536), 65536);
  EXPECT_EQ(s.mask(w), 0u);
  ASSERT_EQ(s.read(r, 100), 100);
  EXPECT_EQ(s.mask(w), 0u);
}

// ---------------------------------------------------------------------------------------
// EPOLLIN on the read end (REPORT c) and the version switch of anon_pipe_write's wakeup

// anon_pipe_write: readers woken iff was_empty || pipe->poll_usage (>= 5.15) (measured: REPORT.md c)
TEST(Pipe, EtInFiresOnEveryWriteAndOnEagainWritesToAFullPipe) {
  ModelSys s;
  auto [r, w] = s.pipe();
  const int ep = s.epoll();
  ASSERT_EQ(s.add(ep, r, EPOLLIN | EPOLLET), 0);
  EXPECT_EQ(got(s, ep), 0u);
  ASSERT_EQ(s.write(w, 10), 10);
  EXPECT_EQ(got(s, ep), EPOLLIN);
  EXPECT_EQ(got(s, ep), 0u);
  ASSERT_EQ(s.write(w, 10), 10);
  EXPECT_EQ(got(s, ep), EPOLLIN) << "data already queued: still a wakeup";
  ASSERT_EQ(s.write(w, 0), 0);
  EXPECT_EQ(got(s, ep), 0u) << "a zero-length write returns before locking";
  ASSERT_EQ(s.read(r, 5), 5);
  EXPECT_EQ(got(s, ep), 0u);
  ASSERT_GT(s.fill(w, 4096), 0);
  got(s, ep);  // drain the events of the fill
  EXPECT_EQ(s.write(w, 10), -EAGAIN);
  EXPECT_EQ(got(s, ep), EPOLLIN);
  EXPECT_EQ(s.write(w, 1), -EAGAIN);
  EXPECT_EQ(got(s, ep), EPOLLIN);
  EXPECT_EQ(s.write(w, 100000), -EAGAIN);
  EXPECT_EQ(got(s, ep), EPOLLIN);
  ASSERT_EQ(s.close(w), 0);
  EXPECT_EQ(got(s, ep), EPOLLIN | EPOLLHUP);  // 0x11
}

// anon_pipe_write 5.5-5.13, and 5.10 before the 5.10.56 backport: readers woken only if the
// pipe was empty (1b6b26ae7053 "pipe: fix and clarify pipe write wakeup logic";
// research/kernel_epoll.md §4.1, §5). No kernel of that range is at hand: Debian's 5.10 is
// 5.10.262, with the backports (next test).
TEST(Pipe, Kernel510Before56EtInDoesNotFireOnSecondWriteToNonEmptyPipe) {
  ModelSys s(KernelProfile::for_version({5, 10, 0}));
  auto [r, w] = s.pipe();
  const int ep = s.epoll();
  ASSERT_EQ(s.add(ep, r, EPOLLIN | EPOLLET), 0);
  ASSERT_EQ(s.write(w, 10), 10);
  EXPECT_EQ(got(s, ep), EPOLLIN);
  ASSERT_EQ(s.write(w, 10), 10);
  EXPECT_EQ(got(s, ep), 0u) << "pipe was not empty: no wakeup on 5.5-5.13";
  ASSERT_GT(s.fill(w, 4096), 0);
  EXPECT_EQ(got(s, ep), 0u);
  EXPECT_EQ(s.write(w, 10), -EAGAIN);
  EXPECT_EQ(got(s, ep), 0u) << "EAGAIN on a full (not empty) pipe: no wakeup on 5.5-5.13";
}

// Debian's 5.10.262 has 5.10.56's "pipe: make pipe writes always wake up readers" and
// 5.10.62's "pipe: avoid unnecessary EPOLLET wakeups under normal loads" (its changelog):
// every write to a polled pipe wakes, as since 5.15; the 5.10.262 guest of `epoll-oracle
// kernels` passes pipe/et-reader-woken-by-every-write.trace and
// et-reader-woken-by-failed-write.trace.
TEST(Pipe, Debian510EtInFiresOnEveryWriteAndFailedWrite) {
  ModelSys s(KernelProfile::for_version({5, 10, 262}));
  auto [r, w] = s.pipe();
  const int ep = s.epoll();
  ASSERT_EQ(s.add(ep, r, EPOLLIN | EPOLLET), 0);
  ASSERT_EQ(s.write(w, 10), 10);
  EXPECT_EQ(got(s, ep), EPOLLIN);
  ASSERT_EQ(s.write(w, 10), 10);
  EXPECT_EQ(got(s, ep), EPOLLIN) << "pipe not empty, but polled: a wakeup since 5.10.62";
  ASSERT_GT(s.fill(w, 4096), 0);
  EXPECT_EQ(got(s, ep), EPOLLIN);
  EXPECT_EQ(s.write(w, 10), -EAGAIN);
  EXPECT_EQ(got(s, ep), EPOLLIN) << "EAGAIN on a full polled pipe wakes too";
}

// anon_pipe_write 5.14: every write wakes readers (3a34b13a88ca "pipe: make pipe writes always
// wake up readers"; research/kernel_epoll.md §4.1, §5)
TEST(Pipe, Kernel514EtInFiresOnEveryWrite) {
  ModelSys s(KernelProfile::for_version({5, 14, 0}));
  auto [r, w] = s.pipe();
  const int ep = s.epoll();
  ASSERT_EQ(s.add(ep, r, EPOLLIN | EPOLLET), 0);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(s.write(w, 10), 10);
    EXPECT_EQ(got(s, ep), EPOLLIN) << "write " << i;
  }
}

// ---------------------------------------------------------------------------------------
// Close of one end, errors

// pipe_poll + pipe_release: no writers -> EPOLLHUP on the read end, NULL-key wake (measured: REPORT.md c)
TEST(Pipe, ReadEndReportsHupAfterWriteEndClosedWithAndWithoutData) {
  ModelSys s;
  {
    auto [r, w] = s.pipe();
    const int ep = s.epoll();
    ASSERT_EQ(s.add(ep, r, EPOLLIN), 0);
    ASSERT_EQ(s.write(w, 10), 10);
    ASSERT_EQ(s.close(w), 0);
    EXPECT_EQ(got(s, ep), EPOLLIN | EPOLLHUP);  // 0x11
  }
  {
    auto [r, w] = s.pipe();
    const int ep = s.epoll();
    ASSERT_EQ(s.add(ep, r, EPOLLIN), 0);
    ASSERT_EQ(s.close(w), 0);
    EXPECT_EQ(got(s, ep), EPOLLHUP);  // 0x10: EPOLLHUP is reported without being asked for
    EXPECT_EQ(s.read(r, 10), 0) << "anon_pipe_read: no writers and empty -> EOF";
  }
}

// pipe_poll: no readers -> EPOLLERR on the write end; pipe_release wakes wr_wait (NULL key)
TEST(Pipe, WriteEndReportsErrAfterReadEndClosed) {
  ModelSys s;
  auto [r, w] = s.pipe();
  const int ep = s.epoll();
  ASSERT_EQ(s.add(ep, w, EPOLLOUT | EPOLLET), 0);
  EXPECT_EQ(got(s, ep), EPOLLOUT);
  ASSERT_EQ(s.close(r), 0);
  EXPECT_EQ(got(s, ep), EPOLLOUT | EPOLLERR) << "ET watcher woken by pipe_release";
  EXPECT_EQ(s.mask(w), EPOLLOUT | EPOLLWRNORM | EPOLLERR);
}

// anon_pipe_write: no readers -> -EPIPE (SIGPIPE ignored)
TEST(Pipe, WriteWithNoReaderIsEpipe) {
  ModelSys s;
  auto [r, w] = s.pipe();
  ASSERT_EQ(s.close(r), 0);
  EXPECT_EQ(s.write(w, 10), -EPIPE);
  EXPECT_EQ(s.write(w, 100000), -EPIPE);
}

// anon_pipe_read: empty, writers present, O_NONBLOCK -> -EAGAIN
TEST(Pipe, ReadOfEmptyPipeIsEagain) {
  ModelSys s;
  auto [r, w] = s.pipe();
  EXPECT_EQ(s.read(r, 10), -EAGAIN);
  (void)w;
}

// vfs_read / vfs_write: a file not opened for reading (writing) -> -EBADF
TEST(Pipe, ReadOnWriteEndAndWriteOnReadEndAreEbadf) {
  ModelSys s;
  auto [r, w] = s.pipe();
  EXPECT_EQ(s.read(w, 10), -EBADF);
  EXPECT_EQ(s.write(r, 10), -EBADF);
}

// __do_pipe_flags: flags other than O_CLOEXEC|O_NONBLOCK|O_DIRECT(|O_NOTIFICATION_PIPE) -> -EINVAL
TEST(Pipe, Pipe2WithBadFlagIsEinval) {
  ModelSys s;
  int fds[2] = {-1, -1};
  EXPECT_EQ(s.k.pipe2(s.main(), fds, 02000 /* O_APPEND */), -EINVAL);
  EXPECT_EQ(s.k.pipe2(s.main(), fds, 1 /* O_WRONLY */), -EINVAL);
  EXPECT_EQ(fds[0], -1);
  EXPECT_EQ(s.k.fdtable().open_count(), 0);
}

// ---------------------------------------------------------------------------------------
// Blocking calls

// anon_pipe_read: a blocking read of an empty pipe sleeps on rd_wait; the write wakes it
TEST(Pipe, BlockingReadBlocksAndCompletesWithTheBytesWritten) {
  ModelSys s;
  auto [r, w] = s.pipe(0);
  Task& t = s.t("t1");
  std::vector<char> buf(100);
  EXPECT_EQ(s.k.read(t, r, buf.data(), buf.size()), kBlocked);
  EXPECT_FALSE(t.completed);
  ASSERT_EQ(s.write(w, 7), 7);
  EXPECT_TRUE(t.completed);
  EXPECT_EQ(t.result, 7);
}

// anon_pipe_write: a blocking write to a full pipe sleeps on wr_wait until a slot is freed
TEST(Pipe, BlockingWriteToFullPipeCompletesWhenASlotIsFreed) {
  ModelSys s;
  auto [r, w] = s.pipe(0);
  ASSERT_EQ(s.write(w, 65536), 65536);
  Task& t = s.t("t1");
  std::vector<char> buf(4096, 'y');
  EXPECT_EQ(s.k.write(t, w, buf.data(), buf.size()), kBlocked);
  EXPECT_FALSE(t.completed);
  ASSERT_EQ(s.read(r, 100), 100);
  EXPECT_FALSE(t.completed) << "no slot freed";
  ASSERT_EQ(s.read(r, 3996), 3996);
  EXPECT_TRUE(t.completed);
  EXPECT_EQ(t.result, 4096);
}

// anon_pipe_read: a sleeping reader returns 0 (EOF) when the last writer goes (pipe_release wake)
TEST(Pipe, BlockingReadReturnsZeroWhenWriterCloses) {
  ModelSys s;
  auto [r, w] = s.pipe(0);
  Task& t = s.t("t1");
  std::vector<char> buf(10);
  EXPECT_EQ(s.k.read(t, r, buf.data(), buf.size()), kBlocked);
  ASSERT_EQ(s.close(w), 0);
  EXPECT_TRUE(t.completed);
  EXPECT_EQ(t.result, 0);
}

// ---------------------------------------------------------------------------------------
// The exact wakeups, seen through the observer

struct Recorder final : Observer {
  std::vector<Event> events;
  void on_event(const Event& e) override { events.push_back(e); }
  std::vector<Event> wakeups() const {
    std::vector<Event> v;
    for (const Event& e : events) {
      if (e.kind == EventKind::kWakeUp) v.push_back(e);
    }
    return v;
  }
};

PipeInodeInfo* pipe_of(ModelSys& s, int fd) { return dynamic_cast<PipeFile&>(*s.k.fdtable().fget(fd)).pipe; }

// anon_pipe_write: wake_up_interruptible_sync_poll(&pipe->rd_wait, EPOLLIN | EPOLLRDNORM)
TEST(Pipe, ObserverWriteWakesRdWaitWithInRdnormSync) {
  ModelSys s;
  auto [r, w] = s.pipe();
  PipeInodeInfo* pipe = pipe_of(s, r);
  const int ep = s.epoll();
  ASSERT_EQ(s.add(ep, r, EPOLLIN | EPOLLET), 0);
  Recorder rec;
  s.k.set_observer(&rec);
  ASSERT_EQ(s.write(w, 10), 10);
  s.k.set_observer(nullptr);
  const auto wk = rec.wakeups();
  ASSERT_EQ(wk.size(), 1u);
  EXPECT_EQ(wk[0].site, "anon_pipe_write");
  EXPECT_EQ(wk[0].detail, "wake_up_interruptible_sync_poll");
  EXPECT_EQ(wk[0].queue, &pipe->rd_wait);
  EXPECT_EQ(wk[0].key, EPOLLIN | EPOLLRDNORM);
  EXPECT_EQ(wk[0].arg, 1) << "the epitem is on rd_wait";
  bool queued = false;
  for (const Event& e : rec.events) queued |= e.kind == EventKind::kCallback && e.rule == Rule::kCbQueued;
  EXPECT_TRUE(queued) << "ep_poll_callback queued the item";
}

// anon_pipe_read: wake_up_interruptible_sync_poll(&pipe->wr_wait, EPOLLOUT | EPOLLWRNORM) when
// a slot is freed from a full pipe; pipe_release: wake_up_interruptible_all on both queues
TEST(Pipe, ObserverReadOfFullPipeWakesWrWaitAndReleaseWakesBothQueues) {
  ModelSys s;
  auto [r, w] = s.pipe();
  PipeInodeInfo* pipe = pipe_of(s, r);
  ASSERT_EQ(s.fill(w, 65536), 65536);
  Recorder rec;
  s.k.set_observer(&rec);
  ASSERT_EQ(s.read(r, 4096), 4096);
  auto wk = rec.wakeups();
  ASSERT_EQ(wk.size(), 1u);
  EXPECT_EQ(wk[0].site, "anon_pipe_read");
  EXPECT_EQ(wk[0].detail, "wake_up_interruptible_sync_poll");
  EXPECT_EQ(wk[0].queue, &pipe->wr_wait);
  EXPECT_EQ(wk[0].key, EPOLLOUT | EPOLLWRNORM);

  rec.events.clear();
  ASSERT_EQ(s.read(r, 4096), 4096);
  EXPECT_TRUE(rec.wakeups().empty()) << "pipe was not full: no wakeup";

  rec.events.clear();
  const WaitQueueHead* rd = &pipe->rd_wait;
  const WaitQueueHead* wr = &pipe->wr_wait;
  ASSERT_EQ(s.close(w), 0);
  s.k.set_observer(nullptr);
  wk = rec.wakeups();
  ASSERT_EQ(wk.size(), 2u);
  EXPECT_EQ(wk[0].site, "pipe_release");
  EXPECT_EQ(wk[0].detail, "wake_up_interruptible_all");
  EXPECT_EQ(wk[0].queue, rd);
  EXPECT_EQ(wk[0].key, 0u);
  EXPECT_EQ(wk[1].queue, wr);
  EXPECT_EQ(wk[1].key, 0u);
}

}  // namespace
