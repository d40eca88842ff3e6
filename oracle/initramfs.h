// The initramfs of a guest of `epoll-oracle kernels`: a newc cpio archive (the format the
// kernel unpacks, Documentation/driver-api/early-userspace/buffer-format.rst) holding the
// project's /init, the epoll-oracle executable with the shared libraries it loads, the
// kernel's config as /boot/config and the traces under /traces.
#pragma once
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace eo {

// Writes newc entries; the parents of a path must be written before it.
class CpioWriter {
 public:
  explicit CpioWriter(std::ostream& out) : out_(out) {}
  void directory(const std::string& path);
  void file(const std::string& path, const std::string& data, unsigned mode = 0644);
  void finish();  // the TRAILER!!! entry

 private:
  void entry(const std::string& path, unsigned mode, const std::string& data);
  std::ostream& out_;
  unsigned ino_ = 1;
};

struct InitramfsContents {
  std::string init;        // host path of the static /init
  std::string executor;    // host path of epoll-oracle (its libraries are found with ldd)
  std::string config;      // host path of the kernel config ("" for none)
  std::vector<std::pair<std::string, std::string>> traces;  // (path under /traces, host path)
};

// The shared libraries (and the loader) `executable` needs, as absolute paths.
std::vector<std::string> shared_libraries(const std::string& executable, std::string* error);

// Writes the archive to `out_path`; false (and *error) if a file cannot be read or written.
bool write_initramfs(const InitramfsContents& c, const std::string& out_path, std::string* error);

}  // namespace eo
