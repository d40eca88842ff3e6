// oracle/plot: charts drawn by gnuplot's SVG terminal. The SVG must be well-formed XML
// whatever the texts hold, failures must say why and leave no file, and nothing is left
// behind (no descriptor, no temporary file).
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "oracle/plot.h"

namespace fs = std::filesystem;
namespace pt = boost::property_tree;
using eo::plot::Chart;

namespace {

fs::path scratch(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("eo-plot-" + std::to_string(getpid()) + "-" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

Chart cost_like() {
  Chart c;
  c.title = "time per wait";
  c.x_label = "watched descriptors";
  c.y_label = "ns per call";
  c.log_x = c.log_y = true;
  c.series.push_back({"poll", {{10, 300}, {100, 2500}, {1000, 24000}, {10000, 260000}}});
  c.series.push_back({"epoll_wait", {{10, 200}, {100, 210}, {1000, 220}, {10000, 240}}});
  return c;
}

// Every <text> of the SVG, its character data decoded (the XML parser fails on ill-formed XML).
std::vector<std::string> svg_texts(const fs::path& file) {
  pt::ptree tree;
  pt::read_xml(file.string(), tree);  // throws on ill-formed XML
  std::vector<std::string> texts;
  std::function<void(const pt::ptree&)> walk = [&](const pt::ptree& t) {
    for (const auto& [key, child] : t) {
      if (key == "text") texts.push_back(child.data());
      walk(child);
    }
  };
  walk(tree.get_child("svg"));
  return texts;
}

bool contains(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

int open_descriptors() {
  int n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

TEST(Plot, DrawsALogLogChartAsSvg) {
  const fs::path d = scratch("loglog");
  std::string error;
  ASSERT_TRUE(eo::plot::write_svg(cost_like(), (d / "c.svg").string(), &error)) << error;
  const auto texts = svg_texts(d / "c.svg");
  EXPECT_TRUE(contains(texts, "time per wait"));
  EXPECT_TRUE(contains(texts, "poll"));
  EXPECT_TRUE(contains(texts, "epoll_wait"));
  EXPECT_TRUE(contains(texts, "watched descriptors"));
  fs::remove_all(d);
}

// Quotes end gnuplot strings, & and < are XML, a newline ends a script line, ^ _ @ { } are
// gnuplot's enhanced-text markup, 0xff is no UTF-8: all must come through as text.
TEST(Plot, OddTextsCannotBreakTheScriptOrTheSvg) {
  const fs::path d = scratch("odd");
  Chart c = cost_like();
  c.title = "it's \"odd\" & <b>\nx\xff^_@{} é";
  const std::string injection = "a'; system('touch " + (d / "pwned").string() + "'); '";
  c.series[0].name = injection;
  std::string error;
  const fs::path out = d / "it's & odd.svg";
  ASSERT_TRUE(eo::plot::write_svg(c, out.string(), &error)) << error;
  const auto texts = svg_texts(out);
  EXPECT_TRUE(contains(texts, "it's \"odd\" & <b> x?^_@{} é"));
  EXPECT_TRUE(contains(texts, injection));
  EXPECT_FALSE(fs::exists(d / "pwned"));
  fs::remove_all(d);
}

TEST(Plot, DrawsBarsWithCategoryNames) {
  const fs::path d = scratch("bars");
  Chart c;
  c.title = "accepts per worker";
  c.style = Chart::Style::kBars;
  c.x_tics = {"worker 0", "worker 1", "worker 2"};
  c.series.push_back({"model", {{0, 2}, {1, 2}, {2, 2}}});
  c.series.push_back({"kernel", {{0, 3}, {1, 1}, {2, 2}}});
  std::string error;
  ASSERT_TRUE(eo::plot::write_svg(c, (d / "b.svg").string(), &error)) << error;
  const auto texts = svg_texts(d / "b.svg");
  EXPECT_TRUE(contains(texts, "worker 1"));
  EXPECT_TRUE(contains(texts, "kernel"));
  fs::remove_all(d);
}

TEST(Plot, NoPointIsAnError) {
  const fs::path d = scratch("empty");
  Chart c = cost_like();
  c.series = {{"nothing", {}}, {"not finite", {{1, std::numeric_limits<double>::quiet_NaN()}}}};
  std::string error;
  EXPECT_FALSE(eo::plot::write_svg(c, (d / "e.svg").string(), &error));
  EXPECT_NE(error.find("no point to draw"), std::string::npos) << error;
  EXPECT_FALSE(fs::exists(d / "e.svg"));
  fs::remove_all(d);
}

// gnuplot's own message is passed on, and no (old or half-written) file stays.
TEST(Plot, GnuplotFailingIsAnErrorWithItsMessage) {
  const fs::path d = scratch("fail");
  std::ofstream(d / "old.svg") << "an old chart";
  Chart c = cost_like();
  c.series = {{"nothing positive", {{-1, -1}, {0, 0}}}};  // no point on a log axis
  std::string error;
  EXPECT_FALSE(eo::plot::write_svg(c, (d / "old.svg").string(), &error));
  EXPECT_NE(error.find("gnuplot failed"), std::string::npos) << error;
  EXPECT_NE(error.find("range is invalid"), std::string::npos) << error;
  EXPECT_FALSE(fs::exists(d / "old.svg"));

  EXPECT_FALSE(eo::plot::write_svg(cost_like(), (d / "no-such-dir" / "c.svg").string(), &error));
  EXPECT_NE(error.find("cannot open file"), std::string::npos) << error;
  fs::remove_all(d);
}

TEST(Plot, GnuplotMissingIsAnError) {
  const fs::path d = scratch("missing");
  const std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  setenv("PATH", d.c_str(), 1);  // an empty directory: no gnuplot in it
  std::string error;
  const bool ok = eo::plot::write_svg(cost_like(), (d / "c.svg").string(), &error);
  setenv("PATH", path.c_str(), 1);
  EXPECT_FALSE(ok);
  EXPECT_NE(error.find("gnuplot not found"), std::string::npos) << error;
  fs::remove_all(d);
}

TEST(Plot, LeavesNoDescriptorBehind) {
  const fs::path d = scratch("fds");
  const int before = open_descriptors();
  std::string error;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(eo::plot::write_svg(cost_like(), (d / "c.svg").string(), &error)) << error;
  EXPECT_FALSE(eo::plot::write_svg(cost_like(), (d / "none" / "c.svg").string(), &error));
  EXPECT_EQ(open_descriptors(), before);
  fs::remove_all(d);
}

}  // namespace
