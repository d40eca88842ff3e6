#include "mq_names.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <tuple>

namespace real {

int notify_signal() { return SIGRTMIN + 2; }
sigset_t notify_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, notify_signal());
  return set;
}
long take_notifications() {
  const sigset_t set = notify_set();
  const timespec zero{0, 0};
  long n = 0;
  while (syscall(SYS_rt_sigtimedwait, &set, nullptr, &zero, _NSIG / 8) > 0) ++n;
  return n;
}

namespace {

std::atomic<unsigned> g_runs{0};
// The names the signal handler unlinks: set while a run is armed (runs are serialised).
std::atomic<const std::vector<std::string>*> g_armed_names{nullptr};
struct sigaction g_old_int {};
struct sigaction g_old_term {};

// Async-signal-safe: raw mq_unlink of each name, then the old disposition, re-raised
// (blocked until the handler returns).
void on_fatal_signal(int sig) {
  const int saved = errno;
  if (const std::vector<std::string>* names = g_armed_names.load()) {
    for (const std::string& n : *names) syscall(SYS_mq_unlink, n.c_str());
  }
  sigaction(sig, sig == SIGINT ? &g_old_int : &g_old_term, nullptr);
  raise(sig);
  errno = saved;
}

}  // namespace

RunQueues::RunQueues(const eo::Program& p)
    : prefix_("eo." + std::to_string(getpid()) + "." + std::to_string(g_runs.fetch_add(1)) + ".") {
  for (const eo::Step& s : p.steps) {
    if (s.kind != eo::Step::Kind::kCall && s.kind != eo::Step::Kind::kPendingCall) continue;
    const eo::MqName* n = nullptr;
    if (const auto* o = std::get_if<eo::MqOpen>(&s.call)) n = &o->name;
    if (const auto* u = std::get_if<eo::MqUnlink>(&s.call)) n = &u->name;
    if (!n) continue;
    const std::string k = kernel_name(n->name);
    if (std::find(names_.begin(), names_.end(), k) == names_.end()) names_.push_back(k);
  }
}

void RunQueues::arm() {
  if (armed_ || names_.empty()) return;
  armed_ = true;
  g_armed_names.store(&names_);
  struct sigaction sa {};
  sa.sa_handler = on_fatal_signal;
  sigemptyset(&sa.sa_mask);
  // A signal the process ignores (SIGINT of a background job) stays ignored: it ends
  // nothing, so there is nothing to clean up for it.
  for (auto [sig, old, global] : {std::tuple{SIGINT, &old_int_, &g_old_int}, std::tuple{SIGTERM, &old_term_, &g_old_term}}) {
    sigaction(sig, nullptr, old);
    *global = *old;
    if (old->sa_handler != SIG_IGN) sigaction(sig, &sa, nullptr);
  }
}

int RunQueues::unlink_all() const {
  int existed = 0;
  for (const std::string& n : names_) existed += syscall(SYS_mq_unlink, n.c_str()) == 0;
  return existed;
}

unsigned RunQueues::runs_started() { return g_runs.load(); }

RunQueues::~RunQueues() {
  unlink_all();
  if (!armed_) return;
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGTERM, &old_term_, nullptr);
  g_armed_names.store(nullptr);
}

}  // namespace real
