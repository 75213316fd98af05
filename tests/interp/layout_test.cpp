// tests/interp/layout_test.cpp - Broadcast (also through the builder's binary helpers),
// Reshape and Transpose.
#include "interp/interp_testing.h"

namespace hamux::testing {
namespace {

using ir::Op;

template <class T>
class Layout : public ::testing::Test {};
TYPED_TEST_SUITE(Layout, FloatTypes);

TYPED_TEST(Layout, BroadcastRepeatsAlongNewAndUnitAxes) {
  using T = TypeParam;
  ir::NodePtr row = ir::input(0, "row", {3}, kDType<T>);
  ir::NodePtr col = ir::input(1, "col", {2, 1}, kDType<T>);
  Tensor<T> r = tensor<T>({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor<T> c = tensor<T>({2, 2, 1}, {10, 20, 30, 40});

  // [3] -> [2,3]: rows repeat.
  expect_values(eval1<T>(ir::broadcast_to(row, {2, 3}), {r, c}, 2), {2, 2, 3},
                {1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6});
  // [2,1] -> [2,3]: columns repeat.
  expect_values(eval1<T>(ir::broadcast_to(col, {2, 3}), {r, c}, 2), {2, 2, 3},
                {10, 10, 10, 20, 20, 20, 30, 30, 30, 40, 40, 40});
  // [2,1] -> [2,2,3]: a new leading axis as well.
  Tensor<T> got = eval1<T>(ir::broadcast_to(col, {2, 2, 3}), {r, c}, 2);
  std::vector<double> want;
  for (int b = 0; b < 2; ++b)
    for (int n = 0; n < 2; ++n)
      for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 3; ++j) want.push_back(10.0 * (2 * b + i + 1));
  expect_values(got, {2, 2, 2, 3}, want);
}

TYPED_TEST(Layout, BuilderBinaryOpsBroadcastLikeNumPy) {
  using T = TypeParam;
  ir::NodePtr row = ir::input(0, "row", {3}, kDType<T>);
  ir::NodePtr col = ir::input(1, "col", {2, 1}, kDType<T>);
  Tensor<T> r = tensor<T>({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor<T> c = tensor<T>({2, 2, 1}, {10, 20, 30, 40});
  ir::NodePtr outer = ir::sub(col, row);  // [2,1] - [3] -> [2,3]
  ASSERT_EQ(outer->shape, (Shape{2, 3}));
  std::vector<double> want;
  for (int b = 0; b < 2; ++b)
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 3; ++j) want.push_back(c.data[2 * b + i] - r.data[3 * b + j]);
  expect_values(eval1<T>(outer, {r, c}, 2), {2, 2, 3}, want);
  // A scalar against a vector.
  expect_values(eval1<T>(ir::scale(0.5, row), {r, c}, 2), {2, 3}, {0.5, 1, 1.5, 2, 2.5, 3});
}

TYPED_TEST(Layout, ReshapeKeepsRowMajorOrder) {
  using T = TypeParam;
  ir::NodePtr x = ir::input(0, "x", {2, 3}, kDType<T>);
  std::vector<double> v = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  Tensor<T> in = tensor<T>({2, 2, 3}, v);
  expect_values(eval1<T>(ir::reshape(x, {3, 2}), {in}, 2), {2, 3, 2}, v);
  expect_values(eval1<T>(ir::reshape(x, {6}), {in}, 2), {2, 6}, v);
  expect_values(eval1<T>(ir::reshape(x, {1, 6, 1}), {in}, 2), {2, 1, 6, 1}, v);
}

TYPED_TEST(Layout, TransposeFollowsThePermutation) {
  using T = TypeParam;
  const int64_t A = 2, Bd = 3, C = 4;
  ir::NodePtr x = ir::input(0, "x", {A, Bd, C}, kDType<T>);
  std::vector<double> v = random_values(2 * A * Bd * C, 7);
  Tensor<T> in = tensor<T>({2, A, Bd, C}, v);
  auto at = [&](int64_t b, int64_t i, int64_t j, int64_t k) {
    return static_cast<double>(in.data[((b * A + i) * Bd + j) * C + k]);
  };
  // out[c, a, b] = x[a, b, c] for perm {2, 0, 1}; the same with a negative axis.
  for (std::vector<int64_t> perm : {std::vector<int64_t>{2, 0, 1}, std::vector<int64_t>{-1, 0, 1}}) {
    ir::NodePtr t = ir::transpose(x, perm);
    ASSERT_EQ(t->shape, (Shape{C, A, Bd}));
    std::vector<double> want;
    for (int64_t s = 0; s < 2; ++s)
      for (int64_t k = 0; k < C; ++k)
        for (int64_t i = 0; i < A; ++i)
          for (int64_t j = 0; j < Bd; ++j) want.push_back(at(s, i, j, k));
    expect_values(eval1<T>(t, {in}, 2), {2, C, A, Bd}, want, 0);
  }
  // A 2-D transpose.
  ir::NodePtr y = ir::input(0, "y", {2, 3}, kDType<T>);
  expect_values(eval1<T>(ir::transpose(y, {1, 0}), {tensor<T>({1, 2, 3}, {1, 2, 3, 4, 5, 6})}, 1),
                {1, 3, 2}, {1, 4, 2, 5, 3, 6}, 0);
}

}  // namespace
}  // namespace hamux::testing
