// tests/frontend/frontend_test_util.h - helpers shared by the frontend tests.
#pragma once

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include "frontend/model.h"
#include "interp/interpreter.h"

namespace hamux::test {

inline std::string model_path(const std::string& file) { return std::string(HAMUX_MODELS_DIR) + "/" + file; }

// A fresh, empty directory for files a test writes.
inline std::string temp_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("hamux_frontend_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

// Deterministic test inputs in [lo, hi) (the test's own generator, not the frontend's).
inline Tensor<double> random_tensor(const Shape& shape, unsigned seed, double lo = -1.0, double hi = 1.0) {
  std::mt19937_64 gen(seed);
  Tensor<double> t(shape);
  for (double& v : t.data) v = lo + (hi - lo) * (static_cast<double>(gen() >> 11) * 0x1.0p-53);
  return t;
}

// Evaluates a scalar graph in double for one sample; inputs are unbatched tensors.
inline double eval_scalar(const ir::NodePtr& g, const std::vector<Tensor<double>>& inputs, const Model& m) {
  std::vector<Tensor<double>> batched;
  for (const Tensor<double>& t : inputs) {
    Shape s = t.shape;
    s.insert(s.begin(), 1);
    batched.emplace_back(s, t.data);
  }
  auto out = interp::evaluate<double>({g}, batched, interp::param_values<double>(m), 1);
  return out.at(0).data.at(0);
}

}  // namespace hamux::test
