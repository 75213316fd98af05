// tests/passes/pass_check.h - value preservation checks for the simplifier passes.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <vector>

#include "graph/builder.h"
#include "interp/interpreter.h"
#include "passes/passes.h"
#include "passes/simplify.h"

namespace hamux::passcheck {

using ir::NodePtr;
using ir::Op;

inline NodePtr in(int i, const Shape& s, const std::string& name = "") {
  std::string label = name;
  if (label.empty()) label = std::string("x").append(std::to_string(i));
  return ir::input(i, label, s, ir::DType::F64);
}
inline NodePtr c(double v, const Shape& s = {}) { return ir::constant(v, ir::DType::F64, s); }

inline size_t count(const NodePtr& n) { return passes::node_count({n}); }
inline size_t count_op(const std::vector<NodePtr>& roots, Op op) {
  size_t k = 0;
  for (const ir::Node* n : ir::topological_order(roots)) k += n->op == op;
  return k;
}

// Random values (in [lo, hi]) for every Input the roots read, batch of 2 samples.
inline std::vector<Tensor<double>> random_inputs(const std::vector<NodePtr>& roots, uint64_t seed,
                                                 double lo = -2, double hi = 2) {
  std::map<int, Shape> shapes;
  for (const ir::Node* n : ir::topological_order(roots))
    if (n->op == Op::Input) shapes[n->attrs.index] = n->shape;
  std::vector<Tensor<double>> inputs;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  int count = shapes.empty() ? 0 : shapes.rbegin()->first + 1;
  for (int i = 0; i < count; ++i) {
    Shape s = shapes.count(i) ? shapes[i] : Shape{};
    s.insert(s.begin(), 2);
    Tensor<double> t(s);
    for (double& v : t.data) v = u(rng);
    inputs.push_back(std::move(t));
  }
  return inputs;
}

// `after` computes the values of `before` (relative 1e-12: folding may round differently).
inline void expect_same_values(const std::vector<NodePtr>& before, const std::vector<NodePtr>& after,
                               double lo = -2, double hi = 2) {
  ASSERT_EQ(before.size(), after.size());
  auto inputs = random_inputs(before, 17, lo, hi);
  auto a = interp::evaluate<double>(before, inputs, {}, 2);
  auto b = interp::evaluate<double>(after, inputs, {}, 2);
  for (size_t o = 0; o < a.size(); ++o) {
    ASSERT_EQ(a[o].shape, b[o].shape);
    for (int64_t i = 0; i < a[o].size(); ++i)
      EXPECT_NEAR(a[o][i], b[o][i], 1e-12 * std::max(1.0, std::abs(a[o][i]))) << "output " << o << " element " << i;
  }
}

inline void expect_same_values(const NodePtr& before, const NodePtr& after, double lo = -2, double hi = 2) {
  expect_same_values(std::vector<NodePtr>{before}, std::vector<NodePtr>{after}, lo, hi);
}

}  // namespace hamux::passcheck
