// Program -> text. print_trace reproduces the source of a parsed trace exactly and prints
// only new or changed steps canonically; print_trace_canonical prints everything in the
// one canonical style (for generated traces). The format_* helpers serve reports.
#pragma once
#include <string>

#include "common/executor.h"
#include "common/program.h"

namespace eo {

// The source as written (Program::lines), except for steps and directives that differ
// from their line (printed canonically, a step keeping its trailing comment and, when it
// fits, the comment's column) and steps without a line (printed canonically after the
// step before them). Every line ends with '\n'. A program without lines prints as
// print_trace_canonical.
std::string print_trace(const Program& p);

// Directives (`@title  `, `@kernel `, `@tags   `, `@belief `), a blank line, then one
// canonical step per line with its comment after two spaces. Source lines are ignored.
std::string print_trace_canonical(const Program& p);

// One step without its comment: `t1: epoll_wait(ep, 1, -1) ...`, `t2: ... = [r: EPOLLIN]`.
std::string format_step(const Step& s);
// The call and its arguments: `epoll_ctl(ep, EPOLL_CTL_ADD, r, EPOLLIN|EPOLLET)`.
std::string format_call(const Step& s);
// One result of a call: `[r, w]`, `-1 EBADF`, `[r: EPOLLIN|EPOLLOUT]`, `*`, `20`.
std::string format_result(const CallArgs& call, const ResultAlt& r);
// All results: `A or B`; "" when not checked.
std::string format_expect(const CallArgs& call, const Expect& e);
// What an executor observed, in trace syntax where it has one: `20`, `-1 EAGAIN`,
// `[r: EPOLLIN]`, `[fd 3, fd 4]` (descriptors a creating call returned), `blocked`,
// `stuck`, `not run`.
std::string format_outcome(const CallArgs& call, const Outcome& o);

}  // namespace eo
