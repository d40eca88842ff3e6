#include "common/calls.h"

#include <algorithm>

namespace eo {
namespace {

template <size_t... I>
constexpr std::array<CallArgs (*)(), sizeof...(I)> blank_makers(std::index_sequence<I...>) {
  return {+[]() { return CallArgs{std::in_place_index<I>}; }...};
}
// A zero call of each alternative, by variant index.
constexpr auto kBlank = blank_makers(std::make_index_sequence<kCallCount>{});

template <class S>
std::string signature_of() {
  std::string out = std::string(S::info.name) + "(";
  for_each_field<S>([&](const auto& f, int i) {
    std::string shown = f.keyword.empty() ? std::string(f.name) : std::string(f.keyword) + "=" + std::string(f.name);
    if (i > 0) shown = ", " + shown;
    out += f.optional ? "[" + shown + "]" : shown;
  });
  return out + ")";
}

// Levenshtein distance.
size_t distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// The milliseconds a timeout field lets pass, if finite: a negative TIMEOUT_MS is none;
// TIMEOUT_NS -1 is none and any other negative one is refused (EINVAL) before any wait.
std::optional<int64_t> timeout_of(ArgKind kind, int64_t v) {
  if (kind == ArgKind::kTimeoutMs) return v < 0 ? std::nullopt : std::optional<int64_t>(v);
  if (kind == ArgKind::kTimeoutNs) return v < 0 ? std::nullopt : std::optional<int64_t>(v / 1'000'000 + (v % 1'000'000 != 0));
  return std::nullopt;
}

}  // namespace

std::optional<CallArgs> call_by_name(std::string_view name) {
  for (size_t i = 0; i < kCallCount; ++i) {
    if (kCallInfos[i]->name == name) return kBlank[i]();
  }
  return std::nullopt;
}

CallArgs blank_call(const CallArgs& c) { return kBlank[c.index()](); }

const std::string& call_signature(const CallArgs& c) {
  static const std::array<std::string, kCallCount> signatures = [] {
    std::array<std::string, kCallCount> out;
    for (size_t i = 0; i < kCallCount; ++i) {
      out[i] = std::visit([](const auto& a) { return signature_of<std::decay_t<decltype(a)>>(); }, kBlank[i]());
    }
    return out;
  }();
  return signatures[c.index()];
}

std::optional<std::string_view> closest_call_name(std::string_view name) {
  if (name.size() > 64) return std::nullopt;
  std::optional<std::string_view> best;
  size_t best_d = 3;  // suggest only names at most two edits away
  for (const CallInfo* i : kCallInfos) {
    const size_t d = distance(name, i->name);
    if (d < best_d) {
      best_d = d;
      best = i->name;
    }
  }
  return best;
}

std::optional<int64_t> finite_timeout_ms(const CallArgs& c) {
  return std::visit(
      [](const auto& a) {
        using S = std::decay_t<decltype(a)>;
        std::optional<int64_t> out;
        for_each_field<S>([&](const auto& f, int) {
          if constexpr (std::is_same_v<std::decay_t<decltype(a.*f.member)>, int64_t>) {
            if (const auto t = timeout_of(f.kind, a.*f.member)) out = t;
          }
        });
        return out;
      },
      c);
}

const std::vector<PollEntry>* poll_list_of(const CallArgs& c) {
  const std::vector<PollEntry>* out = nullptr;
  std::visit(
      [&](const auto& a) {
        for_each_field<std::decay_t<decltype(a)>>([&](const auto& f, int) {
          if constexpr (std::is_same_v<std::decay_t<decltype(a.*f.member)>, std::vector<PollEntry>>) out = &(a.*f.member);
        });
      },
      c);
  return out;
}

std::vector<const FdRef*> fd_args(const CallArgs& c) {
  std::vector<const FdRef*> out;
  std::visit(
      [&](const auto& a) {
        using S = std::decay_t<decltype(a)>;
        for_each_field<S>([&](const auto& f, int) {
          const auto& v = a.*f.member;
          if constexpr (std::is_same_v<std::decay_t<decltype(v)>, FdRef>) out.push_back(&v);
          if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::vector<PollEntry>>) {
            for (const PollEntry& e : v) out.push_back(&e.fd);
          }
        });
      },
      c);
  return out;
}

const SockRef* sock_ref_of(const CallArgs& c) {
  const SockRef* out = nullptr;
  std::visit(
      [&](const auto& a) {
        for_each_field<std::decay_t<decltype(a)>>([&](const auto& f, int) {
          if constexpr (std::is_same_v<std::decay_t<decltype(a.*f.member)>, SockRef>) {
            if (!(a.*f.member).name.empty()) out = &(a.*f.member);
          }
        });
      },
      c);
  return out;
}

void clear_positions(CallArgs& c) {
  std::visit(
      [](auto& a) {
        using S = std::decay_t<decltype(a)>;
        for_each_field<S>([&](const auto& f, int) {
          auto& v = a.*f.member;
          if constexpr (std::is_same_v<std::decay_t<decltype(v)>, FdRef> ||
                        std::is_same_v<std::decay_t<decltype(v)>, SockRef>) {
            v.pos = {};
          }
          if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::vector<PollEntry>>) {
            for (PollEntry& e : v) e.fd.pos = {};
          }
        });
      },
      c);
}

std::string calls_markdown() {
  std::string out = "| call | signature | result | may block |\n| --- | --- | --- | --- |\n";
  for (size_t i = 0; i < kCallCount; ++i) {
    const CallInfo& info = *kCallInfos[i];
    out += "| `" + std::string(info.name) + "` | `" + call_signature(kBlank[i]()) + "` | " + std::string(info.result_doc) +
           " | " + (info.may_block ? "yes" : "no") + " |\n";
  }
  return out;
}

}  // namespace eo
