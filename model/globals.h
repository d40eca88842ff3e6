// Globals: the state the kernel keeps in globals and per-user structures, plus the
// simulation's clock and scheduler hooks. Every model object reaches it through its file
// or queue, so one process has one Globals.
#pragma once
#include <cstdint>

#include "observer.h"
#include "profile.h"

namespace model {

class Scheduler;

struct Globals {
  explicit Globals(KernelProfile p) : profile(std::move(p)) {}
  KernelProfile profile;
  Observer* observer = nullptr;
  Scheduler* sched = nullptr;

  uint64_t next_file_id = 1;  // stands for struct file addresses: the rb-tree key order
  long user_epoll_watches = 0;  // user->epoll_watches (fs/eventpoll.c)
  // fs/eventpoll.c loop_check_gen. Not 0: on a running kernel it has moved on since boot, and
  // a fresh eventpoll (gen 0) must not look as if it were part of the current check.
  uint64_t loop_check_gen = 1;
  Eventpoll* inserting_into = nullptr;

  // Live object counts, for leak checks in tests.
  long live_files = 0;
  long live_epitems = 0;
  long live_pwqs = 0;

  int depth = 0;  // nesting of wake_up calls, for indented explain output

  // A rule taken: reported with its kernel function and text.
  void rule(Rule r, const Eventpoll* ep = nullptr, const Epitem* epi = nullptr) const {
    if (observer) [[unlikely]] emit({.kind = EventKind::kRule, .rule = r, .site = rule_info(r).site,
                                     .detail = rule_info(r).text, .ep = ep, .epi = epi});
  }
  // An error path taken: reports the rule and gives back the error.
  long fail(Rule r, long err) const {
    rule(r);
    return err;
  }

  void emit(Event e) const {
    if (observer) [[unlikely]] {
      e.depth = depth;
      observer->on_event(e);
    }
  }
};

}  // namespace model
