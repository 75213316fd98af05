// tests/stdlib/lagrangian_cases.h - every builtin Lagrangian with its closed form in C++.
//
// Each case is a LAG spec as a model writes it, the layer shape it is tested on, and the
// Lagrangian and activation written out independently of hamux, straight from the
// formulas of hamux 0.2 (seeds 002/004 and docs/model-format.md).
#pragma once

#include <cmath>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "hamux/tensor.h"

namespace hamux::stdlib_test {

using T = Tensor<double>;

// The element indices of each slice along `axis` of a 1-D or 2-D shape (a normalisation
// acts on each slice separately).
inline std::vector<std::vector<int64_t>> slices(const Shape& shape, int axis) {
  std::vector<std::vector<int64_t>> out;
  if (shape.size() == 1) {
    out.emplace_back();
    for (int64_t i = 0; i < shape[0]; ++i) out.back().push_back(i);
    return out;
  }
  const int64_t r = shape[0], c = shape[1];
  if (axis < 0) axis += 2;
  if (axis == 1) {
    for (int64_t i = 0; i < r; ++i) {
      out.emplace_back();
      for (int64_t j = 0; j < c; ++j) out.back().push_back(i * c + j);
    }
  } else {
    for (int64_t j = 0; j < c; ++j) {
      out.emplace_back();
      for (int64_t i = 0; i < r; ++i) out.back().push_back(i * c + j);
    }
  }
  return out;
}

inline double relu(double x) { return x > 0 ? x : 0.0; }
inline double softplus(double x) { return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x))); }
inline double sigmoid(double x) { return x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x)); }
inline double logcosh(double x) { return std::abs(x) + std::log1p(std::exp(-2 * std::abs(x))) - std::log(2.0); }

inline T map(const T& x, const std::function<double(double)>& f) {
  T y(x.shape);
  for (int64_t i = 0; i < x.size(); ++i) y[i] = f(x[i]);
  return y;
}
inline double sum_map(const T& x, const std::function<double(double)>& f) {
  double s = 0;
  for (double v : x.data) s += f(v);
  return s;
}

struct LagCase {
  std::string name;  // test name
  std::string spec;  // the LAG JSON
  Shape shape;
  std::function<double(const T&)> lagrangian;
  std::function<T(const T&)> activation;
  int axis = -1;  // for the property tests of the normalising Lagrangians
};

// gtest prints a case by its name.
inline void PrintTo(const LagCase& c, std::ostream* os) { *os << c.name; }

// Per-slice helpers for softmax / ghostmax / norms.
inline double lse(const T& x, const std::vector<int64_t>& idx, double beta) {
  double m = -INFINITY;
  for (int64_t i : idx) m = std::max(m, beta * x[i]);
  double s = 0;
  for (int64_t i : idx) s += std::exp(beta * x[i] - m);
  return m + std::log(s);
}

inline LagCase softmax_case(const std::string& name, double beta, int axis, Shape shape) {
  std::string spec = R"({"softmax": {"beta": )" + std::to_string(beta) + R"(, "axis": )" + std::to_string(axis) + "}}";
  auto L = [=](const T& x) {
    double s = 0;
    for (auto& idx : slices(x.shape, axis)) s += lse(x, idx, beta) / beta;
    return s;
  };
  auto a = [=](const T& x) {
    T y(x.shape);
    for (auto& idx : slices(x.shape, axis)) {
      double l = lse(x, idx, beta);
      for (int64_t i : idx) y[i] = std::exp(beta * x[i] - l);
    }
    return y;
  };
  return {name, spec, shape, L, a, axis};
}

inline LagCase ghostmax_case(const std::string& name, int axis, Shape shape) {
  std::string spec = R"({"ghostmax": {"axis": )" + std::to_string(axis) + "}}";
  // log(1 + sum exp x) = logsumexp over the slice plus one extra logit 0.
  auto lse0 = [](const T& x, const std::vector<int64_t>& idx) {
    double m = 0;
    for (int64_t i : idx) m = std::max(m, x[i]);
    double s = std::exp(-m);
    for (int64_t i : idx) s += std::exp(x[i] - m);
    return m + std::log(s);
  };
  auto L = [=](const T& x) {
    double s = 0;
    for (auto& idx : slices(x.shape, axis)) s += lse0(x, idx);
    return s;
  };
  auto a = [=](const T& x) {
    T y(x.shape);
    for (auto& idx : slices(x.shape, axis)) {
      double l = lse0(x, idx);
      for (int64_t i : idx) y[i] = std::exp(x[i] - l);
    }
    return y;
  };
  return {name, spec, shape, L, a, axis};
}

inline LagCase layernorm_case(const std::string& name, double gamma, double delta, int axis, double eps, Shape shape) {
  std::string spec = R"({"layernorm": {"gamma": )" + std::to_string(gamma) + R"(, "delta": )" + std::to_string(delta) +
                     R"(, "axis": )" + std::to_string(axis) + R"(, "eps": )" + std::to_string(eps) + "}}";
  struct Stats {
    double mean, y;
  };
  auto stats = [=](const T& x, const std::vector<int64_t>& idx) {
    double m = 0, v = 0;
    for (int64_t i : idx) m += x[i];
    m /= static_cast<double>(idx.size());
    for (int64_t i : idx) v += (x[i] - m) * (x[i] - m);
    v /= static_cast<double>(idx.size());
    return Stats{m, std::sqrt(v + eps)};
  };
  auto L = [=](const T& x) {
    double s = 0;
    for (auto& idx : slices(x.shape, axis)) s += static_cast<double>(idx.size()) * gamma * stats(x, idx).y;
    for (double v : x.data) s += delta * v;
    return s;
  };
  auto a = [=](const T& x) {
    T out(x.shape);
    for (auto& idx : slices(x.shape, axis)) {
      Stats st = stats(x, idx);
      for (int64_t i : idx) out[i] = gamma * (x[i] - st.mean) / st.y + delta;
    }
    return out;
  };
  return {name, spec, shape, L, a, axis};
}

