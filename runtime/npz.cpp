// runtime/npz.cpp - .npz archives (hamux/io.h): a zip of .npy files, one per array.
#include <cstring>

#include "frontend/npy.h"
#include "hamux/io.h"
#include "zip.h"

namespace hamux {

namespace {

std::string read_bytes(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw Error(path, "cannot open file");
  std::string bytes;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) bytes.append(buf, n);
  const bool failed = std::ferror(f);
  std::fclose(f);
  if (failed) throw Error(path, "read failed");
  return bytes;
}

// A version 1.0 .npy file: magic, header dict padded to a multiple of 64, raw data.
template <class T>
std::string npy_bytes(const Tensor<double>& t) {
  std::string shape = "(";
  for (size_t i = 0; i < t.shape.size(); ++i) shape += (i ? ", " : "") + std::to_string(t.shape[i]);
  shape += t.shape.size() == 1 ? ",)" : ")";  // Python's one-element tuple
  std::string header = std::string("{'descr': '") + (sizeof(T) == 8 ? "<f8" : "<f4") +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  const size_t at = out.size();
  out.resize(at + t.data.size() * sizeof(T));
  for (size_t e = 0; e < t.data.size(); ++e) {
    const T v = static_cast<T>(t.data[e]);
    std::memcpy(out.data() + at + e * sizeof(T), &v, sizeof(T));  // little-endian host
  }
  return out;
}

std::string npy_bytes(const Tensor<double>& t, bool float64) {
  return float64 ? npy_bytes<double>(t) : npy_bytes<float>(t);
}

}  // namespace

std::map<std::string, Tensor<double>> read_npz(const std::string& path) {
  std::map<std::string, Tensor<double>> arrays;
  for (auto& [name, data] : zip::read(read_bytes(path), path)) {
    if (name.size() < 5 || name.compare(name.size() - 4, 4, ".npy") != 0) {
      throw Error(path, "member '" + name + "' is not a .npy file");
    }
    const std::string key = name.substr(0, name.size() - 4);
    arrays[key] = parse_npy(data, path + ": " + name);
  }
  return arrays;
}

void write_npz(const std::string& path, const std::map<std::string, Tensor<double>>& arrays, bool float64) {
  std::vector<std::pair<std::string, std::string>> members;
  for (const auto& [key, t] : arrays) members.emplace_back(key + ".npy", npy_bytes(t, float64));
  write_file_atomic(path, zip::write_stored(members));
}

void write_npy_atomic(const std::string& path, const Tensor<double>& array, bool float64) {
  write_file_atomic(path, npy_bytes(array, float64));
}

}  // namespace hamux
