// runtime/params_io.cpp - Ham::load_params / save_params: .npz or a directory of .npy.
//
// This is how weights trained elsewhere (for example with the Python hamux library and
// numpy.savez) come in: one array per param, named like the param.
#include <filesystem>

#include "frontend/npy.h"
#include "ham_impl.h"
#include "hamux/io.h"

namespace hamux {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

void Ham::load_params(const std::string& path) {
  namespace fs = std::filesystem;
  std::map<std::string, Tensor<double>> arrays;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    for (const fs::directory_entry& e : fs::directory_iterator(path, ec)) {
      if (e.path().extension() == ".npy") arrays[e.path().stem().string()] = read_npy(e.path().string());
    }
    if (arrays.empty()) throw Error(path, "the directory holds no .npy files");
  } else if (!fs::exists(path, ec)) {
    throw Error(path, "cannot open file");
  } else {
    arrays = read_npz(path);
  }
  // Check everything before changing anything: a bad file leaves the params as they were.
  Model& m = impl_->model;
  for (const auto& [key, t] : arrays) {
    const int p = m.param_index(key);
    if (p < 0) {
      std::string names;
      for (const ParamDef& d : m.params) names += (names.empty() ? "" : ", ") + d.name;
      throw Error(path, "array '" + key + "' names no param of " + m.file + " (params: " +
                            (names.empty() ? "none" : names) + ")");
    }
    if (t.shape != m.params[p].shape) {
      throw Error(path, "array '" + key + "' has shape " + shape_str(t.shape) + ", the param has " +
                            shape_str(m.params[p].shape));
    }
  }
  for (const auto& [key, t] : arrays) m.params[m.param_index(key)].value = t;
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
