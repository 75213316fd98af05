// compiler/codegen/aot_contract.h - self-contained contraction loops, emitted into the kernel.
//
// Kernels (llvm_emit.h) call einsum and conv2d stages as Eigen-backed routines in the hamux
// process (runtime_kernels.h). An AOT object must link with nothing but libc/libm, so before
// optimisation every such call is redirected to a function emitted into the same module and
// specialised for the call's constant descriptor: plain counted loops with constant trip
// counts (except the slice size), which O3 unrolls and vectorises. The JIT does the same for
// convolutions with few channels (Inline::kSmallConvolutions), where these direct loops beat
// im2col + GEMM (docs/performance.md): one emitter serves both.
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
// channel innermost (unit stride in the kernel [KH,KW,C,O] and in the output), in the widest
// vectors (512-bit with AVX-512: W5 1.8 -> 1.45 ms/step over the preferred 256-bit ones).
//
// The summation order differs from Eigen's blocked GEMM, so results agree with the JIT
// to rounding, not bit for bit (docs/aot.md gives the tolerance and why).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

namespace llvm {
class Function;
class Module;
class TargetMachine;
}

namespace hamux::codegen {

// The target's vector unit, for choosing register tiles (from TargetTransformInfo).
struct VectorShape {
  int bytes = 16;          // preferred vector register width
  int widest_bytes = 16;   // widest vector register (64 with AVX-512, where LLVM prefers 32)
  int registers = 16;      // vector registers
  int lanes(int element_bytes) const { return std::max(1, bytes / element_bytes); }
};

// The vector width LLVM prefers for `f` on this target (e.g. 256 bits on most AVX-512 CPUs),
// the widest one, and the number of vector registers.
VectorShape vector_shape(llvm::TargetMachine& tm, const llvm::Function& f);

enum class Inline {
  kAll,                // every contraction (AOT: the object needs no runtime)
  kSmallConvolutions,  // conv2d and its input gradient with at most `max_conv_channels`
                       // channels in and out, whose accumulators fit in registers (JIT)
};

// Replaces calls to hamux_einsum_{f32,f64} and hamux_conv_{f32,f64} in `m` (all of them, or
// the ones `which` selects) by calls to internal functions emitted for their descriptors,
// and removes declarations left without a use. `cpu`/`features` become the new functions'
// target attributes (so they can be inlined into the kernel). Throws std::logic_error when
// a call has no constant descriptor.
void inline_contractions(llvm::Module& m, const std::string& cpu, const std::string& features,
                         const VectorShape& vs, Inline which = Inline::kAll, int64_t max_conv_channels = 0);

}  // namespace hamux::codegen
