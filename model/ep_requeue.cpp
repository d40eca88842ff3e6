// ep_send_events' level-triggered requeue (fs/eventpoll.c, mainline 6.18, gregkh/linux
// 0229c2f26289), in a unit of its own: tests/CMakeLists.txt links a model with a planted
// bug by putting tests/broken_ep_requeue.cpp in this file's place.
#include "eventpoll.h"

namespace model {

// A delivered level-triggered item goes back at the tail of rdllist, so that the next
// epoll_wait polls it again; the tail, so that items not yet delivered come first.
void ep_requeue_level_triggered(Eventpoll* ep, Epitem& epi) {
  ep->rdllist.push_back(epi);
  ep->g->emit({.kind = EventKind::kReadyAdd, .rule = Rule::kSendLevel, .site = rule_info(Rule::kSendLevel).site,
               .detail = rule_info(Rule::kSendLevel).text, .ep = ep, .epi = &epi});
}

}  // namespace model
