// tests/passes/fold_test.cpp - constant folding.
#include "passes/pass_check.h"

namespace hamux {
namespace {

using namespace passcheck;

NodePtr folded(const NodePtr& n) { return passes::fold({n})[0]; }

TEST(Fold, ElementwiseOpsOnConstantsBecomeOneConstant) {
  for (Op op : {Op::Neg, Op::Exp, Op::Log, Op::Log1p, Op::Sqrt, Op::Abs, Op::Sign, Op::Step,
                Op::Relu, Op::Sigmoid, Op::Tanh, Op::Softplus, Op::LogCosh}) {
    SCOPED_TRACE(ir::op_name(op));
    NodePtr n = ir::unary(op, c(0.75, {2, 3}));
    NodePtr f = folded(n);
    ASSERT_EQ(f->op, Op::Const);
    EXPECT_EQ(f->shape, (Shape{2, 3}));
    expect_same_values(n, f);
  }
  for (Op op : {Op::Add, Op::Sub, Op::Mul, Op::Div, Op::Pow, Op::Max, Op::Min, Op::Greater, Op::Equal}) {
    SCOPED_TRACE(ir::op_name(op));
    NodePtr n = ir::binary(op, c(1.5, {3}), c(-0.5, {3}));
    NodePtr f = folded(n);
    ASSERT_EQ(f->op, Op::Const);
    expect_same_values(n, f);
  }
}

TEST(Fold, ReductionsScaleByTheReducedCount) {
  NodePtr x = c(0.5, {2, 3, 4});
  NodePtr s = folded(ir::reduce(Op::Sum, x, {0, 2}, false));
  ASSERT_EQ(s->op, Op::Const);
  EXPECT_EQ(s->attrs.value, 4.0);  // 0.5 * 2 * 4
  EXPECT_EQ(s->shape, (Shape{3}));
  for (Op op : {Op::Sum, Op::ReduceMax, Op::LogSumExp})
    for (bool keep : {false, true}) {
      NodePtr n = ir::reduce(op, x, {1}, keep);
      EXPECT_EQ(folded(n)->op, Op::Const);
      expect_same_values(n, folded(n));
    }
}

TEST(Fold, LayoutAndEinsumOfConstants) {
  NodePtr x = c(2.0, {2, 3});
  for (NodePtr n : {ir::broadcast_to(ir::reshape(c(2.0, {3}), {1, 3}), {4, 3}),
                    ir::transpose(x, {1, 0}), ir::reshape(x, {6})}) {
    EXPECT_EQ(folded(n)->op, Op::Const);
    expect_same_values(n, folded(n));
  }
  NodePtr mm = ir::einsum("ij,jk->ik", {x, c(-1.5, {3, 4})});
  NodePtr f = folded(mm);
  ASSERT_EQ(f->op, Op::Const);
  EXPECT_EQ(f->attrs.value, -9.0);  // 2 * -1.5 * 3 terms
  expect_same_values(mm, f);
}

TEST(Fold, NonUniformResultsAreNotFolded) {
  // A repeated output letter puts zeros off the diagonal; zero padding makes conv edges differ.
  NodePtr diag = ir::einsum("i->ii", {c(1.0, {3})});
  EXPECT_EQ(folded(diag), diag);
  ir::Attrs a;
  a.strides = {1, 1};
  a.padding = "SAME";
  NodePtr conv = ir::make(Op::Conv2d, {c(1.0, {4, 4, 1}), c(1.0, {3, 3, 1, 1})}, a);
  EXPECT_EQ(folded(conv), conv);
}

TEST(Fold, OnlyConstantSubtreesFoldAndSharingIsKept) {
  NodePtr x = in(0, {3});
  NodePtr k = ir::mul(c(2.0, {3}), c(3.0, {3}));
  NodePtr n = ir::add(ir::mul(k, x), k);
  NodePtr f = folded(n);
  EXPECT_EQ(count(f), 4u);  // add(mul(6, x), 6): k was shared, so its folded 6 is one node
  EXPECT_EQ(f->inputs[1]->attrs.value, 6.0);
  expect_same_values(n, f);
  EXPECT_EQ(passes::fold({x})[0], x);  // nothing to do: same pointer
}

TEST(Fold, Float32ResultsAreRoundedToFloat) {
  NodePtr n = ir::make(Op::Div, {ir::constant(1.0, ir::DType::F32, {}), ir::constant(3.0, ir::DType::F32, {})});
  NodePtr f = folded(n);
  EXPECT_EQ(f->dtype, ir::DType::F32);
  EXPECT_EQ(f->attrs.value, static_cast<double>(1.0f / 3.0f));
}

}  // namespace
}  // namespace hamux
