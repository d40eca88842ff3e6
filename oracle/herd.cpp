#include "oracle/herd.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "oracle/herd_metrics.h"
#include "oracle/herd_model.h"
#include "oracle/herd_scenario.h"
#include "oracle/output_file.h"
#include "oracle/plot.h"
#include "oracle/trace/trace_file.h"
#include "real/herd.h"

namespace eo::herd {

namespace {

using json = nlohmann::json;

std::string describe(const Scenario& s) {
  if (s.wait == Wait::kWait14)
    return fmt::format("one task, {} ready pipes in one LT epoll, epoll_wait(maxevents {}) {} times", s.fds, s.maxevents,
                       s.rounds);
  std::string arrival = name_of(s.arrival);
  if (s.arrival == Arrival::kBurst) arrival += fmt::format(" {}", s.burst);
  if (s.arrival == Arrival::kPoisson) arrival += fmt::format(" {}/ms seed {}", s.rate_per_ms, s.seed);
  std::string how = name_of(s.wait);
  if (s.wait != Wait::kBlocking && s.wait != Wait::kReuseport) how += std::string(" epoll ") + name_of(s.trigger);
  return fmt::format("{} source, {}, {} workers, {} events, {}{}{}", name_of(s.source), how, s.workers, s.events, arrival,
                     s.service_ns ? fmt::format(", service {} ns", s.service_ns) : "", s.consume ? "" : ", no consume");
}

std::string opt_num(const std::optional<double>& v, const char* fmt_s = "{:.2f}") {
  return v ? fmt::format(fmt::runtime(fmt_s), *v) : std::string("inf");
}

std::string ns_text(const std::optional<int64_t>& v) {
  if (!v) return "-";
  if (*v >= 10000000) return fmt::format("{:.1f}ms", static_cast<double>(*v) / 1e6);
  if (*v >= 10000) return fmt::format("{:.1f}us", static_cast<double>(*v) / 1e3);
  return fmt::format("{}ns", *v);
}

std::string shares(const Summary& s) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < s.share.size() && i < 16; ++i) parts.push_back(fmt::format("{:.0f}", s.share[i] * 100));
  return fmt::format("{}{}%", fmt::join(parts, "/"), s.share.size() > 16 ? "/..." : "");
}

std::string list_text(const std::vector<int>& v, size_t max = 24) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < v.size() && i < max; ++i) parts.push_back(std::to_string(v[i]));
  return fmt::format("{}{}", fmt::join(parts, ","), v.size() > max ? ",..." : "");
}

std::string list_text(const std::vector<int64_t>& v, size_t max = 24) {
  return list_text(std::vector<int>(v.begin(), v.end()), max);
}

// The rows of the table for one run.
std::vector<std::pair<std::string, std::string>> rows(const Scenario& sc, const Run& r) {
  if (!r.error.empty()) return {{"error", r.error}};
  if (sc.wait == Wait::kWait14) {
    std::vector<std::string> rounds;
    for (const auto& round : r.rounds) rounds.push_back("[" + list_text(round) + "]");
    return {{"reports per fd", list_text(r.fd_reports, 64)},
            {"rounds", fmt::format("{}", fmt::join(rounds, " "))},
            {"gini of reports", fmt::format("{:.3f}", gini(r.fd_reports))},
            {"seconds", fmt::format("{:.3f}", r.seconds)}};
  }
  const Summary s = summarize(r);
  std::vector<std::pair<std::string, std::string>> out = {
      {sc.consume ? "handlers" : "first to return", s.handlers},
      {"woken per event", r.woken.empty() ? "-" : list_text(r.woken)},
      {"returned per event", r.returned.empty() ? "-" : list_text(r.returned)},
      {"wakeups/event", fmt::format("{:.2f}", s.wakeups_per_event)},
      {"returns/event", fmt::format("{:.2f}", s.returns_per_event)},
      {"wasted/event", fmt::format("{:.2f}", s.wasted_per_event)},
      {sc.consume ? "handled per worker" : "returns per worker", list_text(r.handled)},
      {"share", shares(s)},
      {"max/min", opt_num(s.max_min)},
      {"gini", fmt::format("{:.3f}", s.gini)},
      {"latency p50/p99/max", fmt::format("{}/{}/{}", ns_text(s.p50), ns_text(s.p99), ns_text(s.pmax))},
      {"seconds", fmt::format("{:.3f}", r.seconds)}};
  return out;
}

