// tests/autodiff/fd_check.h - float64 finite-difference checks of symbolic gradients.
//
// The truth every gradient test compares against is a central finite difference of the
// primal graph, evaluated by the reference interpreter in float64. All perturbed points
// are evaluated in one batched interpreter call (one sample per point).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "autodiff/grad.h"
#include "graph/builder.h"
#include "interp/interpreter.h"
#include "passes/simplify.h"

namespace hamux::fdcheck {

using ir::NodePtr;
using Point = std::vector<Tensor<double>>;  // one unbatched tensor per input index
using Params = interp::ParamValues<double>;

inline constexpr double kStep = 1e-6;       // central-difference step (relative to |x|, >= 1)
inline constexpr double kTolerance = 1e-6;  // relative error bound, infinity norm

inline Tensor<double> random_tensor(const Shape& shape, std::mt19937_64& rng, double lo, double hi) {
  std::uniform_real_distribution<double> u(lo, hi);
  Tensor<double> t(shape);
  for (double& v : t.data) v = u(rng);
  return t;
}

// Evaluates `outputs` at every point (one batch sample per point); result[p][o].
inline std::vector<std::vector<Tensor<double>>> eval_points(const std::vector<NodePtr>& outputs,
                                                            const std::vector<Point>& points,
                                                            const Params& params = {}) {
  const int64_t batch = static_cast<int64_t>(points.size());
  std::vector<Tensor<double>> inputs;
  for (size_t k = 0; k < points[0].size(); ++k) {
    Shape s = points[0][k].shape;
    s.insert(s.begin(), batch);
    Tensor<double> t(s);
    const int64_t n = points[0][k].size();
    for (int64_t b = 0; b < batch; ++b)
      std::copy(points[b][k].data.begin(), points[b][k].data.end(), t.data.begin() + b * n);
    inputs.push_back(std::move(t));
  }
  std::vector<Tensor<double>> out = interp::evaluate<double>(outputs, inputs, params, batch);
  std::vector<std::vector<Tensor<double>>> result(batch);
  for (size_t o = 0; o < outputs.size(); ++o) {
    const Shape& s = outputs[o]->shape;
    const int64_t n = num_elements(s);
    for (int64_t b = 0; b < batch; ++b)
      result[b].push_back(Tensor<double>(
          s, std::vector<double>(out[o].data.begin() + b * n, out[o].data.begin() + (b + 1) * n)));
  }
  return result;
}

inline std::vector<Tensor<double>> eval_at(const std::vector<NodePtr>& outputs, const Point& point,
                                           const Params& params = {}) {
  return eval_points(outputs, {point}, params)[0];
}

// Central differences of the scalar `y` with respect to the given flat elements of input k.
// `richardson` combines steps h and h/2 ((4 D(h/2) - D(h)) / 3, error O(h^4)) so that a
// larger h can be used: needed for model energies that sum ~1e4 terms, whose float64
// round-off (eps |E| / h) would dominate a plain central difference at h = 1e-6.
inline std::vector<double> fd_gradient(const NodePtr& y, const Point& at, size_t k,
                                       const std::vector<int64_t>& elements, const Params& params = {},
                                       double step = kStep, bool richardson = false) {
  const std::vector<double> fractions = richardson ? std::vector<double>{1.0, 0.5} : std::vector<double>{1.0};
  std::vector<Point> points;
  std::vector<double> steps;
  for (int64_t e : elements) {
    for (double f : fractions) {
      double h = f * step * std::max(1.0, std::abs(at[k][e]));
      steps.push_back(h);
      for (double sgn : {1.0, -1.0}) {
        Point p = at;
        p[k][e] += sgn * h;
        points.push_back(std::move(p));
      }
    }
  }
  auto values = eval_points({y}, points, params);
  std::vector<double> d;  // one central difference per (element, fraction)
  for (size_t i = 0; i < steps.size(); ++i)
    d.push_back((values[2 * i][0][0] - values[2 * i + 1][0][0]) / (2 * steps[i]));
  if (!richardson) return d;
  std::vector<double> g;
  for (size_t i = 0; i < elements.size(); ++i) g.push_back((4 * d[2 * i + 1] - d[2 * i]) / 3);
  return g;
}

inline std::vector<int64_t> all_elements(const Tensor<double>& t) {
  std::vector<int64_t> e(t.size());
  for (int64_t i = 0; i < t.size(); ++i) e[i] = i;
  return e;
}

// max |a - b| / max |b| (b the truth); when b is all zero, max |a - b| itself.
inline double relative_error(const std::vector<double>& a, const std::vector<double>& b) {
  double diff = 0, scale = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::abs(a[i] - b[i]));
    scale = std::max(scale, std::abs(b[i]));
  }
  return scale > 0 ? diff / scale : diff;
}

// Checks grad(y, inputs) - raw and simplified - against central differences at `at`, for
// every element of every input. `inputs[k]` must be the Input with index k.
inline void expect_gradients_match_fd(const NodePtr& y, const std::vector<NodePtr>& inputs,
                                      const Point& at, double tolerance = kTolerance) {
  std::vector<NodePtr> raw = autodiff::grad(y, inputs);
  std::vector<NodePtr> simple = passes::simplify(raw);
  std::vector<Tensor<double>> g_raw = eval_at(raw, at);
  std::vector<Tensor<double>> g_simple = eval_at(simple, at);
  for (size_t k = 0; k < inputs.size(); ++k) {
    SCOPED_TRACE("gradient w.r.t. input " + std::to_string(k) + " '" + inputs[k]->attrs.name + "'");
    std::vector<double> fd = fd_gradient(y, at, k, all_elements(at[k]));
    for (double v : g_raw[k].data) ASSERT_TRUE(std::isfinite(v));
    EXPECT_LT(relative_error(g_raw[k].data, fd), tolerance);
    EXPECT_LT(relative_error(g_simple[k].data, fd), tolerance);
  }
}

}  // namespace hamux::fdcheck
