// compiler/codegen/kernels/gemm_tile.h - the register-blocked GEMM behind hamux_gemm_packed:
// C (M x N, row-major) = op(A) (M x K) B (K x N) with B packed once into column panels.
//
// Why our own and not Eigen's: Eigen's single-precision micro-kernel holds a 3x4 block of
// vectors (12 accumulators) and reached 58-76% of the peak on an AMD EPYC where OpenBLAS and
// libxsmm reached 80-98% on the same shapes (docs/performance.md, "GEMM libraries"); neither
// of those keeps a packed B between calls, which the runtime needs (it calls the step per
// block of samples against the same weights). This kernel holds MR rows x NV vectors of C in
// registers (16 of AVX-512's 32, 12 of AVX2's 16), broadcasting one element of A per row and
// loading NV vectors of the packed B per step of k: the shape BLIS and OpenBLAS use.
//
// Layouts (all 64-byte aligned):
//   packed B:  for each k-block of kc rows, for each panel of NR columns (N padded with zeros
//              to a multiple of 64 elements, so the size does not depend on NR): kc x NR.
//   packed A:  per call, for each k-block, panels of MR rows (zero-padded): kc x MR.
// Loops, outermost first: k-block (A's rows packed for it in blocks of mc), n-block of nc
// columns (its kc x nc of B stays in L2), MR-row panel (kc x MR in L1), NR-column panel.
//
// Every element of C is accumulated over k in order: within a k-block in one register from
// zero, k-blocks added to C in order. Its value therefore depends on K and kc only - not on
// M, on where the row falls in a panel, or on N - so a sample's result is the same whatever
// block of samples, thread or slice it is computed in.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace hamux::codegen::tile {

#if defined(__AVX512F__)
constexpr int kVectorBytes = 64, kRegisters = 32;
#elif defined(__AVX__)
constexpr int kVectorBytes = 32, kRegisters = 16;
#else
constexpr int kVectorBytes = 16, kRegisters = 16;
#endif

// The N padding of a packed B, in elements: every NR below divides it.
constexpr int64_t kPadColumns = 64;

template <class T>
struct Shape {
  static constexpr int lanes = kVectorBytes / static_cast<int>(sizeof(T));
  // Measured on an AMD EPYC Zen 5 (docs/performance.md): 8 x 2 vectors ran 2-6% faster than
  // 6 x 4 or 7 x 4 with AVX-512; with AVX2's 16 registers, 6 x 2 (as BLIS) reaches ~95% of the
  // 256-bit peak there.
  static constexpr int nv = 2;                       // vectors of C per row
  static constexpr int mr = kRegisters >= 32 ? 8 : 6;  // rows of C per tile
  static constexpr int nr = nv * lanes;
  static_assert(kPadColumns % nr == 0);
};

template <class T>
using Vec __attribute__((vector_size(kVectorBytes))) = T;

inline int64_t pad_columns(int64_t n) { return (n + kPadColumns - 1) / kPadColumns * kPadColumns; }

// The tile: c (MR x NR at row stride ldc) = (add ? c : 0) + a_panel (kc x MR, at a row
// stride of AS >= MR: a half tile reads the first rows of a full panel) b_panel (kc x NR).
template <class T, int MR, int NV, int AS = MR>
inline void tile(int64_t kc, const T* __restrict a, const T* __restrict b, T* __restrict c, int64_t ldc, bool add) {
  using V = Vec<T>;
  constexpr int L = kVectorBytes / static_cast<int>(sizeof(T));
  V acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[i][v] = V{};
  for (int64_t k = 0; k < kc; ++k) {
    V bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) std::memcpy(&bv[v], b + k * NV * L + v * L, sizeof(V));
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const T s = a[k * AS + i];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] += s * bv[v];
    }
  }
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      T* p = c + i * ldc + v * L;
      if (add) {
        V old;
        std::memcpy(&old, p, sizeof(V));
        acc[i][v] += old;
      }
      std::memcpy(p, &acc[i][v], sizeof(V));
    }
}

// Elements of a packed B (after its 64-byte header).
inline int64_t packed_b_elements(int64_t K, int64_t N) { return K * pad_columns(N); }

// Packs B (K x N; stored N x K when b_t) into `out` for k-blocks of kc_max >= 1.
template <class T>
void pack_b(int64_t K, int64_t N, bool b_t, int64_t kc_max, const T* src, T* out) {
  constexpr int NR = Shape<T>::nr;
  const int64_t Np = pad_columns(N);
  for (int64_t k0 = 0; k0 < K; k0 += kc_max) {
    const int64_t kc = std::min(kc_max, K - k0);
    for (int64_t j0 = 0; j0 < Np; j0 += NR, out += kc * NR) {
      const int64_t cols = std::clamp<int64_t>(N - j0, 0, NR);
      if (b_t) {
        // Column by column: each reads kc contiguous elements of a row of the stored B^T.
        for (int64_t j = 0; j < cols; ++j)
          for (int64_t k = 0; k < kc; ++k) out[k * NR + j] = src[(j0 + j) * K + k0 + k];
      } else {
        for (int64_t k = 0; k < kc; ++k) std::copy_n(src + (k0 + k) * N + j0, cols, out + k * NR);
      }
      for (int64_t k = 0; k < kc; ++k) std::fill(out + k * NR + cols, out + (k + 1) * NR, T(0));
    }
  }
}

