// compiler/passes/algebraic.cpp - algebraic identities (see passes.h).
//
// Every rule is an identity of real arithmetic and none can turn a finite result into a
// non-finite one; some (pulling a constant out of a sum, c*(d*x) -> (cd)*x) may change the
// last bit through rounding. Rules that are NOT exact everywhere are left out on purpose:
// exp(log x) (NaN vs x for x < 0), x - x -> 0 and x / x -> 1 (inf, NaN), 0 / x (x = 0),
// pow(x, 0.5) -> sqrt (signed zero, -inf).
//
// Rules, by op (c, d are Consts; constants are moved to the left of Add and Mul):
//   add:  x+0, 0+x -> x;  x+x -> 2*x;  x+(-y) -> x-y;  (-x)+y -> y-x;  c*a + c*b -> c*(a+b)
//   sub:  x-0 -> x;  0-x -> -x;  x-(-y) -> x+y;  c*a - c*b -> c*(a-b)
//   mul:  1*x -> x;  0*x -> 0;  -1*x -> -x;  c*(d*x) -> (cd)*x;  c*(-x) -> (-c)*x;
//         x*(c*y), (c*x)*y -> c*(x*y);  x*(-y), (-x)*y -> -(x*y);  c*(d/y) -> (cd)/y;
//         relu(x)*step(x) -> relu(x)
//   div:  x/1 -> x;  (-x)/y, x/(-y) -> -(x/y)
//   neg:  --x -> x;  -(c*x) -> (-c)*x;  -(a-b) -> b-a
//   pow:  x^1 -> x;  x^0 -> 1;  x^2 -> x*x
//   max, min: max(x,x), min(x,x) -> x
//   log(exp x) -> x;  abs(abs x), abs(-x) -> abs x;  relu(relu x) -> relu x
//   sum, reduce_max, logsumexp over axes of size 1 -> reshape
//   sum(broadcast x) -> m * broadcast(sum of x over the axes it really has), m = product of
//     the broadcast axes reduced;  sum(-x) -> -sum(x);  sum(c*x) -> c*sum(x)
//   broadcast(broadcast x) -> broadcast x;  broadcast that only adds unit axes -> reshape
//   reshape(reshape x) -> reshape x;  reshape / broadcast / transpose to the same layout -> x
//   transpose(transpose x) -> one transpose (or x)
//   broadcast, reshape, transpose of c*z or -z -> c * layout(z), -layout(z)
//   einsum of one operand that only permutes its letters -> transpose (or x);
//   einsum with a 0 operand -> 0;  an operand -z or c*z -> -einsum, c*einsum (linearity);  einsum with a scalar operand c -> c * einsum(rest);
//     an all-ones operand whose letters all occur in other operands is dropped
#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "graph/builder.h"
#include "passes/passes.h"
#include "passes/rewrite.h"

