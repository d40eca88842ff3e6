// Time values as the kernel computes them (include/linux/time64.h, include/linux/ktime.h):
// timespec64 and ktime_t (nanoseconds of the model's virtual CLOCK_MONOTONIC).
#pragma once
#include <cstdint>

#include "uapi.h"

namespace model {

inline constexpr int64_t NSEC_PER_SEC = 1000000000;
inline constexpr int64_t NSEC_PER_MSEC = 1000000;
inline constexpr int64_t MSEC_PER_SEC = 1000;
inline constexpr int64_t TIME64_MAX = INT64_MAX;
inline constexpr int64_t KTIME_MAX = INT64_MAX;
inline constexpr int64_t KTIME_SEC_MAX = KTIME_MAX / NSEC_PER_SEC;

// timespec64_valid: a non-negative second count and nanoseconds in [0, NSEC_PER_SEC).
constexpr bool timespec64_valid(const Timespec64& ts) {
  return ts.tv_sec >= 0 && static_cast<uint64_t>(ts.tv_nsec) < static_cast<uint64_t>(NSEC_PER_SEC);
}

// timespec64_to_ktime -> ktime_set: saturates at KTIME_MAX.
constexpr int64_t timespec64_to_ktime(const Timespec64& ts) {
  if (ts.tv_sec >= KTIME_SEC_MAX) return KTIME_MAX;
  return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

// ns_to_timespec64 for a non-negative time; ktime_get_ts64 is this of the clock.
constexpr Timespec64 ns_to_timespec64(int64_t ns) { return {ns / NSEC_PER_SEC, ns % NSEC_PER_SEC}; }

// timespec64_add_safe: the normalised sum of two valid timespecs, {TIME64_MAX, 0} when
// the seconds overflow (the kernel tests the wrapped sum; here the overflow itself).
constexpr Timespec64 timespec64_add_safe(const Timespec64& lhs, const Timespec64& rhs) {
  int64_t sec = 0;
  int64_t nsec = lhs.tv_nsec + rhs.tv_nsec;
  const int64_t carry = nsec >= NSEC_PER_SEC ? 1 : 0;
  nsec -= carry * NSEC_PER_SEC;
  if (__builtin_add_overflow(lhs.tv_sec, rhs.tv_sec, &sec) || __builtin_add_overflow(sec, carry, &sec)) {
    return {TIME64_MAX, 0};
  }
  return {sec, nsec};
}

}  // namespace model
