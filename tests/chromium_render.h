// Renders an SVG file in headless Chromium (Debian's `chromium`) and says what is wrong
// with the result: not XML Chromium can show, a blank screenshot, console messages.
#pragma once
#include <string>
#include <vector>

namespace eo::test {

struct RenderResult {
  bool ran = false;                   // chromium ran both times and exited 0
  std::string error;                  // why it did not run
  std::vector<std::string> problems;  // empty: the SVG rendered
  size_t colours = 0;                 // in the screenshot
  size_t off_background = 0;          // pixels not of the background colour
  std::string temp_dir;               // the temporary directory it used (removed again)
};

// Two headless runs on file://svg: --dump-dom (Chromium puts a <parsererror> into the
// document when the XML is ill-formed) and --screenshot with Chromium's log on stderr
// (every console message of the page is a line with "CONSOLE"). A private --user-data-dir
// under a fresh temporary directory, removed afterwards; each run under a 60 s watchdog.
RenderResult render_svg(const std::string& svg);

}  // namespace eo::test
