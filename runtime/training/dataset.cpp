// runtime/training/dataset.cpp - data sets from .npy, .npz and IDX files (hamux/training.h).
//
// IDX is the format of MNIST and Fashion-MNIST (Debian's dataset-fashion-mnist ships it
// gzip-compressed): a big-endian header, magic 0x0000TTDD (T: element type, D: rank), D
// 32-bit dimensions, then the elements in C order.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "frontend/json_util.h"
#include "frontend/npy.h"
#include "hamux/io.h"
#include "hamux/training.h"
#include "inflate.h"
#include "support/files.h"

namespace hamux {

namespace {

// The most elements one data array may hold (Fashion-MNIST's training images: 47M).
constexpr int64_t kMaxDataElements = int64_t{1} << 28;
constexpr uint64_t kMaxDataFileBytes = uint64_t{1} << 32;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

uint32_t be32(const std::string& b, size_t at) {
  uint32_t v = 0;
  for (size_t k = 0; k < 4; ++k) v = (v << 8) | static_cast<unsigned char>(b[at + k]);
  return v;
}

Tensor<double> parse_idx(const std::string& bytes, const std::string& path) {
  if (bytes.size() < 4 || bytes[0] != 0 || bytes[1] != 0) throw Error(path, "not an IDX file (bad magic number)");
  const int type = static_cast<unsigned char>(bytes[2]), rank = static_cast<unsigned char>(bytes[3]);
  size_t item = 0;
  switch (type) {
    case 0x08: case 0x09: item = 1; break;  // unsigned / signed byte
    case 0x0B: item = 2; break;              // int16
    case 0x0C: case 0x0D: item = 4; break;   // int32 / float32
    case 0x0E: item = 8; break;              // float64
    default: throw Error(path, "IDX element type 0x" + std::string(1, "0123456789abcdef"[type >> 4]) +
                                   std::string(1, "0123456789abcdef"[type & 15]) + " is not one of 08, 09, 0b, 0c, 0d, 0e");
  }
  if (rank < 1) throw Error(path, "IDX file of rank 0");
  if (bytes.size() < 4 + 4 * static_cast<size_t>(rank)) throw Error(path, "truncated IDX header");
  Shape shape;
  for (int d = 0; d < rank; ++d) shape.push_back(be32(bytes, 4 + 4 * d));
  const int64_t n = frontend::checked_elements(shape);
  if (n < 0 || n > kMaxDataElements)
    throw Error(path, "shape " + shape_str(shape) + " has more than the " + std::to_string(kMaxDataElements) +
                          " elements a data array may hold");
  const size_t start = 4 + 4 * static_cast<size_t>(rank), want = static_cast<size_t>(n) * item;
  if (bytes.size() - start != want)
    throw Error(path, "IDX data of " + std::to_string(bytes.size() - start) + " bytes for shape " + shape_str(shape) +
                          ", expected " + std::to_string(want));
  Tensor<double> t(shape);
  const unsigned char* p = reinterpret_cast<const unsigned char*>(bytes.data()) + start;
  for (int64_t i = 0; i < n; ++i, p += item) {
    uint64_t u = 0;
    for (size_t k = 0; k < item; ++k) u = (u << 8) | p[k];
    switch (type) {
      case 0x08: t.data[i] = static_cast<double>(u); break;
      case 0x09: t.data[i] = static_cast<int8_t>(u); break;
      case 0x0B: t.data[i] = static_cast<int16_t>(u); break;
      case 0x0C: t.data[i] = static_cast<int32_t>(u); break;
      case 0x0D: {
        const uint32_t w = static_cast<uint32_t>(u);
        float f;
        std::memcpy(&f, &w, 4);
        t.data[i] = f;
        break;
      }
      default: std::memcpy(&t.data[i], &u, 8);
    }
  }
  return t;
}

// `archives`: the .npz files read so far, so that several arrays of one archive read it once.
Tensor<double> read_array(const std::string& array, const ArraySource& src,
                          std::map<std::string, std::map<std::string, Tensor<double>>>& archives) {
  const std::string& path = src.file;
  if (ends_with(path, ".npz")) {
    if (!archives.count(path)) {
      NpzLimits limits;
      limits.integers = true;
      limits.max_elements = [](const std::string&) { return kMaxDataElements; };
      archives[path] = read_npz(path, limits);
    }
    std::map<std::string, Tensor<double>>& arrays = archives[path];
    const std::string key = src.member.empty() ? array : src.member;
    auto it = arrays.find(key);
    if (it == arrays.end()) {
      std::string have;
      for (const auto& [k, v] : arrays) have += (have.empty() ? "" : ", ") + k;
      throw Error(path, "no array '" + key + "' (it has: " + (have.empty() ? "none" : have) + ")");
    }
    return it->second;  // a copy: another array may name the same member
  }
  if (!src.member.empty()) throw Error(path, "'member' applies to .npz files only");
  std::string bytes = read_regular_file(path, kMaxDataFileBytes, "a data file may take");
  if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f && static_cast<unsigned char>(bytes[1]) == 0x8b)
    bytes = gunzip(bytes, path, kMaxDataFileBytes);
  if (bytes.size() >= 6 && bytes.compare(0, 6, "\x93NUMPY") == 0) return parse_npy(bytes, path, kMaxDataElements, true);
  return parse_idx(bytes, path);
}

}  // namespace

