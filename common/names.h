// Names of a running trace: descriptor names bound to numbers, and epoll labels carried
// as epoll_event.data. Both executors use it, so both map names the same way.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace eo {

class NameTable {
 public:
  // Binds a name to a descriptor number (-1 when the creating call failed: later uses then
  // get EBADF, as a program using an unset variable would).
  void bind(const std::string& name, int fd) { fds_[name] = fd; }
  // The number a name denotes; -1 if never bound.
  int fd(const std::string& name) const {
    auto it = fds_.find(name);
    return it == fds_.end() ? -1 : it->second;
  }
  // The epoll_event.data that stands for a label: its index in order of first use (a hash
  // lookup: traces may have 10^5 distinct labels).
  uint64_t label_id(const std::string& label) {
    auto [it, added] = label_ids_.try_emplace(label, labels_.size());
    if (added) labels_.push_back(label);
    return it->second;
  }
  std::string label(uint64_t id) const {
    return id < labels_.size() ? labels_[id] : "data=" + std::to_string(id);
  }
  const std::map<std::string, int>& fds() const { return fds_; }

 private:
  std::map<std::string, int> fds_;
  std::vector<std::string> labels_;                      // by id
  std::unordered_map<std::string, uint64_t> label_ids_;  // id by label
};

}  // namespace eo
