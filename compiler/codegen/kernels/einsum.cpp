// compiler/codegen/kernels/einsum.cpp - GEMM (Eigen), packed GEMM (gemm_tile.h), permutation
// and the naive einsum (convolutions: conv.cpp). The plans are made at lowering
// (loops/contraction.h); these routines only execute them.
#include <Eigen/Core>
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "codegen/kernels/gemm_tile.h"
#include "codegen/kernels/kernels.h"
#include "codegen/kernels/scratch.h"

namespace hamux::codegen {
namespace {

// dst (row-major, dims) = src at offsets sum idx_i * st_i.
template <class T>
void permute(int64_t r, const int64_t* dims, const int64_t* st, const T* src, T* dst) {
  int64_t n = 1;
  for (int64_t i = 0; i < r; ++i) n *= dims[i];
  if (n == 0) return;
  if (r == 0) {
    dst[0] = src[0];
    return;
  }
  std::vector<int64_t> idx(r, 0);
  int64_t off = 0;
  // The innermost axis is copied in a tight loop; the odometer walks the others.
  const int64_t inner = dims[r - 1], inner_st = st[r - 1];
  for (int64_t k = 0; k < n; k += inner) {
    for (int64_t i = 0; i < inner; ++i) dst[k + i] = src[off + i * inner_st];
    for (int64_t a = r - 1; a-- > 0;) {
      off += st[a];
      if (++idx[a] < dims[a]) break;
      off -= st[a] * dims[a];
      idx[a] = 0;
    }
  }
}

// The definition of einsum over `L` letters of sizes `size`.
template <class T>
void einsum_naive(int64_t n_ops, int64_t L, const int64_t* size, const int64_t* strides, int64_t out_elements,
                  const T* const* ptr, T* dst) {
  std::fill(dst, dst + out_elements, T(0));
  for (int64_t l = 0; l < L; ++l)
    if (size[l] == 0) return;
  const int64_t* ost = strides + n_ops * L;
  std::vector<int64_t> idx(L, 0), ioff(n_ops, 0);
  int64_t ooff = 0;
  while (true) {
    T prod = 1;
    for (int64_t k = 0; k < n_ops; ++k) prod *= ptr[k][ioff[k]];
    dst[ooff] += prod;
    int64_t a = L;
    bool done = true;
    while (a-- > 0) {
      for (int64_t k = 0; k < n_ops; ++k) ioff[k] += strides[k * L + a];
      ooff += ost[a];
      if (++idx[a] < size[a]) {
        done = false;
        break;
      }
      for (int64_t k = 0; k < n_ops; ++k) ioff[k] -= strides[k * L + a] * size[a];
      ooff -= ost[a] * size[a];
      idx[a] = 0;
    }
    if (done) break;
  }
}

// ---- packed weights (gemm_tile.h) ----

struct PackedHeader {
  int64_t kc, mc, nc, N, K;
  int64_t pad[3];
};
static_assert(sizeof(PackedHeader) == 64);

// 64-byte aligned thread-local scratch.
struct AlignedBlock {
  std::vector<char> v;
  char* p = nullptr;
  int64_t n = -1;
  char* get(int64_t bytes) {
    if (bytes > n) {
      v.assign(static_cast<size_t>(std::max<int64_t>(bytes, 1)) + 64, 0);
      p = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(v.data()) + 63) / 64 * 64);
      n = bytes;
    }
    return p;
  }
};

// Slot 0: a packed A; slot 1: a B packed for one call.
template <class T, int Slot>
T* aligned_scratch(int64_t n) {
  thread_local AlignedBlock b;
  return reinterpret_cast<T*>(b.get(n * static_cast<int64_t>(sizeof(T))));
}

