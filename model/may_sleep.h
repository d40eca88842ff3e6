// MaySleep: kernel code that may sleep, as a C++20 coroutine. A syscall body and every
// helper of it that can reach schedule() (sock_wait_for_wmem, the wait_event macros...)
// returns MaySleep and reads like its kernel function, with `co_await` where the kernel
// calls schedule() or schedule_hrtimeout_range() (the awaiters are in sched.h).
//
// The protocol:
//  - a MaySleep starts at once (like a function call) and runs until it returns or sleeps;
//  - awaiting one that returned takes its result without suspending: the fast path of a
//    call that never sleeps is straight code;
//  - a call that sleeps suspends its innermost frame in schedule(), which records that
//    frame on the task (Task::sleeping_at); each caller up the chain suspends in its
//    co_await of the callee, and the outermost MaySleep reaches the Kernel facade not
//    done: the facade keeps it in Task::pending and returns kBlocked;
//  - try_to_wake_up queues the task and Scheduler::run_until_idle resumes sleeping_at;
//    a frame that returns resumes its caller (symmetric transfer), and when the outermost
//    one is done the scheduler takes its result;
//  - destroying the outermost MaySleep destroys every frame below it (their wait entries
//    unlink themselves, their file references are dropped): how an abandoned call ends.
// Frames come from a per-thread free list of recycled blocks, so that a syscall does not
// pay a malloc per frame.
#pragma once
#include <coroutine>
#include <cstddef>
#include <exception>
#include <new>
#include <utility>

namespace model {

// Frame memory: blocks are recycled by 16-byte size class, per thread; frames over 1 KiB,
// and every frame of an ASan build (so that it still sees each one), use the heap.
namespace frame_pool {
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kEnabled = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kEnabled = false;
#else
inline constexpr bool kEnabled = true;
#endif
#else
inline constexpr bool kEnabled = true;
#endif
inline constexpr std::size_t kGranule = 16;
inline constexpr std::size_t kClasses = 64;
struct FreeBlock {
  FreeBlock* next;
};
// The free lists; trivially destructible, so that the fast path needs no TLS guard.
inline thread_local constinit FreeBlock* t_free[kClasses] = {};
void* alloc_slow(std::size_t n);  // a fresh block (may_sleep.cpp), freed when the thread ends
inline std::size_t size_class(std::size_t n) { return (n + kGranule - 1) / kGranule; }
}  // namespace frame_pool

inline void* may_sleep_frame_alloc(std::size_t n) {
  using namespace frame_pool;
  const std::size_t c = size_class(n);
  if (!kEnabled || c >= kClasses) return ::operator new(n);
  if (FreeBlock* b = t_free[c]) {
    t_free[c] = b->next;
    return b;
  }
  return alloc_slow(c * kGranule);
}

inline void may_sleep_frame_free(void* p, std::size_t n) noexcept {
  using namespace frame_pool;
  const std::size_t c = size_class(n);
  if (!kEnabled || c >= kClasses) {
    ::operator delete(p);
    return;
  }
  t_free[c] = ::new (p) FreeBlock{t_free[c]};
}

class [[nodiscard]] MaySleep {
 public:
  struct promise_type;
  using Handle = std::coroutine_handle<promise_type>;

  struct promise_type {
    long result = 0;
    // The coroutine awaiting this one, resumed when this one returns; null for the
    // outermost frame (its result is read by the facade or the scheduler).
    std::coroutine_handle<> caller;

    MaySleep get_return_object() noexcept { return MaySleep(Handle::from_promise(*this)); }
    std::suspend_never initial_suspend() noexcept { return {}; }
    struct ReturnToCaller {
      bool await_ready() noexcept { return false; }
      std::coroutine_handle<> await_suspend(Handle h) noexcept {
        const std::coroutine_handle<> c = h.promise().caller;
        return c ? c : std::noop_coroutine();
      }
      void await_resume() noexcept {}
    };
    // Stays suspended at the end, so that the owner can read the result; a frame that has
    // a caller hands control back to it.
    ReturnToCaller final_suspend() noexcept { return {}; }
    void return_value(long r) noexcept { result = r; }
    void unhandled_exception() { throw; }

    static void* operator new(std::size_t n) { return may_sleep_frame_alloc(n); }
    static void operator delete(void* p, std::size_t n) noexcept { may_sleep_frame_free(p, n); }
  };

  MaySleep() = default;
  // A call that returned before any coroutine was needed (an early error): no frame.
  static MaySleep returned(long r) noexcept {
    MaySleep m;
    m.value_ = r;
    return m;
  }
  MaySleep(MaySleep&& o) noexcept : h_(std::exchange(o.h_, {})), value_(o.value_) {}
  MaySleep& operator=(MaySleep&& o) noexcept {
    if (this != &o) {
      reset();
      h_ = std::exchange(o.h_, {});
      value_ = o.value_;
    }
    return *this;
  }
  MaySleep(const MaySleep&) = delete;
  MaySleep& operator=(const MaySleep&) = delete;
  ~MaySleep() { reset(); }

  // A coroutine is held: in Task::pending, the call in flight.
  explicit operator bool() const noexcept { return static_cast<bool>(h_); }
  bool done() const noexcept { return !h_ || h_.done(); }
  long result() const noexcept { return h_ ? h_.promise().result : value_; }
  // Destroys the frames (the call is abandoned, or its result was taken).
  void reset() noexcept {
    if (h_) std::exchange(h_, {}).destroy();
  }

  // co_await of a callee: no suspension if it already returned.
  bool await_ready() const noexcept { return done(); }
  void await_suspend(std::coroutine_handle<> caller) const noexcept { h_.promise().caller = caller; }
  long await_resume() const noexcept { return result(); }

 private:
  explicit MaySleep(Handle h) noexcept : h_(h) {}
  Handle h_;
  long value_ = 0;  // the result of a call returned without a frame
};

}  // namespace model
