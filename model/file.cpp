#include "file.h"

#include <algorithm>
#include <bit>
#include <utility>

#include "eventpoll.h"

namespace model {

File::File(Globals& g_, unsigned mode, int flags) : g(&g_), id(g_.next_file_id++), f_mode(mode), f_flags(flags) {
  ++g->live_files;
}
File::~File() { --g->live_files; }

// vfs_read/vfs_write with neither f_op->read nor read_iter (write/write_iter): -EINVAL.
// Kernel::read/write refuse such files before (no FMODE_CAN_READ/WRITE); kept as the
// f_op fallback.
MaySleep File::read(Task&, void*, size_t) { co_return g->fail(Rule::kReadEinval, -EINVAL); }
MaySleep File::write(Task&, const void*, size_t) { co_return g->fail(Rule::kWriteEinval, -EINVAL); }

// fput -> __fput (fs/file_table.c): eventpoll_release() is the first step of the cleanup
// chain, then f_op->release().
void fput(File* f) {
  if (--f->f_count > 0) return;
  f->g->emit({.kind = EventKind::kFileRelease, .rule = Rule::kFput, .site = "__fput", .file = f});
  eventpoll_release(f);
  f->release();
  delete f;
}

FdTable::~FdTable() { close_all(); }

FdTable::FdTable(FdTable&& o) noexcept
    : fds_(std::move(o.fds_)),
      reserved_(std::move(o.reserved_)),
      full_(std::move(o.full_)),
      max_fds_(o.max_fds_),
      open_(std::exchange(o.open_, 0)),
      next_fd_(std::exchange(o.next_fd_, 0)) {
  o.fds_.clear();
  o.reserved_.clear();
  o.full_.clear();
}

FdTable FdTable::dup_fd() const {
  FdTable copy(max_fds_);
  copy.fds_ = fds_;
  // A number held with no file yet (a sleeping accept4) is not open in the copy: dup_fd
  // clears the open bit of every slot without a file.
  copy.reserved_.assign(fds_.size(), false);
  for (File* f : copy.fds_) {
    if (f) get_file(f), ++copy.open_;
  }
  copy.trim();
  for (size_t i = 0; i < copy.fds_.size(); i += 64) copy.update_full(i);
  copy.next_fd_ = 0;  // newf->next_fd = 0: alloc_fd searches from the start
  return copy;
}

void FdTable::close_files(const Process& current) {
  for (size_t fd = 0; fd < fds_.size(); ++fd) {
    if (File* f = fds_[fd]) {
      fds_[fd] = nullptr;  // xchg(&fdt->fd[i], NULL)
      --open_;
      f->flush(current);  // filp_close
      fput(f);
    }
  }
  fds_.clear();
  reserved_.clear();
  full_.clear();
  open_ = 0;  // numbers held by a sleeping call too: the table is gone
  next_fd_ = 0;
}

// alloc_fd (fs/file.c): the search for the lowest free number starts at files->next_fd.
int FdTable::reserve() {
  for (size_t i = next_fd_; i < fds_.size(); ++i) {
    if (i % 64 == 0) {  // find_next_fd: past the full words first
      i = std::max(i, next_not_full_word(i / 64) * 64);
      if (i >= fds_.size()) break;
    }
    if (!taken(i)) {
      reserved_[i] = true;
      update_full(i);
      ++open_;
      next_fd_ = i + 1;
      return static_cast<int>(i);
    }
  }
  if (static_cast<long>(fds_.size()) >= max_fds_) return -EMFILE;
  fds_.push_back(nullptr);
  reserved_.push_back(true);
  update_full(fds_.size() - 1);
  ++open_;
  next_fd_ = fds_.size();
  return static_cast<int>(fds_.size()) - 1;
}

void FdTable::update_full(size_t i) {
  const size_t w = i / 64;
  if (full_.size() <= w / 64) full_.resize(w / 64 + 1, 0);
  bool full = (w + 1) * 64 <= fds_.size();
  for (size_t j = w * 64; full && j < (w + 1) * 64; ++j) full = taken(j);
  const uint64_t bit = uint64_t{1} << (w % 64);
  full_[w / 64] = full ? full_[w / 64] | bit : full_[w / 64] & ~bit;
}

size_t FdTable::next_not_full_word(size_t w) const {
  while (w / 64 < full_.size()) {
    const uint64_t open = ~full_[w / 64] >> (w % 64);
    if (open) return w + static_cast<size_t>(std::countr_zero(open));
    w = (w / 64 + 1) * 64;
  }
  return w;
}

void FdTable::fd_install(int fd, File* f) {
  reserved_[static_cast<size_t>(fd)] = false;
  fds_[static_cast<size_t>(fd)] = f;
}

void FdTable::put_unused_fd(int fd) {
  reserved_[static_cast<size_t>(fd)] = false;
  update_full(static_cast<size_t>(fd));
  --open_;
  next_fd_ = std::min(next_fd_, static_cast<size_t>(fd));
  trim();
}

void FdTable::trim() {
  while (!fds_.empty() && !taken(fds_.size() - 1)) {
    fds_.pop_back();
    reserved_.pop_back();
  }
}

int FdTable::install(File* f) {
  const int fd = reserve();
  if (fd >= 0) fd_install(fd, f);
  return fd;
}

bool FdTable::has_free(int n) const { return max_fds_ - open_ >= n; }

File* FdTable::fget(int fd) const {
  if (fd < 0 || fd >= static_cast<int>(fds_.size())) return nullptr;
  return fds_[fd];
}

File* FdTable::file_close_fd(int fd) {
  File* f = fget(fd);
  if (!f) return nullptr;
  fds_[fd] = nullptr;
  update_full(static_cast<size_t>(fd));
  --open_;
  next_fd_ = std::min(next_fd_, static_cast<size_t>(fd));  // __put_unused_fd
  trim();
  return f;
}

long FdTable::close(int fd, const Process& current) {
  File* f = file_close_fd(fd);
  if (!f) return -EBADF;
  f->flush(current);  // filp_close
  fput(f);
  return 0;
}

void FdTable::close_all() {
  for (int fd = static_cast<int>(fds_.size()) - 1; fd >= 0; --fd) {
    if (File* f = file_close_fd(fd)) fput(f);
  }
  fds_.clear();
  reserved_.clear();
  full_.clear();
  open_ = 0;
  next_fd_ = 0;
}

int FdTable::open_count() const { return open_; }

}  // namespace model
