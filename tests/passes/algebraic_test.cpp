// tests/passes/algebraic_test.cpp - each algebraic identity: the exact resulting graph
// (compared structurally with a hand-built expectation) and value preservation.
#include "passes/pass_check.h"

namespace hamux {
namespace {

using namespace passcheck;

NodePtr x = in(0, {3}), y = in(1, {3});
NodePtr k(double v) { return c(v, {3}); }
NodePtr op1(Op op, const NodePtr& a) { return ir::make(op, {a}); }
NodePtr op2(Op op, const NodePtr& a, const NodePtr& b) { return ir::make(op, {a, b}); }

// One sweep of the algebraic pass must turn `before` into exactly `expected`.
void expect_rule(const NodePtr& before, const NodePtr& expected, double lo = -2, double hi = 2) {
  NodePtr after = passes::algebraic({before})[0];
  EXPECT_TRUE(ir::structurally_equal(after, expected))
      << ir::op_name(before->op) << " became " << ir::op_name(after->op) << " of "
      << ir::op_name(after->inputs[0]->op) << " " << ir::op_name(after->inputs.back()->op);
  expect_same_values(before, after, lo, hi);
}

TEST(Algebraic, AddSubIdentities) {
  expect_rule(op2(Op::Add, x, k(0)), x);
  expect_rule(op2(Op::Add, k(0), x), x);
  expect_rule(op2(Op::Add, x, x), op2(Op::Mul, k(2), x));
  expect_rule(op2(Op::Add, x, op1(Op::Neg, y)), op2(Op::Sub, x, y));
  expect_rule(op2(Op::Add, op1(Op::Neg, x), y), op2(Op::Sub, y, x));
  expect_rule(op2(Op::Add, x, k(5)), op2(Op::Add, k(5), x));  // constants go left
  expect_rule(op2(Op::Sub, x, k(0)), x);
  expect_rule(op2(Op::Sub, k(0), x), op1(Op::Neg, x));
  expect_rule(op2(Op::Sub, x, op1(Op::Neg, y)), op2(Op::Add, x, y));
}

TEST(Algebraic, MulDivNegIdentities) {
  expect_rule(op2(Op::Mul, x, k(1)), x);
  expect_rule(op2(Op::Mul, k(1), x), x);
  expect_rule(op2(Op::Mul, x, k(7)), op2(Op::Mul, k(7), x));  // constants go left
  expect_rule(op2(Op::Mul, op2(Op::Mul, k(3), x), k(2)), op2(Op::Mul, k(6), x));
  expect_rule(op2(Op::Mul, k(0), x), k(0));
  expect_rule(op2(Op::Mul, k(-1), x), op1(Op::Neg, x));
  expect_rule(op2(Op::Mul, k(2), op2(Op::Mul, k(3), x)), op2(Op::Mul, k(6), x));
  expect_rule(op2(Op::Mul, k(2), op1(Op::Neg, x)), op2(Op::Mul, k(-2), x));
  expect_rule(op2(Op::Mul, x, op2(Op::Mul, k(3), y)), op2(Op::Mul, k(3), op2(Op::Mul, x, y)));
  expect_rule(op2(Op::Mul, op2(Op::Mul, k(3), x), y), op2(Op::Mul, k(3), op2(Op::Mul, x, y)));
  expect_rule(op2(Op::Mul, x, op1(Op::Neg, y)), op1(Op::Neg, op2(Op::Mul, x, y)));
  expect_rule(op2(Op::Div, x, k(1)), x);
  expect_rule(op2(Op::Div, op1(Op::Neg, x), y), op1(Op::Neg, op2(Op::Div, x, y)), 0.5, 2);
  expect_rule(op2(Op::Div, x, op1(Op::Neg, y)), op1(Op::Neg, op2(Op::Div, x, y)), 0.5, 2);
  expect_rule(op1(Op::Neg, op1(Op::Neg, x)), x);
  expect_rule(op1(Op::Neg, op2(Op::Mul, k(2), x)), op2(Op::Mul, k(-2), x));
  expect_rule(op1(Op::Neg, op2(Op::Sub, x, y)), op2(Op::Sub, y, x));
}

TEST(Algebraic, PowMaxLogAbsRelu) {
  expect_rule(op2(Op::Pow, x, k(1)), x);
  expect_rule(op2(Op::Pow, x, k(0)), k(1));
  expect_rule(op2(Op::Pow, x, k(2)), op2(Op::Mul, x, x));
  expect_rule(op2(Op::Max, x, x), x);
  expect_rule(op2(Op::Min, x, x), x);
  expect_rule(op1(Op::Log, op1(Op::Exp, x)), x);
  expect_rule(op1(Op::Abs, op1(Op::Abs, x)), op1(Op::Abs, x));
  expect_rule(op1(Op::Abs, op1(Op::Neg, x)), op1(Op::Abs, x));
  expect_rule(op1(Op::Relu, op1(Op::Relu, x)), op1(Op::Relu, x));
}

TEST(Algebraic, ConstantFactorsAndNegationsMoveOut) {
  expect_rule(op2(Op::Add, op2(Op::Mul, k(-0.5), x), op2(Op::Mul, k(-0.5), y)),
              op2(Op::Mul, k(-0.5), op2(Op::Add, x, y)));
  expect_rule(op2(Op::Sub, op2(Op::Mul, k(3), x), op2(Op::Mul, k(3), y)),
              op2(Op::Mul, k(3), op2(Op::Sub, x, y)));
  expect_rule(op2(Op::Mul, k(2), op2(Op::Div, k(0.5), y)), op2(Op::Div, k(1), y), 0.5, 2);
  expect_rule(op2(Op::Mul, op1(Op::Relu, x), op1(Op::Step, x)), op1(Op::Relu, x));
  NodePtr m = in(0, {2, 3});
  expect_rule(ir::transpose(op1(Op::Neg, m), {1, 0}), op1(Op::Neg, ir::transpose(m, {1, 0})));
  expect_rule(ir::reshape(op2(Op::Mul, c(3, {2, 3}), m), {6}), op2(Op::Mul, c(3, {6}), ir::reshape(m, {6})));
  expect_rule(ir::broadcast_to(op2(Op::Mul, k(3), x), {2, 3}),
              op2(Op::Mul, c(3, {2, 3}), ir::broadcast_to(x, {2, 3})));
  NodePtr w = in(1, {3, 2});
  expect_rule(ir::einsum("ij,jk->ik", {op1(Op::Neg, m), w}), op1(Op::Neg, ir::einsum("ij,jk->ik", {m, w})));
  expect_rule(ir::einsum("i->ii", {op2(Op::Mul, k(3), x)}),
              op2(Op::Mul, c(3, {3, 3}), ir::einsum("i->ii", {x})));
}

TEST(Algebraic, ConvolutionsAreLinearInEachOperand) {
  ir::Attrs a;
  a.strides = {1, 1};
  a.padding = "SAME";
  NodePtr img = in(0, {4, 5, 2}), ker = in(1, {3, 3, 2, 3}), grad = in(2, {4, 5, 3});
  auto conv = [&](Op op, const NodePtr& p, const NodePtr& q, const Shape& shape) {
    ir::Attrs at = a;
    at.shape = shape;
    return ir::make(op, {p, q}, at);
  };
  // The transposed convolution of -relu(h) (W5's input gradient): the negation moves out.
  expect_rule(conv(Op::Conv2dInputGrad, op1(Op::Neg, grad), ker, {4, 5, 2}),
              op1(Op::Neg, conv(Op::Conv2dInputGrad, grad, ker, {4, 5, 2})));
  expect_rule(conv(Op::Conv2d, img, op2(Op::Mul, c(0.5, {3, 3, 2, 3}), ker), {}),
              op2(Op::Mul, c(0.5, {4, 5, 3}), conv(Op::Conv2d, img, ker, {})));
  expect_rule(conv(Op::Conv2dKernelGrad, img, op1(Op::Neg, grad), {3, 3, 2, 3}),
              op1(Op::Neg, conv(Op::Conv2dKernelGrad, img, grad, {3, 3, 2, 3})));
  expect_rule(conv(Op::Conv2d, c(0, {4, 5, 2}), ker, {}), c(0, {4, 5, 3}));
}

TEST(Algebraic, NotExactRewritesAreNotApplied) {
  // exp(log x) is NaN for x < 0; x - x and x / x are NaN for infinite x; 0 / x for x = 0.
  for (NodePtr n : {op1(Op::Exp, op1(Op::Log, x)), op2(Op::Sub, x, x), op2(Op::Div, x, x),
                    op2(Op::Div, k(0), x)})
    EXPECT_EQ(passes::algebraic({n})[0], n) << ir::op_name(n->op);
}

TEST(Algebraic, ReductionIdentities) {
  NodePtr m = in(0, {3, 1});
  expect_rule(ir::reduce(Op::Sum, m, {1}, false), ir::reshape(m, {3}));
  expect_rule(ir::reduce(Op::LogSumExp, m, {1}, true), m);
  expect_rule(ir::reduce(Op::ReduceMax, m, {1}, false), ir::reshape(m, {3}));
  expect_rule(ir::reduce(Op::Sum, op1(Op::Neg, x), {0}, false), op1(Op::Neg, ir::reduce(Op::Sum, x, {0}, false)));
  expect_rule(ir::reduce(Op::Sum, op2(Op::Mul, k(3), x), {0}, false),
              op2(Op::Mul, c(3), ir::reduce(Op::Sum, x, {0}, false)));
}

TEST(Algebraic, SumOfABroadcastBecomesAScaledSmallerReduction) {
  // sum over the broadcast axis only: 4 * x, no reduction left.
  NodePtr b = ir::broadcast_to(x, {4, 3});
  NodePtr s1 = passes::simplify(ir::reduce(Op::Sum, b, {0}, false));
  EXPECT_TRUE(ir::structurally_equal(s1, op2(Op::Mul, k(4), x)));
  expect_same_values(ir::reduce(Op::Sum, b, {0}, false), s1);
  // broadcast [3,1] -> [2,3,5], summed over all axes: 10 * sum(x) (a reduction over x only).
  NodePtr m = in(0, {3, 1});
  NodePtr before = ir::reduce(Op::Sum, ir::broadcast_to(m, {2, 3, 5}), {}, false);
  NodePtr after = passes::simplify(before);
  EXPECT_EQ(after->op, Op::Mul);
  EXPECT_EQ(after->inputs[0]->attrs.value, 10.0);
  EXPECT_EQ(count_op({after}, Op::Broadcast), 0u);
  expect_same_values(before, after);
  // keepdims and a mix of real and broadcast axes.
  NodePtr mixed = ir::reduce(Op::Sum, ir::broadcast_to(m, {2, 3, 5}), {1, 2}, true);
  expect_same_values(mixed, passes::simplify(mixed));
}

TEST(Algebraic, LayoutChains) {
  NodePtr m = in(0, {2, 3, 4});
  expect_rule(ir::transpose(ir::transpose(m, {2, 0, 1}), {1, 2, 0}), m);
  expect_rule(ir::transpose(ir::transpose(m, {1, 0, 2}), {0, 2, 1}), ir::transpose(m, {1, 2, 0}));
  expect_rule(ir::reshape(ir::reshape(m, {6, 4}), {4, 6}), ir::reshape(m, {4, 6}));
  expect_rule(ir::reshape(ir::reshape(m, {6, 4}), {2, 3, 4}), m);
  NodePtr v = in(0, {3, 1});
  expect_rule(ir::broadcast_to(ir::broadcast_to(v, {3, 4}), {2, 3, 4}), ir::broadcast_to(v, {2, 3, 4}));
  expect_rule(ir::broadcast_to(x, {1, 1, 3}), ir::reshape(x, {1, 1, 3}));
}

TEST(Algebraic, EinsumIdentities) {
  NodePtr a = in(0, {2, 3}), b = in(1, {3, 4});
  expect_rule(ir::einsum("ij,jk->ik", {a, c(0, {3, 4})}), c(0, {2, 4}));
  expect_rule(ir::einsum(",ij,jk->ik", {c(2.5), a, b}), op2(Op::Mul, c(2.5, {2, 4}), ir::einsum("ij,jk->ik", {a, b})));
  expect_rule(ir::einsum("ij,j->ij", {a, c(1, {3})}), ir::einsum("ij->ij", {a}));
  expect_rule(ir::einsum("ij->ji", {a}), ir::transpose(a, {1, 0}));
  expect_rule(ir::einsum("ij->ij", {a}), a);
  // An all-ones operand whose letter occurs nowhere else is NOT dropped (it sets a size).
  NodePtr outer = ir::einsum("i,j->ij", {x, c(1, {4})});
  EXPECT_EQ(passes::algebraic({outer})[0], outer);
}

}  // namespace
}  // namespace hamux
