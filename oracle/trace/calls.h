// The calls of the trace language by name (docs/LANGUAGE.md "Calls").
#pragma once
#include <optional>
#include <string_view>

#include "common/program.h"

namespace eo {

std::string_view call_name(Call c);                       // "epoll_wait"
std::optional<Call> call_by_name(std::string_view name);  // nullopt if not a v1 call
std::string_view call_signature(Call c);                  // "epoll_wait(EP, MAXEVENTS, TIMEOUT_MS)"
// How many names a successful call binds in its result: 2 (pipe2, socketpair),
// 1 (eventfd2, epoll_create1, dup) or 0.
int call_binds(Call c);
// The known call closest to a misspelled name ("epol_wait" -> "epoll_wait"), if any is
// close enough to suggest.
std::optional<std::string_view> closest_call_name(std::string_view name);

}  // namespace eo