// Exact agreement on what a deterministic scenario fixes.
// With consume no, where more than one worker returns for an event (LT, non-exclusive
// per-worker epolls) the counts are fixed, but not which returns to user space first:
// the first one woken re-wakes the next (ep_done_scan) before it leaves the kernel.
bool same_outcome(const Scenario& s, const Run& a, const Run& b) {
  const bool one_returns = (s.wait == Wait::kPerWorker && s.trigger == Trigger::kExclusive) ||
                           (s.wait == Wait::kShared && (s.trigger == Trigger::kEdge || s.trigger == Trigger::kOneshot));
  const bool handlers_fixed = s.consume || one_returns;
  return a.error.empty() && b.error.empty() && (!handlers_fixed || a.handler == b.handler) && a.woken == b.woken &&
         a.returned == b.returned &&
         a.handled == b.handled && a.fd_reports == b.fd_reports && a.rounds == b.rounds;
}

json run_json(const Scenario& sc, const Run& r) {
  json j = {{"executor", r.executor}, {"seconds", r.seconds}};
  if (!r.error.empty()) j["error"] = r.error;
  if (sc.wait == Wait::kWait14) {
    j["fd_reports"] = r.fd_reports;
    j["rounds"] = r.rounds;
    return j;
  }
  const Summary s = summarize(r);
  auto opt = [](const auto& v) { return v ? json(*v) : json(nullptr); };
  j.update({{"handler", r.handler}, {"woken", r.woken}, {"returned", r.returned}, {"latency_ns", r.latency_ns},
            {"handled", r.handled}, {"wakeups", r.wakeups}, {"returns", r.returns}, {"empty", r.empty},
            {"summary",
             {{"events", s.events}, {"consumed", s.consumed}, {"wakeups", s.wakeups}, {"returns", s.returns},
              {"wasted", s.wasted}, {"wakeups_per_event", s.wakeups_per_event}, {"returns_per_event", s.returns_per_event},
              {"wasted_per_event", s.wasted_per_event}, {"share", s.share}, {"max_min", opt(s.max_min)}, {"gini", s.gini},
              {"latency_p50_ns", opt(s.p50)}, {"latency_p90_ns", opt(s.p90)}, {"latency_p99_ns", opt(s.p99)},
              {"latency_max_ns", opt(s.pmax)}}}});
  return j;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

constexpr const char* kCsvHeader =
    "scenario,executor,source,wait,trigger,workers,events,arrival,service_ns,consumed,wakeups,returns,wasted,"
    "wakeups_per_event,returns_per_event,wasted_per_event,max_min,gini,latency_p50_ns,latency_p99_ns,latency_max_ns,"
    "handlers,handled,seconds,error\n";

std::string csv_row(const Scenario& sc, const Run& r) {
  const Summary s = summarize(r, SIZE_MAX);
  auto opt = [](const auto& v) { return v ? fmt::format("{}", *v) : std::string(); };
  const std::vector<int64_t>& handled = sc.wait == Wait::kWait14 ? r.fd_reports : r.handled;
  return fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{:.4f},{:.4f},{:.4f},{},{:.4f},{},{},{},{},{},{:.4f},{}\n",
                     csv_field(sc.name), r.executor, name_of(sc.source), name_of(sc.wait), name_of(sc.trigger),
                     sc.workers, sc.events, name_of(sc.arrival), sc.service_ns, s.consumed, s.wakeups, s.returns,
                     s.wasted, s.wakeups_per_event, s.returns_per_event, s.wasted_per_event, opt(s.max_min),
                     sc.wait == Wait::kWait14 ? gini(r.fd_reports) : s.gini, opt(s.p50), opt(s.p99), opt(s.pmax),
                     csv_field(s.handlers), csv_field(list_text(handled, SIZE_MAX)), r.seconds, csv_field(r.error));
}

bool write_out(const std::string& path, const std::string& text, const char* what, std::ostream& err) {
  std::string why;
  if (path.empty() || write_file_atomically(path, text, &why)) return true;
  err << "epoll-oracle: " << what << " " << path << ": " << why << "\n";
  return false;
}

bool chart(const plot::Chart& c, const std::string& dir, const std::string& name, std::ostream& out, std::ostream& err) {
  std::string why;
  const std::string path = dir + "/" + name + ".svg";
  if (!plot::write_svg(c, path, &why)) {
    err << "epoll-oracle: chart " << path << ": " << why << "\n";
    return false;
  }
  out << "chart: " << path << "\n";
  return true;
}

std::string file_name(const std::string& s) {
  std::string out;
  for (char c : s) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '_';
  return out.empty() ? "scenario" : out;
}

