// The chart as a gnuplot script (data inline as datablocks), run by gnuplot with the script
// on its standard input. Script and gnuplot's messages live in memfds: no temporary file.
#include "plot.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

extern char** environ;

namespace eo::plot {

namespace {

// Length of the valid UTF-8 sequence at s[i], 0 if the bytes there are not one.
size_t utf8_length(const std::string& s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n = 0;
  unsigned min = 0;
  unsigned cp = 0;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) n = 2, min = 0x80, cp = c & 0x1F;
  else if ((c & 0xF0) == 0xE0) n = 3, min = 0x800, cp = c & 0x0F;
  else if ((c & 0xF8) == 0xF0) n = 4, min = 0x10000, cp = c & 0x07;
  else return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (cc & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

// A text as a gnuplot single-quoted string: only '' is special inside one. Control bytes
// would end the script's line and bytes that are not UTF-8 would make the SVG ill-formed
// XML, so they become a space and '?'. (gnuplot's SVG terminal escapes & < > itself.)
std::string quoted(const std::string& s) {
  std::string out = "'";
  for (size_t i = 0; i < s.size();) {
    const size_t n = utf8_length(s, i);
    const auto c = static_cast<unsigned char>(s[i]);
    if (n == 0) {
      out += '?';
      i += 1;
    } else if (n == 1 && (c < 0x20 || c == 0x7F)) {
      out += ' ';
      i += 1;
    } else {
      if (c == '\'') out += '\'';
      out.append(s, i, n);
      i += n;
    }
  }
  return out + "'";
}

std::string number(double v) { return fmt::format("{:.17g}", v); }

const char* with_style(Chart::Style s) {
  switch (s) {
    case Chart::Style::kLines: return "lines";
    case Chart::Style::kPoints: return "points";
    case Chart::Style::kLinesPoints: return "linespoints";
    case Chart::Style::kBars: return "boxes";
  }
  return "linespoints";
}

bool finite_point(const std::pair<double, double>& p) { return std::isfinite(p.first) && std::isfinite(p.second); }

std::string script(const Chart& c, const std::string& path) {
  std::string s;
  s += "set encoding utf8\n";
  // noenhanced: ^ _ @ & { } in texts are themselves, not markup.
  s += "set terminal svg size 900,560 dynamic noenhanced font 'sans,12' background '#ffffff'\n";
  s += "set output " + quoted(path) + "\n";
  s += "set title " + quoted(c.title) + "\n";
  s += "set xlabel " + quoted(c.x_label) + "\n";
  s += "set ylabel " + quoted(c.y_label) + "\n";
  s += "set grid\nset key outside right top\n";
  if (c.log_x) s += "set logscale x\n";
  if (c.log_y) s += "set logscale y\n";
  const bool bars = c.style == Chart::Style::kBars;
  if (!c.x_tics.empty()) {
    s += "set xtics (";
    for (size_t i = 0; i < c.x_tics.size(); ++i) s += fmt::format("{}{} {}", i ? ", " : "", quoted(c.x_tics[i]), i);
    s += ")\n";
    s += fmt::format("set xrange [-0.6:{}]\n", static_cast<double>(c.x_tics.size()) - 0.4);
  }
  // Bars: each series' boxes shifted within its category's 0.8 wide slot.
  size_t drawn = 0;
  for (const Series& se : c.series) drawn += std::any_of(se.points.begin(), se.points.end(), finite_point);
  const double width = bars ? 0.8 / static_cast<double>(drawn ? drawn : 1) : 0;
  if (bars) s += fmt::format("set boxwidth {} absolute\nset style fill solid 0.8 border -1\n", number(width));

  std::string plot;
  size_t k = 0;
  for (size_t i = 0; i < c.series.size(); ++i) {
    const Series& se = c.series[i];
    if (!std::any_of(se.points.begin(), se.points.end(), finite_point)) continue;
    const double shift = bars ? -0.4 + width * (static_cast<double>(k) + 0.5) : 0;
    s += fmt::format("$d{} << EOD\n", i);
    for (const auto& p : se.points) {
      if (finite_point(p)) s += number(p.first + shift) + " " + number(p.second) + "\n";
    }
    s += "EOD\n";
    plot += fmt::format("{}$d{} using 1:2 with {} title {}", k ? ", " : "plot ", i, with_style(c.style), quoted(se.name));
    ++k;
  }
  return s + plot + "\nunset output\n";
}

// A memfd holding bytes, its offset at 0 (the child reads it as its standard input).
int memfd_with(const char* name, const std::string& bytes) {
  const int fd = memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) return -1;
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      close(fd);
      return -1;
    }
    done += static_cast<size_t>(n);
  }
  if (lseek(fd, 0, SEEK_SET) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

std::string read_all(int fd) {
  std::string out;
  if (lseek(fd, 0, SEEK_SET) != 0) return out;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// gnuplot's messages, trimmed and on one line for the error text.
std::string one_line(const std::string& s) {
  std::string out;
  for (const char ch : s) {
    const bool space = ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t';
    if (!space) out += ch;
    else if (!out.empty() && out.back() != ' ') out += ' ';
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  if (out.size() > 600) out = out.substr(0, 600) + "...";
  return out;
}

// Runs `gnuplot -d` (no init files) with the script on stdin; false and *error on failure.
bool run_gnuplot(const std::string& text, std::string* error) {
  const int in = memfd_with("eo-gnuplot-script", text);
  const int err = memfd_with("eo-gnuplot-stderr", "");
  if (in < 0 || err < 0) {
    *error = fmt::format("gnuplot: cannot make its input: {}", std::strerror(errno));
    if (in >= 0) close(in);
    if (err >= 0) close(err);
    return false;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, err, 2);
  char arg0[] = "gnuplot";
  char arg1[] = "-d";
  char* argv[] = {arg0, arg1, nullptr};
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, "gnuplot", &fa, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(in);
  if (rc != 0) {
    close(err);
    *error = rc == ENOENT ? "gnuplot not found in PATH (Debian package gnuplot-nox, see scripts/install-deps.sh)"
                          : fmt::format("gnuplot: cannot start it: {}", std::strerror(rc));
    return false;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const std::string messages = one_line(read_all(err));
  close(err);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
  *error = WIFEXITED(status) ? fmt::format("gnuplot failed (exit status {})", WEXITSTATUS(status))
                             : fmt::format("gnuplot killed by signal {}", WTERMSIG(status));
  if (!messages.empty()) *error += ": " + messages;
  return false;
}

}  // namespace

bool write_svg(const Chart& chart, const std::string& path, std::string* error) {
  std::string ignored;
  if (!error) error = &ignored;
  const bool any = std::any_of(chart.series.begin(), chart.series.end(), [](const Series& s) {
    return std::any_of(s.points.begin(), s.points.end(), finite_point);
  });
  if (!any) {
    *error = fmt::format("{}: the chart has no point to draw", path);
    return false;
  }
  unlink(path.c_str());  // so that an old file cannot pass for the new chart
  if (!run_gnuplot(script(chart, path), error)) {
    unlink(path.c_str());  // a half-written chart is no chart
    return false;
  }
  // gnuplot reports an output it cannot open only as a warning: check that the SVG is there.
  if (access(path.c_str(), R_OK) != 0) {
    *error = fmt::format("{}: gnuplot wrote no chart", path);
    return false;
  }
  return true;
}

}  // namespace eo::plot
