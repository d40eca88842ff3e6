// Processes of a trace (TRACE_FORMAT.md v1.1 "Processes") as real child processes. The task
// that calls fork() in the trace forks on its own thread; the child keeps the copy of the
// descriptor table fork gave it and runs the steps of its one task: it waits for commands
// on a channel (a stream socketpair whose other end the coordinator keeps), runs each call
// as a task thread would and sends back what it returned. The child is watched for
// "blocked" like a thread, through /proc/PID/task/PID/. It waits for commands in
// recvfrom/sendto, numbers no trace call sleeps in, and acknowledges a command before it
// runs it, so that it is never seen asleep in the channel as if in the call.
//
// Fork in a multithreaded process: the child has only the forking thread, and must not
// take a lock another thread may have held. It touches none of the executor's mutexes;
// glibc's fork() makes malloc usable in the child (it takes the arena locks around the
// fork), and at that moment every other thread of the executor waits on a condition
// variable or sleeps in a system call.
#pragma once
#include <sys/types.h>

#include <cstddef>

#include "common/program.h"
#include "real/raw_calls.h"

namespace real {

struct ForkContext {
  const eo::Program* program = nullptr;  // the run's program (the child has a copy of memory)
  pid_t parent = 0;                      // the executor's pid
  int child_end = -1;                    // the channel end the child keeps (>= fd_base)
  int fd_base = 0;                       // the executor's own descriptors are at or above it
};

// fork(2) on the calling thread. The child runs child_main and never returns here; the
// parent gets the child's pid, or -errno.
long fork_child(const ForkContext& ctx);

// The coordinator's side of the channel (a proxy thread per child).
// Hands the child step `step` with its resolved names; exit: the child's process exits.
bool send_command(int chan, size_t step, const Resolved& r, bool exit);
// The child took the command (and now runs it).
bool recv_ack(int chan);
// What the call returned; false at end of file (the child exited, or was killed).
bool recv_result(int chan, eo::RawResult& raw);

}  // namespace real