struct Result {
  Scenario sc;
  std::optional<Run> model, kernel;
};

// Per-worker share, model and kernel side by side, as bars.
plot::Chart share_chart(const Result& r) {
  plot::Chart c;
  c.title = r.sc.name + ": events handled per worker";
  c.x_label = "worker";
  c.y_label = "events handled";
  c.style = plot::Chart::Style::kBars;
  const int n = std::min(r.sc.workers, 64);
  for (int i = 0; i < n; ++i) c.x_tics.push_back(std::to_string(i));
  for (const auto* run : {&r.model, &r.kernel}) {
    if (!*run || !(*run)->error.empty() || (*run)->handled.empty()) continue;
    plot::Series s{(*run)->executor, {}};
    for (int i = 0; i < n; ++i) s.points.emplace_back(i, static_cast<double>((*run)->handled[i]));
    c.series.push_back(std::move(s));
  }
  return c;
}

int run_scenarios(const Command& c, const std::vector<Scenario>& all, const model::KernelProfile& profile,
                  std::ostream& out, std::ostream& err) {
  std::vector<Result> results;
  int status = 0;
  std::string csv = kCsvHeader;
  json j = json::array();
  for (const Scenario& sc : all) {
    Result r{sc, {}, {}};
    if (c.on_model) r.model = run_on_model(sc, profile);
    if (c.on_kernel) r.kernel = real::run_herd(sc, {.watchdog_ms = c.watchdog_ms});
    const auto [det, why] = deterministic(sc);
    out << "scenario " << sc.name << (sc.where.empty() ? "" : " (" + sc.where + ")") << ": " << describe(sc) << "\n";
    std::vector<std::vector<std::pair<std::string, std::string>>> cols;
    std::vector<std::string> heads;
    for (const auto* run : {&r.model, &r.kernel}) {
      if (!*run) continue;
      cols.push_back(rows(sc, **run));
      heads.push_back((*run)->executor);
      if (!(*run)->error.empty()) status = 1;
    }
    size_t w0 = 20, w1 = 14;
    for (const auto& col : cols)
      for (const auto& [k, v] : col) w0 = std::max(w0, k.size() + 2), w1 = std::max(w1, v.size() + 2);
    w1 = std::min<size_t>(w1, 60);
    out << fmt::format("  {:<{}}", "", w0);
    for (const auto& h : heads) out << fmt::format("{:<{}}", h, w1);
    out << "\n";
    for (size_t row = 0; !cols.empty() && row < cols[0].size(); ++row) {
      out << fmt::format("  {:<{}}", cols[0][row].first, w0);
      for (const auto& col : cols) out << fmt::format("{:<{}}", row < col.size() ? col[row].second : "", w1);
      out << "\n";
    }
    std::string verdict;
    if (r.model && r.kernel) {
      if (!det) {
        verdict = "racy: compare distributions (" + why + ")";
      } else if (same_outcome(sc, *r.model, *r.kernel)) {
        verdict = "agree exactly (" + why + ")";
      } else {
        verdict = "DIFFER: a deterministic scenario (" + why + ")";
        status = 1;
      }
    } else {
      verdict = std::string(det ? "deterministic" : "racy") + " (" + why + ")";
    }
    out << "  verdict: " << verdict << "\n\n";
    json sj = {{"scenario", sc.name}, {"where", sc.where}, {"description", describe(sc)}, {"deterministic", det},
               {"why", why}, {"verdict", verdict}};
    for (const auto* run : {&r.model, &r.kernel}) {
      if (!*run) continue;
      csv += csv_row(sc, **run);
      sj[(*run)->executor] = run_json(sc, **run);
    }
    j.push_back(std::move(sj));
    results.push_back(std::move(r));
  }
  if (!write_out(c.csv, csv, "--csv", err) || !write_out(c.json, j.dump(2) + "\n", "--json", err)) return 2;
  if (!c.svg_dir.empty()) {
    for (const Result& r : results) {
      if (r.sc.wait == Wait::kWait14) continue;
      const plot::Chart ch = share_chart(r);
      if (!ch.series.empty() && !chart(ch, c.svg_dir, file_name(r.sc.name) + "-share", out, err)) status = std::max(status, 1);
    }
  }
  return status;
}

