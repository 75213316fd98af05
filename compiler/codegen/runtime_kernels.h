// compiler/codegen/runtime_kernels.h - contraction routines that JIT kernels call.
//
// Contractions run at tuned-GEMM speed by handing them to Eigen's GEMM (as XLA on CPU
// does) instead of emitting loops; docs/codegen.md records the measurement behind this.
// A kernel passes a constant descriptor (built by llvm_emit.cpp, stored in the kernel's
// object file, so it is position independent and cacheable) and the slice size `nb`.
// All routines are thread-safe (scratch memory is thread-local, allocated once per
// thread and grown as needed).
//
// Einsum descriptor (int64): n_ops, then the output term, then each operand term; a term
// is rank, rank letter ids, rank sizes. Letter ids 0..51 are the spec's letters; id 52
// (kSampleLetter) is the batch dimension of a batched buffer, its size is -1 and means `nb`.
// A batched operand (or output) has it as its first letter.
//
// Conv descriptor (int64): kind (0 conv2d(x,k), 1 conv2d_input_grad(g,k),
// 2 conv2d_kernel_grad(x,g)), H, W, C, KH, KW, O, OH, OW, stride_h, stride_w, pad_top,
// pad_left, a_batched, b_batched, out_batched.
//
// Packed weights (pack_weights.h): when an einsum runs as one GEMM whose B operand (in the
// row-major C = A B of its plan) is a shared buffer - a weight matrix, constant for the
// whole call - that operand can be packed once, in the kernel's prologue, into the panel
// layout Eigen's GEMM micro-kernel reads. Every call of the step (one per slice, block and
// step) then packs only its small batched operand. The packed block starts with a 64-byte
// header (the blocking sizes) and holds the panels 64-byte aligned. The blocking is chosen
// when the kernel is compiled and passed to the pack routine, so a cached kernel run on a
// machine with other cache sizes still packs into exactly the bytes it was compiled for.
#pragma once

#include <cstdint>
#include <vector>

namespace hamux::codegen {
constexpr int64_t kSampleLetter = 52;
constexpr int kConvDescSize = 16;

// How operand `k` of the einsum `desc` is packed: the blocking (Eigen's heuristic for this
// machine's caches; kc, mc, nc) and the bytes it takes; bytes = 0 when that einsum does not
// run as one GEMM with operand k as its B operand (then it cannot be packed).
struct PackBlocking {
  int64_t kc = 0, mc = 0, nc = 0;
  int64_t bytes = 0;
};
PackBlocking einsum_pack_blocking(const std::vector<int64_t>& desc, int k, bool f64);
}  // namespace hamux::codegen

extern "C" {
void hamux_einsum_f32(const int64_t* desc, int64_t nb, const float* const* ops, float* out);
void hamux_einsum_f64(const int64_t* desc, int64_t nb, const double* const* ops, double* out);
// Packs operand k (`src`, its unpacked values) into `dst` with the blocking {kc, mc, nc}
// that einsum_pack_blocking gave (`dst` holds its bytes).
void hamux_einsum_pack_f32(const int64_t* desc, int64_t k, const int64_t* blocking, const float* src, char* dst);
void hamux_einsum_pack_f64(const int64_t* desc, int64_t k, const int64_t* blocking, const double* src, char* dst);
// The einsum with ops[k] in packed form (from hamux_einsum_pack).
void hamux_einsum_packed_f32(const int64_t* desc, int64_t nb, const float* const* ops, float* out, int64_t k);
void hamux_einsum_packed_f64(const int64_t* desc, int64_t nb, const double* const* ops, double* out, int64_t k);
void hamux_conv_f32(const int64_t* desc, int64_t nb, const float* a, const float* b, float* out);
void hamux_conv_f64(const int64_t* desc, int64_t nb, const double* a, const double* b, double* out);
}
