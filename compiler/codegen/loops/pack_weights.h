// compiler/codegen/loops/pack_weights.h - pack the weight operands of GEMMs once, in the prologue.
//
// A step kernel's GEMMs multiply a batched operand (the slice's activations) by a shared
// one (W, Xi, W + W^T ...) that stays the same for the whole call. Eigen packs both
// operands of every product into its panel layout, so a kernel called on slices or blocks of
// 16 samples repacked a 4 MiB W per block and step: W1 ran 1.6x slower in blocks of 16 than
// in one call, W2 2.3x (docs/performance.md). This pass gives each such operand a Pack stage
// in the prologue (kernels/kernels.h: hamux_gemm_pack_b) writing a shared buffer, and makes
// the einsum read it (hamux_gemm_packed), so the packing is done once per set of
// parameters and shared by every thread and block.
//
// Packed: a shared operand of at least `min_bytes` of a two-operand einsum of the body or
// the epilogue whose other operand is batched and which runs as one GEMM with the shared
// operand as B (its plan says so, EinsumPlan::packable; the blocking is fixed in the Pack stage). The JIT's compile() applies it
// (CompileOptions::pack_min_bytes); AOT objects have no GEMM runtime (their contractions
// are emitted loops) and do not.
#pragma once

#include <cstdint>

#include "codegen/loops/program.h"

namespace hamux::codegen {

// Returns how many einsum operands now read a packed buffer.
int pack_weights(Program& p, int64_t min_bytes);

// The default `min_bytes` (CompileOptions::pack_min_bytes; AOT objects on the kernels
// library): smaller weights stay in the cache between calls and pack fast anyway.
inline constexpr int64_t kPackMinBytes = 64 * 1024;

}  // namespace hamux::codegen
