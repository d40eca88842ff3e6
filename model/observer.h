// Observer: every internal event of the model, for explain, tests and rule coverage.
// Emitting is one pointer test when no observer is attached.
#pragma once
#include <string_view>

#include "rules.h"
#include "uapi.h"

namespace model {

struct WaitQueueHead;
struct Eventpoll;
struct Epitem;
struct Task;
struct File;

enum class EventKind {
  kWakeUp,            // a wake_up* on a queue: site = caller, detail = variant
  kCallback,          // ep_poll_callback ran: rule and detail say what it did (the kCb* rules)
  kReadyAdd,          // an epitem entered rdllist: detail = why
  kReadyDel,          // an epitem left rdllist: detail = why
  kEventDelivered,    // ep_send_events copied an event to userspace: arg = revents
  kTaskSleep,         // a task went to sleep on a queue
  kTaskWake,          // a task's wait entry was called (arg = try_to_wake_up result)
  kTaskTimeout,       // a task's timer fired
  kTaskRun,           // the scheduler runs a woken task: its sleeping call goes on
  kFileRelease,       // last reference of a file dropped: __fput
  kRule,              // a named rule of a file type or syscall was taken
};

struct Event {
  EventKind kind = EventKind::kRule;
  Rule rule = Rule::kNone;  // the model rule this event is an instance of
  std::string_view site = {};    // kernel function that produced the event
  std::string_view detail = {};  // variant, reason or rule name
  const WaitQueueHead* queue = nullptr;
  poll_t key = 0;           // wake key (0 = NULL key)
  const Eventpoll* ep = nullptr;
  const Epitem* epi = nullptr;
  const Task* task = nullptr;
  const File* file = nullptr;
  long arg = 0;
  int depth = 0;  // how many wake_up calls enclose this event
};

class Observer {
 public:
  virtual ~Observer() = default;
  virtual void on_event(const Event& e) = 0;
};

}  // namespace model
