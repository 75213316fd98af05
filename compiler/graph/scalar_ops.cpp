// compiler/graph/scalar_ops.cpp - the elementwise ops of ir.h, one scalar at a time.
//
// Each function is the op's mathematical definition, written so that it stays finite and
// accurate wherever the true value is finite. The interpreter (the oracle for the JIT) and
// constant folding both evaluate elementwise ops through these, so they cannot disagree.
// NaN conventions: arithmetic, relu, max and min propagate NaN; the comparisons (step,
// greater, equal) follow IEEE ordering, so a NaN compares false and gives 0.
#include <algorithm>
#include <cmath>

#include "graph/scalar_ops.h"

#include "graph/internal_error.h"

namespace hamux::ir {

namespace {

double sigmoid(double x) {
  // Only ever exponentiate a non-positive number: exp(-x) for x >= 0 cannot overflow.
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  double e = std::exp(x);
  return e / (1.0 + e);
}

double softplus(double x) {
  // log(1 + e^x) = max(x, 0) + log(1 + e^-|x|).
  return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x)));
}

double logcosh(double x) {
  double a = std::abs(x);
  // Near 0, |x| + log1p(e^-2|x|) - log 2 cancels to a tiny number and loses relative
  // accuracy; cosh(x) - 1 = 2 sinh(x/2)^2 is exact there. Both agree for |x| <= 1.
  if (a < 1.0) {
    double s = std::sinh(0.5 * x);
    return std::log1p(2.0 * s * s);
  }
  // log(cosh x) = |x| + log((1 + e^-2|x|) / 2): no overflow for large |x|.
  return a + std::log1p(std::exp(-2.0 * a)) - std::log(2.0);
}

double sign(double x) {
  if (std::isnan(x)) return x;
  return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0);
}

double maximum(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::nan("");
  return a > b ? a : b;
}

double minimum(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::nan("");
  return a < b ? a : b;
}

}  // namespace

double eval_unary(Op op, double x) {
  switch (op) {
    case Op::Neg: return -x;
    case Op::Exp: return std::exp(x);
    case Op::Log: return std::log(x);
    case Op::Log1p: return std::log1p(x);
    case Op::Sqrt: return std::sqrt(x);
    case Op::Abs: return std::abs(x);
    case Op::Sign: return sign(x);
    case Op::Step: return x > 0 ? 1.0 : 0.0;
    case Op::Relu: return std::isnan(x) ? x : (x > 0 ? x : 0.0);
    case Op::Sigmoid: return sigmoid(x);
    case Op::Tanh: return std::tanh(x);
    case Op::Softplus: return softplus(x);
    case Op::LogCosh: return logcosh(x);
    default: break;
  }
  HAMUX_INTERNAL(std::string("not a unary op: ") + op_name(op));
}

double eval_binary(Op op, double a, double b) {
  switch (op) {
    case Op::Add: return a + b;
    case Op::Sub: return a - b;
    case Op::Mul: return a * b;
    case Op::Div: return a / b;
    case Op::Pow: return std::pow(a, b);
    case Op::Max: return maximum(a, b);
    case Op::Min: return minimum(a, b);
    case Op::Greater: return a > b ? 1.0 : 0.0;
    case Op::Equal: return a == b ? 1.0 : 0.0;
    default: break;
  }
  HAMUX_INTERNAL(std::string("not a binary op: ") + op_name(op));
}

}  // namespace hamux::ir
