#include "common/herd.h"

namespace eo::herd {

const char* name_of(Source s) {
  switch (s) {
    case Source::kUnix: return "unix";
    case Source::kTcp: return "tcp";
    case Source::kPipe: return "pipe";
    case Source::kEventfd: return "eventfd";
    case Source::kSocketpair: return "socketpair";
  }
  return "?";
}

const char* name_of(Wait w) {
  switch (w) {
    case Wait::kBlocking: return "blocking";
    case Wait::kShared: return "shared";
    case Wait::kPerWorker: return "per-worker";
    case Wait::kNested: return "nested";
    case Wait::kReuseport: return "reuseport";
    case Wait::kWait14: return "wait14";
  }
  return "?";
}

const char* name_of(Trigger t) {
  switch (t) {
    case Trigger::kLevel: return "lt";
    case Trigger::kEdge: return "et";
    case Trigger::kOneshot: return "oneshot";
    case Trigger::kExclusive: return "exclusive";
  }
  return "?";
}

const char* name_of(Arrival a) {
  switch (a) {
    case Arrival::kOneAtATime: return "one-at-a-time";
    case Arrival::kBurst: return "burst";
    case Arrival::kPoisson: return "poisson";
  }
  return "?";
}

}  // namespace eo::herd
