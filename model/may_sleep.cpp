// Frame memory of MaySleep coroutines (may_sleep.h). A syscall creates a few small frames
// and frees them in the same step, over and over: a free list per 16-byte size class gives
// a freed block back to the next frame of that size without touching malloc.
#include "may_sleep.h"

#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define EO_FRAME_POOL 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EO_FRAME_POOL 0
#endif
#endif
#ifndef EO_FRAME_POOL
#define EO_FRAME_POOL 1
#endif

namespace model {

#if EO_FRAME_POOL
namespace {

constexpr std::size_t kGranule = 16;
constexpr std::size_t kClasses = 64;  // frames up to 1 KiB are recycled, larger ones use the heap

struct FreeBlock {
  FreeBlock* next;
};

// The free lists: trivially destructible, so the fast path needs no TLS guard.
thread_local constinit FreeBlock* t_free[kClasses] = {};

// Gives the blocks back to the heap when the thread ends; touched only on the slow path.
struct Reaper {
  bool armed = false;
  ~Reaper() {
    for (FreeBlock*& head : t_free) {
      while (FreeBlock* b = head) {
        head = b->next;
        ::operator delete(b);
      }
    }
  }
};
thread_local Reaper t_reaper;

std::size_t size_class(std::size_t n) { return (n + kGranule - 1) / kGranule; }

}  // namespace

void* may_sleep_frame_alloc(std::size_t n) {
  const std::size_t c = size_class(n);
  if (c >= kClasses) return ::operator new(n);
  if (FreeBlock* b = t_free[c]) {
    t_free[c] = b->next;
    return b;
  }
  t_reaper.armed = true;
  return ::operator new(c * kGranule);
}

void may_sleep_frame_free(void* p, std::size_t n) noexcept {
  const std::size_t c = size_class(n);
  if (c >= kClasses) {
    ::operator delete(p);
    return;
  }
  t_free[c] = new (p) FreeBlock{t_free[c]};
}

#else

void* may_sleep_frame_alloc(std::size_t n) { return ::operator new(n); }
void may_sleep_frame_free(void* p, std::size_t) noexcept { ::operator delete(p); }

#endif

}  // namespace model
