// A process, as far as descriptors go: its descriptor table (struct files_struct) and
// whether it has exited. Its tasks point to it (Task::proc). kernel/fork.c copy_files
// without CLONE_FILES gives a new process a copy of the caller's table (FdTable::dup_fd);
// do_exit's exit_files closes it (FdTable::close_files).
// Followed: gregkh/linux fs/file.c @ 2d1a5a595bf2 (dup_fd, close_files, put_files_struct,
// exit_files), kernel/fork.c copy_files, kernel/exit.c do_exit.
#pragma once
#include <string>

#include "file.h"

namespace model {

struct Process {
  Process(std::string name, FdTable files) : name(std::move(name)), files(std::move(files)) {}
  std::string name;  // the trace name of its first task ("main", or the name fork bound)
  FdTable files;
  bool exited = false;  // exit() closed its table; no task of it runs again
  // The mq_notify signals __do_notify queued to it (tgid-directed, blocked in every
  // thread: a real-time signal, each one queued) not yet taken by notifications().
  long mq_notify_signals = 0;
};

}  // namespace model