// The blocking of a packed B (K x N). kc: the depth of one pass over C, the whole K when it
// is small, else equal slices of at most kMaxDepth (the slices fix each element's sum, so
// they depend on K only). nc: the columns whose kc x nc of B stay in L2 while every row
// panel of A passes over them. mc: the rows of A packed at once.
template <class T>
PackedHeader blocking(int64_t K, int64_t N) {
  constexpr int64_t kMaxDepth = 512 * 4 / sizeof(T);
  PackedHeader h{};
  const int64_t slices = std::max<int64_t>((K + kMaxDepth - 1) / kMaxDepth, 1);
  h.kc = std::max<int64_t>(tile::round_up((K + slices - 1) / slices, 8), 1);
  const int64_t l2 = std::max<int64_t>(Eigen::l2CacheSize(), int64_t{256} << 10);
  const int64_t nr = tile::Shape<T>::nr;
  h.nc = std::max<int64_t>(l2 / 2 / (h.kc * static_cast<int64_t>(sizeof(T))) / nr * nr, nr);
  h.mc = std::max<int64_t>(l2 / (h.kc * static_cast<int64_t>(sizeof(T))) / tile::Shape<T>::mr * tile::Shape<T>::mr,
                           tile::Shape<T>::mr);
  h.N = N;
  h.K = K;
  return h;
}

template <class T>
void pack_b(int64_t K, int64_t N, bool b_t, const int64_t* blocking, const T* src, char* dst) {
  PackedHeader h{};
  h.kc = std::max<int64_t>(blocking[0], 1), h.mc = std::max<int64_t>(blocking[1], 1), h.nc = blocking[2];
  h.N = N, h.K = K;
  std::memcpy(dst, &h, sizeof h);
  tile::pack_b<T>(K, N, b_t, h.kc, src, reinterpret_cast<T*>(dst + sizeof h));
}

template <class T>
tile::OperandA<T> operand_a(const T* a, int64_t M, int64_t K, bool a_t) {
  return {a, a_t ? 1 : K, a_t ? M : 1};
}

template <class T>
void gemm_packed(int64_t M, int64_t N, int64_t K, const tile::OperandA<T>& A, const char* packed, T* c, int64_t ldc,
                 bool accumulate) {
  PackedHeader h;
  std::memcpy(&h, packed, sizeof h);
  T* a_pack = aligned_scratch<T, 0>(tile::a_pack_elements<T>(std::min(h.mc, M), h.kc));
  tile::gemm_packed<T>(M, N, K, A, reinterpret_cast<const T*>(packed + sizeof h), h.kc, h.mc, h.nc, a_pack, c, ldc,
                       accumulate);
}

// B packed with this machine's blocking into `dst` (packed_bytes<T>(K, N) bytes).
template <class T>
int64_t packed_bytes(int64_t K, int64_t N) {
  return static_cast<int64_t>(sizeof(PackedHeader)) + tile::packed_b_elements(K, N) * static_cast<int64_t>(sizeof(T));
}
template <class T>
void pack_b_here(int64_t K, int64_t N, bool b_t, const T* src, char* dst) {
  const PackedHeader h = blocking<T>(K, N);
  const int64_t blocking_sizes[3] = {h.kc, h.mc, h.nc};
  pack_b<T>(K, N, b_t, blocking_sizes, src, dst);
}

// C = op(A) op(B) with B packed for this call only: worth it when op(A) has enough rows to
// reuse the packed B (kTileRows).
template <class T>
void gemm_tiled(int64_t M, int64_t N, int64_t K, const tile::OperandA<T>& A, const T* b, bool b_t, T* c) {
  char* packed = aligned_scratch<char, 1>(packed_bytes<T>(K, N));
  pack_b_here<T>(K, N, b_t, b, packed);
  gemm_packed<T>(M, N, K, A, packed, c, N, false);
}

// ---- GEMM ----

// Products this small take Eigen's coefficient-based product, those with too few rows of A
// to repay packing B Eigen's GEMM (its matrix-vector product for one row), the others
// hamux's tiled GEMM (gemm_tile.h). A transposed B is packed by strided reads: on an AMD
// Zen 5 the tile with it packed per call was 16% slower than Eigen at 100 rows (W2's p Xi^T,
// 784 x 900), level at 64 and 20% faster at 512 (docs/performance.md, "GEMM libraries").
constexpr int64_t kSmallProduct = 16 * 16 * 16, kTileRows = 8, kTileRowsTransposedB = 256;

