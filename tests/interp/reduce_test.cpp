// tests/interp/reduce_test.cpp - Sum, ReduceMax and LogSumExp with axes, keepdims, all axes.
#include "interp/interp_testing.h"

namespace hamux::testing {
namespace {

using ir::Op;

template <class T>
class Reduce : public ::testing::Test {};
TYPED_TEST_SUITE(Reduce, FloatTypes);

// x[b, i, j, k] = a distinct, easily checked value.
double value_at(int64_t b, int64_t i, int64_t j, int64_t k) {
  return 100.0 * b + 10.0 * i + j + 0.25 * k - 3.0 * ((i + j + k) % 2);
}

constexpr int64_t B = 2, I = 2, J = 3, K = 4;

std::vector<double> input_values() {
  std::vector<double> v;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < I; ++i)
      for (int64_t j = 0; j < J; ++j)
        for (int64_t k = 0; k < K; ++k) v.push_back(value_at(b, i, j, k));
  return v;
}

// The closed-form reduction over the axes in `reduced` (of i, j, k), kept axes in order.
std::vector<double> reference(Op op, std::array<bool, 3> reduced) {
  std::vector<double> out;
  int64_t ni = reduced[0] ? 1 : I, nj = reduced[1] ? 1 : J, nk = reduced[2] ? 1 : K;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t oi = 0; oi < ni; ++oi)
      for (int64_t oj = 0; oj < nj; ++oj)
        for (int64_t ok = 0; ok < nk; ++ok) {
          long double sum = 0, mx = -INFINITY, sumexp = 0;
          for (int64_t i = 0; i < I; ++i)
            for (int64_t j = 0; j < J; ++j)
              for (int64_t k = 0; k < K; ++k) {
                if ((!reduced[0] && i != oi) || (!reduced[1] && j != oj) ||
                    (!reduced[2] && k != ok))
                  continue;
                long double v = value_at(b, i, j, k);
                sum += v;
                mx = std::max(mx, v);
                sumexp += std::exp(v - 100.0L * b);  // shift by a constant to stay in range
              }
          if (op == Op::Sum) out.push_back(double(sum));
          if (op == Op::ReduceMax) out.push_back(double(mx));
          if (op == Op::LogSumExp) out.push_back(double(100.0L * b + std::log(sumexp)));
        }
  return out;
}

TYPED_TEST(Reduce, AxesKeepdimsAndAllAxesMatchClosedForms) {
  using T = TypeParam;
  ir::NodePtr x = ir::input(0, "x", {I, J, K}, kDType<T>);
  Tensor<T> in = tensor<T>({B, I, J, K}, input_values());
  struct Case {
    std::vector<int64_t> axes;  // as given to the builder (may be negative or empty = all)
    std::array<bool, 3> reduced;
  };
  std::vector<Case> cases = {
      {{1}, {false, true, false}},   {{-1}, {false, false, true}},
      {{0, 2}, {true, false, true}}, {{2, 0}, {true, false, true}},
      {{}, {true, true, true}},      {{0, 1, 2}, {true, true, true}},
  };
  for (Op op : {Op::Sum, Op::ReduceMax, Op::LogSumExp}) {
    for (const Case& c : cases) {
      for (bool keepdims : {false, true}) {
        SCOPED_TRACE(std::string(ir::op_name(op)) + " axes " + shape_str(c.axes) +
                     (keepdims ? " keepdims" : ""));
        ir::NodePtr r = ir::reduce(op, x, c.axes, keepdims);
        Shape shape = {B};
        std::array<int64_t, 3> dims = {I, J, K};
        for (int a = 0; a < 3; ++a)
          if (!c.reduced[a]) shape.push_back(dims[a]);
          else if (keepdims) shape.push_back(1);
        expect_values(eval1<T>(r, {in}, B), shape, reference(op, c.reduced), 16);
      }
    }
  }
}

TYPED_TEST(Reduce, LogSumExpOfInfiniteSlices) {
  using T = TypeParam;
  const double inf = std::numeric_limits<double>::infinity();
  ir::NodePtr x = ir::input(0, "x", {3, 2}, kDType<T>);
  ir::NodePtr lse = ir::reduce(Op::LogSumExp, x, {1}, false);
  // Rows: all -inf -> -inf (not NaN); one -inf -> the other element; +inf -> +inf.
  Tensor<T> in = tensor<T>({2, 3, 2}, {-inf, -inf, -inf, 2.5, inf, 1, 0, 0, -inf, -inf, 7, inf});
  expect_values(eval1<T>(lse, {in}, 2), {2, 3}, {-inf, 2.5, inf, std::log(2.0), -inf, inf});
  ir::NodePtr mx = ir::reduce(Op::ReduceMax, x, {1}, false);
  expect_values(eval1<T>(mx, {in}, 2), {2, 3}, {-inf, 2.5, inf, 0, -inf, inf});
}

TYPED_TEST(Reduce, ReductionOfAScalarIsTheIdentityInTheBuilder) {
  using T = TypeParam;
  ir::NodePtr x = ir::input(0, "x", {}, kDType<T>);
  for (Op op : {Op::Sum, Op::ReduceMax, Op::LogSumExp}) {
    ir::NodePtr r = ir::reduce(op, x, {}, false);
    expect_values(eval1<T>(r, {tensor<T>({3}, {1, -2, 0.5})}, 3), {3}, {1, -2, 0.5});
  }
}

}  // namespace
}  // namespace hamux::testing
