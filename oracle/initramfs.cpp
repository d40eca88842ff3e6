#include "initramfs.h"

#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include "oracle/corpus.h"

namespace eo {

void CpioWriter::entry(const std::string& path, unsigned mode, const std::string& data) {
  // newc: "070701", then 13 fields of 8 hex digits, the name with its NUL, padding to 4
  // bytes, the data, padding to 4 bytes.
  const std::string name = path + '\0';
  out_ << fmt::format("070701{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}", ino_++, mode,
                      0, 0, 1, 0, data.size(), 0, 0, 0, 0, name.size(), 0);
  out_ << name << std::string((4 - (110 + name.size()) % 4) % 4, '\0');
  out_ << data << std::string((4 - data.size() % 4) % 4, '\0');
}

void CpioWriter::directory(const std::string& path) { entry(path, 040755, ""); }
void CpioWriter::file(const std::string& path, const std::string& data, unsigned mode) { entry(path, 0100000 | mode, data); }
void CpioWriter::finish() { entry("TRAILER!!!", 0, ""); }

std::vector<std::string> shared_libraries(const std::string& executable, std::string* error) {
  std::vector<std::string> libs;
  const std::string command = "ldd '" + executable + "' 2>&1";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) {
    *error = "cannot run ldd";
    return {};
  }
  char line[4096];
  while (fgets(line, sizeof line, pipe.get())) {
    // "libfmt.so.9 => /lib/x86_64-linux-gnu/libfmt.so.9 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)"
    std::istringstream words(line);
    std::string first, arrow, target;
    words >> first >> arrow >> target;
    if (arrow == "=>" && !target.empty() && target[0] == '/') libs.push_back(target);
    else if (!first.empty() && first[0] == '/') libs.push_back(first);
  }
  if (libs.empty()) *error = "ldd found no libraries for " + executable;
  return libs;
}

namespace {

// Every parent directory of `path` not yet written, outermost first.
void parents(CpioWriter& cpio, std::set<std::string>& made, const std::string& path) {
  for (size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    const std::string dir = path.substr(0, slash);
    if (!dir.empty() && made.insert(dir).second) cpio.directory(dir);
  }
}

bool add_file(CpioWriter& cpio, std::set<std::string>& made, const std::string& at, const std::string& host, unsigned mode,
              std::string* error) {
  std::string data;
  if (!read_file(host, &data)) {
    *error = "cannot read " + host;
    return false;
  }
  parents(cpio, made, at);
  cpio.file(at, data, mode);
  return true;
}

}  // namespace

bool write_initramfs(const InitramfsContents& c, const std::string& out_path, std::string* error) {
  const std::vector<std::string> libs = shared_libraries(c.executor, error);
  if (libs.empty()) return false;
  std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
  if (!out) {
    *error = "cannot write " + out_path;
    return false;
  }
  CpioWriter cpio(out);
  std::set<std::string> made;
  for (const char* dir : {"dev", "proc", "sys", "tmp", "boot", "traces"}) {
    made.insert(dir);
    cpio.directory(dir);
  }
  bool ok = add_file(cpio, made, "init", c.init, 0755, error) && add_file(cpio, made, "bin/epoll-oracle", c.executor, 0755, error);
  for (const std::string& lib : libs) ok = ok && add_file(cpio, made, lib.substr(1), lib, 0755, error);
  if (!c.config.empty()) ok = ok && add_file(cpio, made, "boot/config", c.config, 0644, error);
  for (const auto& [at, host] : c.traces) ok = ok && add_file(cpio, made, "traces/" + at, host, 0644, error);
  if (!ok) return false;
  cpio.finish();
  out.flush();
  if (!out) *error = "cannot write " + out_path;
  return static_cast<bool>(out);
}

}  // namespace eo
