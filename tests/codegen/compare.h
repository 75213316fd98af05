// tests/codegen/compare.h - JIT vs interpreter on the same graphs and values.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "codegen/jit/evaluate.h"
#include "codegen/loops/program.h"
#include "graph/ir.h"
#include "interp/interpreter.h"

namespace hamux::codegen::testing {

template <class T>
Tensor<T> random_tensor(const Shape& shape, std::mt19937& rng, double lo = -1.5, double hi = 1.5) {
  std::uniform_real_distribution<double> u(lo, hi);
  Tensor<T> t(shape);
  for (auto& v : t.data) v = static_cast<T>(u(rng));
  return t;
}

// Random values for every input and param of `outputs`.
template <class T>
void random_bindings(const std::vector<ir::NodePtr>& outputs, int64_t batch, std::mt19937& rng,
                     std::vector<Tensor<T>>& inputs, std::map<std::string, Tensor<T>>& params) {
  for (const ir::Node* n : ir::topological_order(outputs)) {
    if (n->op == ir::Op::Input) {
      if (static_cast<int>(inputs.size()) <= n->attrs.index) inputs.resize(n->attrs.index + 1);
      Shape s{batch};
      s.insert(s.end(), n->shape.begin(), n->shape.end());
      if (inputs[n->attrs.index].shape != s) inputs[n->attrs.index] = random_tensor<T>(s, rng);
    } else if (n->op == ir::Op::Param && !params.count(n->attrs.name)) {
      params[n->attrs.name] = random_tensor<T>(n->shape, rng);
    }
  }
}

// Asserts |jit - interp| <= tol * max(1, max |interp|) element by element, per output:
// the error bound is relative to the output's value scale.
template <class T>
void expect_close(const std::vector<Tensor<T>>& got, const std::vector<Tensor<T>>& want, double tol,
                  const std::string& what, const std::vector<std::string>& labels = {}) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t k = 0; k < got.size(); ++k) {
    ASSERT_EQ(got[k].shape, want[k].shape) << what << " output " << k;
    const std::string label = k < labels.size() ? " (" + labels[k] + ")" : "";
    double scale = 1.0;
    for (T v : want[k].data)
      if (std::isfinite(static_cast<double>(v))) scale = std::max(scale, std::abs(static_cast<double>(v)));
    for (int64_t i = 0; i < got[k].size(); ++i) {
      double g = got[k][i], w = want[k][i];
      if (std::isnan(w)) {
        EXPECT_TRUE(std::isnan(g)) << what << " output " << k << " element " << i;
      } else if (std::isinf(w)) {
        EXPECT_EQ(g, w) << what << " output " << k << " element " << i;
      } else {
        ASSERT_LE(std::abs(g - w), tol * scale)
            << what << " output " << k << label << " element " << i << ": jit " << g << " interp " << w;
      }
    }
  }
}

// How many stages of `phase` are of `kind` (for tests of what the lowering produced).
inline int stages_of(const std::vector<Stage>& phase, StageKind kind) {
  int n = 0;
  for (const Stage& s : phase) n += s.kind == kind;
  return n;
}

template <class T>
double tolerance() {
  return sizeof(T) == 8 ? 1e-10 : 1e-4;
}

// Evaluates `outputs` with both engines on random values and compares.
template <class T>
void check_against_interpreter(const std::vector<ir::NodePtr>& outputs, int64_t batch, unsigned seed,
                               const std::string& what, int threads = 1,
                               const codegen::CompileOptions& options = {}) {
  std::mt19937 rng(seed);
  std::vector<Tensor<T>> inputs;
  std::map<std::string, Tensor<T>> params;
  random_bindings<T>(outputs, batch, rng, inputs, params);
  auto want = interp::evaluate<T>(outputs, inputs, params, batch);
  auto got = codegen::evaluate<T>(outputs, inputs, params, batch, threads, options);
  std::vector<std::string> labels;
  for (const ir::NodePtr& n : outputs) labels.push_back(ir::op_name(n->op) + (" " + n->attrs.spec));
  expect_close(got, want, tolerance<T>(), what, labels);
}

}  // namespace hamux::codegen::testing
