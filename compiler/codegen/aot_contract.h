// compiler/codegen/aot_contract.h - self-contained contraction loops for ahead-of-time kernels.
//
// JIT kernels (llvm_emit.h) hand einsum and conv2d stages to Eigen-backed routines in the
// hamux process (runtime_kernels.h). An AOT object must link with nothing but libc/libm,
// so before optimisation every such call is redirected to a function emitted into the
// same module and specialised for the call's constant descriptor: plain counted loops
// with constant trip counts (except the slice size), which O3 unrolls and vectorises.
//
// Einsum, the two GEMM shapes (two operands, no repeated letters), register-blocked:
//  - axpy: out[.., r, n] += A[.., r, ..] * B[.., n], n the last letter of out and B: a tile
//    of 4 r-rows x 2-4 vectors of n lives in registers across the whole contraction;
//  - dot:  out[.., r, c] = sum_k A[.., r, .., k] * B[.., c, .., k], k last in both operands:
//    a tile of 2-4 x 4 dot products with vector accumulators along k, reduced at the end.
// Tile sizes follow the target's vector width and register count (VectorShape).
// Every other einsum, one loop nest per call site:
//  - the innermost loop runs over the letter that is the last (unit-stride) axis of the
//    most terms; when that letter is an output letter the nest accumulates in place
//    (out zeroed first, out[..] += prod, "axpy" form), otherwise it is a reduction
//    (register accumulator, `reassoc` so that the vectoriser may split it into lanes);
//  - one output letter absent from the largest operand is blocked by kBlock, so that the
//    largest operand is streamed once per block instead of once per index of that letter
//    (for x[S,K] @ W[K,N], W is read nb/8 times rather than nb times).
// Convolutions are direct loops over (output pixel, kernel tap, channel) with the output
// channel innermost (unit stride in the kernel [KH,KW,C,O] and in the output).
//
// The summation order differs from Eigen's blocked GEMM, so results agree with the JIT
// to rounding, not bit for bit (docs/aot.md gives the tolerance and why).
#pragma once

#include <algorithm>
#include <string>

namespace llvm {
class Module;
}

namespace hamux::codegen {

// The target's vector unit, for choosing register tiles (from TargetTransformInfo).
struct VectorShape {
  int bytes = 16;      // preferred vector register width
  int registers = 16;  // vector registers
  int lanes(int element_bytes) const { return std::max(1, bytes / element_bytes); }
};

// Replaces every call to hamux_einsum_{f32,f64} and hamux_conv_{f32,f64} in `m` by a call
// to an internal function emitted for that descriptor, and removes the declarations.
// `cpu`/`features` become the new functions' target attributes (so they can be inlined
// into the kernel). Throws std::logic_error when a call has no constant descriptor.
void inline_contractions(llvm::Module& m, const std::string& cpu, const std::string& features,
                         const VectorShape& vs);

}  // namespace hamux::codegen
