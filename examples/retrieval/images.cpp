// examples/retrieval/images.cpp - see images.h.
#include "images.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "hamux/error.h"
#include "inflate.h"

namespace demo {

std::vector<Image> load_idx_gz(const std::string& path, int count) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw hamux::Error(path, "cannot open file");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string bytes = hamux::gunzip(ss.str(), path);
  auto be32 = [&](size_t at) {
    uint32_t v = 0;
    for (size_t k = 0; k < 4; ++k) v = (v << 8) | static_cast<unsigned char>(bytes[at + k]);
    return v;
  };
  // IDX: magic 0x00000803 (unsigned bytes, 3 dimensions), then count, rows, columns.
  if (bytes.size() < 16 || be32(0) != 0x803 || be32(8) != kSide || be32(12) != kSide) {
    throw hamux::Error(path, "not an IDX file of 28x28 images");
  }
  const int have = static_cast<int>(be32(4));
  if (have < count || bytes.size() < 16 + static_cast<size_t>(count) * kPixels) {
    throw hamux::Error(path, "holds fewer than " + std::to_string(count) + " images");
  }
  std::vector<Image> images(count, Image(kPixels));
  for (int i = 0; i < count; ++i)
    for (int p = 0; p < kPixels; ++p)
      images[i][p] = static_cast<unsigned char>(bytes[16 + static_cast<size_t>(i) * kPixels + p]) / 127.5 - 1.0;
  return images;
}

std::vector<Image> synthetic_shapes(int count) {
  std::vector<Image> images;
  for (int k = 0; k < count; ++k) {
    const int kind = k % 5;
    const double cx = 8 + (k * 7) % 13, cy = 8 + (k * 11) % 13, r = 4 + (k / 5) % 5;
    Image img(kPixels);
    for (int y = 0; y < kSide; ++y) {
      for (int x = 0; x < kSide; ++x) {
        const double dx = x - cx, dy = y - cy, d = std::sqrt(dx * dx + dy * dy);
        bool on = false;
        if (kind == 0) on = d <= r;                                            // disk
        if (kind == 1) on = std::abs(d - r) <= 1.2;                            // ring
        if (kind == 2) on = std::abs(dx) <= r && std::abs(dy) <= r;            // square
        if (kind == 3) on = (std::abs(dx) <= 1.5 || std::abs(dy) <= 1.5) && d <= r + 3;  // cross
        if (kind == 4) on = static_cast<int>(std::floor((x + y + k) / (r / 2 + 1))) % 2 == 0;  // bars
        img[y * kSide + x] = on ? 1.0 : -1.0;
      }
    }
    images.push_back(img);
  }
  return images;
}

std::string ascii_row(const std::vector<Image>& images, const std::vector<std::string>& captions) {
  static const char kRamp[] = " .:-=+*#%@";
  std::string out;
  for (size_t i = 0; i < images.size(); ++i) {
    std::string c = i < captions.size() ? captions[i] : "";
    c.resize(kSide + 2, ' ');
    out += c;
  }
  out.erase(out.find_last_not_of(' ') + 1);
  out += "\n";
  for (int y = 0; y < kSide; y += 2) {
    std::string line;
    for (const Image& img : images) {
      for (int x = 0; x < kSide; ++x) {
        const double v = (img[y * kSide + x] + img[(y + 1) * kSide + x]) / 2;  // two rows per line
        const double t = std::clamp((v + 1) / 2, 0.0, 1.0);
        line += kRamp[static_cast<int>(std::lround(t * 9))];
      }
      line += "  ";
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n";
  }
  return out;
}

std::string pgm_grid(const std::vector<std::vector<Image>>& rows, int scale) {
  const int gap = 2;
  size_t cols = 0;
  for (const auto& r : rows) cols = std::max(cols, r.size());
  const int cell = kSide * scale + gap;
  const int width = static_cast<int>(cols) * cell + gap, height = static_cast<int>(rows.size()) * cell + gap;
  std::string pixels(static_cast<size_t>(width) * height, static_cast<char>(128));  // grey frame
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t c = 0; c < rows[r].size(); ++c) {
      for (int y = 0; y < kSide * scale; ++y) {
        for (int x = 0; x < kSide * scale; ++x) {
          const double v = rows[r][c][(y / scale) * kSide + x / scale];
          const int level = static_cast<int>(std::lround(std::clamp((v + 1) / 2, 0.0, 1.0) * 255));
          pixels[static_cast<size_t>(gap + r * cell + y) * width + gap + c * cell + x] = static_cast<char>(level);
        }
      }
    }
  }
  return "P5\n" + std::to_string(width) + " " + std::to_string(height) + "\n255\n" + pixels;
}

}  // namespace demo
