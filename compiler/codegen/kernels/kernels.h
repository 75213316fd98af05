// compiler/codegen/kernels/kernels.h - the routines JIT kernels call at run time (the ABI).
//
// Contractions run at tuned-GEMM speed by handing them to a GEMM (as XLA on CPU does)
// instead of emitting loops: Eigen's, or hamux's own when B is a packed weight (gemm_tile.h);
// docs/codegen.md records the measurements behind this.
// Every routine takes FIXED arguments that the emitter computes from the contraction plan
// decided at lowering (loops/contraction.h): extents, transposes, strides, a convolution's
// geometry. Nothing is parsed or planned here. Sizes that grow with the slice are already
// multiplied by it when they arrive. All routines are thread-safe (scratch memory is
// thread-local, allocated once per thread and grown as needed).
//
// Packed weights (loops/pack_weights.h): when an einsum runs as one GEMM whose B operand
// (in the row-major C = A B of its plan) is a shared buffer - a weight matrix, constant for
// the whole call - that operand is packed once, in the kernel's prologue, into the column
// panels of hamux's own register-blocked GEMM (gemm_tile.h). Every call of the step (one per
// slice, block and step) then packs only its small batched operand. The packed block starts
// with a 64-byte header (the blocking sizes) and holds the panels 64-byte aligned; its size
// depends on k and n only. The blocking is chosen when the kernel is compiled and passed to
// the pack routine, so a cached kernel run on a machine with other cache sizes still packs
// and sums exactly as it was compiled to.
#pragma once

#include <cstdint>

extern "C" {

// The geometry of conv2d(x, k) (kind 0), conv2d_input_grad(g, k) (1) or
// conv2d_kernel_grad(x, g) (2), per sample: x [H,W,C], k [KH,KW,C,O], y/g [OH,OW,O];
// strides (sh, sw), padding before (pt, pl); which of a (first operand), b (second) and
// the output are batched (0/1). One struct, filled at lowering (loops/contraction.h),
// passed to hamux_conv_* by address and read by the emitted convolution loops
// (llvm/contraction_loops.h).
struct hamux_conv_plan {
  int64_t kind, H, W, C, KH, KW, O, OH, OW, sh, sw, pt, pl, a_b, b_b, o_b;
};

// C[i] = op(A[i]) op(B[i]) for i < batches, row-major; C[i] is m x n, op(A[i]) m x k and
// op(B[i]) k x n. `transposes` bit 0: A[i] is stored k x m; bit 1: B[i] is stored n x k.
void hamux_gemm_f32(int64_t batches, int64_t m, int64_t n, int64_t k, int64_t transposes, const float* a,
                    const float* b, float* c);
void hamux_gemm_f64(int64_t batches, int64_t m, int64_t n, int64_t k, int64_t transposes, const double* a,
                    const double* b, double* c);

// Packs B (k x n, or n x k when b_transposed) with the blocking {kc, mc, nc} that
// hamux::codegen::gemm_pack_blocking gave, into `dst` (which holds its bytes).
void hamux_gemm_pack_b_f32(int64_t k, int64_t n, int64_t b_transposed, int64_t kc, int64_t mc, int64_t nc,
                           const float* b, char* dst);
void hamux_gemm_pack_b_f64(int64_t k, int64_t n, int64_t b_transposed, int64_t kc, int64_t mc, int64_t nc,
                           const double* b, char* dst);
// C (m x n) = op(A) B with B packed by hamux_gemm_pack_b (a_transposed: A stored k x m).
void hamux_gemm_packed_f32(int64_t m, int64_t n, int64_t k, int64_t a_transposed, const float* a,
                           const char* packed_b, float* c);
void hamux_gemm_packed_f64(int64_t m, int64_t n, int64_t k, int64_t a_transposed, const double* a,
                           const char* packed_b, double* c);

// dst (row-major, dims[0..rank)) = src read at element offsets sum_i idx_i * src_strides[i].
void hamux_permute_f32(int64_t rank, const int64_t* dims, const int64_t* src_strides, const float* src, float* dst);
void hamux_permute_f64(int64_t rank, const int64_t* dims, const int64_t* src_strides, const double* src,
                       double* dst);

// The definition of einsum, for what is not a GEMM (repeated letters, one or three
// operands, letters summed out of one operand): `letters` indices of sizes sizes[0..),
// operand j read with strides[j * letters + l] per letter l, the output (out_elements
// elements, zeroed first) with strides[n_ops * letters + l].
void hamux_einsum_naive_f32(int64_t n_ops, int64_t letters, const int64_t* sizes, const int64_t* strides,
                            int64_t out_elements, const float* const* ops, float* out);
void hamux_einsum_naive_f64(int64_t n_ops, int64_t letters, const int64_t* sizes, const int64_t* strides,
                            int64_t out_elements, const double* const* ops, double* out);

// Convolutions as im2col + Eigen GEMM on samples [0, nb) of the slice.
void hamux_conv_f32(const hamux_conv_plan* plan, int64_t nb, const float* a, const float* b, float* out);
void hamux_conv_f64(const hamux_conv_plan* plan, int64_t nb, const double* a, const double* b, double* out);

// `bytes` of this thread's scratch slot `slot` (0..3), 64-byte aligned, valid until the
// thread's next call for the same slot.
void* hamux_scratch(int64_t slot, int64_t bytes);
}

namespace hamux::codegen {

// How a B operand (k x n) is packed: the blocking (from k and this machine's L2; kc, mc, nc:
// gemm_tile.h) and the bytes the packed block takes.
struct PackBlocking {
  int64_t kc = 0, mc = 0, nc = 0;
  int64_t bytes = 0;
};
PackBlocking gemm_pack_blocking(int64_t k, int64_t n, bool f64);

// The same tiled GEMM for the runtime's parameter-gradient sums, B packed once and shared by
// calls on bands of rows. gemm_pack_b packs B (k x n, row-major) into `dst`, which holds
// gemm_pack_blocking(k, n, f64).bytes. gemm_strided computes C (m x n, row stride ldc) =
// (accumulate ? C : 0) + scale * A B, A (m x k) element (i, p) at a[i * a_row_stride + p *
// a_col_stride]. Each element's bits depend on k only, not on m or on the rows around it.
void gemm_pack_b(int64_t k, int64_t n, const float* b, char* dst);
void gemm_pack_b(int64_t k, int64_t n, const double* b, char* dst);
void gemm_strided(int64_t m, int64_t n, int64_t k, const float* a, int64_t a_row_stride, int64_t a_col_stride,
                  const char* packed_b, float scale, float* c, int64_t ldc, bool accumulate);
void gemm_strided(int64_t m, int64_t n, int64_t k, const double* a, int64_t a_row_stride, int64_t a_col_stride,
                  const char* packed_b, double scale, double* c, int64_t ldc, bool accumulate);

// One symbol the generated code may call: its name and its address (for the JIT).
struct KernelSymbol {
  const char* name;
  void* address;
};
// Every routine above.
const KernelSymbol* kernel_symbols(int* count);

}  // namespace hamux::codegen