template <class T>
void gemm(int64_t NB, int64_t M, int64_t N, int64_t K, int64_t transposes, const T* pa, const T* pb, T* pc) {
  const bool a_t = transposes & 1, b_t = transposes & 2;
  using Map = Eigen::Map<const RowMat<T>>;
  const bool small = M * N * K <= kSmallProduct;
  for (int64_t i = 0; i < NB; ++i) {
    Map A(pa + i * M * K, a_t ? K : M, a_t ? M : K);
    Map B(pb + i * K * N, b_t ? N : K, b_t ? K : N);
    Eigen::Map<RowMat<T>> C(pc + i * M * N, M, N);
    if (K == 0) C.setZero();
    else if (small) {
      if (!a_t && !b_t) C.noalias() = A.lazyProduct(B);
      else if (a_t && !b_t) C.noalias() = A.transpose().lazyProduct(B);
      else if (!a_t && b_t) C.noalias() = A.lazyProduct(B.transpose());
      else C.noalias() = A.transpose().lazyProduct(B.transpose());
    } else if (M >= (b_t ? kTileRowsTransposedB : kTileRows)) {
      gemm_tiled<T>(M, N, K, operand_a(pa + i * M * K, M, K, a_t), pb + i * K * N, b_t, pc + i * M * N);
    } else {
      if (!a_t && !b_t) C.noalias() = A * B;
      else if (a_t && !b_t) C.noalias() = A.transpose() * B;
      else if (!a_t && b_t) C.noalias() = A * B.transpose();
      else C.noalias() = A.transpose() * B.transpose();
    }
  }
}

}  // namespace

PackBlocking gemm_pack_blocking(int64_t k, int64_t n, bool f64) {
  k = std::max<int64_t>(k, 0), n = std::max<int64_t>(n, 0);  // an empty B still has its header
  const PackedHeader h = f64 ? blocking<double>(k, n) : blocking<float>(k, n);
  return {h.kc, h.mc, h.nc, f64 ? packed_bytes<double>(k, n) : packed_bytes<float>(k, n)};
}

void gemm_pack_b(int64_t k, int64_t n, const float* b, char* dst) { pack_b_here<float>(k, n, false, b, dst); }
void gemm_pack_b(int64_t k, int64_t n, const double* b, char* dst) { pack_b_here<double>(k, n, false, b, dst); }

void gemm_strided(int64_t m, int64_t n, int64_t k, const float* a, int64_t a_row_stride, int64_t a_col_stride,
                  const char* packed_b, float scale, float* c, int64_t ldc, bool accumulate) {
  gemm_packed<float>(m, n, k, {a, a_row_stride, a_col_stride, scale}, packed_b, c, ldc, accumulate);
}
void gemm_strided(int64_t m, int64_t n, int64_t k, const double* a, int64_t a_row_stride, int64_t a_col_stride,
                  const char* packed_b, double scale, double* c, int64_t ldc, bool accumulate) {
  gemm_packed<double>(m, n, k, {a, a_row_stride, a_col_stride, scale}, packed_b, c, ldc, accumulate);
}

}  // namespace hamux::codegen

