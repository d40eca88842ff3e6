#include "oracle/herd_scenario.h"

#include <charconv>
#include <cstdint>
#include <limits>

#include <fmt/format.h>

namespace eo::herd {

namespace {

template <class T>
bool number(const std::string& text, T lo, T hi, T* out) {
  T v{};
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || p != text.data() + text.size() || v < lo || v > hi) return false;
  *out = v;
  return true;
}

// A duration: a number with ns, us, ms or s (a bare number is in microseconds).
bool duration_ns(const std::string& text, int64_t* out) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  const std::string unit = text.substr(digits);
  int64_t scale = 0;
  if (unit == "ns") scale = 1;
  else if (unit == "us" || unit.empty()) scale = 1000;
  else if (unit == "ms") scale = 1000000;
  else if (unit == "s") scale = 1000000000;
  else return false;
  int64_t v = 0;
  if (!number<int64_t>(text.substr(0, digits), 0, std::numeric_limits<int64_t>::max() / scale, &v)) return false;
  *out = v * scale;
  return true;
}

template <class E, size_t N>
bool one_of(const std::string& text, const std::pair<const char*, E> (&names)[N], E* out, std::string* expected) {
  for (const auto& [name, value] : names) {
    if (text == name) {
      *out = value;
      return true;
    }
    *expected += (expected->empty() ? "" : ", ") + std::string(name);
  }
  return false;
}

constexpr std::pair<const char*, Source> kSources[] = {
    {"unix", Source::kUnix}, {"tcp", Source::kTcp}, {"pipe", Source::kPipe},
    {"eventfd", Source::kEventfd}, {"socketpair", Source::kSocketpair}};
constexpr std::pair<const char*, Wait> kWaits[] = {
    {"blocking", Wait::kBlocking}, {"shared", Wait::kShared}, {"per-worker", Wait::kPerWorker},
    {"nested", Wait::kNested}, {"reuseport", Wait::kReuseport}, {"wait14", Wait::kWait14}};
constexpr std::pair<const char*, Trigger> kTriggers[] = {
    {"lt", Trigger::kLevel}, {"et", Trigger::kEdge}, {"oneshot", Trigger::kOneshot}, {"exclusive", Trigger::kExclusive}};
constexpr std::pair<const char*, bool> kYesNo[] = {{"yes", true}, {"no", false}};

constexpr int kMaxWorkers = 1000000;
constexpr int kMaxEvents = 10000000;

}  // namespace

bool apply_setting(Scenario& s, const std::string& key, const std::vector<std::string>& v, std::string* error,
                   size_t* bad_value) {
  size_t bad = 0;
  auto arity = [&](size_t lo, size_t hi, const char* form) {
    if (v.size() >= lo && v.size() <= hi) return true;
    *error = fmt::format("'{}' takes {}", key, form);
    bad = v.size() < lo ? v.size() : hi;
    return false;
  };
  bool ok = true;
  std::string expected;
  auto enumerated = [&](auto& names, auto* out) {
    if (!arity(1, 1, "one value")) return false;
    if (one_of(v[0], names, out, &expected)) return true;
    *error = fmt::format("'{}': expected one of {}, got '{}'", key, expected, v[0]);
    return false;
  };
  auto integer = [&](size_t at, auto lo, auto hi, auto* out) {
    if (number(v[at], lo, hi, out)) return true;
    *error = fmt::format("'{}': expected a whole number from {} to {}, got '{}'", key, lo, hi, v[at]);
    bad = at;
    return false;
  };
  if (key == "source") {
    ok = enumerated(kSources, &s.source);
  } else if (key == "wait") {
    ok = enumerated(kWaits, &s.wait);
  } else if (key == "trigger") {
    ok = enumerated(kTriggers, &s.trigger);
  } else if (key == "consume") {
    ok = enumerated(kYesNo, &s.consume);
  } else if (key == "workers") {
    ok = arity(1, 1, "one value") && integer(0, 1, kMaxWorkers, &s.workers);
  } else if (key == "events") {
    ok = arity(1, 1, "one value") && integer(0, 1, kMaxEvents, &s.events);
  } else if (key == "seed") {
    ok = arity(1, 1, "one value") && integer(0, uint64_t{0}, std::numeric_limits<uint64_t>::max(), &s.seed);
  } else if (key == "fds") {
    ok = arity(1, 1, "one value") && integer(0, 1, 10000, &s.fds);
  } else if (key == "maxevents") {
    ok = arity(1, 1, "one value") && integer(0, 1, 10000, &s.maxevents);
  } else if (key == "rounds") {
    ok = arity(1, 1, "one value") && integer(0, 1, 1000000, &s.rounds);
  } else if (key == "service") {
    ok = arity(1, 1, "one duration");
    if (ok && !duration_ns(v[0], &s.service_ns)) {
      *error = fmt::format("'service': expected a duration (a whole number with ns, us, ms or s), got '{}'", v[0]);
      ok = false;
    }
  } else if (key == "arrival") {
    ok = arity(1, 2, "one-at-a-time, burst K or poisson RATE (events per ms)");
    if (ok && v[0] == "one-at-a-time" && v.size() == 1) {
      s.arrival = Arrival::kOneAtATime;
    } else if (ok && v[0] == "burst" && v.size() == 2) {
      s.arrival = Arrival::kBurst;
      ok = integer(1, 1, 4096, &s.burst);
    } else if (ok && v[0] == "poisson" && v.size() == 2) {
      s.arrival = Arrival::kPoisson;
      double rate = 0;
      const auto [p, ec] = std::from_chars(v[1].data(), v[1].data() + v[1].size(), rate);
      if (ec != std::errc{} || p != v[1].data() + v[1].size() || !(rate > 0) || rate > 1e6) {
        *error = fmt::format("'arrival poisson': expected a rate in events per ms above 0, up to 1000000, got '{}'", v[1]);
        bad = 1;
        ok = false;
      }
      s.rate_per_ms = rate;
    } else if (ok) {
      *error = "'arrival': expected one-at-a-time, burst K or poisson RATE (events per ms)";
      ok = false;
    }
  } else {
    *error = fmt::format("unknown setting '{}' (expected source, wait, trigger, workers, events, arrival, service, "
                         "seed, consume, fds, maxevents or rounds)", key);
    ok = false;
    bad = SIZE_MAX;
  }
  if (bad_value) *bad_value = bad;
  return ok;
}

