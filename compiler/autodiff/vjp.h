// compiler/autodiff/vjp.h - the vector-Jacobian product rule of every IR op.
#pragma once

#include <vector>

#include "graph/ir.h"

namespace hamux::autodiff {

// Given node `n` and the cotangent `g` of its value (shape of n), returns one cotangent per
// input of n (the input's shape). An entry is null when the input's cotangent is zero
// (Sign, Step, Greater, Equal, or an input's derivative is structurally zero) or when
// needs[i] is false - the caller then skips it, so rules only build what is needed.
std::vector<ir::NodePtr> vjp_rule(const ir::NodePtr& n, const ir::NodePtr& g,
                                  const std::vector<bool>& needs);

}  // namespace hamux::autodiff
