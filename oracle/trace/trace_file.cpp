#include "trace_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace eo {

namespace {

const char* kind_of(mode_t m) {
  if (S_ISDIR(m)) return "a directory";
  if (S_ISFIFO(m)) return "a FIFO";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISSOCK(m)) return "a socket";
  return "not a regular file";
}

std::string too_large(size_t max_bytes) {
  return fmt::format("larger than {} MiB, the most a trace may have", max_bytes >> 20);
}

// Reads fd to its end, at most max_bytes + 1 bytes (one more tells that it is too large).
bool read_capped(int fd, size_t max_bytes, std::string* text, std::string* error) {
  text->clear();
  char buf[65536];
  while (text->size() <= max_bytes) {
    const size_t want = std::min(sizeof buf, max_bytes + 1 - text->size());
    const ssize_t n = ::read(fd, buf, want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = fmt::format("cannot read: {}", std::strerror(errno));
      return false;
    }
    if (n == 0) return true;
    text->append(buf, static_cast<size_t>(n));
  }
  *error = too_large(max_bytes);
  return false;
}

}  // namespace

bool read_trace_file(const std::string& path, std::string* text, std::string* error, size_t max_bytes) {
  if (path == "-") {
    // Standard input may be a pipe or a terminal; only a directory cannot be read.
    struct stat st {};
    if (fstat(STDIN_FILENO, &st) == 0 && S_ISDIR(st.st_mode)) {
      *error = "standard input is a directory, not a trace file";
      return false;
    }
    return read_capped(STDIN_FILENO, max_bytes, text, error);
  }
  // O_NONBLOCK: opening a FIFO without a writer would wait for one for ever.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    *error = fmt::format("cannot open: {}", std::strerror(errno));
    return false;
  }
  struct stat st {};
  bool ok = false;
  if (fstat(fd, &st) != 0) {
    *error = fmt::format("cannot read: {}", std::strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    *error = fmt::format("{}, not a trace file", kind_of(st.st_mode));
  } else if (static_cast<unsigned long long>(st.st_size) > max_bytes) {
    *error = too_large(max_bytes);
  } else {
    ok = read_capped(fd, max_bytes, text, error);  // capped again: the file may grow
  }
  ::close(fd);
  return ok;
}

}  // namespace eo
