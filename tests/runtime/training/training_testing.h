// tests/runtime/training/training_testing.h - a small classifier HAM and separable synthetic
// data for the training tests (written to a scratch folder; nothing is read from outside
// the repository).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "frontend/npy.h"
#include "frontend/random.h"
#include "hamux/training.h"

namespace hamux::traintest {

// input [8] clamped -> hidden [16] (relu) -> labels [4] (softmax), as the README classifier.
inline std::string classifier_json(const std::string& dtype = "float32", const std::string& hidden = "relu") {
  return R"({"hamux": "1", "name": "toy-classifier", "seed": 3, "dtype": ")" + dtype + R"(",
    "params": {"W1": {"shape": [8, 16], "init": {"normal": {"std": 0.2}}},
               "W2": {"shape": [4, 16], "init": {"normal": {"std": 0.2}}}},
    "neurons": {"input": {"shape": [8], "lagrangian": "identity"},
                "labels": {"shape": [4], "lagrangian": "softmax"},
                "hidden": {"shape": [16], "lagrangian": ")" + hidden + R"("}},
    "synapses": {"dense1": {"linear": {"W": "W1"}}, "dense2": {"linear": {"W": "W2"}}},
    "connections": [{"neurons": ["input", "hidden"], "synapse": "dense1"},
                    {"neurons": ["labels", "hidden"], "synapse": "dense2"}]})";
}

// `n` samples of 4 classes: class prototypes (+-1 in 8 dimensions) plus N(0, noise^2).
inline Dataset blobs(int64_t n, uint64_t seed, double noise = 0.6) {
  frontend::Rng protos(7, "prototypes"), rng(seed, "blobs");
  double mu[4][8];
  for (auto& row : mu)
    for (double& v : row) v = protos.uniform() < 0.5 ? -1.0 : 1.0;
  Dataset d;
  d.name = "train data";
  Tensor<double> x(Shape{n, 8}), y(Shape{n});
  for (int64_t s = 0; s < n; ++s) {
    const int c = static_cast<int>(rng.next_u64() % 4);
    y.data[s] = c;
    for (int k = 0; k < 8; ++k) x.data[s * 8 + k] = mu[c][k] + noise * rng.normal();
  }
  d.arrays["images"] = x;
  d.arrays["labels"] = y;
  d.files["images"] = "images.npy";
  d.files["labels"] = "labels.npy";
  return d;
}

inline TrainOptions classifier_options() {
  TrainOptions o;
  o.feeds = {{"images", "input", true}};
  o.loss = R"({"neuron": "labels", "loss": "cross_entropy"})";
  o.target = "labels";
  o.dynamics.steps = 6;
  o.dynamics.dt = 0.5;
  o.optimizer.name = "adam";
  o.optimizer.lr = 0.03;
  o.batch = 16;
  o.epochs = 2;
  o.seed = 1;
  return o;
}

// A scratch folder for one test, removed at its end.
struct Scratch {
  std::filesystem::path dir;
  Scratch() {
    dir = std::filesystem::temp_directory_path() /
          ("hamux_train_" + std::to_string(::getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  ~Scratch() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string path(const std::string& name) const { return (dir / name).string(); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path(name), std::ios::binary) << text;
    return path(name);
  }
};

// The message of the hamux::Error that f throws, or "no error".
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

// Every param's values, exactly.
inline std::map<std::string, std::vector<double>> params_of(const Ham& ham) {
  std::map<std::string, std::vector<double>> p;
  for (const std::string& name : ham.param_names()) p[name] = ham.param(name).data;
  return p;
}

}  // namespace hamux::traintest