int64_t Dataset::size() const { return arrays.empty() ? 0 : arrays.begin()->second.shape.at(0); }

Dataset Dataset::slice(int64_t begin, int64_t end, const std::string& new_name) const {
  Dataset d;
  d.name = new_name;
  d.files = files;
  for (const auto& [key, t] : arrays) {
    Shape s = t.shape;
    const int64_t per = s.size() > 1 ? num_elements(Shape(s.begin() + 1, s.end())) : 1;
    s[0] = end - begin;
    Tensor<double> part(s);
    std::copy(t.data.begin() + begin * per, t.data.begin() + end * per, part.data.begin());
    d.arrays.emplace(key, std::move(part));
  }
  return d;
}

Dataset load_dataset(const std::string& name, const std::map<std::string, ArraySource>& sources) {
  Dataset d;
  d.name = name;
  std::map<std::string, std::map<std::string, Tensor<double>>> archives;
  for (const auto& [array, src] : sources) {
    Tensor<double> t = read_array(array, src, archives);
    const std::string where = name + ": array '" + array + "' (" + src.file + ")";
    if (t.shape.empty()) throw Error(where, "is a scalar; a data array has a sample axis first");
    if (!src.sample_shape.empty()) {
      Shape sample(t.shape.begin() + 1, t.shape.end());
      if (frontend::checked_elements(src.sample_shape) != num_elements(sample))
        throw Error(where, "samples of shape " + shape_str(sample) + " cannot be reshaped to " +
                               shape_str(src.sample_shape) + " (a different number of elements)");
      Shape s{t.shape[0]};
      s.insert(s.end(), src.sample_shape.begin(), src.sample_shape.end());
      t.shape = s;
    }
    if (src.scale != 1.0 || src.offset != 0.0)
      for (double& v : t.data) v = v * src.scale + src.offset;
    d.files[array] = src.file;
    d.arrays.emplace(array, std::move(t));
  }
  // Every array must have one row per sample.
  for (const auto& [array, t] : d.arrays) {
    const auto& [first, t0] = *d.arrays.begin();
    if (t.shape[0] != t0.shape[0])
      throw Error(name, "arrays of different lengths: '" + first + "' (" + d.files[first] + ") has " +
                            std::to_string(t0.shape[0]) + " samples, '" + array + "' (" + d.files[array] + ") " +
                            std::to_string(t.shape[0]));
  }
  return d;
}

}  // namespace hamux
