// compiler/graph/builder.h - convenient constructors on top of ir::make.
//
// These are what the frontend, the standard library, the differentiator and the
// simplifier use to build graphs. Binary helpers apply NumPy broadcasting by inserting
// Broadcast nodes, so the IR itself only ever sees equal shapes.
#pragma once

#include "graph/ir.h"

namespace hamux::ir {

// NumPy broadcast of two shapes; throws ShapeError "shapes [a] and [b] do not broadcast".
Shape broadcast_shapes(const Shape& a, const Shape& b);

// Broadcast `x` to `shape` (no node when the shape already matches).
NodePtr broadcast_to(const NodePtr& x, const Shape& shape);

// Elementwise binary op with NumPy broadcasting.
NodePtr binary(Op op, const NodePtr& a, const NodePtr& b);
NodePtr unary(Op op, const NodePtr& x);

NodePtr add(const NodePtr& a, const NodePtr& b);
NodePtr sub(const NodePtr& a, const NodePtr& b);
NodePtr mul(const NodePtr& a, const NodePtr& b);
NodePtr div(const NodePtr& a, const NodePtr& b);
NodePtr neg(const NodePtr& x);
NodePtr scale(double c, const NodePtr& x);  // c * x
NodePtr scalar_like(double c, const NodePtr& like);  // Const of like's dtype, shape []

// Reductions. `axes` may be negative; empty `axes` means all axes.
NodePtr reduce(Op op, const NodePtr& x, std::vector<int64_t> axes, bool keepdims);
NodePtr sum_all(const NodePtr& x);  // scalar

NodePtr reshape(const NodePtr& x, const Shape& shape);
NodePtr transpose(const NodePtr& x, const std::vector<int64_t>& perm);
NodePtr einsum(const std::string& spec, const std::vector<NodePtr>& operands);

// Softmax along one axis, built from primitives: exp(x - logsumexp(x, axis, keepdims)).
NodePtr softmax(const NodePtr& x, int64_t axis);

}  // namespace hamux::ir
