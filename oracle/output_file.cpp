#include "output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace fs = std::filesystem;

namespace eo {

namespace {

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

bool write_all(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

bool write_file_atomically(const std::string& path_arg, const std::string& text, std::string* error) {
  std::error_code ec;
  // Through a symbolic link to the file it names: the link stays a link.
  fs::path path = path_arg;
  if (fs::is_symlink(path, ec)) path = fs::canonical(path, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    *error = "cannot follow the link: " + ec.message();
    return false;
  }
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::string tmp = (dir / ("." + path.filename().string() + ".XXXXXX")).string();
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) {
    *error = errno_text("cannot create a temporary file in " + dir.string());
    return false;
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (::fchown(fd, st.st_uid, st.st_gid) != 0) {
      // Not the owner: the file becomes ours, as any editor's would.
    }
    ::fchmod(fd, st.st_mode & 07777);
  } else {
    const mode_t mask = ::umask(0);
    ::umask(mask);
    ::fchmod(fd, 0666 & ~mask);  // as a plain open(O_CREAT) would make it
  }
  bool ok = write_all(fd, text);
  if (!ok) *error = errno_text("cannot write");
  if (ok && ::fsync(fd) != 0) ok = false, *error = errno_text("cannot write");
  if (::close(fd) != 0 && ok) ok = false, *error = errno_text("cannot write");
  if (ok && ::rename(tmp.c_str(), path.c_str()) != 0) ok = false, *error = errno_text("cannot replace the file");
  if (!ok) ::unlink(tmp.c_str());
  return ok;
}

bool prepare_output_dir(const std::string& dir, std::string* error) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    *error = "cannot create the directory: " + ec.message();
    return false;
  }
  if (!fs::is_directory(dir, ec)) {
    *error = "not a directory";
    return false;
  }
  std::string probe = (fs::path(dir) / ".epoll-oracle-probe.XXXXXX").string();
  const int fd = ::mkstemp(probe.data());
  if (fd < 0) {
    *error = errno_text("cannot create a file there");
    return false;
  }
  ::close(fd);
  ::unlink(probe.c_str());
  return true;
}

}  // namespace eo
