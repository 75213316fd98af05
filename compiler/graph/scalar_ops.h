// compiler/graph/scalar_ops.h - the value of every elementwise op on one scalar.
//
// The single definition shared by the reference interpreter and constant folding.
// Stable where the naive formula is not (softplus, logcosh, sigmoid); NaN conventions:
// arithmetic, relu, max and min propagate NaN, the comparisons (step, greater, equal)
// follow IEEE ordering, so a NaN compares false and gives 0.
#pragma once

#include "graph/ir.h"

namespace hamux::ir {

double eval_unary(Op op, double x);            // op must satisfy is_unary
double eval_binary(Op op, double a, double b);  // op must satisfy is_binary

}  // namespace hamux::ir
