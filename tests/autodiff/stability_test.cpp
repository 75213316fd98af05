// tests/autodiff/stability_test.cpp - the stable VJP rules stay finite and exact for
// |x| up to 1e3, where the textbook formulas overflow (e^1000 = inf).
#include "autodiff/fd_check.h"

namespace hamux {
namespace {

using ir::NodePtr;
using ir::Op;

const std::vector<double> kXs{-1000.0, -300.0, -30.0, -1.0, 0.0, 0.5, 30.0, 300.0, 1000.0};

Tensor<double> xs() { return Tensor<double>({static_cast<int64_t>(kXs.size())}, kXs); }

template <class T>
std::vector<T> gradient_at(Op op, bool reduce_lse) {
  NodePtr x = ir::input(0, "x", {static_cast<int64_t>(kXs.size())}, ir::DType::F64);
  NodePtr y = reduce_lse ? ir::reduce(Op::LogSumExp, x, {}, false) : ir::sum_all(ir::unary(op, x));
  NodePtr g = passes::simplify(autodiff::grad(y, {x})[0]);
  Tensor<T> in = xs().cast<T>();
  in.shape.insert(in.shape.begin(), 1);
  return interp::evaluate<T>({g}, {in}, {}, 1)[0].data;
}

// Closed forms, evaluated stably in the test itself.
double sigmoid(double x) { return x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x)); }

template <class T>
void expect_close(const std::vector<T>& got, const std::vector<double>& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    SCOPED_TRACE("x = " + std::to_string(kXs[i]));
    ASSERT_TRUE(std::isfinite(static_cast<double>(got[i])));
    EXPECT_NEAR(static_cast<double>(got[i]), want[i], tol);
  }
}

TEST(StableRules, SoftplusGradientIsSigmoid) {
  std::vector<double> want;
  for (double x : kXs) want.push_back(sigmoid(x));
  expect_close(gradient_at<double>(Op::Softplus, false), want, 1e-15);
  expect_close(gradient_at<float>(Op::Softplus, false), want, 1e-7);
}

TEST(StableRules, LogCoshGradientIsTanh) {
  std::vector<double> want;
  for (double x : kXs) want.push_back(std::tanh(x));
  expect_close(gradient_at<double>(Op::LogCosh, false), want, 1e-15);
  expect_close(gradient_at<float>(Op::LogCosh, false), want, 1e-7);
}

TEST(StableRules, LogSumExpGradientIsTheMaxSubtractedSoftmax) {
  double m = *std::max_element(kXs.begin(), kXs.end()), z = 0;
  for (double x : kXs) z += std::exp(x - m);
  std::vector<double> want;
  for (double x : kXs) want.push_back(std::exp(x - m) / z);
  expect_close(gradient_at<double>(Op::LogSumExp, true), want, 1e-15);
  expect_close(gradient_at<float>(Op::LogSumExp, true), want, 1e-7);
}

TEST(StableRules, SigmoidAndTanhGradientsAreFiniteInTheTails) {
  std::vector<double> ds, dt;
  for (double x : kXs) {
    ds.push_back(sigmoid(x) * (1 - sigmoid(x)));
    dt.push_back(1 - std::tanh(x) * std::tanh(x));
  }
  expect_close(gradient_at<double>(Op::Sigmoid, false), ds, 1e-15);
  expect_close(gradient_at<double>(Op::Tanh, false), dt, 1e-15);
}

TEST(StableRules, SqrtGradientIsGuardedAtZero) {
  // d sqrt(x)/dx at x = 0 is 0.5 / max(0, 1e-30) = 5e29: huge but finite, and a zero
  // cotangent (w = 0) gives 0 rather than NaN.
  NodePtr x = ir::input(0, "x", {2}, ir::DType::F64);
  NodePtr w = ir::input(1, "w", {2}, ir::DType::F64);
  NodePtr g = autodiff::grad(ir::sum_all(ir::mul(w, ir::unary(Op::Sqrt, x))), {x})[0];
  auto v = fdcheck::eval_at({g}, {Tensor<double>({2}, {0.0, 4.0}), Tensor<double>({2}, {0.0, 1.0})});
  EXPECT_EQ(v[0].data, (std::vector<double>{0.0, 0.25}));
  auto v1 = fdcheck::eval_at({g}, {Tensor<double>({2}, {0.0, 4.0}), Tensor<double>({2}, {1.0, 1.0})});
  EXPECT_DOUBLE_EQ(v1[0][0], 5e29);
}

}  // namespace
}  // namespace hamux
