// tests/runtime/gradient_testing.h - models as float64 variants, losses computed by hand,
// central finite differences of whole runs (the truth the gradient tests compare against).
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "hamux/gradients.h"
#include "hamux/hamux.h"

namespace hamux::gradtest {

using Json = nlohmann::ordered_json;

inline std::string read_text(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// `file` (relative to the source tree) with dtype float64 and, when tau > 0, that tau on
// its last neuron, written to a temporary file (param files become absolute paths).
inline std::string variant(const std::string& file, bool f64, double tau = 0) {
  const std::filesystem::path src = std::filesystem::path(HAMUX_SOURCE_DIR) / file;
  Json j = Json::parse(read_text(src.string()));
  if (f64) j["dtype"] = "float64";
  if (tau > 0) {
    auto& neurons = j["neurons"];
    std::string last;
    for (auto it = neurons.begin(); it != neurons.end(); ++it) last = it.key();
    neurons[last]["tau"] = tau;
  }
  if (j.contains("params"))
    for (auto& p : j["params"])
      if (p.contains("init") && p["init"].is_object() && p["init"].contains("file"))
        p["init"]["file"]["path"] = (src.parent_path() / p["init"]["file"]["path"].get<std::string>()).string();
  // One directory per process: ctest runs tests of this binary in parallel processes.
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("hamux_gradient_tests_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::filesystem::path out = dir / (src.stem().string() + (f64 ? "_f64" : "") +
                                           (tau > 0 ? "_tau" + std::to_string(static_cast<int>(tau * 100)) : "") + ".json");
  std::ofstream(out) << j.dump(1);
  return out.string();
}

// The loss the tests use, computed from the states after hamux::run (independent of the
// gradient kernels): squared error sum m (y - t)^2 or -log y[class] / logsumexp - y[class].
struct HandLoss {
  std::string kind;  // "squared_error", "cross_entropy", "softmax_cross_entropy"
  std::string neuron;
  bool of_activation = true;
  Tensor<double> target;  // [batch, ...] rows or [batch] classes
  Tensor<double> mask;    // [...shape] or empty
  bool mean = true;
  int64_t row_length = 1;  // softmax_cross_entropy: size of the neuron's last axis

  Loss api() const {
    Loss l;
    l.spec = std::string("{\"neuron\": \"") + neuron + "\", \"of\": \"" + (of_activation ? "activation" : "state") +
             "\", \"loss\": \"" + kind + "\", \"reduction\": \"" + (mean ? "mean" : "sum") + "\"}";
    l.target = target;
    l.mask = mask;
    return l;
  }

  double value(const States& s) const {
    const Tensor<double> y = of_activation ? s.activation(neuron) : s.get(neuron);
    const int64_t b = s.batch(), e = y.size() / b;
    double total = 0;
    for (int64_t i = 0; i < b; ++i) {
      const double* row = y.data.data() + i * e;
      if (kind == "squared_error") {
        for (int64_t j = 0; j < e; ++j) {
          const double m = mask.data.empty() ? 1.0 : mask.data[j];
          const double d = row[j] - target.data[i * e + j];
          total += m * d * d;
        }
      } else {
        const int64_t c = static_cast<int64_t>(target.data[i]);
        if (kind == "cross_entropy") {
          total += -std::log(row[c]);
        } else {  // logsumexp of every row (last axis) minus the target's logit
          for (int64_t r = 0; r < e; r += row_length) {
            double mx = row[r];
            for (int64_t j = r; j < r + row_length; ++j) mx = std::max(mx, row[j]);
            double se = 0;
            for (int64_t j = r; j < r + row_length; ++j) se += std::exp(row[j] - mx);
            total += mx + std::log(se);
          }
          total -= row[c];
        }
      }
    }
    return mean ? total / static_cast<double>(b) : total;
  }
};

// The loss after `steps` steps of hamux::run from `initial`.
inline double run_loss(const Ham& ham, const States& initial, const HandLoss& loss, int64_t steps, double dt) {
  States s = initial.clone();
  RunOptions o;
  o.steps = steps;
  o.dt = dt;
  run(ham, s, o);
  return loss.value(s);
}

// A random unit direction over all params (by name).
inline std::map<std::string, Tensor<double>> random_direction(const Ham& ham, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> n(0, 1);
  std::map<std::string, Tensor<double>> v;
  double norm = 0;
  for (const std::string& p : ham.param_names()) {
    Tensor<double> t(ham.param(p).shape);
    for (double& x : t.data) {
      x = n(rng);
      norm += x * x;
    }
    v.emplace(p, std::move(t));
  }
  for (auto& [name, t] : v)
    for (double& x : t.data) x /= std::sqrt(norm);
  return v;
}

// Central difference (Richardson-combined steps h and h/2) of the run's loss along v.
inline double fd_directional(Ham& ham, const States& initial, const HandLoss& loss, int64_t steps, double dt,
                             const std::map<std::string, Tensor<double>>& v, double h = 1e-5) {
  std::map<std::string, Tensor<double>> base;
  for (const std::string& p : ham.param_names()) base.emplace(p, ham.param(p));
  auto at = [&](double eps) {
    for (const auto& [name, t] : v) {
      Tensor<double> p = base.at(name);
      for (int64_t i = 0; i < p.size(); ++i) p.data[i] += eps * t.data[i];
      ham.set_param(name, p);
    }
    return run_loss(ham, initial, loss, steps, dt);
  };
  const double d1 = (at(h) - at(-h)) / (2 * h);
  const double d2 = (at(h / 2) - at(-h / 2)) / h;
  for (const auto& [name, t] : base) ham.set_param(name, t);
  return (4 * d2 - d1) / 3;
}

inline double directional(const GradientResult& g, const std::map<std::string, Tensor<double>>& v) {
  double d = 0;
  for (const auto& [name, t] : v) {
    const Tensor<double>& gp = g.params.at(name);
    for (int64_t i = 0; i < t.size(); ++i) d += gp.data[i] * t.data[i];
  }
  return d;
}

inline double norm(const GradientResult& g) {
  double s = 0;
  for (const auto& [name, t] : g.params)
    for (double x : t.data) s += x * x;
  return std::sqrt(s);
}

}  // namespace hamux::gradtest
