// Globals: the state the kernel keeps in globals and per-user structures, plus the
// simulation's clock and scheduler hooks. Every model object reaches it through its file
// or queue, so one process has one Globals.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "observer.h"
#include "profile.h"

namespace model {

class Scheduler;
struct UnixSock;
struct InetHashinfo;
struct UdpTable;

struct Globals {
  explicit Globals(KernelProfile p) : profile(std::move(p)) {}
  KernelProfile profile;         // the kernel version's switches and the calibrated constants
  Observer* observer = nullptr;  // receives every event when set (explain, tests, coverage)
  Scheduler* sched = nullptr;    // the tasks and the virtual clock
  // net/ipv4's tables (ports, connections) of the run's network namespace; made on first use.
  std::shared_ptr<InetHashinfo> inet;
  std::shared_ptr<UdpTable> udp;  // net->ipv4.udp_table: the UDP ports, apart from TCP's

  uint64_t next_file_id = 1;  // the next File::id: ids grow with creation, never reused
  // user->epoll_watches (fs/eventpoll.c): the epitems of all epolls; ep_insert refuses a
  // new one with ENOSPC at profile.max_user_watches.
  long user_epoll_watches = 0;
  // fs/eventpoll.c loop_check_gen: bumped before and after each full check of an ADD, so an
  // Eventpoll::gen equal to it means "visited by the check in progress". Not 0: on a
  // running kernel it has moved on since boot, and a fresh eventpoll (gen 0) must not look
  // as if it were part of the current check.
  uint64_t loop_check_gen = 1;
  // fs/eventpoll.c inserting_into: the epoll an ADD under ep_loop_check inserts into;
  // reaching it from the added epoll is a loop.
  Eventpoll* inserting_into = nullptr;

  // ipc/mqueue.c: ipc_ns->mq_queues_count, the queues that exist (named or open).
  long mq_queues_count = 0;

  // Live object counts, for leak checks in tests.
  long live_files = 0;
  long live_epitems = 0;
  long live_pwqs = 0;

  // The AF_UNIX abstract namespace (net->unx.table): bound sockets by type and address
  // (unix_abstract_hash mixes the type in, so one name may be bound once per type).
  std::map<std::string, UnixSock*> unix_names;
  unsigned unix_autobind_next = 0;  // unix_autobind's ordernum (random on a kernel)

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
