// compiler/codegen/kernels/einsum.cpp - GEMM, packed GEMM, permutation and the naive einsum
// on top of Eigen (convolutions: conv.cpp). The plans are made at lowering
// (loops/contraction.h); these routines only execute them.
#include <Eigen/Core>
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

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

// Products this small skip Eigen's blocked GEMM (whose packing buffers are allocated on
// every call) for its coefficient-based product.
constexpr int64_t kSmallProduct = 16 * 16 * 16;

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
    } else {
      if (!a_t && !b_t) C.noalias() = A * B;
      else if (a_t && !b_t) C.noalias() = A.transpose() * B;
      else if (!a_t && b_t) C.noalias() = A * B.transpose();
      else C.noalias() = A.transpose() * B.transpose();
    }
  }
}

// ---- packed weights ----
//
// Eigen's GEMM works column-major: the row-major C (M x N) = A (M x K) B (K x N) of a plan
// is C^T = B^T A^T, where B^T (N x K) is the "lhs" that Eigen packs into panels of mr rows
// per kc-deep slice, A^T (K x M) the "rhs" packed into panels of nr columns, and the
// micro-kernel (gebp) multiplies a packed lhs block by a packed rhs block into C^T. Packing
// B once is what the prologue does; a call then packs its slice of A and runs gebp.
//
// Each element of C is accumulated over k in kc-slices in order, and within a slice
// sequentially, whatever M is; so a sample's result does not depend on how many samples a
// call has, as long as its column lies in a full group of nr (the runtime's blocks are
// multiples of 4 samples for this reason, docs/runtime.md).

struct PackedHeader {
  int64_t kc, mc, nc, N, K;
  int64_t pad[3];
};
static_assert(sizeof(PackedHeader) == 64);

int64_t round16(int64_t n) { return (n + 15) / 16 * 16; }

// The blocking of a packed B: Eigen's own heuristic for this K and N (and a typical slice
// width), with nc a multiple of nr so that the column groups do not depend on the slice.
template <class T>
PackedHeader blocking(int64_t K, int64_t N) {
  using Traits = Eigen::internal::gebp_traits<T, T>;
  Eigen::Index kc = K, mc = N, nc = 256;
  Eigen::internal::computeProductBlockingSizes<T, T, 1, Eigen::Index>(kc, mc, nc, 1);
  PackedHeader h{};
  h.kc = std::max<Eigen::Index>(kc, 1);
  h.mc = std::max<Eigen::Index>(mc, 1);
  h.nc = std::max<int64_t>((std::max<Eigen::Index>(nc, 1) + Traits::nr - 1) / Traits::nr * Traits::nr, Traits::nr);
  h.N = N;
  h.K = K;
  return h;
}

// Elements of the packed panels: blocks of kc x mc, each starting 64-byte aligned.
template <class T>
int64_t packed_elements(const PackedHeader& h) {
  int64_t n = 0;
  for (int64_t k2 = 0; k2 < h.K; k2 += h.kc)
    for (int64_t i2 = 0; i2 < h.N; i2 += h.mc) n += round16(std::min(h.kc, h.K - k2) * std::min(h.mc, h.N - i2));
  return n;
}

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

template <class T>
T* aligned_scratch(int64_t n) {
  thread_local AlignedBlock b;
  return reinterpret_cast<T*>(b.get(n * static_cast<int64_t>(sizeof(T))));
}