// The sweep: wakeups and wasted wakeups per event against the number of workers, for one
// shared LT epoll, one shared ET epoll, per-worker EXCLUSIVE and per-worker LT epolls.
int run_sweep(const Command& c, Scenario base, const model::KernelProfile& profile, std::ostream& out,
              std::ostream& err) {
  const std::pair<const char*, std::pair<Wait, Trigger>> kinds[] = {
      {"shared LT", {Wait::kShared, Trigger::kLevel}},
      {"shared ET", {Wait::kShared, Trigger::kEdge}},
      {"per-worker EXCLUSIVE", {Wait::kPerWorker, Trigger::kExclusive}},
      {"per-worker LT", {Wait::kPerWorker, Trigger::kLevel}}};
  std::vector<plot::Series> wake_series, wasted_series;
  std::string csv = kCsvHeader;
  json j = json::array();
  int status = 0;
  out << fmt::format("sweep: {} source, {} events per point, {}\n\n", name_of(base.source), base.events,
                     name_of(base.arrival));
  out << fmt::format("{:<22}{:>8}  {:>14}{:>14}{:>10}  {:>14}{:>14}{:>10}\n", "kind", "workers", "model wake/ev",
                     "wasted/ev", "seconds", "kernel wake/ev", "wasted/ev", "seconds");
  for (const auto& [label, kind] : kinds) {
    plot::Series mw{std::string(label) + " model", {}}, kw{std::string(label) + " kernel", {}};
    plot::Series mx{std::string(label) + " model", {}}, kx{std::string(label) + " kernel", {}};
    for (int n : c.sweep_workers) {
      Scenario s = base;
      s.wait = kind.first;
      s.trigger = kind.second;
      s.workers = n;
      s.name = fmt::format("sweep {} {}", label, n);
      const Run m = run_on_model(s, profile);
      const Summary ms = summarize(m);
      std::optional<Run> k;
      std::optional<Summary> ks;
      if (c.on_kernel && n <= c.kernel_max && n <= real::kMaxHerdWorkers) {
        k = real::run_herd(s, {.watchdog_ms = c.watchdog_ms});
        ks = summarize(*k);
      }
      if (!m.error.empty() || (k && !k->error.empty())) {
        err << "epoll-oracle: " << s.name << ": " << (m.error.empty() ? k->error : m.error) << "\n";
        status = 1;
      }
      out << fmt::format("{:<22}{:>8}  {:>14.2f}{:>14.2f}{:>10.3f}  {:>14}{:>14}{:>10}\n", label, n,
                         ms.wakeups_per_event, ms.wasted_per_event, m.seconds,
                         ks ? fmt::format("{:.2f}", ks->wakeups_per_event) : "-",
                         ks ? fmt::format("{:.2f}", ks->wasted_per_event) : "-",
                         k ? fmt::format("{:.3f}", k->seconds) : "-");
      mw.points.emplace_back(n, ms.wakeups_per_event);
      mx.points.emplace_back(n, ms.wasted_per_event);
      csv += csv_row(s, m);
      json pj = {{"kind", label}, {"workers", n}, {"model", run_json(s, m)}};
      if (k) {
        kw.points.emplace_back(n, ks->wakeups_per_event);
        kx.points.emplace_back(n, ks->wasted_per_event);
        csv += csv_row(s, *k);
        pj["kernel"] = run_json(s, *k);
      }
      // Keep the JSON small: the sweep's per-event arrays are not needed.
      for (const char* e : {"model", "kernel"})
        if (pj.contains(e))
          for (const char* f : {"handler", "woken", "returned", "latency_ns", "handled", "wakeups", "returns", "empty"})
            pj[e].erase(f);
      j.push_back(std::move(pj));
    }
    wake_series.push_back(std::move(mw));
    wasted_series.push_back(std::move(mx));
    if (!kw.points.empty()) wake_series.push_back(std::move(kw)), wasted_series.push_back(std::move(kx));
  }
  if (!write_out(c.csv, csv, "--csv", err) || !write_out(c.json, j.dump(2) + "\n", "--json", err)) return 2;
  if (!c.svg_dir.empty()) {
    plot::Chart w{"wakeups per event against workers (" + std::string(name_of(base.source)) + " listener)", "workers",
                  "kernel-level wakeups per event", true, true, plot::Chart::Style::kLinesPoints, {}, wake_series};
    plot::Chart x{"wasted wakeups per event against workers", "workers", "wasted wakeups per event", true, false,
                  plot::Chart::Style::kLinesPoints, {}, wasted_series};
    if (!chart(w, c.svg_dir, "sweep-wakeups", out, err) || !chart(x, c.svg_dir, "sweep-wasted", out, err))
      status = std::max(status, 1);
  }
  return status;
}

}  // namespace

