// tests/graph/printer_test.cpp - to_string renders exact, readable math.
#include <gtest/gtest.h>

#include <cmath>

#include "graph/builder.h"
#include "graph/printer.h"

namespace hamux::ir {
namespace {

constexpr DType F = DType::F32;

NodePtr var(const std::string& name, const Shape& shape = {}) { return input(0, name, shape, F); }

Attrs conv_attrs(std::vector<int64_t> strides, const std::string& padding, Shape shape = {}) {
  Attrs a;
  a.strides = std::move(strides);
  a.padding = padding;
  a.shape = std::move(shape);
  return a;
}

TEST(Printer, HopfieldEnergyAndUpdate) {
  NodePtr xhat = var("xhat", {3});
  NodePtr x = var("x", {3});
  NodePtr Xi = param("Xi", {3, 4}, F);
  NodePtr h = scale(1.0, einsum("i,ij->j", {xhat, Xi}));
  EXPECT_EQ(to_string(neg(reduce(Op::LogSumExp, h, {}, false))), "-logsumexp(1 * (xhat @ Xi))");
  NodePtr update = sub(x, einsum("ij,j->i", {Xi, softmax(einsum("i,ij->j", {xhat, Xi}), 0)}));
  EXPECT_EQ(to_string(update), "x - Xi @ softmax(xhat @ Xi, axis=0)");
}

TEST(Printer, MinimalParenthesesByPrecedence) {
  NodePtr a = var("a"), b = var("b"), c = var("c");
  EXPECT_EQ(to_string(mul(add(a, b), c)), "(a + b) * c");
  EXPECT_EQ(to_string(add(mul(a, b), c)), "a * b + c");
  EXPECT_EQ(to_string(add(a, mul(b, c))), "a + b * c");
  EXPECT_EQ(to_string(sub(sub(a, b), c)), "a - b - c");
  EXPECT_EQ(to_string(sub(a, sub(b, c))), "a - (b - c)");
  EXPECT_EQ(to_string(add(a, add(b, c))), "a + (b + c)");  // the tree, not a re-association
  EXPECT_EQ(to_string(div(a, mul(b, c))), "a / (b * c)");
  EXPECT_EQ(to_string(div(mul(a, b), c)), "a * b / c");
  EXPECT_EQ(to_string(neg(add(a, b))), "-(a + b)");
  EXPECT_EQ(to_string(neg(mul(a, b))), "-(a * b)");
  EXPECT_EQ(to_string(mul(neg(a), b)), "-a * b");
  EXPECT_EQ(to_string(mul(a, neg(b))), "a * -b");
  EXPECT_EQ(to_string(neg(neg(a))), "-(-a)");
  EXPECT_EQ(to_string(make(Op::Exp, {neg(a)})), "exp(-a)");
  EXPECT_EQ(to_string(make(Op::Log, {add(a, b)})), "log(a + b)");
}

TEST(Printer, Constants) {
  NodePtr x = var("x");
  EXPECT_EQ(to_string(scale(2.0, x)), "2 * x");
  EXPECT_EQ(to_string(scale(0.5, x)), "0.5 * x");
  EXPECT_EQ(to_string(scale(0.1, x)), "0.1 * x");
  EXPECT_EQ(to_string(add(x, constant(1e-5, F))), "x + 1e-05");
  EXPECT_EQ(to_string(sub(x, constant(-8, F))), "x - -8");
  EXPECT_EQ(to_string(neg(constant(-8, F))), "-(-8)");
  EXPECT_EQ(to_string(mul(constant(-8, F), x)), "-8 * x");
  EXPECT_EQ(to_string(constant(1e20, F)), "1e+20");
  EXPECT_EQ(to_string(constant(INFINITY, F)), "inf");
  EXPECT_EQ(to_string(constant(1.5, F, {2, 3})), "1.5");
}

TEST(Printer, FunctionsAndBinaryFunctions) {
  NodePtr x = var("x", {2}), y = var("y", {2});
  EXPECT_EQ(to_string(make(Op::Relu, {x})), "relu(x)");
  EXPECT_EQ(to_string(make(Op::Softplus, {make(Op::LogCosh, {x})})), "softplus(logcosh(x))");
  EXPECT_EQ(to_string(binary(Op::Pow, x, constant(2, F))), "pow(x, 2)");
  EXPECT_EQ(to_string(binary(Op::Max, x, constant(0, F))), "maximum(x, 0)");
  EXPECT_EQ(to_string(binary(Op::Min, x, y)), "minimum(x, y)");
  EXPECT_EQ(to_string(binary(Op::Greater, x, y)), "greater(x, y)");
  EXPECT_EQ(to_string(binary(Op::Equal, x, y)), "equal(x, y)");
  EXPECT_EQ(to_string(input(3, "", {}, F)), "input3");
}

TEST(Printer, Reductions) {
  NodePtr x = var("x", {2, 3, 4});
  EXPECT_EQ(to_string(sum_all(x)), "sum(x)");
  EXPECT_EQ(to_string(reduce(Op::Sum, x, {1}, false)), "sum(x, axis=1)");
  EXPECT_EQ(to_string(reduce(Op::Sum, x, {-1}, false)), "sum(x, axis=2)");
  EXPECT_EQ(to_string(reduce(Op::ReduceMax, x, {0, 2}, true)), "max(x, axis=(0, 2), keepdims)");
  EXPECT_EQ(to_string(reduce(Op::LogSumExp, x, {}, true)), "logsumexp(x, keepdims)");
  EXPECT_EQ(to_string(reduce(Op::LogSumExp, x, {1}, false)), "logsumexp(x, axis=1)");
}

TEST(Printer, Einsums) {
  NodePtr A = var("A", {2, 3}), B = var("B", {3, 4}), C = var("C", {4, 2});
  NodePtr u = var("u", {3}), v = var("v", {3}), M = var("M", {3, 3});
  EXPECT_EQ(to_string(einsum("ij,jk->ik", {A, B})), "A @ B");
  EXPECT_EQ(to_string(einsum("ab,bc->ac", {A, B})), "A @ B");
  EXPECT_EQ(to_string(einsum("i,ij->j", {u, B})), "u @ B");
  EXPECT_EQ(to_string(einsum("ij,j->i", {A, v})), "A @ v");
  // Operands the other way round, as gradients produce them, print in matmul order.
  EXPECT_EQ(to_string(einsum("j,ij->i", {v, A})), "A @ v");
  EXPECT_EQ(to_string(einsum("ij,i->j", {B, u})), "u @ B");
  EXPECT_EQ(to_string(einsum("i,i->", {u, v})), "dot(u, v)");
  EXPECT_EQ(to_string(einsum("ij,jk->ik", {einsum("ij,jk->ik", {A, B}), C})), "A @ B @ C");
  EXPECT_EQ(to_string(einsum("ij,jk->ik", {A, einsum("ij,jk->ik", {B, C})})), "A @ (B @ C)");
  EXPECT_EQ(to_string(einsum("ij,jk->ik", {add(A, A), B})), "(A + A) @ B");
  NodePtr P = var("P", {5, 2, 3}), Q = var("Q", {5, 3, 4});
  EXPECT_EQ(to_string(einsum("bij,bjk->bik", {P, Q})), "P @ Q");
  EXPECT_EQ(to_string(einsum("bij,bjk->ibk", {P, Q})), "einsum(\"bij,bjk->ibk\", P, Q)");
  EXPECT_EQ(to_string(einsum("ij,kj->ik", {A, A})), "einsum(\"ij,kj->ik\", A, A)");
  EXPECT_EQ(to_string(einsum("ii->i", {M})), "einsum(\"ii->i\", M)");
  EXPECT_EQ(to_string(einsum("i->ii", {u})), "einsum(\"i->ii\", u)");
  EXPECT_EQ(to_string(einsum("ij,jk,kl->il", {A, B, C})), "einsum(\"ij,jk,kl->il\", A, B, C)");
  EXPECT_EQ(to_string(einsum("ii,i->i", {M, u})), "einsum(\"ii,i->i\", M, u)");
}

TEST(Printer, BroadcastIsTransparentUnlessNeeded) {
  NodePtr col = var("col", {2, 1}), row = var("row", {3});
  EXPECT_EQ(to_string(add(col, row)), "col + row");
  EXPECT_EQ(to_string(broadcast_to(row, {2, 3})), "broadcast_to(row, [2,3])");
  EXPECT_EQ(to_string(sum_all(broadcast_to(row, {2, 3}))), "sum(broadcast_to(row, [2,3]))");
  // Both operands grown past what NumPy broadcasting of the two would give: keep them.
  NodePtr r2 = var("r2", {3});
  NodePtr grown = make(Op::Add, {broadcast_to(row, {2, 3}), broadcast_to(r2, {2, 3})});
  EXPECT_EQ(to_string(grown), "broadcast_to(row, [2,3]) + broadcast_to(r2, [2,3])");
}

TEST(Printer, SoftmaxPatternOnlyWhenItIsOne) {
  NodePtr x = var("x", {2, 3}), y = var("y", {2, 3});
  EXPECT_EQ(to_string(softmax(x, 1)), "softmax(x, axis=1)");
  EXPECT_EQ(to_string(softmax(x, -2)), "softmax(x, axis=0)");
  // The same x rebuilt (structurally equal) still counts.
  EXPECT_EQ(to_string(make(Op::Exp, {sub(var("x", {2, 3}), reduce(Op::LogSumExp, x, {1}, true))})),
            "softmax(x, axis=1)");
  // Not a softmax: a different tensor in the logsumexp, or no keepdims.
  EXPECT_EQ(to_string(make(Op::Exp, {sub(x, reduce(Op::LogSumExp, y, {1}, true))})),
            "exp(x - logsumexp(y, axis=1, keepdims))");
  NodePtr v = var("v", {3});
  EXPECT_EQ(to_string(make(Op::Exp, {sub(v, reduce(Op::LogSumExp, v, {}, false))})),
            "exp(v - logsumexp(v))");
}

TEST(Printer, LayoutAndConvolutions) {
  NodePtr x = var("x", {2, 3});
  EXPECT_EQ(to_string(reshape(x, {6})), "reshape(x, [6])");
  EXPECT_EQ(to_string(transpose(x, {1, 0})), "transpose(x, [1,0])");
  NodePtr img = var("img", {4, 4, 1});
  NodePtr k = param("k", {3, 3, 1, 2}, F);
  NodePtr y = make(Op::Conv2d, {img, k}, conv_attrs({1, 1}, "SAME"));
  EXPECT_EQ(to_string(y), "conv2d(img, k, strides=[1,1], padding=\"SAME\")");
  NodePtr g = var("g", {2, 2, 2});
  EXPECT_EQ(to_string(make(Op::Conv2dInputGrad, {g, k}, conv_attrs({2, 2}, "VALID", {5, 5, 1}))),
            "conv2d_input_grad(g, k, shape=[5,5,1], strides=[2,2], padding=\"VALID\")");
  EXPECT_EQ(to_string(make(Op::Conv2dKernelGrad, {img, g}, conv_attrs({2, 2}, "SAME", {3, 3, 1, 2}))),
            "conv2d_kernel_grad(img, g, shape=[3,3,1,2], strides=[2,2], padding=\"SAME\")");
  EXPECT_EQ(to_string(nullptr), "<null>");
}

TEST(Printer, SharedSubexpressionsRepeat) {
  NodePtr x = var("x");
  NodePtr e = make(Op::Exp, {x});
  EXPECT_EQ(to_string(mul(e, add(e, x))), "exp(x) * (exp(x) + x)");
}

}  // namespace
}  // namespace hamux::ir
