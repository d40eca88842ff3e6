// ep_send_events' level-triggered requeue (fs/eventpoll.c, mainline 6.18, gregkh/linux
// 0229c2f26289), in a unit of its own: tests/CMakeLists.txt links a model with a planted
// bug by putting tests/broken_ep_requeue.cpp in this file's place.
#include "eventpoll.h"

namespace model {

// A delivered level-triggered item goes back on rdllist, so that the next epoll_wait polls
// it again and reports it for as long as the file stays ready: that is what level-
// triggered means, since the callback runs only on wakeups. At the tail (list_add_tail),
// behind the items not delivered yet: with maxevents smaller than the ready count,
// successive calls serve the items round robin instead of starving those behind
// (traces/fairness/lt-round-robin.trace). Nothing else adds to rdllist meanwhile: callbacks
// chain on ovflist during the scan. And since rdllist is not empty after the scan,
// ep_done_scan wakes the next waiter, which polls the item too: every waiter returns
// (traces/beliefs/lt-fd-wakes-only-one-waiting-thread.trace).
void ep_requeue_level_triggered(Eventpoll* ep, Epitem& epi) {
  ep->rdllist.push_back(epi);
  ep->g->emit({.kind = EventKind::kReadyAdd, .rule = Rule::kSendLevel, .site = rule_info(Rule::kSendLevel).site,
               .detail = rule_info(Rule::kSendLevel).text, .ep = ep, .epi = &epi});
}

}  // namespace model
