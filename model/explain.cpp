#include "explain.h"

#include <utility>

#include "eventpoll.h"
#include "kernel.h"

namespace model {

std::string epoll_mask_names(poll_t mask) {
  static const std::pair<poll_t, const char*> kNames[] = {
      {EPOLLIN, "EPOLLIN"},         {EPOLLPRI, "EPOLLPRI"},         {EPOLLOUT, "EPOLLOUT"},
      {EPOLLERR, "EPOLLERR"},       {EPOLLHUP, "EPOLLHUP"},         {EPOLLNVAL, "EPOLLNVAL"},
      {EPOLLRDNORM, "EPOLLRDNORM"}, {EPOLLRDBAND, "EPOLLRDBAND"},   {EPOLLWRNORM, "EPOLLWRNORM"},
      {EPOLLWRBAND, "EPOLLWRBAND"}, {EPOLLMSG, "EPOLLMSG"},         {EPOLLRDHUP, "EPOLLRDHUP"},
      {POLLFREE, "POLLFREE"},       {EPOLLEXCLUSIVE, "EPOLLEXCLUSIVE"}, {EPOLLWAKEUP, "EPOLLWAKEUP"},
      {EPOLLONESHOT, "EPOLLONESHOT"}, {EPOLLET, "EPOLLET"}};
  if (!mask) return "0";
  std::string s;
  for (auto [bit, name] : kNames) {
    if (mask & bit) {
      if (!s.empty()) s += '|';
      s += name;
      mask &= ~bit;
    }
  }
  if (mask) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%x", mask);
    s += (s.empty() ? "" : "|") + std::string(buf);
  }
  return s;
}

Explainer::Explainer(Kernel& k, std::function<std::string(const File*)> names, std::function<std::string(uint64_t)> label)
    : k_(k), names_(std::move(names)), label_(std::move(label)) {}

std::vector<std::string> Explainer::take() { return std::exchange(lines_, {}); }

// The file whose private_data holds the queue, by its trace names.
std::string Explainer::queue(const WaitQueueHead* q) const {
  if (!q) return "?";
  std::string owner;
  FdTable& fdt = k_.fdtable();
  for (int fd = 0; fd < fdt.size(); ++fd) {
    File* f = fdt.fget(fd);
    if (f && f->private_data() == q->owner) {
      owner = names_(f);
      if (f->describe().rfind("pipe", 0) == 0) {
        // Both ends share the pipe: name the pair.
        for (int other = 0; other < fdt.size(); ++other) {
          File* g = fdt.fget(other);
          if (g && g != f && g->private_data() == q->owner) owner += "/" + names_(g);
        }
      }
      break;
    }
  }
  std::string name(q->name);
  return owner.empty() ? name : name + " of " + owner;
}

std::string Explainer::item(const Epitem* epi) const { return epi ? label_(epi->event.data) : "?"; }

std::string Explainer::epoll(const Eventpoll* ep) const { return ep && ep->file ? names_(ep->file) : "?"; }

void Explainer::on_event(const Event& e) {
  // Counted (rule coverage, `herd cost`), not told: one per polled fd would bury the story.
  if (e.rule == Rule::kPollVfsPoll || e.rule == Rule::kEpItemVfsPoll) return;
  std::string line(static_cast<size_t>(e.depth) * 2, ' ');
  switch (e.kind) {
    case EventKind::kWakeUp:
      line += std::string(e.site) + ": " + std::string(e.detail) + "(" + queue(e.queue) + ", " +
              (e.key ? epoll_mask_names(e.key) : "NULL") + ")";
      if (e.rule != Rule::kNone) line += ": " + std::string(rule_info(e.rule).text);
      if (!e.arg) line += " (nobody waits)";
      break;
    case EventKind::kCallback:
      line += "ep_poll_callback(" + epoll(e.ep) + ", " + item(e.epi) + "): key " +
              (e.key ? epoll_mask_names(e.key) : "NULL") + ", armed " + epoll_mask_names(e.epi->event.events) + ": " +
              std::string(e.detail);
      break;
    case EventKind::kReadyAdd:
      line += std::string(e.site) + "(" + epoll(e.ep) + "): rdllist += " + item(e.epi) + " (" + std::string(e.detail) + ")";
      break;
    case EventKind::kReadyDel:
      line += std::string(e.site) + "(" + epoll(e.ep) + "): rdllist -= " + item(e.epi) + " (" + std::string(e.detail) + ")";
      break;
    case EventKind::kEventDelivered:
      line += "ep_send_events(" + epoll(e.ep) + ") -> " + e.task->name + ": " + item(e.epi) + ": " +
              epoll_mask_names(static_cast<poll_t>(e.arg));
      break;
    case EventKind::kTaskSleep:
      line += "task " + e.task->name + " sleeps";
      break;
    case EventKind::kTaskWake:
      line += "try_to_wake_up(" + e.task->name + ")" + (e.arg ? ": woken" : ": already running");
      break;
    case EventKind::kTaskRun:
      line += e.task->name + " runs: its sleeping call goes on";
      break;
    case EventKind::kTaskTimeout:
      line += "hrtimer: timeout of " + e.task->name + " expires";
      break;
    case EventKind::kFileRelease:
      line += "__fput: last reference to " + e.file->describe() + " dropped: eventpoll_release, release";
      break;
    case EventKind::kRule:
      line += e.site.empty() ? std::string(e.detail) : std::string(e.site) + ": " + std::string(e.detail);
      break;
  }
  lines_.push_back(std::move(line));
}

}  // namespace model
