// compiler/passes/fold.cpp - constant folding (see passes.h).
//
// A Const node stands for a tensor whose every element is attrs.value. An op whose inputs
// are all Consts therefore yields a uniform tensor whenever it is elementwise, a
// reduction, a layout op, or an einsum without repeated output letters (those put zeros
// off the diagonal); such a node is replaced by one Const. Convolutions are not folded:
// their zero padding makes the result non-uniform.
#include <cmath>
#include <set>

#include "passes/passes.h"
#include "passes/rewrite.h"

namespace hamux::passes {

namespace {

using ir::Op;

double sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  double e = std::exp(x);  // x < 0: cannot overflow
  return e / (1.0 + e);
}

double logcosh(double x) {
  double a = std::abs(x);
  if (a < 1.0) {  // cosh x - 1 = 2 sinh(x/2)^2 keeps relative accuracy near 0
    double s = std::sinh(0.5 * x);
    return std::log1p(2.0 * s * s);
  }
  return a + std::log1p(std::exp(-2.0 * a)) - std::log(2.0);
}

double eval_unary(Op op, double x) {
  switch (op) {
    case Op::Neg: return -x;
    case Op::Exp: return std::exp(x);
    case Op::Log: return std::log(x);
    case Op::Log1p: return std::log1p(x);
    case Op::Sqrt: return std::sqrt(x);
    case Op::Abs: return std::abs(x);
    case Op::Sign: return std::isnan(x) ? x : (x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0));
    case Op::Step: return x > 0 ? 1.0 : 0.0;
    case Op::Relu: return std::isnan(x) ? x : (x > 0 ? x : 0.0);
    case Op::Sigmoid: return sigmoid(x);
    case Op::Tanh: return std::tanh(x);
    case Op::Softplus: return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x)));
    case Op::LogCosh: return logcosh(x);
    default: break;
  }
  throw std::logic_error(std::string("fold: not a unary op: ") + ir::op_name(op));
}

double eval_binary(Op op, double a, double b) {
  switch (op) {
    case Op::Add: return a + b;
    case Op::Sub: return a - b;
    case Op::Mul: return a * b;
    case Op::Div: return a / b;
    case Op::Pow: return std::pow(a, b);
    case Op::Max: return (std::isnan(a) || std::isnan(b)) ? std::nan("") : (a > b ? a : b);
    case Op::Min: return (std::isnan(a) || std::isnan(b)) ? std::nan("") : (a < b ? a : b);
    case Op::Greater: return a > b ? 1.0 : 0.0;
    case Op::Equal: return a == b ? 1.0 : 0.0;
    default: break;
  }
  throw std::logic_error(std::string("fold: not a binary op: ") + ir::op_name(op));
}

// Number of elements a reduction combines into each output element.
double reduced_count(const ir::Node& n) {
  double count = 1;
  for (int64_t a : n.attrs.axes) count *= static_cast<double>(n.inputs[0]->shape[a]);
  return count;
}

// Value of a uniform einsum: the product of the operands times the number of terms summed
// into each output element (the sizes of the letters absent from the output). Returns
// false for repeated output letters.
bool einsum_value(const ir::Node& n, double* value) {
  ir::EinsumSpec s = ir::parse_einsum(n.attrs.spec);
  std::set<char> out(s.output.begin(), s.output.end());
  if (out.size() != s.output.size()) return false;
  double v = 1;
  std::set<char> summed;
  for (size_t k = 0; k < s.operands.size(); ++k) {
    v *= n.inputs[k]->attrs.value;
    for (size_t i = 0; i < s.operands[k].size(); ++i) {
      char c = s.operands[k][i];
      if (!out.count(c) && summed.insert(c).second)
        v *= static_cast<double>(n.inputs[k]->shape[i]);
    }
  }
  *value = v;
  return true;
}

ir::NodePtr fold_node(const ir::NodePtr& n) {
  if (ir::is_leaf(n->op)) return n;
  for (const ir::NodePtr& in : n->inputs)
    if (in->op != Op::Const) return n;
  const auto& in = n->inputs;
  double v;
  if (ir::is_unary(n->op)) {
    v = eval_unary(n->op, in[0]->attrs.value);
  } else if (ir::is_binary(n->op)) {
    v = eval_binary(n->op, in[0]->attrs.value, in[1]->attrs.value);
  } else {
    switch (n->op) {
      case Op::Sum: v = in[0]->attrs.value * reduced_count(*n); break;
      case Op::ReduceMax: v = in[0]->attrs.value; break;
      case Op::LogSumExp: v = in[0]->attrs.value + std::log(reduced_count(*n)); break;
      case Op::Broadcast:
      case Op::Reshape:
      case Op::Transpose: v = in[0]->attrs.value; break;
      case Op::Einsum:
        if (!einsum_value(*n, &v)) return n;
        break;
      default: return n;  // convolutions
    }
  }
  if (n->dtype == ir::DType::F32) v = static_cast<double>(static_cast<float>(v));
  return ir::constant(v, n->dtype, n->shape);
}

}  // namespace

std::vector<ir::NodePtr> fold(const std::vector<ir::NodePtr>& roots) {
  return rewrite(roots, fold_node);
}

}  // namespace hamux::passes
