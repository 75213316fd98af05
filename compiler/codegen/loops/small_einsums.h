// compiler/codegen/loops/small_einsums.h - tiny contractions as fused sums instead of calls.
//
// A kernel runs an einsum stage as a call into the kernels library (kernels/kernels.h),
// which cost some 50-80 ns of call overhead (then also parsing and dispatch) whatever the size: readme.json's four
// 7x9 / 8x9 products made that most of its 0.33 us step (W3, docs/performance.md). An einsum
// whose whole work per sample (the product of the sizes of its letters) is small is written
// instead as what it is,
//   einsum('i,ij->j', x, W) = sum over i of (broadcast x[i] * W[i, j]),
// a product of transposed and broadcast operands reduced over the contracted letters; the
// lowering fuses the product into the reduction loop (one Reduce stage, no runtime call).
// Emitting the same einsums with the AOT loop emitter instead (llvm/contraction_loops.h) was measured
// and withdrawn: readme's cold compile went from 108 to 281 ms.
#pragma once

#include <cstdint>
#include <vector>

#include "graph/ir.h"

namespace hamux::codegen {

// The default bound on the multiply-adds per sample of an einsum that becomes a sum.
constexpr int64_t kSmallEinsumWork = 1024;

// The sum form of `einsum` (an Einsum node) over `operands` (its inputs, possibly already
// rewritten), or nullptr when the einsum has more than `max_work` multiply-adds per sample
// or repeats a letter within one operand or the output (a diagonal, which broadcasting
// cannot express).
ir::NodePtr small_einsum_as_sum(const ir::Node& einsum, const std::vector<ir::NodePtr>& operands, int64_t max_work);

}  // namespace hamux::codegen
