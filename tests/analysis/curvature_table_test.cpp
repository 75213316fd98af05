// The curvature rules (analysis/curvature.h) on a table of expressions: convex, concave,
// affine, convex but not DCP, and non-convex ones, each with its exact verdict and message.
#include <gtest/gtest.h>

#include <functional>

#include "analysis/curvature.h"
#include "graph/builder.h"

namespace hamux::analysis {
namespace {

using ir::NodePtr;
using ir::Op;

struct Case {
  const char* what;
  std::function<NodePtr()> build;
  Curvature curvature;
  const char* message;
};

NodePtr x() { return ir::input(0, "x", {3}, ir::DType::F64); }
NodePtr y() { return ir::input(0, "x", {2, 3}, ir::DType::F64); }
NodePtr c(double v) { return ir::constant(v, ir::DType::F64); }
NodePtr W() { return ir::param("W", {3, 3}, ir::DType::F64); }
NodePtr u(Op op, const NodePtr& a) { return ir::unary(op, a); }
NodePtr b(Op op, const NodePtr& a, const NodePtr& z) { return ir::binary(op, a, z); }
NodePtr sum(const NodePtr& a) { return ir::sum_all(a); }
NodePtr sq(const NodePtr& a) { return ir::mul(a, a); }
NodePtr lse(const NodePtr& a) { return ir::reduce(Op::LogSumExp, a, {}, false); }
NodePtr matvec(const NodePtr& m, const NodePtr& v) { return ir::einsum("ij,j->i", {m, v}); }

const Case kCases[] = {
    // Affine and constant.
    {"input", [] { return x(); }, Curvature::Affine, "affine"},
    {"constant", [] { return c(2); }, Curvature::Constant, "constant"},
    {"param", [] { return W(); }, Curvature::Constant, "constant"},
    {"sum of x", [] { return sum(x()); }, Curvature::Affine, "affine"},
    {"scaled and shifted", [] { return ir::add(ir::scale(-3, x()), c(1)); }, Curvature::Affine, "affine"},
    {"W @ x", [] { return matvec(W(), x()); }, Curvature::Affine, "affine"},
    {"x - W @ x", [] { return ir::sub(x(), matvec(W(), x())); }, Curvature::Affine, "affine"},
    {"transpose/reshape", [] { return ir::reshape(ir::transpose(y(), {1, 0}), {6}); }, Curvature::Affine, "affine"},
    {"exp of a param", [] { return u(Op::Exp, W()); }, Curvature::Constant, "constant"},
    {"0 * exp(x)^2 ... times zero", [] { return ir::mul(c(0), u(Op::Log, u(Op::Exp, sq(x())))); }, Curvature::Constant,
     "constant"},
    // Convex by the rules.
    {"exp", [] { return sum(u(Op::Exp, x())); }, Curvature::Convex, "convex"},
    {"softplus", [] { return sum(u(Op::Softplus, ir::scale(2, x()))); }, Curvature::Convex, "convex"},
    {"logcosh", [] { return sum(u(Op::LogCosh, x())); }, Curvature::Convex, "convex"},
    {"relu", [] { return sum(u(Op::Relu, x())); }, Curvature::Convex, "convex"},
    {"abs", [] { return sum(u(Op::Abs, ir::sub(x(), c(1)))); }, Curvature::Convex, "convex"},
    {"square", [] { return ir::scale(0.5, sum(sq(x()))); }, Curvature::Convex, "convex"},
    {"square of relu", [] { return sum(sq(u(Op::Relu, x()))); }, Curvature::Convex, "convex"},
    {"relu^3", [] { return sum(b(Op::Pow, u(Op::Relu, x()), c(3))); }, Curvature::Convex, "convex"},
    {"x^4", [] { return sum(b(Op::Pow, x(), c(4))); }, Curvature::Convex, "convex"},
    {"logsumexp", [] { return lse(ir::scale(2, x())); }, Curvature::Convex, "convex"},
    {"logsumexp of W @ x", [] { return lse(matvec(W(), x())); }, Curvature::Convex, "convex"},
    {"softplus(logsumexp) (ghostmax)", [] { return u(Op::Softplus, lse(x())); }, Curvature::Convex, "convex"},
    {"max", [] { return ir::reduce(Op::ReduceMax, x(), {}, false); }, Curvature::Convex, "convex"},
    {"maximum(x, 0) + exp", [] { return sum(ir::add(b(Op::Max, x(), c(0)), u(Op::Exp, x()))); }, Curvature::Convex,
     "convex"},
    {"dot(x, x)", [] { return ir::einsum("i,i->", {x(), x()}); }, Curvature::Convex, "convex"},
    {"norm sqrt(sum x^2 + eps)", [] { return u(Op::Sqrt, ir::add(sum(sq(x())), c(1e-5))); }, Curvature::Convex,
     "convex"},
    {"exp(-log(x))-like: -log1p(x)", [] { return sum(u(Op::Neg, u(Op::Log1p, x()))); }, Curvature::Convex, "convex"},
    {"1/sqrt(x): pow(sqrt(x), -1)", [] { return sum(b(Op::Pow, u(Op::Sqrt, x()), c(-1))); }, Curvature::Convex,
     "convex"},
    {"tanh of a convex nonpositive argument", [] { return sum(u(Op::Tanh, u(Op::Neg, u(Op::Sqrt, x())))); },
     Curvature::Convex, "convex"},
    // Concave.
    {"log", [] { return sum(u(Op::Log, x())); }, Curvature::Concave, "concave"},
    {"-exp", [] { return sum(u(Op::Neg, u(Op::Exp, x()))); }, Curvature::Concave, "concave"},
    {"sqrt", [] { return sum(u(Op::Sqrt, x())); }, Curvature::Concave, "concave"},
    {"minimum", [] { return sum(b(Op::Min, x(), ir::scale(2, x()))); }, Curvature::Concave, "concave"},
    {"-logsumexp", [] { return ir::neg(lse(x())); }, Curvature::Concave, "concave"},
    {"log of a sum of exp... log(logsumexp) ", [] { return u(Op::Log, u(Op::Neg, u(Op::Exp, x()))); },
     Curvature::Concave, "concave"},
    {"sigmoid of sqrt", [] { return sum(u(Op::Sigmoid, u(Op::Sqrt, x()))); }, Curvature::Concave, "concave"},
    // Convex but not DCP (the rules are sufficient, not necessary).
    {"rexp: exp(z) - z", [] {
       NodePtr z = u(Op::Relu, x());
       return sum(ir::sub(u(Op::Exp, z), z));
     },
     Curvature::Unknown, "not DCP: sub of a convex and a convex operand in exp(relu(x)) - relu(x)"},
    {"log(exp(x) + exp(x)) written out", [] { return u(Op::Log, sum(u(Op::Exp, x()))); }, Curvature::Unknown,
     "not DCP: log (concave, nondecreasing) of a convex argument in log(sum(exp(x)))"},
    {"x^2 written as x * relu(x) + x * min(x,0)", [] {
       return sum(ir::add(ir::mul(x(), u(Op::Relu, x())), ir::mul(x(), b(Op::Min, x(), c(0)))));
     },
     Curvature::Unknown, "not DCP: the product of two non-constant expressions in x * relu(x)"},
    {"sqrt(x^2 + 1) - nested: sqrt(exp(x))", [] { return sum(u(Op::Sqrt, u(Op::Exp, x()))); }, Curvature::Unknown,
     "not DCP: sqrt (concave, nondecreasing) of a convex argument in sqrt(exp(x))"},
    {"exp(-x) written as pow(exp(x), -1)", [] { return sum(b(Op::Pow, u(Op::Exp, x()), c(-1))); },
     Curvature::Unknown, "not DCP: pow (convex, nonincreasing) of a convex argument in pow(exp(x), -1)"},
    {"x^3 on unknown sign", [] { return sum(b(Op::Pow, x(), c(3))); }, Curvature::Unknown,
     "not DCP: pow with exponent 3 of an argument that may be negative in pow(x, 3)"},
    // Not convex.
    {"-x^2", [] { return sum(ir::neg(sq(x()))); }, Curvature::Concave, "concave"},
    {"sin-like: tanh", [] { return sum(u(Op::Tanh, x())); }, Curvature::Unknown,
     "not DCP: tanh of an argument of unknown sign (convex only for x <= 0, concave only for x >= 0) in tanh(x)"},
    {"sigmoid", [] { return sum(u(Op::Sigmoid, x())); }, Curvature::Unknown,
     "not DCP: sigmoid of an argument of unknown sign (convex only for x <= 0, concave only for x >= 0) in sigmoid(x)"},
    {"x W x (indefinite)", [] { return ir::einsum("i,ij,j->", {x(), W(), x()}); }, Curvature::Unknown,
     "not DCP: the product of non-constant operands in einsum i,ij,j-> in einsum(\"i,ij,j->\", x, W, x)"},
    {"exp(x) * exp(-x)", [] { return sum(ir::mul(u(Op::Exp, x()), u(Op::Exp, ir::neg(x())))); }, Curvature::Unknown,
     "not DCP: the product of two non-constant expressions in exp(x) * exp(-x)"},
    {"sigmoid of relu (flat, then concave)", [] { return sum(u(Op::Sigmoid, u(Op::Relu, x()))); }, Curvature::Unknown,
     "not DCP: sigmoid (concave, nondecreasing) of a convex argument in sigmoid(relu(x))"},
    {"tanh(-relu(x)) (flat, then concave)", [] { return sum(u(Op::Tanh, u(Op::Neg, u(Op::Relu, x())))); },
     Curvature::Unknown, "not DCP: tanh (convex, nondecreasing) of a concave argument in tanh(-relu(x))"},
    {"step", [] { return sum(u(Op::Step, x())); }, Curvature::Unknown,
     "not DCP: step is piecewise constant (neither convex nor concave) in step(x)"},
    {"W * exp(x): unknown-sign scaling", [] { return sum(ir::einsum("ij,j->i", {W(), u(Op::Exp, x())})); },
     Curvature::Unknown,
     "not DCP: a contraction with constants of unknown sign (affine, not monotone) of a convex argument in W @ exp(x)"},
    {"exp(x) - x^2", [] { return sum(ir::sub(u(Op::Exp, x()), sq(x()))); }, Curvature::Unknown,
     "not DCP: sub of a convex and a convex operand in exp(x) - x * x"},
    {"x / x", [] { return sum(ir::div(c(1), u(Op::Exp, x()))); }, Curvature::Unknown,
     "not DCP: division by a non-constant expression in 1 / exp(x)"},
    {"logcosh(exp(x) - 2)", [] { return sum(u(Op::LogCosh, ir::sub(u(Op::Exp, x()), c(2)))); }, Curvature::Unknown,
     "not DCP: logcosh (convex, not monotone) of a convex argument in logcosh(exp(x) - 2)"},
    {"max(x) - logsumexp(x)", [] { return ir::sub(ir::reduce(Op::ReduceMax, x(), {}, false), lse(x())); },
     Curvature::Unknown, "not DCP: sub of a convex and a convex operand in max(x) - logsumexp(x)"},
};

TEST(CurvatureTable, HasAtLeastFortyExpressions) { EXPECT_GE(std::size(kCases), 40u); }

TEST(CurvatureTable, VerdictAndMessage) {
  for (const Case& k : kCases) {
    const CurvatureReport r = analyze_curvature(k.build());
    EXPECT_EQ(r.curvature, k.curvature) << k.what << ": " << r.message();
    EXPECT_EQ(r.message(), k.message) << k.what;
  }
}

TEST(CurvatureTable, SignOfResults) {
  EXPECT_EQ(analyze_curvature(sum(u(Op::Exp, x()))).sign, Sign::Nonneg);
  EXPECT_EQ(analyze_curvature(ir::neg(sum(sq(x())))).sign, Sign::Nonpos);
  EXPECT_EQ(analyze_curvature(sum(x())).sign, Sign::Unknown);
  EXPECT_EQ(analyze_curvature(ir::mul(c(0), x())).sign, Sign::Zero);
}

}  // namespace
}  // namespace hamux::analysis
