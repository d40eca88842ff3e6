// The settle rule of the real executors (the trace executor and the herd lab): the tasks
// are at rest once two snapshots in a row say so and are alike. One is not enough: the
// tasks are read one after the other, so a task read as blocked can be woken by one read
// later that was still running; the second snapshot sees it running, returned, or with a
// new schedstat.
#pragma once
#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>

namespace real {

// `take()` returns a snapshot with a `settled` member and operator==. False at `deadline`.
template <class Take>
bool settle_twice(Take&& take, std::chrono::steady_clock::time_point deadline) {
  decltype(take()) prev{};
  auto pause = std::chrono::microseconds(20);
  for (;;) {
    auto snap = take();
    if (snap.settled && prev.settled && snap == prev) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    if (!snap.settled) {
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::microseconds(1000));
    }
    prev = std::move(snap);
  }
}

}  // namespace real
