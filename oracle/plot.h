// Charts as SVG, drawn by gnuplot's SVG terminal (Debian package gnuplot-nox): the herd
// lab's and the poll/epoll cost sweep's pictures. Never hand-written SVG.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace eo::plot {

struct Series {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y); non-finite points are left out
};

struct Chart {
  std::string title, x_label, y_label;
  bool log_x = false, log_y = false;
  enum class Style { kLines, kPoints, kLinesPoints, kBars } style = Style::kLinesPoints;
  // For bars: category names, x = 0, 1, ... is the index of a point's category; several
  // series stand side by side in each category. Empty = numeric x axis.
  std::vector<std::string> x_tics;
  std::vector<Series> series;
};

// Draws the chart as SVG with gnuplot into path; false and *error on failure (gnuplot
// missing or failing, no point to draw). Texts may hold any bytes: they are escaped.
bool write_svg(const Chart& chart, const std::string& path, std::string* error);

}  // namespace eo::plot
