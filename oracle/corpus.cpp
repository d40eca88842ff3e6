#include "corpus.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace eo {

std::string shipped_corpus_dir() { return EO_SOURCE_TRACES_DIR; }

std::string default_corpus_dir() {
  // Never ./traces: a command must not check whatever directory it happens to run in.
  if (const char* env = std::getenv("EPOLL_ORACLE_TRACES"); env && *env) return env;
  return shipped_corpus_dir();
}

std::vector<std::string> find_traces(const std::vector<std::string>& paths, std::vector<std::string>* missing) {
  std::vector<std::string> out;
  for (const std::string& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<std::string> found;
      for (const auto& e : fs::recursive_directory_iterator(p, ec)) {
        if (e.is_regular_file() && e.path().extension() == ".trace") found.push_back(e.path().string());
      }
      std::sort(found.begin(), found.end());
      out.insert(out.end(), found.begin(), found.end());
    } else if (p == "-" || fs::exists(p, ec)) {  // a file of any kind: reading it says what is wrong
      out.push_back(p);
    } else if (missing) {
      missing->push_back(p);
    }
  }
  return out;
}

std::string display_path(const std::string& path, const std::string& corpus_dir) {
  std::error_code ec;
  const fs::path rel = fs::relative(path, corpus_dir, ec);
  if (!ec && !rel.empty() && *rel.begin() != "..") return rel.string();
  return path;
}

bool read_file(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return !in.bad();
}

}  // namespace eo
