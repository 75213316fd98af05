// examples/retrieval/images.h - the demo's pictures: Fashion-MNIST or synthetic shapes,
// and ways to show them (ASCII art, a PGM file).
#pragma once

#include <string>
#include <vector>

namespace demo {

constexpr int kSide = 28;
constexpr int kPixels = kSide * kSide;

using Image = std::vector<double>;  // kPixels values in [-1, 1], row-major; -1 is black

// The first `count` images of an IDX image file (gzip-compressed, as Debian's
// dataset-fashion-mnist ships them), scaled to [-1, 1]. Throws hamux::Error.
std::vector<Image> load_idx_gz(const std::string& path, int count);

// `count` distinct synthetic 28x28 shapes (disks, rings, squares, crosses, bars at
// several sizes and places): the fallback when the dataset is not installed.
std::vector<Image> synthetic_shapes(int count);

// Rows of images side by side as ASCII art, 28 characters wide per image, two pixel rows
// per text line, with a caption over each column.
std::string ascii_row(const std::vector<Image>& images, const std::vector<std::string>& captions);

// A binary PGM (P5) of a grid: rows[r][c] is drawn at row r, column c, with a 2-pixel gap.
std::string pgm_grid(const std::vector<std::vector<Image>>& rows, int scale);

}  // namespace demo
