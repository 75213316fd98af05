// compiler/codegen/loops/merge_einsums.h - one GEMM instead of two for sums of linear maps.
//
// Derivatives of bilinear energies come out as sums of two contractions of the same
// activation with the same parameter: E = -1/2 g.W g gives dE/dg = -1/2 (W g + g W), i.e.
//   einsum('mk,k->m', W, g) + einsum('m,mk->k', g, W).
// Written as one contraction with the parameters added first,
//   einsum('mk,k->m', W + transpose(W), g),
// the parameter sum depends on parameters only, so the lowering computes it once per call
// (prologue) and each step does one GEMM instead of two. Exact in real arithmetic; in
// floating point only the summation order changes.
#pragma once

#include "graph/ir.h"

namespace hamux::codegen {

// For add(a, b) where a and b are two-operand einsums that share one operand X (the same
// node) and whose other operands P, Q do not depend on any input: returns
// einsum(spec of a, ..., P + transpose(Q), ...), or nullptr when that does not apply.
ir::NodePtr merge_einsum_sum(const ir::NodePtr& a, const ir::NodePtr& b);

}  // namespace hamux::codegen
