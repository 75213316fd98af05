// tests/interp/interp_testing.h - shared helpers for the interpreter tests.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <type_traits>
#include <vector>

#include "graph/builder.h"
#include "graph/ir.h"
#include "interp/interpreter.h"

namespace hamux::testing {

template <class T>
inline constexpr ir::DType kDType = std::is_same_v<T, float> ? ir::DType::F32 : ir::DType::F64;

// Evaluates one output.
template <class T>
Tensor<T> eval1(const ir::NodePtr& out, const std::vector<Tensor<T>>& inputs, int64_t batch,
                const interp::ParamValues<T>& params = {}) {
  return interp::evaluate<T>({out}, inputs, params, batch).at(0);
}

// A tensor from double values, rounded to T.
template <class T>
Tensor<T> tensor(const Shape& shape, const std::vector<double>& values) {
  return Tensor<double>(shape, values).cast<T>();
}

// Deterministic values in [-1, 1].
inline std::vector<double> random_values(int64_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  std::vector<double> v(n);
  for (double& x : v) x = dist(gen);
  return v;
}

// Tolerance for a value computed in double and rounded once to T (plus the rounding of
// the inputs): a few units in the last place of T, relative to the magnitude.
template <class T>
double tolerance(double expected, double ulps = 8) {
  return ulps * std::numeric_limits<T>::epsilon() * std::max(1.0, std::abs(expected));
}

template <class T>
void expect_values(const Tensor<T>& got, const Shape& shape, const std::vector<double>& want,
                   double ulps = 8) {
  ASSERT_EQ(got.shape, shape);
  ASSERT_EQ(got.data.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    if (std::isinf(want[i]) || std::isnan(want[i])) {
      if (std::isnan(want[i])) EXPECT_TRUE(std::isnan(got.data[i])) << "element " << i;
      else EXPECT_EQ(static_cast<double>(got.data[i]), want[i]) << "element " << i;
    } else {
      EXPECT_NEAR(static_cast<double>(got.data[i]), want[i], tolerance<T>(want[i], ulps))
          << "element " << i;
    }
  }
}

using FloatTypes = ::testing::Types<float, double>;

}  // namespace hamux::testing