std::string check_scenario(const Scenario& s) {
  // do_epoll_ctl: EPOLLEXCLUSIVE on an epoll file is EINVAL (no exclusive nesting).
  if (s.wait == Wait::kNested && s.trigger == Trigger::kExclusive)
    return "wait nested with trigger exclusive: the kernel refuses EPOLLEXCLUSIVE on an epoll (EINVAL)";
  if (s.wait == Wait::kReuseport && s.source != Source::kTcp)
    return "wait reuseport needs source tcp (SO_REUSEPORT groups are inet-only since 6.13)";
  if ((s.wait == Wait::kBlocking || s.wait == Wait::kReuseport) && !s.consume)
    return "consume no needs a waiting epoll (a blocking worker waits by consuming)";
  if (!s.consume && s.arrival != Arrival::kOneAtATime) return "consume no needs arrival one-at-a-time";
  if (s.source == Source::kSocketpair && s.wait != Wait::kShared && s.wait != Wait::kPerWorker &&
      s.wait != Wait::kBlocking)
    return "source socketpair goes with wait blocking, shared or per-worker";
  return "";
}

std::optional<std::vector<Scenario>> parse_scenarios(const std::string& text, const std::string& file,
                                                     std::string* error) {
  std::vector<Scenario> out;
  int line_no = 0;
  size_t start = 0;
  auto at = [&](size_t col, const std::string& what) {
    *error = fmt::format("{}:{}:{}: {}", file, line_no, col + 1, what);
    return std::nullopt;
  };
  int scenario_line = 0;
  auto finish = [&]() -> bool {
    if (out.empty()) return true;
    const std::string why = check_scenario(out.back());
    if (why.empty()) return true;
    *error = fmt::format("{}:{}:1: {}", file, scenario_line, why);
    return false;
  };
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    ++line_no;
    std::string line = text.substr(start, end - start);
    start = end + 1;
    if (const size_t hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    // Words and their columns.
    std::vector<std::string> words;
    std::vector<size_t> cols;
    for (size_t i = 0; i < line.size();) {
      const unsigned char c = static_cast<unsigned char>(line[i]);
      if (c == ' ' || c == '\t' || c == '\r') {
        ++i;
        continue;
      }
      if (c < 0x20 || c >= 0x7f) return at(i, "unexpected character (settings are printable ASCII)");
      size_t j = i;
      while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != '\r') ++j;
      words.push_back(line.substr(i, j - i));
      cols.push_back(i);
      i = j;
    }
    if (words.empty()) {
      if (end == text.size()) break;
      continue;
    }
    if (words[0] == "scenario") {
      if (words.size() != 2) return at(words.size() < 2 ? line.size() : cols[2], "expected 'scenario NAME' (one word)");
      if (!finish()) return std::nullopt;
      out.emplace_back();
      out.back().name = words[1];
      out.back().where = fmt::format("{}:{}", file, line_no);
      scenario_line = line_no;
    } else {
      if (out.empty()) return at(cols[0], "expected 'scenario NAME' before the first setting");
      std::string why;
      size_t bad = 0;
      const std::vector<std::string> values(words.begin() + 1, words.end());
      if (!apply_setting(out.back(), words[0], values, &why, &bad)) {
        const size_t col = bad == SIZE_MAX ? cols[0] : bad < values.size() ? cols[bad + 1] : line.size();
        return at(col, why);
      }
    }
    if (end == text.size()) break;
  }
  if (out.empty()) {
    *error = fmt::format("{}:{}:1: expected at least one 'scenario NAME'", file, line_no);
    return std::nullopt;
  }
  if (!finish()) return std::nullopt;
  return out;
}

}  // namespace eo::herd
