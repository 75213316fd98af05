// tests/autodiff/outer_terms_test.cpp - split_outer_terms (autodiff/outer_terms.h).
#include <gtest/gtest.h>

#include "autodiff/outer_terms.h"
#include "graph/builder.h"
#include "interp/interpreter.h"

namespace hamux {
namespace {

using ir::NodePtr;

NodePtr in(int i, const Shape& s) { return ir::input(i, "v" + std::to_string(i), s, ir::DType::F64); }

TEST(OuterTerms, FindsOuterProductsThroughSignsAndConstantFactors) {
  NodePtr u = in(0, {3}), v = in(1, {2}), w = in(2, {3, 2});
  // g = outer(u, v) - 2 * einsum("b,a->ab", v, u) + w * w
  NodePtr g = ir::sub(ir::einsum("a,b->ab", {u, v}), ir::scale(2.0, ir::einsum("b,a->ab", {v, u})));
  g = ir::add(g, ir::mul(w, w));
  autodiff::OuterSplit s = autodiff::split_outer_terms(g);
  ASSERT_EQ(s.outer.size(), 2u);
  EXPECT_EQ(s.outer[0].u.get(), u.get());
  EXPECT_EQ(s.outer[0].v.get(), v.get());
  EXPECT_EQ(s.outer[0].scale, 1.0);
  // "b,a->ab": the operands are reordered so that the gradient is u.shape ++ v.shape.
  EXPECT_EQ(s.outer[1].u.get(), u.get());
  EXPECT_EQ(s.outer[1].v.get(), v.get());
  EXPECT_EQ(s.outer[1].scale, -2.0);
  ASSERT_TRUE(s.rest);
  EXPECT_EQ(s.rest->op, ir::Op::Mul);
}

TEST(OuterTerms, ContractionsAndDiagonalsStayInTheRest) {
  NodePtr A = in(0, {3, 4}), B = in(1, {4, 2}), x = in(2, {3});
  NodePtr d = ir::einsum("i,i->i", {x, x});  // a shared letter: not an outer product
  EXPECT_TRUE(autodiff::split_outer_terms(d).outer.empty());
  NodePtr h = ir::einsum("a,b->ba", {x, in(3, {2})});
  autodiff::OuterSplit s = autodiff::split_outer_terms(ir::einsum("ij,jk->ik", {A, B}));
  EXPECT_TRUE(s.outer.empty());
  ASSERT_TRUE(s.rest);
  autodiff::OuterSplit t = autodiff::split_outer_terms(h);
  ASSERT_EQ(t.outer.size(), 1u);  // "a,b->ba" is v (x) u
  EXPECT_EQ(t.outer[0].u->attrs.index, 3);
  EXPECT_FALSE(t.rest);
}

TEST(OuterTerms, TheSplitSumsToTheGradient) {
  // Evaluated by the interpreter: rest + sum scale * u (x) v equals the graph.
  NodePtr u = in(0, {3}), v = in(1, {2});
  NodePtr g = ir::neg(ir::add(ir::einsum("b,a->ab", {v, u}), ir::einsum("a,b->ab", {ir::unary(ir::Op::Exp, u), v})));
  autodiff::OuterSplit s = autodiff::split_outer_terms(g);
  ASSERT_EQ(s.outer.size(), 2u);
  EXPECT_FALSE(s.rest);
  const std::vector<Tensor<double>> inputs{Tensor<double>({1, 3}, {0.5, -1.0, 2.0}),
                                          Tensor<double>({1, 2}, {3.0, -0.25})};
  auto eval = [&](const NodePtr& n) { return interp::evaluate<double>({n}, inputs, {}, 1)[0]; };
  const Tensor<double> want = eval(g);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 2; ++j) {
      double got = 0;
      for (const autodiff::OuterTerm& t : s.outer) {
        const Tensor<double> a = eval(t.u), b = eval(t.v);
        got += t.scale * a.data[i] * b.data[j];
      }
      EXPECT_DOUBLE_EQ(got, want.data[i * 2 + j]) << i << "," << j;
    }
}

}  // namespace
}  // namespace hamux
