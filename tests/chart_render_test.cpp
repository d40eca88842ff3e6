// Charts made by oracle/plot render in headless Chromium: a screenshot that is not blank,
// no console message, XML Chromium can parse. And the check itself fails on a broken, a
// blank and a noisy SVG (so it cannot pass whatever it is given).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "chromium_render.h"
#include "oracle/herd_cost.h"
#include "oracle/plot.h"

namespace fs = std::filesystem;
using eo::plot::Chart;
using eo::test::render_svg;

namespace {

fs::path scratch(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("eo-render-" + std::to_string(getpid()) + "-" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + "\n";
  return s;
}

bool mentions(const std::vector<std::string>& problems, const std::string& what) {
  return std::any_of(problems.begin(), problems.end(), [&](const std::string& p) { return p.find(what) != std::string::npos; });
}

Chart loglog() {
  Chart c;
  c.title = "poll vs epoll: it's <O(N)> & \"O(K)\"";
  c.x_label = "N";
  c.y_label = "ns per call";
  c.log_x = c.log_y = true;
  c.series.push_back({"poll", {{10, 300}, {100, 2500}, {1000, 24000}, {10000, 260000}}});
  c.series.push_back({"epoll_wait", {{10, 200}, {100, 210}, {1000, 220}, {10000, 240}}});
  return c;
}

Chart bars() {
  Chart c;
  c.title = "accepts per worker";
  c.style = Chart::Style::kBars;
  c.x_tics = {"w0", "w1", "w2"};
  c.series.push_back({"model", {{0, 2}, {1, 2}, {2, 2}}});
  c.series.push_back({"kernel", {{0, 3}, {1, 1}, {2, 2}}});
  return c;
}

TEST(ChartRender, GnuplotChartsRenderInChromium) {
  const fs::path d = scratch("charts");
  for (const auto& [name, chart] : {std::pair{"loglog.svg", loglog()}, std::pair{"bars.svg", bars()}}) {
    std::string error;
    ASSERT_TRUE(eo::plot::write_svg(chart, (d / name).string(), &error)) << error;
    const auto r = render_svg((d / name).string());
    ASSERT_TRUE(r.ran) << r.error;
    EXPECT_TRUE(r.problems.empty()) << name << ":\n" << joined(r.problems);
    EXPECT_GE(r.colours, 3u) << name;  // background, axes and text, at least one series colour
    EXPECT_GT(r.off_background, 1000u) << name;
  }
  fs::remove_all(d);
}

// The chart `herd cost --svg` draws (model side only, a short sweep).
TEST(ChartRender, TheCostChartRenders) {
  const fs::path d = scratch("cost");
  eo::CostOptions o;
  o.n = {10, 100, 1000};
  o.on_kernel = false;
  o.seconds_per_point = 0;
  o.min_calls = 3;
  o.progress = false;
  std::ostringstream out, err;
  ASSERT_EQ(eo::cmd_herd_cost(o, "", "", (d / "cost.svg").string(), out, err), 0) << err.str();
  const auto r = render_svg((d / "cost.svg").string());
  ASSERT_TRUE(r.ran) << r.error;
  EXPECT_TRUE(r.problems.empty()) << joined(r.problems);
  EXPECT_GE(r.colours, 5u);  // four curves besides axes and background
  fs::remove_all(d);
}

// A chart cut in half (as a crash while writing would leave it): ill-formed XML.
TEST(ChartRender, ACutChartFails) {
  const fs::path d = scratch("cut");
  std::string error;
  ASSERT_TRUE(eo::plot::write_svg(loglog(), (d / "c.svg").string(), &error)) << error;
  fs::resize_file(d / "c.svg", fs::file_size(d / "c.svg") / 2);
  const auto r = render_svg((d / "c.svg").string());
  ASSERT_TRUE(r.ran) << r.error;
  EXPECT_TRUE(mentions(r.problems, "could not parse")) << joined(r.problems);
  fs::remove_all(d);
}

TEST(ChartRender, ABlankSvgFails) {
  const fs::path d = scratch("blank");
  std::ofstream(d / "b.svg") << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"900\" height=\"560\">"
                                "<rect width=\"900\" height=\"560\" fill=\"#ffffff\"/></svg>\n";
  const auto r = render_svg((d / "b.svg").string());
  ASSERT_TRUE(r.ran) << r.error;
  EXPECT_TRUE(mentions(r.problems, "blank screenshot")) << joined(r.problems);
  fs::remove_all(d);
}

TEST(ChartRender, ConsoleErrorsFail) {
  const fs::path d = scratch("console");
  std::ofstream(d / "s.svg") << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"200\" height=\"100\">"
                                "<rect width=\"100\" height=\"100\" fill=\"red\"/>"
                                "<script>console.error('planted'); no_such_function();</script></svg>\n";
  const auto r = render_svg((d / "s.svg").string());
  ASSERT_TRUE(r.ran) << r.error;
  EXPECT_TRUE(mentions(r.problems, "planted")) << joined(r.problems);
  EXPECT_TRUE(mentions(r.problems, "no_such_function")) << joined(r.problems);
  fs::remove_all(d);
}

TEST(ChartRender, LeavesNoTemporaryDirectory) {
  const fs::path d = scratch("tmp");
  std::string error;
  ASSERT_TRUE(eo::plot::write_svg(bars(), (d / "b.svg").string(), &error)) << error;
  const auto r = render_svg((d / "b.svg").string());
  ASSERT_TRUE(r.ran) << r.error;
  ASSERT_FALSE(r.temp_dir.empty());
  EXPECT_FALSE(fs::exists(r.temp_dir)) << r.temp_dir;
  fs::remove_all(d);
}

}  // namespace
