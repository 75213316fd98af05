// compiler/codegen/llvm/contraction_loops.h - self-contained contraction loops, emitted into the kernel.
//
// JIT kernels (emit.h) run einsum and conv2d stages as calls into the Eigen-backed kernels
// library of the hamux process (kernels/kernels.h). An AOT object must link with nothing but
// libc/libm, so there the emitter calls, for every contraction stage, a function emitted into
// the same module from the stage's typed plan (loops/contraction.h): plain counted loops with
// constant trip counts (except the slice size), which O3 unrolls and vectorises. The JIT does
// the same for convolutions with few channels (Contractions::kSmallConvolutionsAsLoops), where
// these direct loops beat im2col + GEMM (docs/performance.md): one emitter serves both.
//
// Einsum, the two GEMM shapes (two operands, no repeated letters), register-blocked:
//  - axpy: out[.., r, n] += A[.., r, ..] * B[.., n], n the last letter of out and B: a tile
//    of 4 r-rows x 2-4 vectors of n lives in registers across the whole contraction;
//  - dot:  out[.., r, c] = sum_k A[.., r, .., k] * B[.., c, .., k], k last in both operands:
//    a tile of 2-4 x 4 dot products with vector accumulators along k, reduced at the end.
// Tile sizes follow the target's vector width and register count (VectorShape, target.h).
// Every other einsum, one loop nest per call site:
//  - the innermost loop runs over the letter that is the last (unit-stride) axis of the
//    most terms; when that letter is an output letter the nest accumulates in place
//    (out zeroed first, out[..] += prod, "axpy" form), otherwise it is a reduction
//    (register accumulator, `reassoc` so that the vectoriser may split it into lanes);
//  - one output letter absent from the largest operand is blocked by kBlock, so that the
//    largest operand is streamed once per block instead of once per index of that letter
//    (for x[S,K] @ W[K,N], W is read nb/8 times rather than nb times).
// Convolutions are direct loops over (output pixel, kernel tap, channel) with the output
// channel innermost (unit stride in the kernel [KH,KW,C,O] and in the output), in the widest
// vectors (512-bit with AVX-512: W5 1.8 -> 1.45 ms/step over the preferred 256-bit ones).
//
// The summation order differs from Eigen's blocked GEMM, so results agree with the JIT
// to rounding, not bit for bit (docs/aot.md gives the tolerance and why).
#pragma once

#include <cstdint>
#include <string>

#include "codegen/llvm/target.h"
#include "codegen/loops/contraction.h"

namespace llvm {
class Function;
class Module;
class Type;
}  // namespace llvm

namespace hamux::codegen {

// The names the emitter gives these functions: a prefix and a number.
inline constexpr const char* kEinsumLoopsPrefix = "hamux_einsum_loops_";
inline constexpr const char* kConvLoopsPrefix = "hamux_conv_loops_";
// Does `m` hold contraction loops emitted by the two functions below (object.cpp gives such
// modules the full optimisation pipeline)?
bool has_contraction_loops(const llvm::Module& m);

// void name(int64_t nb, real* out, const real* op0, const real* op1 ...): the einsum of
// `plan` on a slice of nb samples, as an internal function of `m` annotated for `target`
// (so that it can be inlined into the kernel).
llvm::Function* emit_einsum_loops(llvm::Module& m, const std::string& name, llvm::Type* real, const EinsumPlan& plan,
                                  const Target& target, const VectorShape& vs);

// void name(int64_t nb, real* out, const real* a, const real* b): the convolution of `plan`.
llvm::Function* emit_conv_loops(llvm::Module& m, const std::string& name, llvm::Type* real,
                                const hamux_conv_plan& plan, const Target& target, const VectorShape& vs);

// The JIT's choice: direct loops with register accumulators for conv2d and its input
// gradient with at most `max_channels` channels in and out whose accumulators fit in
// registers, where they beat im2col + Eigen GEMM (whose column matrix and packing cost more
// than the few FLOPs per pixel); the crossover is measured in docs/performance.md
// (CompileOptions::conv_loops_max_channels).
bool conv_loops_for_jit(const hamux_conv_plan& plan, int element_bytes, const VectorShape& vs, int64_t max_channels);

}  // namespace hamux::codegen
