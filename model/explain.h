// Explainer: turns the model's internal events into readable lines in kernel terms, with
// descriptors named as the trace names them. Used by `explain`, `run` and divergence
// reports.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "observer.h"

namespace model {

class Kernel;

class Explainer : public Observer {
 public:
  // names(file) gives the trace names of the descriptors open on a file ("r", "r/d");
  // label(data) gives an epoll label for an epoll_event.data value.
  Explainer(Kernel& k, std::function<std::string(const File*)> names, std::function<std::string(uint64_t)> label);
  void on_event(const Event& e) override;
  // The lines gathered since the last take().
  std::vector<std::string> take();

 private:
  std::string queue(const WaitQueueHead* q) const;
  std::string item(const Epitem* epi) const;
  std::string epoll(const Eventpoll* ep) const;
  Kernel& k_;
  std::function<std::string(const File*)> names_;
  std::function<std::string(uint64_t)> label_;
  std::vector<std::string> lines_;
};

// EPOLLIN|EPOLLRDNORM: the bits of a poll mask by name, in bit order; "NULL" for 0 keys.
std::string epoll_mask_names(poll_t mask);

}  // namespace model