// op(A) (M x K) as the tile reads it: element (i, k) at a[i * row_stride + k * col_stride],
// times `scale` (so C += scale op(A) B costs nothing extra).
template <class T>
struct OperandA {
  const T* a;
  int64_t row_stride, col_stride;
  T scale = T(1);
};

// Packs rows [i0, i0 + rows) x columns [k0, k0 + kc) of op(A) into MR-row panels, a row at a
// time (kc contiguous reads when A is row-major). Times a scale of 1 is exact.
template <class T>
void pack_a(const OperandA<T>& A, int64_t i0, int64_t rows, int64_t k0, int64_t kc, T* out) {
  constexpr int MR = Shape<T>::mr;
  for (int64_t p = 0; p < rows; p += MR, out += kc * MR) {
    const int64_t r = std::min<int64_t>(MR, rows - p);
    const T* base = A.a + k0 * A.col_stride + (i0 + p) * A.row_stride;
    for (int64_t i = 0; i < r; ++i) {
      const T* row = base + i * A.row_stride;
      for (int64_t k = 0; k < kc; ++k) out[k * MR + i] = A.scale * row[k * A.col_stride];
    }
    for (int64_t i = r; i < MR; ++i)
      for (int64_t k = 0; k < kc; ++k) out[k * MR + i] = T(0);
  }
}

inline int64_t round_up(int64_t n, int64_t m) { return (n + m - 1) / m * m; }
template <class T>
int64_t a_pack_elements(int64_t mc, int64_t kc) { return round_up(mc, Shape<T>::mr) * kc; }

// C (M x N at row stride ldc) = (accumulate ? C : 0) + op(A) B with B packed by
// pack_b(kc_max); `a_pack` holds a_pack_elements(min(mc_max, M), kc_max). kc_max, mc_max >= 1.
template <class T>
void gemm_packed(int64_t M, int64_t N, int64_t K, const OperandA<T>& A, const T* b_packed, int64_t kc_max,
                 int64_t mc_max, int64_t nc_max, T* a_pack, T* c, int64_t ldc, bool accumulate) {
  constexpr int MR = Shape<T>::mr, NV = Shape<T>::nv, NR = Shape<T>::nr;
  if (K == 0) {
    if (!accumulate)
      for (int64_t i = 0; i < M; ++i) std::fill(c + i * ldc, c + i * ldc + N, T(0));
    return;
  }
  // An nc that is not a multiple of this build's NR (a kernel compiled by another build) is
  // rounded to one; the sums depend on kc only, which is used as given.
  nc_max = std::max<int64_t>(round_up(nc_max, NR), NR);
  const int64_t Np = pad_columns(N);
  T edge[MR * NR];
  for (int64_t k0 = 0; k0 < K; k0 += kc_max) {
    const int64_t kc = std::min(kc_max, K - k0);
    const T* b_block = b_packed + k0 * Np;
    const bool add = accumulate || k0 > 0;
    for (int64_t i0 = 0; i0 < M; i0 += mc_max) {
      const int64_t mc = std::min(mc_max, M - i0);
      pack_a(A, i0, mc, k0, kc, a_pack);
      for (int64_t j0 = 0; j0 < N; j0 += nc_max) {
        const int64_t nc = std::min(nc_max, N - j0);
        for (int64_t ip = 0; ip < mc; ip += MR) {
          const T* ap = a_pack + ip * kc;
          const int64_t rows = std::min<int64_t>(MR, mc - ip);
          for (int64_t jp = 0; jp < nc; jp += NR) {
            const T* bp = b_block + (j0 + jp) * kc;
            const int64_t cols = std::min<int64_t>(NR, nc - jp);
            T* cp = c + (i0 + ip) * ldc + j0 + jp;
            if (rows == MR && cols == NR) {
              tile<T, MR, NV>(kc, ap, bp, cp, ldc, add);
              continue;
            }
            // The last rows of A when M is not a multiple of MR: a half tile if they fit in
            // one (W2's blocks of 52 and 100 samples end in 4 rows), otherwise through a
            // full one in `edge`. Each element gets the same arithmetic either way.
            constexpr int kHalf = MR / 2;
            if (rows == kHalf && cols == NR) {
              tile<T, kHalf, NV, MR>(kc, ap, bp, cp, ldc, add);
              continue;
            }
            if (add)
              for (int64_t i = 0; i < rows; ++i) std::memcpy(edge + i * NR, cp + i * ldc, cols * sizeof(T));
            if (rows <= kHalf)
              tile<T, kHalf, NV, MR>(kc, ap, bp, edge, NR, add);
            else
              tile<T, MR, NV>(kc, ap, bp, edge, NR, add);
            for (int64_t i = 0; i < rows; ++i) std::memcpy(cp + i * ldc, edge + i * NR, cols * sizeof(T));
          }
        }
      }
    }
  }
}

}  // namespace hamux::codegen::tile
