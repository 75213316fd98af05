// runtime/npz.cpp - .npz archives (hamux/io.h): a zip of .npy files, one per array.
#include "support/files.h"
#include "frontend/npy.h"
#include "support/printable.h"
#include "hamux/io.h"
#include "zip.h"

namespace hamux {

namespace {

constexpr const char* kNpySuffix = ".npy";

bool is_npy_name(const std::string& name) {
  return name.size() >= 5 && name.compare(name.size() - 4, 4, kNpySuffix) == 0;
}

}  // namespace

std::map<std::string, Tensor<double>> read_npz(const std::string& path, const NpzLimits& limits) {
  const uint64_t max_file = limits.max_file_bytes > 0 ? limits.max_file_bytes : kMaxNpzFileBytes;
  const std::string bytes = read_regular_file(path, max_file, "an .npz file may take here");
  // Each member's declared size is checked before anything is allocated for it.
  auto member_limit = [&](const std::string& name) -> uint64_t {
    if (!is_npy_name(name)) throw Error(path, "member '" + printable(name) + "' is not a .npy file");
    const int64_t n = limits.max_elements ? limits.max_elements(name.substr(0, name.size() - 4))
                                          : frontend::kMaxElements;
    return npy_max_file_bytes(n);
  };
  std::map<std::string, Tensor<double>> arrays;
  for (auto& [name, data] : zip::read(bytes, path, member_limit)) {
    const std::string key = name.substr(0, name.size() - 4);
    const int64_t n = limits.max_elements ? limits.max_elements(key) : frontend::kMaxElements;
    arrays[key] = parse_npy(data, path + ": " + printable(name), n, limits.integers);
  }
  return arrays;
}

void write_npz(const std::string& path, const std::map<std::string, Tensor<double>>& arrays, bool float64) {
  write_files_atomic({npz_file(path, arrays, float64)});
}

std::pair<std::string, std::string> npz_file(const std::string& path,
                                             const std::map<std::string, Tensor<double>>& arrays, bool float64) {
  std::vector<std::pair<std::string, std::string>> members;
  for (const auto& [key, t] : arrays) members.emplace_back(key + kNpySuffix, npy_bytes(t, float64));
  return {path, zip::write_stored(members)};
}

void write_npy_atomic(const std::string& path, const Tensor<double>& array, bool float64) {
  write_file_atomic(path, npy_bytes(array, float64));
}

}  // namespace hamux
