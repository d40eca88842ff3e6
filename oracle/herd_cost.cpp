// `herd cost`: the sweep over N and K, its table, CSV, JSON and chart.
#include "oracle/herd_cost.h"

#include <fmt/format.h>

#include <unistd.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "oracle/output_file.h"
#include "oracle/plot.h"

namespace eo {

bool parse_k(const std::string& spec, int n, int* k, std::string* error) {
  const bool share = !spec.empty() && spec.back() == '%';
  const std::string digits = share ? spec.substr(0, spec.size() - 1) : spec;
  long v = 0;
  size_t used = 0;
  try {
    v = std::stol(digits, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (digits.empty() || used != digits.size() || v <= 0 || (share && v > 100)) {
    *error = fmt::format("K: expected a count above 0 or a share like 10%, got '{}'", spec);
    return false;
  }
  const long kk = share ? static_cast<long>(n) * v / 100 : v;
  *k = static_cast<int>(std::clamp<long>(kk, 1, n));
  return true;
}

namespace {

// The K specs' curves on one log-log chart: per K, kernel and model, poll and epoll_wait.
plot::Chart chart_of(const CostOptions& opt, const std::vector<CostPoint>& points) {
  plot::Chart c;
  c.title = "poll(2) vs epoll_wait(2): time per wait, N watched, K ready";
  c.x_label = "N (watched descriptors)";
  c.y_label = "median ns per call";
  c.log_x = c.log_y = true;
  for (const std::string& spec : opt.k) {
    for (const char* on : {"kernel", "model"}) {
      for (const char* call : {"poll", "epoll_wait"}) {
        plot::Series s{fmt::format("{} {}, K = {}", on, call, spec), {}};
        for (const CostPoint& p : points) {
          std::string ignored;
          int k = 0;
          parse_k(spec, p.n, &k, &ignored);
          if (p.on == on && p.call == call && p.k == k) s.points.emplace_back(p.n, p.median_ns);
        }
        if (!s.points.empty()) c.series.push_back(std::move(s));
      }
    }
  }
  return c;
}

std::string csv_of(const std::vector<CostPoint>& points) {
  std::string s = "executor,call,n,k,median_ns,calls,fop_polls_per_wait\n";
  for (const CostPoint& p : points) {
    s += fmt::format("{},{},{},{},{:.1f},{},{}\n", p.on, p.call, p.n, p.k, p.median_ns, p.calls,
                     p.fop_polls < 0 ? std::string() : std::to_string(p.fop_polls));
  }
  return s;
}

std::string json_of(const std::vector<CostPoint>& points) {
  nlohmann::json j = nlohmann::json::array();
  for (const CostPoint& p : points) {
    nlohmann::json row = {{"executor", p.on}, {"call", p.call},           {"n", p.n},
                          {"k", p.k},         {"median_ns", p.median_ns}, {"calls", p.calls}};
    row["fop_polls_per_wait"] = p.fop_polls < 0 ? nlohmann::json(nullptr) : nlohmann::json(p.fop_polls);
    j.push_back(row);
  }
  return j.dump(2) + "\n";
}

// One line per (N, K): the four times, the model's f_op->poll counts.
void print_table(const std::vector<CostPoint>& points, std::ostream& out) {
  std::map<std::pair<int, int>, std::map<std::string, const CostPoint*>> rows;
  for (const CostPoint& p : points) rows[{p.n, p.k}][p.on + " " + p.call] = &p;
  out << fmt::format("{:>6} {:>6} {:>14} {:>14} {:>14} {:>14} {:>8} {:>8}\n", "N", "K", "kernel poll", "kernel epoll",
                     "model poll", "model epoll", "f_op", "f_op");
  out << fmt::format("{:>6} {:>6} {:>14} {:>14} {:>14} {:>14} {:>8} {:>8}\n", "", "", "ns/call", "ns/call", "ns/call",
                     "ns/call", "poll", "epoll");
  for (const auto& row : rows) {
    const auto& nk = row.first;
    const auto& cells = row.second;  // a named reference: clang 14 lambdas cannot capture bindings
    auto ns = [&](const std::string& key) {
      auto it = cells.find(key);
      return it == cells.end() ? std::string("-") : fmt::format("{:.0f}", it->second->median_ns);
    };
    auto polls = [&](const std::string& key) {
      auto it = cells.find(key);
      return it == cells.end() ? std::string("-") : std::to_string(it->second->fop_polls);
    };
    out << fmt::format("{:>6} {:>6} {:>14} {:>14} {:>14} {:>14} {:>8} {:>8}\n", nk.first, nk.second, ns("kernel poll"),
                       ns("kernel epoll_wait"), ns("model poll"), ns("model epoll_wait"), polls("model poll"),
                       polls("model epoll_wait"));
  }
}

// An output's directory must exist and be writable before the sweep spends its time.
bool output_dir_ok(const std::string& what, const std::string& path, std::ostream& err) {
  if (path.empty()) return true;
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const std::string dir = parent.empty() ? "." : parent.string();
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec) && access(dir.c_str(), W_OK) == 0) return true;
  err << fmt::format("epoll-oracle: {} {}: {} is not a writable directory\n", what, path, dir);
  return false;
}

bool write_output(const std::string& what, const std::string& path, const std::string& text, std::ostream& err) {
  std::string error;
  if (write_file_atomically(path, text, &error)) return true;
  err << fmt::format("epoll-oracle: {} {}: {}\n", what, path, error);
  return false;
}

}  // namespace

int cmd_herd_cost(const CostOptions& opt, const std::string& csv, const std::string& json, const std::string& svg,
                  std::ostream& out, std::ostream& err) {
  // Every K spec checked before anything is measured.
  std::vector<std::pair<int, int>> nk;
  for (int n : opt.n) {
    if (n <= 0) {
      err << fmt::format("epoll-oracle: N: expected a count above 0, got {}\n", n);
      return 2;
    }
    std::vector<int> ks;
    for (const std::string& spec : opt.k) {
      int k = 0;
      std::string error;
      if (!parse_k(spec, n, &k, &error)) {
        err << "epoll-oracle: " << error << "\n";
        return 2;
      }
      if (std::find(ks.begin(), ks.end(), k) == ks.end()) ks.push_back(k);
    }
    for (int k : ks) nk.emplace_back(n, k);
  }
  if (!output_dir_ok("--csv", csv, err) || !output_dir_ok("--json", json, err) || !output_dir_ok("--svg", svg, err)) return 2;
  std::vector<CostPoint> points;
  size_t done = 0;
  const size_t total = nk.size() * ((opt.on_kernel ? 1 : 0) + (opt.on_model ? 1 : 0));
  for (const auto& [n, k] : nk) {
    for (const char* on : {"kernel", "model"}) {
      if ((on == std::string("kernel") && !opt.on_kernel) || (on == std::string("model") && !opt.on_model)) continue;
      std::string error;
      const size_t before = points.size();
      const bool ok = on == std::string("kernel") ? measure_kernel(n, k, opt, &points, &error)
                                                  : measure_model(n, k, opt, &points, &error);
      if (!ok) {
        err << "epoll-oracle: herd cost: " << error << "\n";
        return 1;
      }
      ++done;
      if (opt.progress) {
        std::string line = fmt::format("herd cost [{}/{}] {} N={} K={}:", done, total, on, n, k);
        for (size_t i = before; i < points.size(); ++i) {
          line += fmt::format(" {} {:.0f} ns ({} calls)", points[i].call, points[i].median_ns, points[i].calls);
        }
        err << line << std::endl;
      }
    }
  }
  print_table(points, out);
  bool written = true;
  if (!csv.empty()) written = write_output("--csv", csv, csv_of(points), err) && written;
  if (!json.empty()) written = write_output("--json", json, json_of(points), err) && written;
  if (!svg.empty()) {
    std::string error;
    if (!plot::write_svg(chart_of(opt, points), svg, &error)) {
      err << fmt::format("epoll-oracle: --svg {}: {}\n", svg, error);
      written = false;
    }
  }
  return written ? 0 : 2;
}

}  // namespace eo