std::pair<bool, std::string> deterministic(const Scenario& s) {
  if (s.wait == Wait::kWait14) return {true, "one task: ep_send_events requeues each delivered LT item at the tail"};
  if (s.arrival != Arrival::kOneAtATime)
    return {false, "several events in flight: which worker takes which depends on when each runs"};
  if (!s.consume) {
    if (s.wait == Wait::kShared)
      return {true, "nobody consumes: ep_done_scan re-wakes the next waiter while an LT item stays ready (which of "
                    "them returns first is a race); ET is not requeued"};
    if (s.wait == Wait::kPerWorker && s.trigger == Trigger::kExclusive)
      return {true, "EPOLLEXCLUSIVE: ep_poll_callback wakes only an epoll with a waiter, the first in the source's queue"};
    if (s.wait == Wait::kPerWorker)
      return {true, "every epoll's entry on the source's queue is woken (non-exclusive); which returns first is a race"};
    return {false, "nested epolls: the outer wakeups come from the inner epoll's poll, racing its scan"};
  }
  switch (s.wait) {
    case Wait::kBlocking:
      if (s.source == Source::kEventfd)
        return {false, "eventfd_read sleeps non-exclusively (wait_event_interruptible_locked_irq): every reader is "
                       "woken and races for the count"};
      if (s.source == Source::kSocketpair)
        return {false, "unix_stream_data_wait sleeps non-exclusively (prepare_to_wait): every reader is woken"};
      return {true, "a blocking waiter queues exclusively at the tail (prepare_to_wait_exclusive in "
                    "inet_csk_wait_for_connect, __skb_wait_for_more_packets, pipe_read's wait_event_interruptible_exclusive): "
                    "FIFO, one woken per event"};
    case Wait::kShared:
      if (s.trigger == Trigger::kEdge || s.trigger == Trigger::kOneshot)
        return {true, "ep_poll queues waiters at the head (__add_wait_queue_exclusive): the last to sleep is woken; an ET "
                      "or ONESHOT item is not requeued, so ep_done_scan wakes nobody else"};
      return {false, "LT: ep_done_scan re-wakes the next waiter for the requeued item, which races the first one's accept"};
    case Wait::kPerWorker:
      if (s.trigger == Trigger::kExclusive)
        return {true, "add_wait_queue_exclusive in ep_ptable_queue_proc: entries in registration order, and "
                      "ep_poll_callback wakes the first epoll that has a waiter"};
      return {false, "every worker's epoll is woken (non-exclusive entries): who consumes first is a race"};
    case Wait::kNested: return {false, "the inner epoll wakes every outer one: who consumes first is a race"};
    case Wait::kReuseport:
      return {false, "reuseport_select_sock picks a listener by a hash of the 4-tuple with a boot-time secret"};
    case Wait::kWait14: break;
  }
  return {false, ""};
}

int cmd_herd(const Command& c, const model::KernelProfile& profile, std::ostream& out, std::ostream& err) {
  std::vector<Scenario> all;
  for (const std::string& f : c.files) {
    std::string text, why;
    if (!read_trace_file(f, &text, &why)) {
      err << "epoll-oracle: " << f << ": " << why << "\n";
      return 2;
    }
    auto parsed = parse_scenarios(text, f, &why);
    if (!parsed) {
      err << why << "\n";
      return 2;
    }
    all.insert(all.end(), parsed->begin(), parsed->end());
  }
  if (all.empty()) {
    all.emplace_back();
    all.back().name = "command-line";
  }
  for (Scenario& s : all) {
    for (const auto& [key, values] : c.settings) {
      std::string why;
      if (!apply_setting(s, key, values, &why)) {
        err << "epoll-oracle: --" << key << ": " << why << "\n";
        return 2;
      }
    }
    if (const std::string why = check_scenario(s); !why.empty()) {
      err << "epoll-oracle: " << (s.where.empty() ? "the options" : s.where) << ": " << why << "\n";
      return 2;
    }
  }
  // Before any run: a sweep takes its time, and should not end in an unwritable --svg.
  if (std::string why; !c.svg_dir.empty() && !prepare_output_dir(c.svg_dir, &why)) {
    err << "epoll-oracle: --svg " << c.svg_dir << ": " << why << "\n";
    return 2;
  }
  if (c.sweep) return run_sweep(c, all.front(), profile, out, err);
  return run_scenarios(c, all, profile, out, err);
}

}  // namespace eo::herd
