#include "common/harness.h"

#include <algorithm>

namespace eo {

size_t io_count(int64_t n) { return n < 0 ? static_cast<size_t>(n) : std::min(static_cast<size_t>(n), kMaxIoBytes); }

size_t chunk_count(int64_t chunk) { return chunk == 0 ? kDefaultChunk : io_count(chunk); }

size_t io_buffer_size(size_t count) { return count <= kMaxIoBytes ? std::max<size_t>(count, 1) : 1; }

namespace {

// The names a creating step binds: those of its first alternative that binds names (for a
// pending call, of the resume line that ends it).
const std::vector<std::string>* names_bound_by(const Program& p, size_t i) {
  const auto first_bind = [](const Step& s) -> const std::vector<std::string>* {
    for (const ResultAlt& a : s.expect.alts) {
      if (a.kind == ResultAlt::Kind::kBind) return &a.names;
    }
    return nullptr;
  };
  if (p.steps[i].kind != Step::Kind::kPendingCall) return first_bind(p.steps[i]);
  for (size_t j = i + 1; j < p.steps.size(); ++j) {
    const Step& r = p.steps[j];
    if (r.kind == Step::Kind::kResume && r.resumes == static_cast<int>(i)) return first_bind(r);
  }
  return nullptr;
}

}  // namespace

Outcome StepHarness::finish(size_t i, const RawResult& r) {
  const Step& s = p_.steps[i];
  const CallInfo& info = call_info(s.call);
  Outcome o;
  if (r.ret < 0) {
    o.kind = Outcome::Kind::kError;
    o.ret = -r.ret;
  } else {
    o.kind = Outcome::Kind::kValue;
    o.ret = r.ret;
  }
  const bool ok = o.kind == Outcome::Kind::kValue;
  switch (info.result) {
    case ResultShape::kNamePair:
      if (ok) o.fds = {r.fds[0], r.fds[1]}, o.ret = 0;
      bind(i, o);
      break;
    case ResultShape::kName:
      if (ok) o.fds = {static_cast<int>(r.ret)};
      bind(i, o);
      break;
    case ResultShape::kZero:
      if (ok) o.ret = 0;
      break;
    case ResultShape::kCounter:
      if (ok) o.ret = static_cast<int64_t>(r.value);
      break;
    case ResultShape::kCount:
      break;
    case ResultShape::kSockError:
      if (ok) o.ret = static_cast<int64_t>(r.value);
      break;
    case ResultShape::kTask:  // fork: the new process's table is a copy of the caller's
      if (ok) {
        const std::string& child = forked_task(i);
        process_of_[child] = child;
        open_[child] = open_in(i);
        addrs_.forked(process(s.task), child);
        o.ret = 0;
      }
      break;
    case ResultShape::kLenPrio:
      if (ok) o.numbers = {r.ret, static_cast<int64_t>(r.prio)};
      break;
    case ResultShape::kEpollEvents:
      for (size_t k = 0; ok && k < r.events.size(); ++k) {
        o.events.push_back({names_.label(r.events[k].data), r.events[k].events});
      }
      break;
    case ResultShape::kPollEvents:
      if (const std::vector<PollEntry>* list = poll_list_of(s.call); ok && list) {
        for (const RawEvent& e : r.events) {
          if (e.events && e.data < list->size()) o.events.push_back({(*list)[e.data].fd.name, static_cast<uint16_t>(e.events)});
        }
      }
      break;
  }
  if (info.notes_address) note_addresses(i, o, r);
  if (ok && info.ends_process) {  // its table is closed
    open_in(i).clear();
    addrs_.exited(process(s.task));
  }
  if (ok && info.releases_fd) {
    std::visit(
        [&](const auto& a) {
          for_each_field<std::decay_t<decltype(a)>>([&](const auto& f, int) {
            if constexpr (std::is_same_v<std::decay_t<decltype(a.*f.member)>, FdRef>) {
              const int n = fd(a.*f.member);
              std::vector<bool>& open = open_in(i);
              if (n >= 0 && static_cast<size_t>(n) < open.size()) open[static_cast<size_t>(n)] = false;
              addrs_.closed(process(s.task), n);
            }
          });
        },
        s.call);
  }
  return o;
}

std::vector<int> StepHarness::open_fds(const std::string& process) const {
  std::vector<int> out;
  const auto it = open_.find(process);
  if (it == open_.end()) return out;
  for (size_t n = 0; n < it->second.size(); ++n) {
    if (it->second[n]) out.push_back(static_cast<int>(n));
  }
  return out;
}

// Sockets made by the call get their address; a call on S (bind, listen, connect) notes
// S's, whether it succeeded or not (a refused AF_UNIX connect has autobound S).
void StepHarness::note_addresses(size_t i, const Outcome& o, const RawResult& r) {
  const Step& s = p_.steps[i];
  const std::string& proc = process(s.task);
  if (names_bound(call_info(s.call).result) > 0) {
    for (size_t k = 0; k < o.fds.size() && k < 2; ++k) addrs_.noted(proc, o.fds[k], r.addr[k]);
    return;
  }
  if (const std::vector<const FdRef*> fds = fd_args(s.call); !fds.empty()) addrs_.noted(proc, fd(*fds[0]), r.addr[0]);
}

const std::string& StepHarness::process(const std::string& task) const {
  static const std::string kMain = "main";
  const auto it = process_of_.find(task);
  return it == process_of_.end() ? kMain : it->second;
}

const std::string& StepHarness::forked_task(size_t i) const {
  static const std::string kNone;
  const std::vector<std::string>* names = names_bound_by(p_, i);
  return names && !names->empty() ? names->front() : kNone;
}

void StepHarness::bind(size_t i, const Outcome& o) {
  const Dup* dup = std::get_if<Dup>(&p_.steps[i].call);
  const std::string& proc = process(p_.steps[i].task);
  std::vector<bool>& open = open_in(i);
  for (const int fd : o.fds) {
    if (dup) addrs_.duplicated(proc, this->fd(dup->fd), fd);
    else addrs_.created(proc, fd);
    if (fd < 0) continue;
    if (static_cast<size_t>(fd) >= open.size()) open.resize(static_cast<size_t>(fd) + 1);
    open[static_cast<size_t>(fd)] = true;
  }
  const std::vector<std::string>* names = names_bound_by(p_, i);
  if (!names) return;
  for (size_t k = 0; k < names->size(); ++k) {
    const int fd = k < o.fds.size() ? o.fds[k] : -1;
    names_.bind((*names)[k], fd);
    addrs_.named(proc, (*names)[k], fd);
  }
}

void StepHarness::sleeping(size_t i) { pending_[p_.steps[i].task] = i; }

void StepHarness::returned(StepObservation& obs, const std::string& task, const RawResult& r) {
  const auto it = pending_.find(task);
  if (it == pending_.end()) return;
  const size_t step = it->second;
  obs.returned.push_back({it->first, finish(step, r), static_cast<int>(step)});
  pending_.erase(it);  // `task` may be its key
}

void StepHarness::returned_at_once(StepObservation& obs, size_t i, const Outcome& o) {
  pending_.erase(p_.steps[i].task);
  obs.returned.push_back({p_.steps[i].task, o, static_cast<int>(i)});
}

void StepHarness::end_step(StepObservation& obs) const {
  std::sort(obs.returned.begin(), obs.returned.end(),
            [](const TaskReturn& a, const TaskReturn& b) { return a.task < b.task; });
  obs.still_blocked.clear();
  for (const auto& [task, step] : pending_) obs.still_blocked.push_back(task);
}

}  // namespace eo