namespace hamux::passes {

namespace {

using ir::NodePtr;
using ir::Op;

bool is_const(const NodePtr& n) { return n->op == Op::Const; }
bool is_const(const NodePtr& n, double v) { return n->op == Op::Const && n->attrs.value == v; }

// A Const with value v, n's dtype (rounded for float32) and `shape`.
NodePtr const_like(double v, const NodePtr& n, const Shape& shape) {
  if (n->dtype == ir::DType::F32) v = static_cast<double>(static_cast<float>(v));
  return ir::constant(v, n->dtype, shape);
}

NodePtr make1(Op op, const NodePtr& x) { return ir::make(op, {x}); }
NodePtr make2(Op op, const NodePtr& a, const NodePtr& b) { return ir::make(op, {a, b}); }

// c*a + c*b -> c*(a + b), c*a - c*b -> c*(a - b).
NodePtr factor_constant(const NodePtr& n) {
  const NodePtr &a = n->inputs[0], &b = n->inputs[1];
  if (a->op != Op::Mul || b->op != Op::Mul || !is_const(a->inputs[0]) || !is_const(b->inputs[0]) ||
      a->inputs[0]->attrs.value != b->inputs[0]->attrs.value)
    return nullptr;
  return make2(Op::Mul, a->inputs[0], make2(n->op, a->inputs[1], b->inputs[1]));
}

NodePtr simplify_add(const NodePtr& n) {
  const NodePtr &a = n->inputs[0], &b = n->inputs[1];
  if (is_const(b, 0)) return a;
  if (is_const(a, 0)) return b;
  if (is_const(b) && !is_const(a)) return make2(Op::Add, b, a);
  if (a == b) return make2(Op::Mul, const_like(2, n, n->shape), a);
  if (NodePtr f = factor_constant(n)) return f;
  if (b->op == Op::Neg) return make2(Op::Sub, a, b->inputs[0]);
  if (a->op == Op::Neg) return make2(Op::Sub, b, a->inputs[0]);
  return n;
}

NodePtr simplify_sub(const NodePtr& n) {
  const NodePtr &a = n->inputs[0], &b = n->inputs[1];
  if (is_const(b, 0)) return a;
  if (is_const(a, 0)) return make1(Op::Neg, b);
  if (b->op == Op::Neg) return make2(Op::Add, a, b->inputs[0]);
  if (NodePtr f = factor_constant(n)) return f;
  return n;
}

NodePtr simplify_mul(const NodePtr& n) {
  const NodePtr &a = n->inputs[0], &b = n->inputs[1];
  if (is_const(a) || is_const(b)) {
    // c * x (the constant on the left, where the result puts it too).
    const NodePtr& k = is_const(a) ? a : b;
    const NodePtr& x = is_const(a) ? b : a;
    double c = k->attrs.value;
    if (c == 1) return x;
    if (c == 0) return const_like(0, n, n->shape);
    if (c == -1) return make1(Op::Neg, x);
    if (x->op == Op::Mul && is_const(x->inputs[0]))
      return make2(Op::Mul, const_like(c * x->inputs[0]->attrs.value, n, n->shape), x->inputs[1]);
    if (x->op == Op::Neg) return make2(Op::Mul, const_like(-c, n, n->shape), x->inputs[0]);
    if (x->op == Op::Div && is_const(x->inputs[0]))
      return make2(Op::Div, const_like(c * x->inputs[0]->attrs.value, n, n->shape), x->inputs[1]);
    return is_const(a) ? n : make2(Op::Mul, k, x);
  }
  if (b->op == Op::Mul && is_const(b->inputs[0]))
    return make2(Op::Mul, b->inputs[0], make2(Op::Mul, a, b->inputs[1]));
  if (a->op == Op::Mul && is_const(a->inputs[0]))
    return make2(Op::Mul, a->inputs[0], make2(Op::Mul, a->inputs[1], b));
  if (b->op == Op::Neg) return make1(Op::Neg, make2(Op::Mul, a, b->inputs[0]));
  if (a->op == Op::Neg) return make1(Op::Neg, make2(Op::Mul, a->inputs[0], b));
  // relu(x) * step(x) = relu(x) (the derivative of relu(x)^2 / 2), NaN included.
  if (a->op == Op::Relu && b->op == Op::Step && a->inputs[0] == b->inputs[0]) return a;
  if (b->op == Op::Relu && a->op == Op::Step && a->inputs[0] == b->inputs[0]) return b;
  return n;
}

NodePtr simplify_div(const NodePtr& n) {
  const NodePtr &a = n->inputs[0], &b = n->inputs[1];
  if (is_const(b, 1)) return a;
  if (a->op == Op::Neg) return make1(Op::Neg, make2(Op::Div, a->inputs[0], b));
  if (b->op == Op::Neg) return make1(Op::Neg, make2(Op::Div, a, b->inputs[0]));
  return n;
}

NodePtr simplify_neg(const NodePtr& n) {
  const NodePtr& x = n->inputs[0];
  if (x->op == Op::Neg) return x->inputs[0];
  if (x->op == Op::Mul && is_const(x->inputs[0]))
    return make2(Op::Mul, const_like(-x->inputs[0]->attrs.value, n, n->shape), x->inputs[1]);
  if (x->op == Op::Sub) return make2(Op::Sub, x->inputs[1], x->inputs[0]);
  return n;
}

NodePtr simplify_pow(const NodePtr& n) {
  const NodePtr &x = n->inputs[0], &y = n->inputs[1];
  if (is_const(y, 1)) return x;
  if (is_const(y, 0)) return const_like(1, n, n->shape);
  if (is_const(y, 2)) return make2(Op::Mul, x, x);
  return n;
}

// Shape of `x` without the axes in `drop` (sorted).
Shape without_axes(const Shape& s, const std::vector<int64_t>& drop) {
  Shape out;
  for (size_t i = 0; i < s.size(); ++i)
    if (!std::binary_search(drop.begin(), drop.end(), static_cast<int64_t>(i))) out.push_back(s[i]);
  return out;
}

// Reductions over axes that all have size 1 only drop (or keep) unit axes.
NodePtr reduction_over_unit_axes(const NodePtr& n) {
  for (int64_t a : n->attrs.axes)
    if (n->inputs[0]->shape[a] != 1) return nullptr;
  return ir::reshape(n->inputs[0], n->shape);
}

// sum(broadcast(x)): the reduced axes that the broadcast created add up m equal values.
NodePtr sum_of_broadcast(const NodePtr& n) {
  const NodePtr& b = n->inputs[0];
  const NodePtr& x = b->inputs[0];
  const Shape& t = b->shape;
  size_t lead = t.size() - x->shape.size();
  Shape s(lead, 1);  // x's shape aligned to t's rank
  s.insert(s.end(), x->shape.begin(), x->shape.end());
  std::vector<int64_t> real;  // reduced axes that x really has
  double m = 1;
  for (int64_t a : n->attrs.axes) {
    if (s[a] == 1 && t[a] != 1) m *= static_cast<double>(t[a]);
    else real.push_back(a);
  }
  if (m == 1) return nullptr;
  NodePtr y = ir::reshape(x, s);
  if (!real.empty()) y = ir::reduce(Op::Sum, y, real, /*keepdims=*/true);
  // y has size 1 on every reduced axis; drop them unless the sum keeps its dims.
  if (!n->attrs.keepdims) y = ir::reshape(y, without_axes(y->shape, n->attrs.axes));
  y = ir::broadcast_to(y, n->shape);
  return make2(Op::Mul, const_like(m, n, n->shape), y);
}

NodePtr simplify_sum(const NodePtr& n) {
  if (NodePtr r = reduction_over_unit_axes(n)) return r;
  const NodePtr& x = n->inputs[0];
  if (x->op == Op::Broadcast)
    if (NodePtr r = sum_of_broadcast(n)) return r;
  if (x->op == Op::Neg) return make1(Op::Neg, ir::make(Op::Sum, {x->inputs[0]}, n->attrs));
  if (x->op == Op::Mul && is_const(x->inputs[0]))
    return make2(Op::Mul, const_like(x->inputs[0]->attrs.value, n, n->shape),
                 ir::make(Op::Sum, {x->inputs[1]}, n->attrs));
  return n;
}

// A layout op moves elements without combining them, so a uniform constant factor or a
// negation commutes with it: layout(c * z) -> c * layout(z), layout(-z) -> -layout(z).
NodePtr hoist_through_layout(const NodePtr& n) {
  const NodePtr& x = n->inputs[0];
  if (x->op == Op::Neg) return make1(Op::Neg, with_inputs(n, {x->inputs[0]}));
  if (x->op == Op::Mul && is_const(x->inputs[0]) && !is_const(x->inputs[1]))
    return make2(Op::Mul, const_like(x->inputs[0]->attrs.value, n, n->shape),
                 with_inputs(n, {x->inputs[1]}));
  return nullptr;
}

NodePtr simplify_broadcast(const NodePtr& n) {
  const NodePtr& x = n->inputs[0];
  if (x->shape == n->shape) return x;
  if (x->op == Op::Broadcast) return ir::broadcast_to(x->inputs[0], n->shape);
  // Only unit axes added in front: the same elements in the same order.
  if (num_elements(x->shape) == num_elements(n->shape)) return ir::reshape(x, n->shape);
  if (NodePtr h = hoist_through_layout(n)) return h;
  return n;
}

NodePtr simplify_reshape(const NodePtr& n) {
  const NodePtr& x = n->inputs[0];
  if (x->shape == n->shape) return x;
  if (x->op == Op::Reshape) return ir::reshape(x->inputs[0], n->shape);
  if (NodePtr h = hoist_through_layout(n)) return h;
  return n;
}

bool is_identity(const std::vector<int64_t>& perm) {
  for (size_t i = 0; i < perm.size(); ++i)
    if (perm[i] != static_cast<int64_t>(i)) return false;
  return true;
}

NodePtr simplify_transpose(const NodePtr& n) {
  const NodePtr& x = n->inputs[0];
  if (is_identity(n->attrs.axes)) return x;
  if (x->op == Op::Transpose) {
    // out[i] = x[p2[i]] = inner[p1[p2[i]]].
    std::vector<int64_t> perm;
    for (int64_t p : n->attrs.axes) perm.push_back(x->attrs.axes[p]);
    if (is_identity(perm)) return x->inputs[0];
    return ir::transpose(x->inputs[0], perm);
  }
  if (NodePtr h = hoist_through_layout(n)) return h;
  return n;
}

// An op linear in each operand (einsum, the convolutions): a negation or a uniform factor of
// an operand moves out to the result, where it fuses into the elementwise consumer instead of
// costing a pass over the operand before the contraction (W5: -relu(h) before the transposed
// convolution). A zero operand makes the result zero.
NodePtr hoist_out_of_multilinear(const NodePtr& n) {
  for (const NodePtr& op : n->inputs)
    if (is_const(op, 0)) return const_like(0, n, n->shape);
  for (size_t k = 0; k < n->inputs.size(); ++k) {
    const NodePtr& op = n->inputs[k];
    bool scaled = op->op == Op::Mul && is_const(op->inputs[0]) && !is_const(op->inputs[1]);
    if (op->op != Op::Neg && !scaled) continue;
    std::vector<NodePtr> inputs = n->inputs;
    inputs[k] = op->inputs.back();
    NodePtr e = ir::make(n->op, inputs, n->attrs);
    if (!scaled) return make1(Op::Neg, e);
    return make2(Op::Mul, const_like(op->inputs[0]->attrs.value, n, n->shape), e);
  }
  return nullptr;
}

NodePtr simplify_einsum(const NodePtr& n) {
  ir::EinsumSpec s = ir::parse_einsum(n->attrs.spec);
  size_t k_count = n->inputs.size();
  if (NodePtr h = hoist_out_of_multilinear(n)) return h;
  if (k_count == 1) {
    // One operand whose distinct letters are only permuted: a transpose (or nothing).
    const std::string& term = s.operands[0];
    if (term.size() != s.output.size()) return n;
    std::vector<int64_t> perm;
    for (char c : s.output) {
      size_t at = term.find(c);
      if (at == std::string::npos || term.find(c, at + 1) != std::string::npos) return n;
      perm.push_back(static_cast<int64_t>(at));
    }
    std::vector<int64_t> sorted = perm;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) return n;
    return is_identity(perm) ? n->inputs[0] : ir::transpose(n->inputs[0], perm);
  }
  for (size_t k = 0; k < k_count; ++k) {
    const NodePtr& op = n->inputs[k];
    if (!is_const(op)) continue;
    bool scalar = s.operands[k].empty();
    bool droppable_ones = op->attrs.value == 1;
    for (char c : s.operands[k]) {
      bool elsewhere = false;
      for (size_t j = 0; j < k_count; ++j)
        if (j != k && s.operands[j].find(c) != std::string::npos) elsewhere = true;
      droppable_ones = droppable_ones && elsewhere;
    }
    if (!scalar && !droppable_ones) continue;
    std::vector<NodePtr> rest;
    std::string spec;
    for (size_t j = 0; j < k_count; ++j) {
      if (j == k) continue;
      spec += (rest.empty() ? "" : ",") + s.operands[j];
      rest.push_back(n->inputs[j]);
    }
    NodePtr e = ir::einsum(spec + "->" + s.output, rest);
    if (scalar && op->attrs.value != 1) return make2(Op::Mul, const_like(op->attrs.value, n, n->shape), e);
    return e;
  }
  return n;
}

NodePtr simplify_node(const NodePtr& n) {
  switch (n->op) {
    case Op::Add: return simplify_add(n);
    case Op::Sub: return simplify_sub(n);
    case Op::Mul: return simplify_mul(n);
    case Op::Div: return simplify_div(n);
    case Op::Neg: return simplify_neg(n);
    case Op::Pow: return simplify_pow(n);
    case Op::Max:
    case Op::Min: return n->inputs[0] == n->inputs[1] ? n->inputs[0] : n;
    case Op::Log: return n->inputs[0]->op == Op::Exp ? n->inputs[0]->inputs[0] : n;
    case Op::Abs: {
      Op inner = n->inputs[0]->op;
      if (inner == Op::Abs) return n->inputs[0];
      if (inner == Op::Neg) return make1(Op::Abs, n->inputs[0]->inputs[0]);
      return n;
    }
    case Op::Relu: return n->inputs[0]->op == Op::Relu ? n->inputs[0] : n;
    case Op::Sum: return simplify_sum(n);
    case Op::ReduceMax:
    case Op::LogSumExp: {
      NodePtr r = reduction_over_unit_axes(n);
      return r ? r : n;
    }
    case Op::Broadcast: return simplify_broadcast(n);
    case Op::Reshape: return simplify_reshape(n);
    case Op::Transpose: return simplify_transpose(n);
    case Op::Einsum: return simplify_einsum(n);
    case Op::Conv2d:
    case Op::Conv2dInputGrad:
    case Op::Conv2dKernelGrad: {
      NodePtr h = hoist_out_of_multilinear(n);
      return h ? h : n;
    }
    default: return n;
  }
}

}  // namespace

ir::NodePtr algebraic_rule(const ir::NodePtr& node) { return simplify_node(node); }

std::vector<ir::NodePtr> algebraic(const std::vector<ir::NodePtr>& roots) {
  return rewrite(roots, simplify_node);
}

}  // namespace hamux::passes
