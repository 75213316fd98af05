// tests/passes/simplify_test.cpp - the fixpoint driver, and no expression swell.
#include "passes/pass_check.h"

namespace hamux {
namespace {

using namespace passcheck;

TEST(Simplify, ReachesAFixpoint) {
  NodePtr x = in(0, {3});
  NodePtr y = ir::mul(ir::scalar_like(2, x), ir::mul(ir::mul(x, ir::scalar_like(3, x)), ir::scalar_like(4, x)));
  NodePtr s = passes::simplify(y);
  EXPECT_TRUE(ir::structurally_equal(s, ir::make(Op::Mul, {c(24, {3}), x})));
  EXPECT_EQ(passes::simplify(s), s);  // idempotent, same pointer
  expect_same_values(y, s);
}

TEST(Simplify, DeepIdentityChainCollapsesWithoutRecursion) {
  NodePtr x = in(0, {4});
  NodePtr y = x;
  for (int i = 0; i < 5000; ++i) y = ir::add(ir::mul(y, ir::scalar_like(1, y)), ir::scalar_like(0, y));
  EXPECT_EQ(passes::simplify(y), x);
}

TEST(Simplify, DoublingChainFoldsToOneConstantFactor) {
  // y_k = y_{k-1} + y_{k-1}, depth 200: 2^200 x, three nodes.
  NodePtr x = in(0, {2});
  NodePtr y = x;
  for (int i = 0; i < 200; ++i) y = ir::add(y, y);
  NodePtr s = passes::simplify(y);
  EXPECT_EQ(count(s), 3u);
  EXPECT_EQ(s->inputs[0]->attrs.value, std::ldexp(1.0, 200));
  expect_same_values(y, s);
}

TEST(Simplify, DuplicatedLayersAreSharedLinearly) {
  // Each layer uses two structurally equal copies of tanh(previous): as a tree this is
  // 2^300 nodes; as built, 3 per layer; after CSE 2 per layer.
  NodePtr x = in(0, {3});
  NodePtr y = x;
  const int depth = 300;
  for (int i = 0; i < depth; ++i) y = ir::mul(ir::unary(Op::Tanh, y), ir::unary(Op::Tanh, y));
  EXPECT_EQ(count(y), 3u * depth + 1);
  NodePtr s = passes::simplify(y);
  EXPECT_EQ(count(s), 2u * depth + 1);
  expect_same_values(y, s);
}

TEST(Simplify, DeepRandomDagKeepsItsValueAndDoesNotGrow) {
  std::mt19937_64 rng(5);
  NodePtr x = in(0, {3}), w = in(1, {3});
  std::vector<NodePtr> layers{x, w};
  for (int k = 0; k < 400; ++k) {
    const NodePtr& a = layers.back();
    const NodePtr& b = layers[rng() % layers.size()];
    switch (rng() % 5) {
      case 0: layers.push_back(ir::unary(Op::Tanh, ir::add(a, ir::mul(ir::scalar_like(1, b), b)))); break;
      case 1: layers.push_back(ir::sub(ir::mul(a, b), ir::scalar_like(0, a))); break;
      case 2: layers.push_back(ir::unary(Op::Sigmoid, ir::neg(ir::neg(ir::add(a, b))))); break;
      case 3: layers.push_back(ir::reduce(Op::Sum, ir::broadcast_to(a, {2, 3}), {0}, false)); break;
      default: layers.push_back(ir::unary(Op::Tanh, ir::mul(ir::scalar_like(0.5, a), ir::mul(ir::scalar_like(3, b), a)))); break;
    }
  }
  NodePtr y = ir::sum_all(layers.back());
  NodePtr s = passes::simplify(y);
  EXPECT_LT(count(s), count(y));
  expect_same_values(y, s, -1, 1);
}

TEST(Simplify, NodeCountCountsSharedNodesOnce) {
  NodePtr x = in(0, {3});
  NodePtr t = ir::unary(Op::Exp, x);
  EXPECT_EQ(passes::node_count({ir::add(t, t), t}), 3u);
  EXPECT_EQ(passes::node_count({}), 0u);
}

}  // namespace
}  // namespace hamux