template <class T>
void pack_b(int64_t K, int64_t N, bool b_t, const int64_t* blocking, const T* src, char* dst) {
  using namespace Eigen::internal;
  using Traits = gebp_traits<T, T>;
  PackedHeader h{};
  h.kc = blocking[0], h.mc = blocking[1], h.nc = blocking[2], h.N = N, h.K = K;
  std::memcpy(dst, &h, sizeof h);
  T* out = reinterpret_cast<T*>(dst + sizeof h);
  // B (K x N) row-major is B^T (N x K) column-major with stride N; stored transposed
  // (N x K row-major), B^T is row-major with stride K.
  auto pack = [&](auto lhs, auto order) {
    constexpr int kOrder = decltype(order)::value;
    gemm_pack_lhs<T, Eigen::Index, const_blas_data_mapper<T, Eigen::Index, kOrder>, Traits::mr, Traits::LhsProgress,
                  typename Traits::LhsPacket4Packing, kOrder>
        pack_lhs;
    for (int64_t k2 = 0; k2 < K; k2 += h.kc) {
      const int64_t kc = std::min(h.kc, K - k2);
      for (int64_t i2 = 0; i2 < N; i2 += h.mc) {
        const int64_t mc = std::min(h.mc, N - i2);
        pack_lhs(out, lhs.getSubMapper(i2, k2), kc, mc);
        out += round16(kc * mc);
      }
    }
  };
  if (b_t)
    pack(const_blas_data_mapper<T, Eigen::Index, Eigen::RowMajor>(src, K), std::integral_constant<int, Eigen::RowMajor>());
  else
    pack(const_blas_data_mapper<T, Eigen::Index, Eigen::ColMajor>(src, N), std::integral_constant<int, Eigen::ColMajor>());
}

template <class T>
void gemm_packed(int64_t M, int64_t N, int64_t K, bool a_t, const T* pa, const char* packed, T* pc) {
  using namespace Eigen::internal;
  using Traits = gebp_traits<T, T>;
  PackedHeader h;
  std::memcpy(&h, packed, sizeof h);
  const T* blocks = reinterpret_cast<const T*>(packed + sizeof h);
  std::fill(pc, pc + M * N, T(0));
  using Res = blas_data_mapper<T, Eigen::Index, Eigen::ColMajor>;
  Res res(pc, N);  // C (M x N) row-major = C^T column-major with stride N
  gebp_kernel<T, T, Eigen::Index, Res, Traits::mr, Traits::nr, false, false> gebp;
  T* blockB = aligned_scratch<T>(h.kc * std::min(h.nc, M));
  // A (M x K) row-major is A^T (K x M) column-major with stride K; stored transposed
  // (K x M row-major), A^T is row-major with stride M.
  auto run = [&](auto rhs, auto order) {
    constexpr int kOrder = decltype(order)::value;
    gemm_pack_rhs<T, Eigen::Index, const_blas_data_mapper<T, Eigen::Index, kOrder>, Traits::nr, kOrder> pack_rhs;
    for (int64_t j2 = 0; j2 < M; j2 += h.nc) {
      const int64_t nc = std::min(h.nc, M - j2);
      const T* a = blocks;
      for (int64_t k2 = 0; k2 < K; k2 += h.kc) {
        const int64_t kc = std::min(h.kc, K - k2);
        pack_rhs(blockB, rhs.getSubMapper(k2, j2), kc, nc);
        for (int64_t i2 = 0; i2 < N; i2 += h.mc) {
          const int64_t mc = std::min(h.mc, N - i2);
          gebp(res.getSubMapper(i2, j2), a, blockB, mc, kc, nc, T(1));
          a += round16(kc * mc);
        }
      }
    }
  };
  if (a_t)
    run(const_blas_data_mapper<T, Eigen::Index, Eigen::RowMajor>(pa, M), std::integral_constant<int, Eigen::RowMajor>());
  else
    run(const_blas_data_mapper<T, Eigen::Index, Eigen::ColMajor>(pa, K), std::integral_constant<int, Eigen::ColMajor>());
}

}  // namespace

PackBlocking gemm_pack_blocking(int64_t k, int64_t n, bool f64) {
  if (k <= 0 || n <= 0) return {};
  const PackedHeader h = f64 ? blocking<double>(k, n) : blocking<float>(k, n);
  const int64_t elements = f64 ? packed_elements<double>(h) : packed_elements<float>(h);
  return {h.kc, h.mc, h.nc, static_cast<int64_t>(sizeof(PackedHeader)) + elements * (f64 ? 8 : 4)};
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
  hamux::codegen::gemm_packed<float>(m, n, k, a_t != 0, a, packed_b, c);
}
void hamux_gemm_packed_f64(int64_t m, int64_t n, int64_t k, int64_t a_t, const double* a, const char* packed_b,
                           double* c) {
  hamux::codegen::gemm_packed<double>(m, n, k, a_t != 0, a, packed_b, c);
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
