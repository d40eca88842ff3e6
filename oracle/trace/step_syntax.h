// One step line of a trace (docs/LANGUAGE.md "Steps", "Tasks"):
//   [TASK ':'] CALL '(' ARGS ')' [ '=' RESULT | '...' ]
//   TASK ':' '...' ( '=' RESULT | 'blocked' )
// with the static checks that need the steps before it: names bound once and before use,
// one pending call per task, resume lines only for pending calls.
#pragma once
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/program.h"
#include "oracle/trace/lexer.h"

namespace eo {

// What the steps so far have established. One namespace holds every name: descriptors,
// tasks and processes (a process is named by its first task: `main`, or a name fork bound).
struct Scope {
  std::map<std::string, Pos, std::less<>> names;     // bound names (descriptors, tasks), where each was bound
  std::map<std::string, Step, std::less<>> pending;  // task -> its pending call
  std::map<std::string, std::string, std::less<>> process_of{{"main", "main"}};  // task -> its process
  // process -> the descriptor names its table has (bound there, or copied by the fork that made it)
  std::map<std::string, std::set<std::string, std::less<>>, std::less<>> fds_of;
  std::map<std::string, Pos, std::less<>> exited;  // process -> where it called exit()
  bool is_task(std::string_view name) const { return process_of.find(name) != process_of.end(); }
  // The process of a task; a task not seen yet is a v1 task: a thread of main's process.
  const std::string& process(std::string_view task) const;
  // Check names and pending calls. Without it only the syntax is checked (the resume
  // lines still need `pending` to know the shape of their result).
  bool check = true;
};

struct ParsedStep {
  Step step;
  std::vector<std::pair<std::string, Pos>> binds;  // names the step binds, where written
};

// Parses one step line (line_no is its 1-based number). Throws SyntaxError.
// In a resume step, `call` is the pending call's (so the result can be formatted alone).
ParsedStep parse_step_line(std::string_view line, int line_no, const Scope& scope);

// Records the effect of a parsed step: the names it binds become usable, the task's
// pending call starts or ends.
void apply_step(Scope& scope, const Step& step, const std::vector<std::pair<std::string, Pos>>& binds = {});

// Whether two steps say the same thing: equal except where they were written and whether
// the task `main` was named.
bool same_step(const Step& a, const Step& b);

}  // namespace eo
