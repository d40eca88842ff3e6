// A small PNG reader for screenshots (8-bit grey, grey+alpha, RGB or RGBA, not
// interlaced, as Chromium writes them): enough to tell a rendered chart from a blank one.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace eo::test {

struct Pixels {
  uint32_t width = 0, height = 0;
  std::vector<uint32_t> rgba;  // one 0xRRGGBBAA per pixel, row by row
};

// Decodes the PNG file at path; false and *error when it is not one this reader takes.
bool read_png(const std::string& path, Pixels* out, std::string* error);

// How many pixels differ from the most frequent colour (the background), and how many
// distinct colours there are.
struct ColourCount {
  size_t colours = 0;
  size_t off_background = 0;
};
ColourCount count_colours(const Pixels& p);

}  // namespace eo::test
