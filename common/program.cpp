#include "common/program.h"

#include <map>

namespace eo {

void link_resumes(Program& p) {
  std::map<std::string, int, std::less<>> pending;  // task -> its pending step
  for (size_t i = 0; i < p.steps.size(); ++i) {
    Step& s = p.steps[i];
    switch (s.kind) {
      case Step::Kind::kCall:
        s.resumes = -1;
        break;
      case Step::Kind::kPendingCall:
        s.resumes = -1;
        pending[s.task] = static_cast<int>(i);
        break;
      case Step::Kind::kResume:
      case Step::Kind::kResumeBlocked: {
        const auto it = pending.find(s.task);
        s.resumes = it == pending.end() ? -1 : it->second;
        if (it != pending.end()) {
          s.call = blank_call(p.steps[static_cast<size_t>(it->second)].call);
          if (s.kind == Step::Kind::kResume) pending.erase(it);
        }
        break;
      }
    }
  }
}

}  // namespace eo
