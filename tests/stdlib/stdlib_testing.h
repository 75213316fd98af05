// tests/stdlib/stdlib_testing.h - helpers shared by the standard-library tests.
//
// The truth these tests compare against is always computed here, independently of hamux:
// closed forms written in C++ and float64 central finite differences of the graphs the
// frontend builds (evaluated by the reference interpreter).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "autodiff/grad.h"
#include "frontend/model.h"
#include "graph/builder.h"
#include "interp/interpreter.h"

namespace hamux::stdlib_test {

using ir::NodePtr;
using Vec = std::vector<double>;
using T = Tensor<double>;

// Deterministic values in [lo, hi) from the test's own generator.
inline Tensor<double> random_tensor(const Shape& shape, unsigned seed, double lo = -1.0, double hi = 1.0) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  Tensor<double> t(shape);
  for (double& v : t.data) v = u(gen);
  return t;
}

inline Model parse(const std::string& text) { return parse_model(text, "m.json", "."); }

// Evaluates `outputs` for one sample (inputs and results unbatched).
template <class T>
std::vector<Tensor<T>> eval1(const std::vector<NodePtr>& outputs, const std::vector<Tensor<T>>& inputs,
                             const interp::ParamValues<T>& params = {}) {
  std::vector<Tensor<T>> batched;
  for (const Tensor<T>& t : inputs) {
    Shape s = t.shape;
    s.insert(s.begin(), 1);
    batched.emplace_back(s, t.data);
  }
  std::vector<Tensor<T>> out = interp::evaluate<T>(outputs, batched, params, 1);
  for (size_t i = 0; i < out.size(); ++i) out[i].shape = outputs[i]->shape;
  return out;
}

inline double eval_scalar(const NodePtr& y, const std::vector<Tensor<double>>& inputs,
                          const interp::ParamValues<double>& params = {}) {
  return eval1<double>({y}, inputs, params)[0][0];
}

// Central differences of the scalar `y` with respect to every element of input k. All
// perturbed points go through one batched interpreter call.
inline Vec fd_gradient(const NodePtr& y, const std::vector<Tensor<double>>& at, size_t k,
                       const interp::ParamValues<double>& params = {}, double step = 1e-6) {
  const int64_t n = at[k].size(), batch = 2 * n;
  std::vector<Tensor<double>> inputs;
  for (size_t j = 0; j < at.size(); ++j) {
    Shape s = at[j].shape;
    s.insert(s.begin(), batch);
    Tensor<double> t(s);
    for (int64_t b = 0; b < batch; ++b) std::copy(at[j].data.begin(), at[j].data.end(), t.data.begin() + b * at[j].size());
    inputs.push_back(std::move(t));
  }
  Vec h(n);
  for (int64_t e = 0; e < n; ++e) {
    h[e] = step * std::max(1.0, std::abs(at[k][e]));
    inputs[k][(2 * e) * n + e] += h[e];
    inputs[k][(2 * e + 1) * n + e] -= h[e];
  }
  Tensor<double> v = interp::evaluate<double>({y}, inputs, params, batch)[0];
  Vec g(n);
  for (int64_t e = 0; e < n; ++e) g[e] = (v[2 * e] - v[2 * e + 1]) / (2 * h[e]);
  return g;
}

// max |a - b| / max |b| (b the truth); max |a - b| when b is all zero.
inline double relative_error(const Vec& a, const Vec& b) {
  EXPECT_EQ(a.size(), b.size());
  double diff = 0, scale = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    diff = std::max(diff, std::abs(a[i] - b[i]));
    scale = std::max(scale, std::abs(b[i]));
  }
  return scale > 0 ? diff / scale : diff;
}

// Input leaves standing for a connection's inputs, to differentiate its energy by
// (autodiff::grad matches inputs by index).
inline std::vector<NodePtr> energy_inputs(const ConnectionDef& c, const Model& m) {
  std::vector<NodePtr> in;
  for (size_t i = 0; i < c.neurons.size(); ++i)
    in.push_back(ir::input(static_cast<int>(i), "in" + std::to_string(i), m.neurons[c.neurons[i]].shape, m.dtype));
  return in;
}

// Symbolic gradients of `y` with respect to `wrt`, evaluated at `at`.
inline std::vector<Vec> symbolic_gradients(const NodePtr& y, const std::vector<NodePtr>& wrt,
                                           const std::vector<Tensor<double>>& at,
                                           const interp::ParamValues<double>& params = {}) {
  std::vector<Tensor<double>> g = eval1<double>(autodiff::grad(y, wrt), at, params);
  std::vector<Vec> out;
  for (const Tensor<double>& t : g) out.push_back(t.data);
  return out;
}

// Every gradient of `y` (w.r.t. each of its inputs, in index order) against float64
// central differences, relative error < 1e-6.
inline void expect_gradients_match_fd(const NodePtr& y, const std::vector<NodePtr>& wrt,
                                      const std::vector<Tensor<double>>& at,
                                      const interp::ParamValues<double>& params = {}) {
  std::vector<Vec> g = symbolic_gradients(y, wrt, at, params);
  for (size_t k = 0; k < wrt.size(); ++k) {
    SCOPED_TRACE("gradient w.r.t. input " + std::to_string(k));
    for (double v : g[k]) ASSERT_TRUE(std::isfinite(v));
    EXPECT_LT(relative_error(g[k], fd_gradient(y, at, k, params)), 1e-6);
  }
}

}  // namespace hamux::stdlib_test
