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

using eo::Call;
using eo::Outcome;
using eo::ResultAlt;
using eo::Step;

struct Builder {
  eo::Program p;
  Step& add(Call c, std::vector<std::string> fds = {}, int64_t n = 0) {
    Step s;
    s.kind = Step::Kind::kCall;
    s.task = "main";
    s.call = c;
    s.pos.line = static_cast<int>(p.steps.size()) + 1;
    s.pos.col = 1;
    s.args.fds = std::move(fds);
    s.args.n = n;
    p.steps.push_back(std::move(s));
    return p.steps.back();
  }
  void binds(std::vector<std::string> names) {
    ResultAlt a;
    a.kind = ResultAlt::Kind::kBind;
    a.names = std::move(names);
    p.steps.back().expect.alts = {a};
  }
  Builder& io(Call c, const std::string& fd, int64_t n) {
    add(c, {fd}, n);
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
  b.add(Call::kPipe2, {}, model::O_NONBLOCK_);
  b.binds({"r", "w"});
  Step& sp = b.add(Call::kSocketpair);
  sp.args.op = model::AF_UNIX_;
  sp.args.n2 = model::SOCK_STREAM_ | model::SOCK_NONBLOCK_;
  b.binds({"a", "c"});
  Step& ef = b.add(Call::kEventfd2);
  ef.args.n2 = model::EFD_NONBLOCK;
  b.binds({"e"});
  b.add(Call::kEpollCreate1);
  b.binds({"ep"});
  b.io(Call::kRead, "r", -1)
      .io(Call::kWrite, "w", -1)
      .io(Call::kWrite, "w", 10)
      .io(Call::kRead, "r", -1)
      .io(Call::kFill, "w", -1)
      .io(Call::kDrain, "r", -1)
      .io(Call::kFill, "a", -5)
      .io(Call::kWrite, "a", 3)
      .io(Call::kRead, "c", -1)
      .io(Call::kDrain, "c", INT64_MIN)
      .io(Call::kWrite, "e", -1)
      .io(Call::kRead, "e", -1)
      .io(Call::kRead, "ep", -1)
      .io(Call::kWrite, "w", 20000000)  // 16 MiB, a page multiple: no merge, 15 free slots
      .io(Call::kFill, "w", 0)          // CHUNK 0: 65536 per call; the pipe is full
      .io(Call::kDrain, "r", 0)
      .io(Call::kDrain, "c", 0);
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
