// tests/passes/cse_test.cpp - common-subexpression elimination.
#include "passes/pass_check.h"

namespace hamux {
namespace {

using namespace passcheck;

// tanh(x @ W) built from scratch each time: structurally equal, different pointers.
NodePtr layer(const NodePtr& x, const NodePtr& w) { return ir::unary(Op::Tanh, ir::einsum("i,ij->j", {x, w})); }

TEST(Cse, StructurallyEqualSubtreesAreMerged) {
  NodePtr x = in(0, {3}), w = in(1, {3, 3});
  NodePtr y = ir::add(layer(x, w), layer(ir::input(0, "x0", {3}, ir::DType::F64), w));
  EXPECT_EQ(count(y), 8u);  // x twice, w, einsum and tanh twice, add
  NodePtr z = passes::cse({y})[0];
  EXPECT_EQ(count(z), 5u);  // x, w, einsum, tanh, add(t, t)
  EXPECT_EQ(z->inputs[0], z->inputs[1]);
  expect_same_values(y, z);
}

TEST(Cse, CommutativeOperandsMatchSwapped) {
  NodePtr a = in(0, {2}), b = in(1, {2});
  NodePtr y = ir::sub(ir::mul(a, b), ir::mul(b, a));
  NodePtr z = passes::cse({y})[0];
  EXPECT_EQ(z->inputs[0], z->inputs[1]);
  expect_same_values(y, z);
  // Sub is not commutative: a - b and b - a stay apart.
  NodePtr s = passes::cse({ir::add(ir::sub(a, b), ir::sub(b, a))})[0];
  EXPECT_NE(s->inputs[0], s->inputs[1]);
}

TEST(Cse, DifferentAttributesAreNotMerged) {
  NodePtr x = in(0, {3, 3});
  NodePtr y = ir::add(ir::reduce(Op::Sum, x, {0}, true), ir::transpose(ir::reduce(Op::Sum, x, {1}, true), {1, 0}));
  ASSERT_EQ(count(y), count(passes::cse({y})[0]));
  NodePtr consts = ir::add(c(1.0, {2}), c(-1.0, {2}));
  EXPECT_NE(passes::cse({consts})[0]->inputs[0], passes::cse({consts})[0]->inputs[1]);
}

TEST(Cse, SharesAcrossRootsAndKeepsPointersWhenNothingChanges) {
  NodePtr x = in(0, {3});
  std::vector<NodePtr> roots{ir::unary(Op::Exp, x), ir::unary(Op::Exp, ir::input(0, "x0", {3}, ir::DType::F64))};
  std::vector<NodePtr> out = passes::cse(roots);
  EXPECT_EQ(out[0], out[1]);
  EXPECT_EQ(passes::cse({out[0]})[0], out[0]);
}

}  // namespace
}  // namespace hamux
