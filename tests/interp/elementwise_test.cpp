// tests/interp/elementwise_test.cpp - every elementwise op against its closed form, in
// float32 and float64, over a batch; stability of the saturating functions at |x| = 1e3, 1e4.
#include <functional>

#include "interp/interp_testing.h"

namespace hamux::testing {
namespace {

using ir::Op;

template <class T>
class Elementwise : public ::testing::Test {};
TYPED_TEST_SUITE(Elementwise, FloatTypes);

struct UnaryCase {
  Op op;
  std::vector<double> points;  // 6 points: batch 2 x shape [3]
  std::function<long double(long double)> truth;
};

std::vector<UnaryCase> unary_cases() {
  using L = long double;
  return {
      {Op::Neg, {-2, 0, 1.5, 3, -0.25, 7}, [](L x) { return -x; }},
      {Op::Exp, {-2, 0, 1.5, 3, -0.25, 7}, [](L x) { return std::exp(x); }},
      {Op::Log, {0.5, 1, 2, 10, 1e-3, 123}, [](L x) { return std::log(x); }},
      {Op::Log1p, {-0.5, 0, 1e-7, 2, 10, 1e-3}, [](L x) { return std::log1p(x); }},
      {Op::Sqrt, {0, 1, 2, 9, 0.25, 1e4}, [](L x) { return std::sqrt(x); }},
      {Op::Abs, {-2, 0, 1.5, -3, -0.25, 7}, [](L x) { return x < 0 ? -x : x; }},
      {Op::Sign, {-2, 0, 1.5, -3, -1e-30, 7}, [](L x) { return L((x > 0) - (x < 0)); }},
      {Op::Step, {-2, 0, 1.5, -3, 1e-30, 7}, [](L x) { return L(x > 0); }},
      {Op::Relu, {-2, 0, 1.5, -3, 1e-30, 7}, [](L x) { return x > 0 ? x : 0; }},
      {Op::Sigmoid, {-30, -2, 0, 0.5, 3, 30}, [](L x) { return 1 / (1 + std::exp(-x)); }},
      {Op::Tanh, {-30, -2, 0, 0.5, 3, 1e-4},
       [](L x) { return (std::exp(x) - std::exp(-x)) / (std::exp(x) + std::exp(-x)); }},
      {Op::Softplus, {-30, -2, 0, 0.5, 3, 30}, [](L x) { return std::log(1 + std::exp(x)); }},
      {Op::LogCosh, {-30, -2, 0, 0.5, 3, 1e-3},
       [](L x) { return std::log((std::exp(x) + std::exp(-x)) / 2); }},
  };
}

TYPED_TEST(Elementwise, UnaryOpsMatchClosedForms) {
  using T = TypeParam;
  for (const UnaryCase& c : unary_cases()) {
    SCOPED_TRACE(ir::op_name(c.op));
    ir::NodePtr x = ir::input(0, "x", {3}, kDType<T>);
    Tensor<T> in = tensor<T>({2, 3}, c.points);
    std::vector<double> want;
    // The truth is taken at the T-rounded input: the interpreter sees only that.
    for (T v : in.data) want.push_back(static_cast<double>(c.truth(static_cast<long double>(v))));
    expect_values(eval1<T>(ir::unary(c.op, x), {in}, 2), {2, 3}, want);
  }
}

TYPED_TEST(Elementwise, SaturatingFunctionsStayFiniteAtLargeArguments) {
  using T = TypeParam;
  const double log2 = std::log(2.0);
  std::vector<double> xs = {-1e4, -1e3, 1e3, 1e4};
  struct Case {
    Op op;
    std::vector<double> want;
  };
  // Asymptotic closed forms: exp(-1e3) and smaller underflow to 0 even in double.
  std::vector<Case> cases = {
      {Op::Softplus, {0, 0, 1e3, 1e4}},
      {Op::LogCosh, {1e4 - log2, 1e3 - log2, 1e3 - log2, 1e4 - log2}},
      {Op::Sigmoid, {0, 0, 1, 1}},
      {Op::Tanh, {-1, -1, 1, 1}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(ir::op_name(c.op));
    ir::NodePtr x = ir::input(0, "x", {2}, kDType<T>);
    Tensor<T> got = eval1<T>(ir::unary(c.op, x), {tensor<T>({2, 2}, xs)}, 2);
    for (T v : got.data) EXPECT_TRUE(std::isfinite(v));
    expect_values(got, {2, 2}, c.want);
  }
}

TYPED_TEST(Elementwise, LogSumExpStaysFiniteAtLargeArguments) {
  using T = TypeParam;
  ir::NodePtr x = ir::input(0, "x", {2}, kDType<T>);
  ir::NodePtr lse = ir::reduce(Op::LogSumExp, x, {}, false);
  // Per sample: log(e^a + e^b) = max + log1p(e^-|a-b|).
  Tensor<T> in = tensor<T>({4, 2}, {1e4, 1e4, -1e4, -1e4, 1e3, 990, -1e4, 1e4});
  std::vector<double> want = {1e4 + std::log(2.0), -1e4 + std::log(2.0),
                              1e3 + std::log1p(std::exp(-10.0)), 1e4};
  expect_values(eval1<T>(lse, {in}, 4), {4}, want);
}

TEST(ElementwiseAccuracy, LogCoshNearZeroKeepsRelativeAccuracy) {
  // log cosh x = x^2/2 - x^4/12 + ...; the |x| + log1p(e^-2|x|) - log 2 form would lose
  // half the digits here.
  ir::NodePtr x = ir::input(0, "x", {2}, ir::DType::F64);
  Tensor<double> got = eval1<double>(ir::unary(Op::LogCosh, x), {Tensor<double>({1, 2}, {1e-4, -3e-6})}, 1);
  for (int i = 0; i < 2; ++i) {
    double v = i == 0 ? 1e-4 : -3e-6;
    double want = v * v / 2 - v * v * v * v / 12;
    EXPECT_NEAR(got.data[i], want, 1e-15 * want);
  }
}

TEST(ElementwiseNaN, ConventionsAreAsDocumented) {
  double nan = std::numeric_limits<double>::quiet_NaN();
  ir::NodePtr x = ir::input(0, "x", {1}, ir::DType::F64);
  Tensor<double> in({1, 1}, {nan});
  EXPECT_TRUE(std::isnan(eval1<double>(ir::unary(Op::Relu, x), {in}, 1).data[0]));
  EXPECT_TRUE(std::isnan(eval1<double>(ir::unary(Op::Sign, x), {in}, 1).data[0]));
  EXPECT_EQ(eval1<double>(ir::unary(Op::Step, x), {in}, 1).data[0], 0.0);
  ir::NodePtr one = ir::scalar_like(1.0, x);
  EXPECT_TRUE(std::isnan(eval1<double>(ir::binary(Op::Max, x, one), {in}, 1).data[0]));
  EXPECT_TRUE(std::isnan(eval1<double>(ir::binary(Op::Min, x, one), {in}, 1).data[0]));
  EXPECT_EQ(eval1<double>(ir::binary(Op::Greater, x, one), {in}, 1).data[0], 0.0);
  EXPECT_EQ(eval1<double>(ir::binary(Op::Equal, x, x), {in}, 1).data[0], 0.0);
}

TYPED_TEST(Elementwise, BinaryOpsMatchClosedForms) {
  using T = TypeParam;
  // batch 3 x shape [2]
  std::vector<double> a = {1.5, -2, 0.25, 3, -8, 4};
  std::vector<double> b = {2, 3, 0.25, -1.5, 3, 0.5};
  struct Case {
    Op op;
    std::function<double(double, double)> truth;
  };
  std::vector<Case> cases = {
      {Op::Add, [](double p, double q) { return p + q; }},
      {Op::Sub, [](double p, double q) { return p - q; }},
      {Op::Mul, [](double p, double q) { return p * q; }},
      {Op::Div, [](double p, double q) { return p / q; }},
      {Op::Max, [](double p, double q) { return p > q ? p : q; }},
      {Op::Min, [](double p, double q) { return p < q ? p : q; }},
      {Op::Greater, [](double p, double q) { return p > q ? 1.0 : 0.0; }},
      {Op::Equal, [](double p, double q) { return p == q ? 1.0 : 0.0; }},
  };
  ir::NodePtr x = ir::input(0, "a", {2}, kDType<T>);
  ir::NodePtr y = ir::input(1, "b", {2}, kDType<T>);
  for (const Case& c : cases) {
    SCOPED_TRACE(ir::op_name(c.op));
    std::vector<double> want;
    for (size_t i = 0; i < a.size(); ++i) want.push_back(c.truth(a[i], b[i]));
    expect_values(eval1<T>(ir::binary(c.op, x, y), {tensor<T>({3, 2}, a), tensor<T>({3, 2}, b)}, 3),
                  {3, 2}, want);
  }
}

TYPED_TEST(Elementwise, PowMatchesClosedForms) {
  using T = TypeParam;
  ir::NodePtr x = ir::input(0, "a", {3}, kDType<T>);
  ir::NodePtr y = ir::input(1, "b", {3}, kDType<T>);
  // (-2)^3 = -8, 9^0.5 = 3, 2^-2 = 0.25, 10^0 = 1, 0.5^10, 4^1.5 = 8
  Tensor<T> a = tensor<T>({2, 3}, {-2, 9, 2, 10, 0.5, 4});
  Tensor<T> b = tensor<T>({2, 3}, {3, 0.5, -2, 0, 10, 1.5});
  expect_values(eval1<T>(ir::binary(Op::Pow, x, y), {a, b}, 2), {2, 3},
                {-8, 3, 0.25, 1, 1.0 / 1024, 8});
}

TYPED_TEST(Elementwise, ConstantsAreRoundedToTheEvaluationType) {
  using T = TypeParam;
  ir::NodePtr c = ir::constant(0.1, kDType<T>, {2});
  Tensor<T> got = eval1<T>(c, {}, 3);
  EXPECT_EQ(got.shape, (Shape{3, 2}));
  for (T v : got.data) EXPECT_EQ(v, static_cast<T>(0.1));
}

TEST(ElementwiseRounding, Float32ResultsAreTheDoubleResultRoundedOnce) {
  // 1 + 2^-30 is not a float; x + y in float must round it to 1, while the same float32
  // graph evaluated in double keeps it.
  ir::NodePtr x = ir::input(0, "x", {}, ir::DType::F32);
  ir::NodePtr y = ir::input(1, "y", {}, ir::DType::F32);
  ir::NodePtr sum = ir::sub(ir::add(x, y), x);
  double tiny = std::ldexp(1.0, -30);
  Tensor<float> f = eval1<float>(sum, {Tensor<float>({1}, {1.0f}), Tensor<float>({1}, {float(tiny)})}, 1);
  Tensor<double> d = eval1<double>(sum, {Tensor<double>({1}, {1.0}), Tensor<double>({1}, {tiny})}, 1);
  EXPECT_EQ(f.data[0], 0.0f);
  EXPECT_EQ(d.data[0], tiny);
}

}  // namespace
}  // namespace hamux::testing
