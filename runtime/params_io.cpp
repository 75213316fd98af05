// runtime/params_io.cpp - Ham::load_params / save_params: .npz or a directory of .npy.
//
// This is how weights trained elsewhere (for example with the Python hamux library and
// numpy.savez) come in: one array per param, named like the param.
#include <filesystem>

#include "frontend/npy.h"
#include "support/printable.h"
#include "ham_impl.h"
#include "hamux/io.h"

namespace hamux {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::map<std::string, Tensor<double>> read_params(const Model& m, const std::string& path) {
  namespace fs = std::filesystem;
  // Every array is checked against its param before it is read: a key that names no param
  // is refused, and no array may be larger than its param (so /dev/zero or a zip bomb
  // cannot make the load allocate more than the params take).
  auto param_of = [&](const std::string& key) -> const ParamDef& {
    const int p = m.param_index(key);
    if (p < 0) {
      std::string names;
      for (const ParamDef& d : m.params) names += (names.empty() ? "" : ", ") + d.name;
      throw Error(path, "array '" + printable(key) + "' names no param of " + m.file + " (params: " +
                            (names.empty() ? "none" : names) + ")");
    }
    return m.params[p];
  };
  std::map<std::string, Tensor<double>> arrays;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    for (const fs::directory_entry& e : fs::directory_iterator(path, ec)) {
      if (e.path().extension() != ".npy") continue;
      const std::string key = e.path().stem().string();
      arrays[key] = read_npy(e.path().string(), num_elements(param_of(key).shape));
    }
    if (arrays.empty()) throw Error(path, "the directory holds no .npy files");
  } else if (!fs::exists(path, ec)) {
    throw Error(path, "cannot open file");
  } else {
    NpzLimits limits;
    uint64_t most = 65536;  // the zip directory
    for (const ParamDef& p : m.params) most += 2 * npy_max_file_bytes(num_elements(p.shape)) + 1024;
    limits.max_file_bytes = most;
    limits.max_elements = [&](const std::string& key) { return num_elements(param_of(key).shape); };
    arrays = read_npz(path, limits);
  }
  for (const auto& [key, t] : arrays) {
    const ParamDef& p = param_of(key);
    if (t.shape != p.shape) {
      throw Error(path, "array '" + key + "' has shape " + shape_str(t.shape) + ", the param has " +
                            shape_str(p.shape));
    }
    if (const std::string bad = non_finite_element(t); !bad.empty())
      throw Error(path, "array '" + key + "': " + bad + " (param values must be finite)");
  }
  return arrays;
}

void Ham::load_params(const std::string& path) {
  Model& m = impl_->model;
  // read_params checks everything first: a bad file leaves the params as they were.
  for (const auto& [key, t] : read_params(m, path)) m.params[m.param_index(key)].value = t;
  impl_->refresh_params();
}

void Ham::save_params(const std::string& path) const {
  const Model& m = impl_->model;
  if (ends_with(path, ".npz")) {
    std::map<std::string, Tensor<double>> arrays;
    for (const ParamDef& p : m.params) arrays[p.name] = p.value;
    write_npz(path, arrays, impl_->f64());
    return;
  }
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) throw Error(path, "cannot create directory: " + ec.message());
  for (const ParamDef& p : m.params) write_npy_atomic(path + "/" + p.name + ".npy", p.value, impl_->f64());
}

}  // namespace hamux
