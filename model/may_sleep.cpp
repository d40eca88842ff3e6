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

struct FramePool {
  FreeBlock* free[kClasses] = {};
  ~FramePool() {
    for (FreeBlock*& head : free) {
      while (FreeBlock* b = head) {
        head = b->next;
        ::operator delete(b);
      }
    }
  }
};

FramePool& pool() {
  thread_local FramePool p;
  return p;
}

std::size_t size_class(std::size_t n) { return (n + kGranule - 1) / kGranule; }

}  // namespace

void* may_sleep_frame_alloc(std::size_t n) {
  const std::size_t c = size_class(n);
  if (c >= kClasses) return ::operator new(n);
  FreeBlock*& head = pool().free[c];
  if (FreeBlock* b = head) {
    head = b->next;
    return b;
  }
  return ::operator new(c * kGranule);
}

void may_sleep_frame_free(void* p, std::size_t n) noexcept {
  const std::size_t c = size_class(n);
  if (c >= kClasses) {
    ::operator delete(p);
    return;
  }
  FreeBlock*& head = pool().free[c];
  head = new (p) FreeBlock{head};
}

#else

void* may_sleep_frame_alloc(std::size_t n) { return ::operator new(n); }
void may_sleep_frame_free(void* p, std::size_t) noexcept { ::operator delete(p); }

#endif

}  // namespace model
