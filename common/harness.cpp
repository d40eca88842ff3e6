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
  if (ok && info.releases_fd) {
    std::visit(
        [&](const auto& a) {
          for_each_field<std::decay_t<decltype(a)>>([&](const auto& f, int) {
            if constexpr (std::is_same_v<std::decay_t<decltype(a.*f.member)>, FdRef>) {
              const int n = fd(a.*f.member);
              if (n >= 0 && static_cast<size_t>(n) < open_.size()) open_[static_cast<size_t>(n)] = false;
            }
          });
        },
        s.call);
  }
  return o;
}

std::vector<int> StepHarness::open_fds() const {
  std::vector<int> out;
  for (size_t n = 0; n < open_.size(); ++n) {
    if (open_[n]) out.push_back(static_cast<int>(n));
  }
  return out;
}

void StepHarness::bind(size_t i, const Outcome& o) {
  for (const int fd : o.fds) {
    if (fd < 0) continue;
    if (static_cast<size_t>(fd) >= open_.size()) open_.resize(static_cast<size_t>(fd) + 1);
    open_[static_cast<size_t>(fd)] = true;
  }
  const std::vector<std::string>* names = names_bound_by(p_, i);
  if (!names) return;
  for (size_t k = 0; k < names->size(); ++k) names_.bind((*names)[k], k < o.fds.size() ? o.fds[k] : -1);
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
