// compiler/autodiff/grad.h - symbolic reverse-mode differentiation of IR graphs.
//
// The result of differentiation is again an IR graph over the same leaves, so it can be
// printed, simplified (passes/simplify.h), interpreted and compiled like any other.
// Cotangents are accumulated per node in reverse topological order: every node of the
// primal graph is visited once and contributes one VJP (vjp.h) per input, so the derived
// graph is linear in the size of the primal graph and shares the primal's subexpressions.
// The graphs returned are NOT simplified; run passes::simplify on them.
#pragma once

#include <vector>

#include "graph/ir.h"

namespace hamux::autodiff {

// Gradients of the scalar `y` with respect to each leaf in `wrt`. A leaf is an Input
// (matched by attrs.index) or a Param (matched by attrs.name); one result per leaf, with
// the leaf's shape (a Const 0 when y does not depend on it).
// Throws ir::ShapeError when y is not a scalar, a wrt entry is not an Input or Param, or a
// wrt leaf's shape differs from the leaf it matches in y.
std::vector<ir::NodePtr> grad(const ir::NodePtr& y, const std::vector<ir::NodePtr>& wrt);

// Vector-Jacobian product: the gradient of sum(output * cotangent) with respect to each
// leaf in `wrt`, where `cotangent` has output's shape and dtype and does not depend on the
// wrt leaves. Same errors as grad, plus a cotangent of the wrong shape.
std::vector<ir::NodePtr> vjp(const ir::NodePtr& output, const ir::NodePtr& cotangent,
                             const std::vector<ir::NodePtr>& wrt);

// Replaces every Input with attrs.index == i by by_index[i] (a null entry keeps the input).
// Throws ir::ShapeError when a replacement's shape or dtype differs from the input's.
std::vector<ir::NodePtr> substitute_inputs(const std::vector<ir::NodePtr>& roots,
                                           const std::vector<ir::NodePtr>& by_index);

}  // namespace hamux::autodiff
