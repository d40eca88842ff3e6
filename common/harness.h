// The step harness both executors share: what a trace means around each raw call
// (docs/LANGUAGE.md "Calls", what the calls do beyond the system call they name). An
// executor performs the raw call (the model its Kernel function, the real executor the
// system call on the task's thread) and decides when a call is blocked and the system
// settled. The harness resolves names, turns a raw result into the Outcome by the call's
// result shape, binds the names a creating call gives (-1 when it failed), keeps the
// descriptors the trace made, knows which step each pending call belongs to, and orders
// what a step reports.
#pragma once
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/calls.h"
#include "common/executor.h"
#include "common/names.h"
#include "common/program.h"
#include "common/sock_addr.h"

namespace eo {

// read/write/fill/drain move at most this many bytes per system call.
inline constexpr size_t kMaxIoBytes = size_t{16} << 20;
// A fill/drain CHUNK not written.
inline constexpr size_t kDefaultChunk = 65536;
// The byte write and fill send.
inline constexpr char kFiller = 'x';

// The count one read/write of N passes: a negative N as the size_t it converts to (which
// access_ok refuses: EFAULT), a positive one at most kMaxIoBytes.
size_t io_count(int64_t n);
// The same for a fill/drain CHUNK; 0 (not written) is kDefaultChunk.
size_t chunk_count(int64_t chunk);
// The buffer a call of `count` bytes needs: a count beyond kMaxIoBytes never reaches a
// copy (it fails in access_ok) and gets one byte, so no count from a trace sizes a buffer
// beyond kMaxIoBytes.
size_t io_buffer_size(size_t count);

// fill/drain: calls io() (one read or write of a chunk: bytes or -errno) until EAGAIN (or
// end of file, or a zero write); another error is the result if nothing moved yet, else
// the total so far. before(calls, total) runs before each call and may end the loop with a
// result of its own (a loop cancelled by a signal, or one that would never end).
template <class Io, class Before>
long fill_drain_loop(Io&& io, Before&& before) {
  long total = 0;
  for (long calls = 0;; ++calls) {
    if (const std::optional<long> end = before(calls, total)) return *end;
    const long r = io();
    if (r == -EAGAIN || r == 0) return total;
    if (r < 0) return total ? total : r;
    total += r;
  }
}

// An epoll event as the kernel wrote it, or one poll entry: its revents and its index in
// the list.
struct RawEvent {
  uint32_t events = 0;
  uint64_t data = 0;
};

// What a raw call gave, before the trace's conventions.
struct RawResult {
  long ret = 0;                  // >= 0: the value returned; < 0: -errno
  int fds[2] = {-1, -1};         // the pair a pipe2 or socketpair made
  uint64_t value = 0;            // the 8 bytes an eventfd_read read (zeroed before)
  unsigned prio = 0;             // the priority an mq_receive received
  std::vector<RawEvent> events;  // epoll: the events written; poll: every entry
  // A call with CallInfo::notes_address: the address of its socket after the call, as
  // getsockname gave it (empty if it could not): [0] of S or of the socket made, [1] of a
  // pair's second socket.
  SockAddr addr[2];
};

class StepHarness {
 public:
  // tag: what the abstract AF_UNIX names of this run begin with (unique on the machine).
  explicit StepHarness(const Program& p, std::string tag = "eo") : p_(p), addrs_(std::move(tag)) {}

  // ---- arguments
  int fd(const FdRef& f) const { return names_.fd(f.name); }
  // The epoll_event.data of an ADD or MOD: the id of its label.
  uint64_t data_of(const EpollCtl& c) { return names_.label_id(c.label_or_name()); }
  const NameTable& names() const { return names_; }
  // bind/connect OTHER: the address it stands for (v1.1 "precise points").
  SockAddr address_of(const SockRef& other) const { return addrs_.address_of(other.name); }
  // bind(S) without OTHER: a fresh loopback or abstract address for S's family.
  SockAddr fresh_address(const FdRef& s) { return addrs_.fresh(s.name); }
  // listen(S): the bind an AF_INET socket without a port gets first, if any.
  std::optional<SockAddr> bind_before_listen(const FdRef& s) const { return addrs_.bind_before_listen(s.name); }

  // ---- results
  // The outcome of step i's call, which returned r (at once or after sleeping), by its
  // result shape: pipe2/socketpair give 0 and their pair, a creating call its descriptor,
  // a kZero call 0 whenever it returned a count (eventfd_write), eventfd_read the value
  // read, epoll the labels of the events' data, poll the entries with revents in argument
  // order. A creating call binds its names (to -1 if it failed), a close lets its number go.
  Outcome finish(size_t i, const RawResult& r);

  // ---- pending calls
  // Step i's call is pending: its task is in it until returned().
  void sleeping(size_t i);
  // The pending calls: task -> step.
  const std::map<std::string, size_t, std::less<>>& pending() const { return pending_; }
  // The pending call of `task` returned with r: reported after the current step.
  void returned(StepObservation& obs, const std::string& task, const RawResult& r);
  // Step i, a pending call, returned at once with o (it never slept).
  void returned_at_once(StepObservation& obs, size_t i, const Outcome& o);
  // Completes a step's observation: the returned calls in task order (one step's returns
  // are a set, TRACE_FORMAT.md "Tasks"), the tasks whose calls are still pending.
  void end_step(StepObservation& obs) const;

  // The pending call of `task` ends unchecked (its process exited): it is not reported.
  void forget(const std::string& task) { pending_.erase(task); }

  // ---- processes (TRACE_FORMAT.md v1.1 "Processes")
  // The process of a task: the name of its first task (`main`, or the name a fork bound).
  const std::string& process(const std::string& task) const;
  // The name step i (a fork) binds: the task of the new process.
  const std::string& forked_task(size_t i) const;

  // The descriptors the trace made in `process` and has not closed there, in increasing
  // order (after a fork both tables hold the numbers the parent's held).
  std::vector<int> open_fds(const std::string& process = "main") const;

 private:
  void bind(size_t i, const Outcome& o);
  void note_addresses(size_t i, const Outcome& o, const RawResult& r);
  std::vector<bool>& open_in(size_t i) { return open_[process(p_.steps[i].task)]; }
  const Program& p_;
  NameTable names_;
  SocketAddresses addrs_;
  // By process, by descriptor number (numbers are small: lowest free first).
  std::map<std::string, std::vector<bool>, std::less<>> open_;
  std::map<std::string, std::string, std::less<>> process_of_;  // forked tasks; the others are main's
  std::map<std::string, size_t, std::less<>> pending_;
};

}  // namespace eo
