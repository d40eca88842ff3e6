// Counts a trace cannot make a buffer of, on both executors (real::KernelExecutor on this
// machine's kernel, model::ModelExecutor): both pass the kernel's arguments (a negative N
// or CHUNK as its size_t value, at most 16 MiB otherwise) and neither allocates or copies
// past its buffer. fs/read_write.c vfs_read/vfs_write: access_ok fails before the file's
// own rules (EFAULT on an empty pipe, a pipe or socket with data, an eventfd); a file
// without read gives EINVAL first; fill/drain: the first call fails, its error is the result.
#include <gtest/gtest.h>

#include <climits>
#include <initializer_list>
#include <string>
#include <vector>

#include "common/executor.h"
#include "common/program.h"
#include "model/executor.h"
#include "model/uapi.h"
#include "real/executor.h"

namespace {

using eo::Outcome;
using eo::ResultAlt;
using eo::Step;

struct Builder {
  eo::Program p;
  void add(eo::CallArgs c) {
    Step s;
    s.kind = Step::Kind::kCall;
    s.task = "main";
    s.call = std::move(c);
    s.pos.line = static_cast<int>(p.steps.size()) + 1;
    s.pos.col = 1;
    p.steps.push_back(std::move(s));
  }
  void binds(std::vector<std::string> names) {
    ResultAlt a;
    a.kind = ResultAlt::Kind::kBind;
    a.names = std::move(names);
    p.steps.back().expect.alts = {a};
  }
  template <class C>  // Read, Write, Fill or Drain
  Builder& io(const std::string& fd, int64_t n) {
    add(C{eo::FdRef{fd, {}}, n});
    return *this;
  }
};

struct Want {
  Outcome::Kind kind;
  int64_t ret;
};
Want value(int64_t v) { return {Outcome::Kind::kValue, v}; }
Want error(int e) { return {Outcome::Kind::kError, e}; }

TEST(ExecutorCounts, CountsThatCannotBeBuffersGiveEfaultOnBothExecutors) {
  Builder b;
  b.add(eo::Pipe2{{model::O_NONBLOCK_, {}}});
  b.binds({"r", "w"});
  b.add(eo::Socketpair{model::AF_UNIX_, {model::SOCK_STREAM_ | model::SOCK_NONBLOCK_, {}}});
  b.binds({"a", "c"});
  b.add(eo::Eventfd2{0, {model::EFD_NONBLOCK, {}}});
  b.binds({"e"});
  b.add(eo::EpollCreate1{});
  b.binds({"ep"});
  b.io<eo::Read>("r", -1)
      .io<eo::Write>("w", -1)
      .io<eo::Write>("w", 10)
      .io<eo::Read>("r", -1)
      .io<eo::Fill>("w", -1)
      .io<eo::Drain>("r", -1)
      .io<eo::Fill>("a", -5)
      .io<eo::Write>("a", 3)
      .io<eo::Read>("c", -1)
      .io<eo::Drain>("c", INT64_MIN)
      .io<eo::Write>("e", -1)
      .io<eo::Read>("e", -1)
      .io<eo::Read>("ep", -1)
      .io<eo::Write>("w", 20000000)  // 16 MiB, a page multiple: no merge, 15 free slots
      .io<eo::Fill>("w", 0)          // CHUNK 0: 65536 per call; the pipe is full
      .io<eo::Drain>("r", 0)
      .io<eo::Drain>("c", 0);
  const std::vector<Want> want = {
      value(0), value(0), value(3), value(3),  // creating calls (eventfd 3: fds 0-2 in the model)
      error(EFAULT), error(EFAULT), value(10), error(EFAULT), error(EFAULT), error(EFAULT), error(EFAULT),
      value(3), error(EFAULT), error(EFAULT), error(EFAULT), error(EFAULT), error(EINVAL),
      value(61440), value(0), value(61450), value(3)};
  real::KernelExecutor kernel;
  model::ModelExecutor model_exec{model::KernelProfile{}};
  for (eo::Executor* ex : std::initializer_list<eo::Executor*>{&kernel, &model_exec}) {
    SCOPED_TRACE(ex->name());
    const eo::RunResult r = ex->run(b.p);
    ASSERT_TRUE(r.error.empty()) << r.error;
    ASSERT_EQ(r.steps.size(), want.size());
    for (size_t i = 4; i < want.size(); ++i) {  // the creating calls' numbers differ
      const Outcome& got = r.steps[i].outcome;
      EXPECT_EQ(static_cast<int>(got.kind), static_cast<int>(want[i].kind)) << "step " << i + 1;
      EXPECT_EQ(got.ret, want[i].ret) << "step " << i + 1;
    }
    for (size_t i = 0; i < 4; ++i) EXPECT_EQ(static_cast<int>(r.steps[i].outcome.kind), static_cast<int>(Outcome::Kind::kValue));
  }
}

}  // namespace