extern "C" {
void hamux_gemm_f32(int64_t nb, int64_t m, int64_t n, int64_t k, int64_t t, const float* a, const float* b, float* c) {
  hamux::codegen::gemm<float>(nb, m, n, k, t, a, b, c);
}
void hamux_gemm_f64(int64_t nb, int64_t m, int64_t n, int64_t k, int64_t t, const double* a, const double* b,
                    double* c) {
  hamux::codegen::gemm<double>(nb, m, n, k, t, a, b, c);
}
void hamux_gemm_pack_b_f32(int64_t k, int64_t n, int64_t b_t, int64_t kc, int64_t mc, int64_t nc, const float* b,
                           char* dst) {
  const int64_t blocking[3] = {kc, mc, nc};
  hamux::codegen::pack_b<float>(k, n, b_t != 0, blocking, b, dst);
}
void hamux_gemm_pack_b_f64(int64_t k, int64_t n, int64_t b_t, int64_t kc, int64_t mc, int64_t nc, const double* b,
                           char* dst) {
  const int64_t blocking[3] = {kc, mc, nc};
  hamux::codegen::pack_b<double>(k, n, b_t != 0, blocking, b, dst);
}
void hamux_gemm_packed_f32(int64_t m, int64_t n, int64_t k, int64_t a_t, const float* a, const char* packed_b,
                           float* c) {
  hamux::codegen::gemm_packed<float>(m, n, k, hamux::codegen::operand_a(a, m, k, a_t != 0), packed_b, c, n, false);
}
void hamux_gemm_packed_f64(int64_t m, int64_t n, int64_t k, int64_t a_t, const double* a, const char* packed_b,
                           double* c) {
  hamux::codegen::gemm_packed<double>(m, n, k, hamux::codegen::operand_a(a, m, k, a_t != 0), packed_b, c, n, false);
}
void hamux_permute_f32(int64_t rank, const int64_t* dims, const int64_t* st, const float* src, float* dst) {
  hamux::codegen::permute<float>(rank, dims, st, src, dst);
}
void hamux_permute_f64(int64_t rank, const int64_t* dims, const int64_t* st, const double* src, double* dst) {
  hamux::codegen::permute<double>(rank, dims, st, src, dst);
}
void hamux_einsum_naive_f32(int64_t n_ops, int64_t letters, const int64_t* sizes, const int64_t* strides,
                            int64_t out_elements, const float* const* ops, float* out) {
  hamux::codegen::einsum_naive<float>(n_ops, letters, sizes, strides, out_elements, ops, out);
}
void hamux_einsum_naive_f64(int64_t n_ops, int64_t letters, const int64_t* sizes, const int64_t* strides,
                            int64_t out_elements, const double* const* ops, double* out) {
  hamux::codegen::einsum_naive<double>(n_ops, letters, sizes, strides, out_elements, ops, out);
}
void* hamux_scratch(int64_t slot, int64_t bytes) {
  thread_local hamux::codegen::AlignedBlock blocks[4];
  return blocks[slot & 3].get(bytes);
}
}

namespace hamux::codegen {

const KernelSymbol* kernel_symbols(int* count) {
  static const KernelSymbol symbols[] = {
      {"hamux_gemm_f32", reinterpret_cast<void*>(&hamux_gemm_f32)},
      {"hamux_gemm_f64", reinterpret_cast<void*>(&hamux_gemm_f64)},
      {"hamux_gemm_pack_b_f32", reinterpret_cast<void*>(&hamux_gemm_pack_b_f32)},
      {"hamux_gemm_pack_b_f64", reinterpret_cast<void*>(&hamux_gemm_pack_b_f64)},
      {"hamux_gemm_packed_f32", reinterpret_cast<void*>(&hamux_gemm_packed_f32)},
      {"hamux_gemm_packed_f64", reinterpret_cast<void*>(&hamux_gemm_packed_f64)},
      {"hamux_permute_f32", reinterpret_cast<void*>(&hamux_permute_f32)},
      {"hamux_permute_f64", reinterpret_cast<void*>(&hamux_permute_f64)},
      {"hamux_einsum_naive_f32", reinterpret_cast<void*>(&hamux_einsum_naive_f32)},
      {"hamux_einsum_naive_f64", reinterpret_cast<void*>(&hamux_einsum_naive_f64)},
      {"hamux_conv_f32", reinterpret_cast<void*>(&hamux_conv_f32)},
      {"hamux_conv_f64", reinterpret_cast<void*>(&hamux_conv_f64)},
      {"hamux_scratch", reinterpret_cast<void*>(&hamux_scratch)},
  };
  *count = static_cast<int>(sizeof symbols / sizeof symbols[0]);
  return symbols;
}

}  // namespace hamux::codegen