inline LagCase spherical_case(const std::string& name, double gamma, double delta, int axis, double eps, Shape shape) {
  std::string spec = R"({"spherical_norm": {"gamma": )" + std::to_string(gamma) + R"(, "delta": )" +
                     std::to_string(delta) + R"(, "axis": )" + std::to_string(axis) + R"(, "eps": )" +
                     std::to_string(eps) + "}}";
  auto norm = [=](const T& x, const std::vector<int64_t>& idx) {
    double s = 0;
    for (int64_t i : idx) s += x[i] * x[i];
    return std::sqrt(s + eps);
  };
  auto L = [=](const T& x) {
    double s = 0;
    for (auto& idx : slices(x.shape, axis)) s += gamma * norm(x, idx);
    for (double v : x.data) s += delta * v;
    return s;
  };
  auto a = [=](const T& x) {
    T out(x.shape);
    for (auto& idx : slices(x.shape, axis)) {
      double y = norm(x, idx);
      for (int64_t i : idx) out[i] = gamma * x[i] / y + delta;
    }
    return out;
  };
  return {name, spec, shape, L, a, axis};
}

inline std::vector<LagCase> lagrangian_cases() {
  const Shape s{3, 4};
  std::vector<LagCase> c;
  c.push_back({"identity", R"("identity")", s, [](const T& x) { return sum_map(x, [](double v) { return 0.5 * v * v; }); },
               [](const T& x) { return x; }});
  for (double n : {2.0, 3.0, 4.5}) {
    c.push_back({"repu_" + std::to_string(static_cast<int>(n * 10)), R"({"repu": {"n": )" + std::to_string(n) + "}}", s,
                 [n](const T& x) { return sum_map(x, [n](double v) { return std::pow(relu(v), n) / n; }); },
                 [n](const T& x) { return map(x, [n](double v) { return std::pow(relu(v), n - 1); }); }});
  }
  c.push_back({"relu", R"("relu")", s, [](const T& x) { return sum_map(x, [](double v) { return 0.5 * relu(v) * relu(v); }); },
               [](const T& x) { return map(x, relu); }});
  for (double b : {1.0, 0.5}) {
    std::string tag = std::to_string(static_cast<int>(b * 10));
    c.push_back({"exp_" + tag, R"({"exp": {"beta": )" + std::to_string(b) + "}}", s,
                 [b](const T& x) { return sum_map(x, [b](double v) { return std::exp(b * v) / b; }); },
                 [b](const T& x) { return map(x, [b](double v) { return std::exp(b * v); }); }});
  }
  for (double b : {1.0, 2.0}) {
    std::string tag = std::to_string(static_cast<int>(b * 10));
    // hamux 0.2: L = sum(exp(beta relu(x))/beta - relu(x)).
    c.push_back({"rexp_" + tag, R"({"rexp": {"beta": )" + std::to_string(b) + "}}", s,
                 [b](const T& x) { return sum_map(x, [b](double v) { return std::exp(b * relu(v)) / b - relu(v); }); },
                 [b](const T& x) { return map(x, [b](double v) { return v > 0 ? std::exp(b * v) - 1 : 0.0; }); }});
  }
  for (auto [b, k] : std::vector<std::pair<double, double>>{{1.0, 1.0}, {2.5, 3.0}, {0.2, 1.3}}) {
    std::string tag = std::to_string(static_cast<int>(b * 10)) + "_" + std::to_string(static_cast<int>(k * 10));
    c.push_back({"sigmoid_" + tag,
                 R"({"sigmoid": {"beta": )" + std::to_string(b) + R"(, "scale": )" + std::to_string(k) + "}}", s,
                 [b, k](const T& x) { return sum_map(x, [b, k](double v) { return k / b * softplus(b * v); }); },
                 [b, k](const T& x) { return map(x, [b, k](double v) { return k * sigmoid(b * v); }); }});
  }
  for (double b : {1.0, 0.7}) {
    std::string tag = std::to_string(static_cast<int>(b * 10));
    c.push_back({"tanh_" + tag, R"({"tanh": {"beta": )" + std::to_string(b) + "}}", s,
                 [b](const T& x) { return sum_map(x, [b](double v) { return logcosh(b * v) / b; }); },
                 [b](const T& x) { return map(x, [b](double v) { return std::tanh(b * v); }); }});
  }
  c.push_back(softmax_case("softmax_default", 1.0, -1, s));
  c.push_back(softmax_case("softmax_beta2_axis0", 2.0, 0, s));
  c.push_back(layernorm_case("layernorm_default", 1.0, 0.0, -1, 1e-5, s));
  c.push_back(layernorm_case("layernorm_scaled_axis0", 2.0, 0.5, 0, 1e-3, s));
  c.push_back(spherical_case("spherical_norm_default", 1.0, 0.0, -1, 1e-5, s));
  c.push_back(spherical_case("spherical_norm_scaled_axis0", 2.5, -0.3, 0, 1e-3, s));
  c.push_back(ghostmax_case("ghostmax_default", -1, s));
  c.push_back(ghostmax_case("ghostmax_axis0", 0, s));
  return c;
}

}  // namespace hamux::stdlib_test
