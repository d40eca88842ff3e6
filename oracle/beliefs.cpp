#include "beliefs.h"

#include <filesystem>
#include <fstream>

#include "oracle/corpus.h"
#include "oracle/trace/parser.h"
#include "oracle/trace/trace_file.h"

namespace eo {

namespace {
// A Markdown table cell: '|' would end the cell.
std::string cell(const std::string& s) {
  std::string out;
  for (char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

std::string verdict_text(const std::string& v) {
  if (v == "true") return "**true**";
  if (v == "false") return "**false**";
  if (v == "partly") return "**partly**";
  return "?";
}
}  // namespace

std::string beliefs_table(const std::string& dir, const std::string& link_prefix, std::string* error) {
  std::vector<std::string> missing;
  const std::vector<std::string> files = find_traces({dir}, &missing);
  if (!missing.empty() || files.empty()) {
    *error = dir + ": no belief traces found";
    return "";
  }
  std::string table = "| Belief | Linux says | Why | Trace |\n|---|---|---|---|\n";
  for (const std::string& f : files) {
    std::string text, why;
    if (!read_trace_file(f, &text, &why)) {
      *error = f + ": " + why;
      return "";
    }
    ParseResult parsed = parse_trace(text, f);
    if (!parsed) {
      *error = parsed.error().str();
      return "";
    }
    const Program& p = parsed.program();
    if (p.belief_verdict.empty()) {
      *error = f + ":1:1: a belief trace needs an @belief line";
      return "";
    }
    const std::string name = std::filesystem::path(f).filename().string();
    table += "| " + cell(p.title) + " | " + verdict_text(p.belief_verdict) + " | " + cell(p.belief_why) + " | [" + name + "](" +
             link_prefix + name + ") |\n";
  }
  return table;
}

int cmd_beliefs(const std::string& dir, const std::string& readme, bool check_only, std::ostream& out,
                std::ostream& err) {
  std::string error;
  if (readme.empty()) {
    const std::string table = beliefs_table(dir, "traces/beliefs/", &error);
    if (table.empty()) {
      err << "epoll-oracle: " << error << "\n";
      return 2;
    }
    out << table;
    return 0;
  }
  std::string text;
  if (!read_file(readme, &text)) {
    err << readme << ": cannot read the file\n";
    return 2;
  }
  const size_t b = text.find(kBeliefsBegin);
  const size_t e = text.find(kBeliefsEnd);
  if (b == std::string::npos || e == std::string::npos || e < b) {
    err << readme << ": no generated section (lines " << kBeliefsBegin << " and " << kBeliefsEnd << ")\n";
    return 2;
  }
  const std::string table = beliefs_table(dir, "traces/beliefs/", &error);
  if (table.empty()) {
    err << "epoll-oracle: " << error << "\n";
    return 2;
  }
  const std::string updated = text.substr(0, b) + kBeliefsBegin + "\n" + table + text.substr(e);
  if (check_only) {
    if (updated == text) return 0;
    err << readme << ": the beliefs section is out of date: run epoll-oracle beliefs --update-readme " << readme
        << "\n";
    return 1;
  }
  std::ofstream f(readme, std::ios::binary | std::ios::trunc);
  f << updated;
  if (!f) {
    err << readme << ": cannot write the file\n";
    return 2;
  }
  return 0;
}

}  // namespace eo
