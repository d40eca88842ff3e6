// The slow path of the MaySleep frame pool (may_sleep.h): a fresh block from the heap, and
// the blocks given back to it when the thread ends.
#include "may_sleep.h"

namespace model::frame_pool {

namespace {
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
}  // namespace

void* alloc_slow(std::size_t n) {
  t_reaper.armed = true;  // the first use registers the reaper of this thread
  return ::operator new(n);
}

}  // namespace model::frame_pool
