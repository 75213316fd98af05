// compiler/graph/builder.cpp - NumPy-style helpers over ir::make.
#include "graph/builder.h"

#include <numeric>

namespace hamux::ir {

Shape broadcast_shapes(const Shape& a, const Shape& b) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < a.size() ? a[a.size() - 1 - i] : 1;
    int64_t db = i < b.size() ? b[b.size() - 1 - i] : 1;
    if (da != db && da != 1 && db != 1)
      throw ShapeError("shapes " + shape_str(a) + " and " + shape_str(b) + " do not broadcast");
    out[n - 1 - i] = da == 1 ? db : da;
  }
  return out;
}

NodePtr broadcast_to(const NodePtr& x, const Shape& shape) {
  if (x->shape == shape) return x;
  if (x->op == Op::Const) return constant(x->attrs.value, x->dtype, shape);
  Attrs a;
  a.shape = shape;
  return make(Op::Broadcast, {x}, a);
}

NodePtr binary(Op op, const NodePtr& a, const NodePtr& b) {
  Shape s;
  try {
    s = broadcast_shapes(a->shape, b->shape);
  } catch (const ShapeError& e) {
    throw ShapeError(std::string(op_name(op)) + ": " + e.what());
  }
  return make(op, {broadcast_to(a, s), broadcast_to(b, s)});
}

NodePtr unary(Op op, const NodePtr& x) { return make(op, {x}); }

NodePtr add(const NodePtr& a, const NodePtr& b) { return binary(Op::Add, a, b); }
NodePtr sub(const NodePtr& a, const NodePtr& b) { return binary(Op::Sub, a, b); }
NodePtr mul(const NodePtr& a, const NodePtr& b) { return binary(Op::Mul, a, b); }
NodePtr div(const NodePtr& a, const NodePtr& b) { return binary(Op::Div, a, b); }
NodePtr neg(const NodePtr& x) { return make(Op::Neg, {x}); }

NodePtr scalar_like(double c, const NodePtr& like) { return constant(c, like->dtype); }
NodePtr scale(double c, const NodePtr& x) { return mul(scalar_like(c, x), x); }

NodePtr reduce(Op op, const NodePtr& x, std::vector<int64_t> axes, bool keepdims) {
  if (axes.empty()) {
    axes.resize(x->shape.size());
    std::iota(axes.begin(), axes.end(), 0);
  }
  if (axes.empty()) {
    // Reducing a scalar over no axes: sum/max are the identity, logsumexp(x) = x.
    return x;
  }
  Attrs a;
  a.axes = std::move(axes);
  a.keepdims = keepdims;
  return make(op, {x}, a);
}

NodePtr sum_all(const NodePtr& x) { return reduce(Op::Sum, x, {}, false); }

NodePtr reshape(const NodePtr& x, const Shape& shape) {
  if (x->shape == shape) return x;
  Attrs a;
  a.shape = shape;
  return make(Op::Reshape, {x}, a);
}

NodePtr transpose(const NodePtr& x, const std::vector<int64_t>& perm) {
  Attrs a;
  a.axes = perm;
  return make(Op::Transpose, {x}, a);
}

NodePtr einsum(const std::string& spec, const std::vector<NodePtr>& operands) {
  Attrs a;
  a.spec = spec;
  return make(Op::Einsum, operands, a);
}

NodePtr softmax(const NodePtr& x, int64_t axis) {
  NodePtr lse = reduce(Op::LogSumExp, x, {axis}, /*keepdims=*/true);
  return make(Op::Exp, {sub(x, lse)});
}

}  // namespace hamux::ir
