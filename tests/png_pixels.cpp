// PNG (RFC 2083 / ISO 15948): signature, chunks, IHDR, the zlib stream of the IDAT chunks,
// then each row's filter (None, Sub, Up, Average, Paeth) undone.
#include "png_pixels.h"

#include <zlib.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <unordered_map>

namespace eo::test {

namespace {

uint32_t be32(const unsigned char* p) { return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3]; }

bool inflate_all(const std::string& in, std::vector<unsigned char>* out, size_t expected) {
  out->resize(expected);
  z_stream z{};
  if (inflateInit(&z) != Z_OK) return false;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = out->data();
  z.avail_out = static_cast<uInt>(out->size());
  const int rc = inflate(&z, Z_FINISH);
  const bool whole = rc == Z_STREAM_END && z.avail_out == 0;
  inflateEnd(&z);
  return whole;
}

unsigned char paeth(int a, int b, int c) {
  const int p = a + b - c;
  const int pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  if (pa <= pb && pa <= pc) return static_cast<unsigned char>(a);
  return static_cast<unsigned char>(pb <= pc ? b : c);
}

}  // namespace

bool read_png(const std::string& path, Pixels* out, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto* d = reinterpret_cast<const unsigned char*>(data.data());
  static const unsigned char kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (data.size() < 8 || !std::equal(kSignature, kSignature + 8, d)) {
    *error = path + ": not a PNG file";
    return false;
  }
  uint32_t width = 0, height = 0;
  unsigned channels = 0;
  std::string idat;
  bool ended = false;
  for (size_t at = 8; at + 12 <= data.size() && !ended;) {
    const uint32_t len = be32(d + at);
    const std::string type(data, at + 4, 4);
    if (at + 12 + len > data.size()) break;
    const unsigned char* body = d + at + 8;
    if (type == "IHDR") {
      if (len < 13) break;
      width = be32(body);
      height = be32(body + 4);
      const unsigned depth = body[8], colour = body[9], interlace = body[12];
      channels = colour == 0 ? 1 : colour == 4 ? 2 : colour == 2 ? 3 : colour == 6 ? 4 : 0;
      if (depth != 8 || channels == 0 || interlace != 0) {
        *error = path + ": a PNG this reader does not take (8-bit grey/RGB(A), not interlaced only)";
        return false;
      }
    } else if (type == "IDAT") {
      idat.append(data, at + 8, len);
    } else if (type == "IEND") {
      ended = true;
    }
    at += 12 + len;
  }
  if (!ended || width == 0 || height == 0 || idat.empty()) {
    *error = path + ": truncated or empty PNG";
    return false;
  }
  const size_t stride = size_t{width} * channels;
  std::vector<unsigned char> raw;
  if (!inflate_all(idat, &raw, (stride + 1) * height)) {
    *error = path + ": the image data does not inflate to its size";
    return false;
  }
  out->width = width;
  out->height = height;
  out->rgba.assign(size_t{width} * height, 0);
  std::vector<unsigned char> prev(stride, 0), row(stride);
  for (uint32_t y = 0; y < height; ++y) {
    const unsigned char filter = raw[y * (stride + 1)];
    const unsigned char* src = &raw[y * (stride + 1) + 1];
    for (size_t i = 0; i < stride; ++i) {
      const int a = i >= channels ? row[i - channels] : 0, b = prev[i], c = i >= channels ? prev[i - channels] : 0;
      int v = src[i];
      switch (filter) {
        case 0: break;
        case 1: v += a; break;
        case 2: v += b; break;
        case 3: v += (a + b) / 2; break;
        case 4: v += paeth(a, b, c); break;
        default: *error = path + ": bad row filter"; return false;
      }
      row[i] = static_cast<unsigned char>(v);
    }
    for (uint32_t x = 0; x < width; ++x) {
      const unsigned char* p = &row[size_t{x} * channels];
      uint32_t r = p[0], g = p[0], bl = p[0], al = 255;
      if (channels >= 3) g = p[1], bl = p[2];
      if (channels == 2) al = p[1];
      if (channels == 4) al = p[3];
      out->rgba[size_t{y} * width + x] = r << 24 | g << 16 | bl << 8 | al;
    }
    prev.swap(row);
  }
  return true;
}

ColourCount count_colours(const Pixels& p) {
  std::unordered_map<uint32_t, size_t> n;
  for (uint32_t c : p.rgba) ++n[c];
  size_t most = 0;
  for (const auto& [c, k] : n) most = std::max(most, k);
  return {n.size(), p.rgba.size() - most};
}

}  // namespace eo::test
