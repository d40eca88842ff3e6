#include "calls_doc.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/calls.h"
#include "oracle/corpus.h"
#include "oracle/output_file.h"

namespace eo {

std::string calls_text() {
  std::vector<std::string> signatures;
  size_t width = 0, result_width = 0;
  for (size_t i = 0; i < kCallCount; ++i) {
    signatures.push_back(call_signature(*call_by_name(kCallInfos[i]->name)));
    width = std::max(width, signatures.back().size());
    result_width = std::max(result_width, kCallInfos[i]->result_form.size());
  }
  std::string out;
  for (size_t i = 0; i < kCallCount; ++i) {
    const CallInfo& c = *kCallInfos[i];
    const char* blocks = !c.in_task ? "no task" : c.may_block ? "may block" : "";
    out += fmt::format("{:<{}}  = {:<{}}  {:<9}  {}\n", signatures[i], width, c.result_form, result_width, blocks, c.doc);
  }
  return out;
}

std::string with_calls_table(const std::string& doc, std::string* error) {
  const size_t b = doc.find(kCallsBegin);
  const size_t e = doc.find(kCallsEnd);
  if (b == std::string::npos || e == std::string::npos || e < b) {
    *error = fmt::format("no calls section (lines {} and {})", kCallsBegin, kCallsEnd);
    return "";
  }
  return doc.substr(0, b) + kCallsBegin + "\n" + calls_markdown() + doc.substr(e);
}

int cmd_calls(bool markdown, const std::string& doc, bool check_only, std::ostream& out, std::ostream& err) {
  if (doc.empty()) {
    out << (markdown ? calls_markdown() : calls_text());
    return 0;
  }
  std::string text, error;
  if (!read_file(doc, &text)) {
    err << doc << ": cannot read the file\n";
    return 2;
  }
  const std::string updated = with_calls_table(text, &error);
  if (updated.empty()) {
    err << doc << ": " << error << "\n";
    return 2;
  }
  if (check_only) {
    if (updated == text) return 0;
    err << doc << ": the calls table differs from the schema (common/calls.h): run epoll-oracle calls --update-doc "
        << doc << "\n";
    return 1;
  }
  if (!write_file_atomically(doc, updated, &error)) {
    err << doc << ": " << error << "\n";
    return 2;
  }
  return 0;
}

}  // namespace eo
