// compiler/autodiff/vjp.cpp - one VJP rule per op (see vjp.h).
//
// Numerical stability: the rules reuse the node's own (stably evaluated) value or another
// stable primitive instead of the textbook formula that can overflow:
//   softplus' = sigmoid(x)            (not e^x / (1 + e^x))
//   logcosh'  = tanh(x)               (not sinh / cosh)
//   logsumexp' = exp(x - lse(x))      (max-subtracted softmax, never exp(x) / sum exp(x))
//   sigmoid'  = s (1 - s),  tanh' = 1 - t^2,  exp' = exp(x)  with s, t, exp(x) the node itself
// Guarded sqrt: d sqrt(x) = 0.5 / max(sqrt(x), tiny) with tiny = 1e-30, so at x = 0 the
// derivative is huge but finite and a zero cotangent gives 0 rather than 0 * inf = NaN.
// (The stdlib norms put their eps inside the sqrt, so they never reach the guard.)
#include "autodiff/vjp.h"

#include <algorithm>
#include <map>
#include <set>

#include "graph/builder.h"

namespace hamux::autodiff {

namespace {

using ir::NodePtr;
using ir::Op;

constexpr double kSqrtGuard = 1e-30;

NodePtr k(double v, const NodePtr& like) { return ir::scalar_like(v, like); }
NodePtr op1(Op op, const NodePtr& x) { return ir::make(op, {x}); }

// A reduction output (or its cotangent) spread back over the input's shape.
NodePtr unreduce(const NodePtr& v, const NodePtr& n) {
  return ir::broadcast_to(ir::reshape(v, ir::keepdims_shape(*n)), n->inputs[0]->shape);
}

// Gradient of Broadcast: sum over the axes broadcasting created, back to `s`.
NodePtr unbroadcast(const NodePtr& g, const Shape& s) {
  const Shape& t = g->shape;
  size_t lead = t.size() - s.size();
  std::vector<int64_t> axes;
  for (size_t i = 0; i < t.size(); ++i)
    if (i < lead || (s[i - lead] == 1 && t[i] != 1)) axes.push_back(static_cast<int64_t>(i));
  NodePtr r = axes.empty() ? g : ir::reduce(Op::Sum, g, axes, /*keepdims=*/false);
  return ir::reshape(r, s);
}

// Gradient of an einsum with respect to operand `k`: contract the cotangent (with the
// output term) against all the other operands, producing operand k's term.
NodePtr einsum_operand_grad(const NodePtr& n, const NodePtr& g, size_t k) {
  ir::EinsumSpec s = ir::parse_einsum(n->attrs.spec);
  std::map<char, int64_t> size;
  for (size_t j = 0; j < s.operands.size(); ++j)
    for (size_t i = 0; i < s.operands[j].size(); ++i) size[s.operands[j][i]] = n->inputs[j]->shape[i];

  std::vector<NodePtr> ops{g};
  std::vector<std::string> terms{s.output};
  for (size_t j = 0; j < s.operands.size(); ++j) {
    if (j == k) continue;
    ops.push_back(n->inputs[j]);
    terms.push_back(s.operands[j]);
  }
  std::set<char> present;
  for (const std::string& t : terms) present.insert(t.begin(), t.end());

  // Letters of operand k found nowhere else were summed inside operand k alone: every
  // element along them gets the same cotangent.
  const std::string& target = s.operands[k];
  std::string missing;
  bool missing_repeated = false;
  for (char c : target) {
    if (present.count(c)) continue;
    if (missing.find(c) != std::string::npos) missing_repeated = true;
    else missing += c;
  }
  auto build = [&](const std::string& out) {
    std::string spec;
    for (size_t i = 0; i < terms.size(); ++i) spec += (i ? "," : "") + terms[i];
    return ir::einsum(spec + "->" + out, ops);
  };
  if (missing.empty()) return build(target);
  if (missing_repeated) {
    // e.g. trace "ii->": the cotangent belongs on the diagonal only. An all-ones operand
    // per missing letter makes the letter present; the repeated output letters then place
    // the values on the diagonal (the IR's repeated-output semantics).
    for (char c : missing) {
      ops.push_back(ir::constant(1.0, n->dtype, {size[c]}));
      terms.push_back(std::string(1, c));
    }
    return build(target);
  }
  // Contract to operand k's term without the missing letters, then broadcast along them
  // (removing letters keeps the row-major order, so a reshape inserts the unit axes).
  std::string reduced;
  Shape with_units;
  for (char c : target) {
    bool miss = missing.find(c) != std::string::npos;
    if (!miss) reduced += c;
    with_units.push_back(miss ? 1 : size[c]);
  }
  return ir::broadcast_to(ir::reshape(build(reduced), with_units), n->inputs[k]->shape);
}

ir::Attrs conv_attrs(const NodePtr& n, const Shape& shape) {
  ir::Attrs a;
  a.strides = n->attrs.strides;
  a.padding = n->attrs.padding;
  a.shape = shape;
  return a;
}

}  // namespace

std::vector<NodePtr> vjp_rule(const NodePtr& n, const NodePtr& g, const std::vector<bool>& needs) {
  using namespace ir;
  std::vector<NodePtr> out(n->inputs.size());
  auto need = [&](size_t i) { return i < needs.size() && needs[i]; };
  const NodePtr& x = n->inputs.empty() ? n : n->inputs[0];
  const NodePtr& y = n->inputs.size() > 1 ? n->inputs[1] : n;

  if (is_unary(n->op)) {
    if (!need(0)) return out;
    switch (n->op) {
      case Op::Neg: out[0] = neg(g); break;
      case Op::Exp: out[0] = mul(g, n); break;
      case Op::Log: out[0] = div(g, x); break;
      case Op::Log1p: out[0] = div(g, add(k(1, x), x)); break;
      case Op::Sqrt:
        out[0] = div(mul(k(0.5, g), g), binary(Op::Max, n, k(kSqrtGuard, n)));
        break;
      case Op::Abs: out[0] = mul(g, op1(Op::Sign, x)); break;
      case Op::Sign:
      case Op::Step: break;  // piecewise constant: zero gradient
      case Op::Relu: out[0] = mul(g, op1(Op::Step, x)); break;
      case Op::Sigmoid: out[0] = mul(g, mul(n, sub(k(1, n), n))); break;
      case Op::Tanh: out[0] = mul(g, sub(k(1, n), mul(n, n))); break;
      case Op::Softplus: out[0] = mul(g, op1(Op::Sigmoid, x)); break;
      case Op::LogCosh: out[0] = mul(g, op1(Op::Tanh, x)); break;
      default: break;
    }
    return out;
  }

  switch (n->op) {
    case Op::Const:
    case Op::Input:
    case Op::Param: break;
    case Op::Add:
      if (need(0)) out[0] = g;
      if (need(1)) out[1] = g;
      break;
    case Op::Sub:
      if (need(0)) out[0] = g;
      if (need(1)) out[1] = neg(g);
      break;
    case Op::Mul:
      if (need(0)) out[0] = mul(g, y);
      if (need(1)) out[1] = mul(g, x);
      break;
    case Op::Div: {
      NodePtr gy = div(g, y);  // shared by both operands: d/dy = -(g / y) * (x / y)
      if (need(0)) out[0] = gy;
      if (need(1)) out[1] = neg(mul(gy, n));
      break;
    }
    case Op::Pow:
      // d/dx x^y = y x^(y-1); d/dy x^y = x^y log x, built only when y is differentiated.
      if (need(0)) out[0] = mul(g, mul(y, binary(Op::Pow, x, sub(y, k(1, y)))));
      if (need(1)) out[1] = mul(g, mul(n, op1(Op::Log, x)));
      break;
    case Op::Max:
    case Op::Min: {
      // Subgradient: the operand that is strictly larger (smaller) takes g; ties go to y.
      NodePtr x_wins = n->op == Op::Max ? binary(Op::Greater, x, y) : binary(Op::Greater, y, x);
      NodePtr gx = mul(g, x_wins);
      if (need(0)) out[0] = gx;
      if (need(1)) out[1] = sub(g, gx);
      break;
    }
    case Op::Greater:
    case Op::Equal: break;  // piecewise constant
    case Op::Sum:
      if (need(0)) out[0] = unreduce(g, n);
      break;
    case Op::ReduceMax:
      if (need(0)) {
        // Split g evenly among the elements that attain the maximum.
        NodePtr mask = binary(Op::Equal, x, unreduce(n, n));
        NodePtr count = reduce(Op::Sum, mask, n->attrs.axes, /*keepdims=*/true);
        out[0] = mul(broadcast_to(div(reshape(g, ir::keepdims_shape(*n)), count), x->shape), mask);
      }
      break;
    case Op::LogSumExp:
      if (need(0)) out[0] = mul(unreduce(g, n), op1(Op::Exp, sub(x, unreduce(n, n))));
      break;
    case Op::Broadcast:
      if (need(0)) out[0] = unbroadcast(g, x->shape);
      break;
    case Op::Reshape:
      if (need(0)) out[0] = reshape(g, x->shape);
      break;
    case Op::Transpose:
      if (need(0)) {
        std::vector<int64_t> inverse(n->attrs.axes.size());
        for (size_t i = 0; i < inverse.size(); ++i) inverse[n->attrs.axes[i]] = static_cast<int64_t>(i);
        out[0] = transpose(g, inverse);
      }
      break;
    case Op::Einsum:
      for (size_t i = 0; i < n->inputs.size(); ++i)
        if (need(i)) out[i] = einsum_operand_grad(n, g, i);
      break;
    case Op::Conv2d:  // inputs x, kernel
      if (need(0)) out[0] = make(Op::Conv2dInputGrad, {g, y}, conv_attrs(n, x->shape));
      if (need(1)) out[1] = make(Op::Conv2dKernelGrad, {x, g}, conv_attrs(n, y->shape));
      break;
    case Op::Conv2dInputGrad:  // inputs g0, kernel; linear in each: <c, IG(g0,k)> = <conv(c,k), g0>
      if (need(0)) out[0] = make(Op::Conv2d, {g, y}, conv_attrs(n, {}));
      if (need(1)) out[1] = make(Op::Conv2dKernelGrad, {g, x}, conv_attrs(n, y->shape));
      break;
    case Op::Conv2dKernelGrad:  // inputs x0, g0; <c, KG(x0,g0)> = <conv(x0,c), g0>
      if (need(0)) out[0] = make(Op::Conv2dInputGrad, {y, g}, conv_attrs(n, x->shape));
      if (need(1)) out[1] = make(Op::Conv2d, {x, g}, conv_attrs(n, {}));
      break;
    default: break;
  }
  return out;
}

}  // namespace hamux::autodiff
