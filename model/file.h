// struct file, its operations and reference count (include/linux/fs.h, fs/file_table.c),
// and the descriptor table shared by the tasks of one process (fs/file.c).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "globals.h"
#include "may_sleep.h"
#include "wait.h"

namespace model {

struct Task;
struct EpitemsHead;
struct Process;

inline constexpr unsigned FMODE_READ = 0x1;
inline constexpr unsigned FMODE_WRITE = 0x2;
inline constexpr unsigned FMODE_CAN_READ = 0x20000;   // f_op has read or read_iter
inline constexpr unsigned FMODE_CAN_WRITE = 0x40000;  // f_op has write or write_iter

// file_init_path (fs/file_table.c): a file whose f_op has read/write operations gets
// FMODE_CAN_READ/FMODE_CAN_WRITE for the directions it is open for.
constexpr unsigned with_rw_ops(unsigned mode) {
  return mode | (mode & FMODE_READ ? FMODE_CAN_READ : 0) | (mode & FMODE_WRITE ? FMODE_CAN_WRITE : 0);
}

// access_ok (arch/x86/include/asm/uaccess_64.h, include/asm-generic/access_ok.h): the
// range [addr, addr + size) must not wrap and must end at or below TASK_SIZE_MAX. The x86-64
// variants across 5.5..6.18 (sign bit, USER_PTR_MAX, generic) differ only for ranges that
// end between 2^47 and 2^63, which no executor count reaches (<= 16 MiB, or >= 2^63 when a
// trace gives a negative count). TASK_SIZE_MAX of 4-level paging: (1 << 47) - PAGE_SIZE.
inline constexpr uint64_t kTaskSizeMax = (uint64_t{1} << 47) - 4096;
inline bool access_ok(const void* addr, size_t size) {
  const auto a = reinterpret_cast<uintptr_t>(addr);
  return size <= kTaskSizeMax && a <= kTaskSizeMax - size;
}


// struct file with its f_op: each file type derives and overrides what its
// file_operations provide. Dispatch through the vtable is the f_op indirection.
struct File {
  File(Globals& g, unsigned mode, int flags);
  virtual ~File();
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  Globals* g;
  // Stands for the struct file address: unique and never reused in a run (Globals::
  // next_file_id), ordered by creation. The first half of an epitem's rb-tree key.
  uint64_t id;
  // file_ref: one per descriptor that refers to the file, plus one while a call holds it
  // (get_file: epoll_ctl, ep_item_poll); an epitem holds none. At 0, __fput runs (fput).
  long f_count = 1;
  unsigned f_mode;      // FMODE_READ / FMODE_WRITE, and FMODE_CAN_* (with_rw_ops); fixed at open
  int f_flags;          // O_NONBLOCK and O_CLOEXEC as the creating call gave them
  // file->f_ep: the epitems watching this file; nullptr while none does. For an epoll
  // file, its eventpoll's refs.
  EpitemsHead* f_ep = nullptr;

  // f_op->poll. Returns the current mask and registers on the file's queues through pt.
  virtual poll_t poll(PollTable* pt) = 0;
  // f_op->read / f_op->write: bytes moved or -errno; a coroutine, as the call may sleep.
  virtual MaySleep read(Task& t, void* buf, size_t n);
  virtual MaySleep write(Task& t, const void* buf, size_t n);
  // f_op->release: the last reference is gone (after eventpoll_release).
  virtual void release() {}
  // f_op->flush: every close of a descriptor of the file (filp_close), before its fput;
  // current: the process whose task closes it (its table's).
  virtual void flush(const Process& current) { (void)current; }
  virtual bool is_epoll() const { return false; }
  // file->private_data: the object behind the file (pipe inode, eventfd ctx, sock, eventpoll).
  virtual const void* private_data() const { return this; }
  virtual bool can_poll() const { return true; }  // file_can_poll
  // "pipe r", "eventfd", "unix socket" ... for explain output.
  virtual std::string describe() const = 0;

  bool nonblock() const { return f_flags & O_NONBLOCK_; }
};

// get_file / fput. __fput runs eventpoll_release() first, then f_op->release().
template <typename F>
F* get_file(F* f) {
  ++f->f_count;
  return f;
}
void fput(File* f);

// The descriptor table of a process (struct files_struct).
class FdTable {
 public:
  // max_fds: rlimit(RLIMIT_NOFILE), as get_unused_fd_flags passes it to alloc_fd.
  explicit FdTable(long max_fds = 1024) : max_fds_(max_fds) {}
  ~FdTable();
  FdTable(FdTable&& o) noexcept;
  FdTable& operator=(FdTable&&) = delete;
  FdTable(const FdTable&) = delete;
  // dup_fd (fs/file.c): a new table with the same numbers, each file referenced once more
  // (get_file); its next_fd starts at 0.
  FdTable dup_fd() const;
  // alloc_fd + fd_install: lowest free number; -EMFILE when full. Takes the reference.
  int install(File* f);
  // Reserves n numbers at once, or none (pipe2, socketpair): -EMFILE if not all fit.
  bool has_free(int n) const;
  // get_unused_fd_flags: the lowest free number, held (open, no file yet) until
  // fd_install or put_unused_fd; -EMFILE when full. accept4 holds one while it sleeps.
  int reserve();
  void fd_install(int fd, File* f);  // takes the reference
  void put_unused_fd(int fd);
  File* fget(int fd) const;  // borrowed pointer (no reference taken), nullptr if not open
  // close_fd by a task of current (this table's process): -EBADF or 0.
  long close(int fd, const Process& current);
  // Teardown of the model: every reference dropped, no flush (no task is closing).
  void close_all();
  // close_files (fs/file.c), from put_files_struct at exit_files of current (this table's
  // process): every open descriptor from 0 up, each through filp_close as close(2) does
  // (fput: the last reference runs eventpoll_release, then the file's release).
  void close_files(const Process& current);
  int open_count() const;
  int size() const { return static_cast<int>(fds_.size()); }  // highest open fd + 1

 private:
  bool taken(size_t i) const { return fds_[i] || reserved_[i]; }
  // fs/file.c find_next_fd's full_fds_bits: one bit per word of 64 numbers, set when all
  // 64 are in use, so that the search for a free number skips full words instead of
  // walking every number (10,000 sleeping accept4 calls each hold one).
  void update_full(size_t i);              // after number i was taken or freed
  size_t next_not_full_word(size_t w) const;  // the first word from w with a free number
  void trim();  // drops the free numbers at the end
  File* file_close_fd(int fd);  // takes the file out of slot fd (nullptr if none open)
  std::vector<File*> fds_;
  std::vector<bool> reserved_;  // by number: held by get_unused_fd_flags, no file yet
  std::vector<uint64_t> full_;  // full_fds_bits: bit w%64 of full_[w/64] = word w full
  long max_fds_;
  int open_ = 0;       // open descriptors (the bits set in open_fds)
  size_t next_fd_ = 0;  // files->next_fd: every number below it is in use
};

}  // namespace model
