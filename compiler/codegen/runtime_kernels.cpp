// compiler/codegen/runtime_kernels.cpp - einsum on top of Eigen's GEMM (convolutions: runtime_conv.cpp).
#include "codegen/runtime_kernels.h"
#include "codegen/runtime_scratch.h"

#include <Eigen/Core>
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <map>
#include <vector>

namespace hamux::codegen {
namespace {

struct Term {
  std::vector<int64_t> letters, dims;
};

int64_t product(const std::vector<int64_t>& d) {
  int64_t n = 1;
  for (int64_t x : d) n *= x;
  return n;
}

// dst (letters `to`, row-major) = src (letters `from`); both hold the same letters once.
template <class T>
void permute(const T* src, const Term& from, T* dst, const Term& to) {
  const size_t r = to.letters.size();
  std::vector<int64_t> src_stride(from.letters.size());
  for (size_t i = from.letters.size(), s = 1; i-- > 0;) {
    src_stride[i] = static_cast<int64_t>(s);
    s *= from.dims[i];
  }
  std::vector<int64_t> st(r);  // stride in src of each dst axis
  for (size_t i = 0; i < r; ++i)
    for (size_t j = 0; j < from.letters.size(); ++j)
      if (from.letters[j] == to.letters[i]) st[i] = src_stride[j];
  const int64_t n = product(to.dims);
  if (n == 0) return;
  if (r == 0) {
    dst[0] = src[0];
    return;
  }
  std::vector<int64_t> idx(r, 0);
  int64_t off = 0;
  // The innermost axis is copied in a tight loop; the odometer walks the others.
  const int64_t inner = r ? to.dims[r - 1] : 1, inner_st = r ? st[r - 1] : 0;
  for (int64_t k = 0; k < n; k += inner) {
    for (int64_t i = 0; i < inner; ++i) dst[k + i] = src[off + i * inner_st];
    for (size_t a = r - 1; a-- > 0;) {
      off += st[a];
      if (++idx[a] < to.dims[a]) break;
      off -= st[a] * to.dims[a];
      idx[a] = 0;
    }
  }
}

// The definition of einsum, for whatever the GEMM path does not take (repeated letters,
// one or three operands, letters summed out of a single operand).
template <class T>
void einsum_naive(const std::vector<Term>& ops, const Term& out, const std::vector<const T*>& ptr,
                  T* dst) {
  std::vector<int64_t> letters, size;
  for (const Term& t : ops)
    for (size_t i = 0; i < t.letters.size(); ++i)
      if (std::find(letters.begin(), letters.end(), t.letters[i]) == letters.end()) {
        letters.push_back(t.letters[i]);
        size.push_back(t.dims[i]);
      }
  const size_t L = letters.size();
  auto strides = [&](const Term& t) {
    std::vector<int64_t> st(L, 0);
    int64_t s = 1;
    for (size_t i = t.letters.size(); i-- > 0;) {
      st[std::find(letters.begin(), letters.end(), t.letters[i]) - letters.begin()] += s;
      s *= t.dims[i];
    }
    return st;
  };
  std::fill(dst, dst + product(out.dims), T(0));
  if (product(size) == 0) return;
  std::vector<std::vector<int64_t>> ist;
  for (const Term& t : ops) ist.push_back(strides(t));
  std::vector<int64_t> ost = strides(out), idx(L, 0), ioff(ops.size(), 0);
  int64_t ooff = 0;
  while (true) {
    T prod = 1;
    for (size_t k = 0; k < ops.size(); ++k) prod *= ptr[k][ioff[k]];
    dst[ooff] += prod;
    size_t a = L;
    bool done = true;
    while (a-- > 0) {
      for (size_t k = 0; k < ops.size(); ++k) ioff[k] += ist[k][a];
      ooff += ost[a];
      if (++idx[a] < size[a]) {
        done = false;
        break;
      }
      for (size_t k = 0; k < ops.size(); ++k) ioff[k] -= ist[k][a] * size[a];
      ooff -= ost[a] * size[a];
      idx[a] = 0;
    }
    if (done) break;
  }
}

bool has(const Term& t, int64_t l) {
  return std::find(t.letters.begin(), t.letters.end(), l) != t.letters.end();
}
bool unique_letters(const Term& t) {
  for (size_t i = 0; i < t.letters.size(); ++i)
    for (size_t j = i + 1; j < t.letters.size(); ++j)
      if (t.letters[i] == t.letters[j]) return false;
  return true;
}

// Gathers the letters of `order` (with their sizes) into a term.
Term term_of(const std::vector<int64_t>& order, const std::vector<Term>& from) {
  Term t;
  for (int64_t l : order) {
    t.letters.push_back(l);
    for (const Term& f : from)
      for (size_t i = 0; i < f.letters.size(); ++i)
        if (f.letters[i] == l) {
          t.dims.push_back(f.dims[i]);
          goto found;
        }
  found:;
  }
  return t;
}

Term concat(const Term& a, const Term& b) {
  Term t = a;
  t.letters.insert(t.letters.end(), b.letters.begin(), b.letters.end());
  t.dims.insert(t.dims.end(), b.dims.begin(), b.dims.end());
  return t;
}

// How a two-operand einsum runs as GEMMs: A (batch, M, K) x B (batch, K, N) -> out
// (batch, M, N), letters grouped so that one GEMM per batch index does the work.
struct GemmPlan {
  bool swap = false;            // operands exchanged (the output is (batch, N, M) otherwise)
  int64_t NB = 0, M = 0, N = 0, K = 0;
  bool a_t = false, b_t = false;          // operand used in place, transposed
  bool a_perm = false, b_perm = false, o_perm = false;  // permuted through scratch
  Term a, b, o, amk, bkn, omn;  // terms for the permutations
};

// Returns false when the spec does not fit (repeated letters, letters of one operand only).
bool plan_gemm(const Term& a, const Term& b, const Term& o, GemmPlan& p, bool swapped = false) {
  if (!unique_letters(a) || !unique_letters(b) || !unique_letters(o)) return false;
  for (int64_t l : a.letters)
    if (!has(b, l) && !has(o, l)) return false;
  for (int64_t l : b.letters)
    if (!has(a, l) && !has(o, l)) return false;
  std::vector<int64_t> batch, m, n, k;
  for (int64_t l : o.letters) {
    if (has(a, l) && has(b, l)) batch.push_back(l);
    else if (has(a, l)) m.push_back(l);
    else n.push_back(l);
  }
  for (int64_t l : a.letters)
    if (has(b, l) && !has(o, l)) k.push_back(l);
  const std::vector<Term> all{a, b};
  Term tb = term_of(batch, all), tm = term_of(m, all), tn = term_of(n, all), tk = term_of(k, all);
  auto same = [](const Term& x, const Term& y) { return x.letters == y.letters; };
  // The output must be (batch, M, N) to be written in place. When it is (batch, N, M)
  // (e.g. W @ xhat with the sample letter first: C^T = B^T A^T), swapping the operands
  // makes it so, and saves permuting the result through scratch.
  if (!swapped && !same(o, concat(concat(tb, tm), tn)) && same(o, concat(concat(tb, tn), tm)))
    return plan_gemm(b, a, o, p, true);
  p.swap = swapped;
  p.NB = product(tb.dims), p.M = product(tm.dims), p.N = product(tn.dims), p.K = product(tk.dims);
  // Each operand is used in place when its layout is (batch, M, K) or (batch, K, M)
  // (resp. (batch, K, N) / (batch, N, K)); otherwise it is permuted into scratch.
  p.a = a, p.b = b, p.o = o;
  p.amk = concat(concat(tb, tm), tk);
  p.bkn = concat(concat(tb, tk), tn);
  p.omn = concat(concat(tb, tm), tn);
  Term akm = concat(concat(tb, tk), tm), bnk = concat(concat(tb, tn), tk);
  p.a_t = same(a, akm) && !same(a, p.amk);
  p.a_perm = !p.a_t && !same(a, p.amk);
  p.b_t = same(b, bnk) && !same(b, p.bkn);
  p.b_perm = !p.b_t && !same(b, p.bkn);
  p.o_perm = !same(o, p.omn);
  return true;
}

// Products this small skip Eigen's blocked GEMM (whose packing buffers are allocated on
// every call) for its coefficient-based product.
constexpr int64_t kSmallProduct = 16 * 16 * 16;

template <class T>
void run_gemm(const GemmPlan& p, const T* pa, const T* pb, T* po) {
  if (p.swap) std::swap(pa, pb);
  const int64_t NB = p.NB, M = p.M, N = p.N, K = p.K;
  if (p.a_perm) {
    T* s = scratch<T>(0, NB * M * K);
    permute(pa, p.a, s, p.amk);
    pa = s;
  }
  if (p.b_perm) {
    T* s = scratch<T>(1, NB * K * N);
    permute(pb, p.b, s, p.bkn);
    pb = s;
  }
  T* pc = p.o_perm ? scratch<T>(2, NB * M * N) : po;
  using Map = Eigen::Map<const RowMat<T>>;
  const bool small = M * N * K <= kSmallProduct;
  for (int64_t i = 0; i < NB; ++i) {
    Map A(pa + i * M * K, p.a_t ? K : M, p.a_t ? M : K);
    Map B(pb + i * K * N, p.b_t ? N : K, p.b_t ? K : N);
    Eigen::Map<RowMat<T>> C(pc + i * M * N, M, N);
    if (K == 0) C.setZero();
    else if (small) {
      if (!p.a_t && !p.b_t) C.noalias() = A.lazyProduct(B);
      else if (p.a_t && !p.b_t) C.noalias() = A.transpose().lazyProduct(B);
      else if (!p.a_t && p.b_t) C.noalias() = A.lazyProduct(B.transpose());
      else C.noalias() = A.transpose().lazyProduct(B.transpose());
    } else {
      if (!p.a_t && !p.b_t) C.noalias() = A * B;
      else if (p.a_t && !p.b_t) C.noalias() = A.transpose() * B;
      else if (!p.a_t && p.b_t) C.noalias() = A * B.transpose();
      else C.noalias() = A.transpose() * B.transpose();
    }
  }
  if (p.o_perm) permute(pc, p.omn, po, p.o);
}

Term read_term(const int64_t*& d, int64_t nb) {
  Term t;
  int64_t r = *d++;
  t.letters.assign(d, d + r);
  d += r;
  t.dims.assign(d, d + r);
  d += r;
  for (int64_t& x : t.dims)
    if (x < 0) x = nb;
  return t;
}

// The length of a descriptor: n_ops, then n_ops + 1 terms of (rank, letters, dims).
size_t desc_length(const int64_t* desc) {
  const int64_t* d = desc;
  const int64_t terms = *d++ + 1;
  for (int64_t t = 0; t < terms; ++t) d += 1 + 2 * *d;
  return static_cast<size_t>(d - desc);
}

// A parsed einsum call: the terms and, when GEMM applies, its plan.
struct EinsumCall {
  Term o;
  std::vector<Term> terms;
  bool gemm = false;
  GemmPlan plan;
};

// Kernels call the same few einsums every step, so each thread keeps the parsed form of
// the calls it has seen, keyed by the descriptor's CONTENT and the slice size (a pointer
// key could outlive an unloaded kernel). The table is small: one entry per call site and
// slice size.
//
// In front of it, a short list of the call sites seen most recently: descriptor address,
// slice size and a copy of the content, checked with memcmp. A hit costs no allocation and
// no map search (tiny models such as readme make 4 einsum calls of ~0.1 us each per step,
// where building the map key alone was a malloc per call).
const EinsumCall& einsum_call(const int64_t* desc, int64_t nb) {
  struct Recent {
    const int64_t* desc;
    int64_t nb;
    std::vector<int64_t> content;
    const EinsumCall* call;  // map nodes are never erased, so this stays valid
  };
  thread_local std::vector<Recent> recent;
  const size_t len = desc_length(desc);
  for (const Recent& r : recent)
    if (r.desc == desc && r.nb == nb && r.content.size() == len &&
        std::memcmp(r.content.data(), desc, len * sizeof(int64_t)) == 0)
      return *r.call;
  thread_local std::map<std::vector<int64_t>, EinsumCall> calls;
  std::vector<int64_t> key(desc, desc + len);
  key.push_back(nb);
  const int64_t* site = desc;  // (desc itself is advanced while parsing below)
  auto remember = [&](const EinsumCall& c) -> const EinsumCall& {
    if (recent.size() >= 64) recent.clear();  // call sites of unloaded kernels age out
    recent.push_back({site, nb, std::vector<int64_t>(site, site + len), &c});
    return c;
  };
  auto it = calls.find(key);
  if (it != calls.end()) return remember(it->second);
  EinsumCall c;
  const int64_t n_ops = *desc++;
  c.o = read_term(desc, nb);
  for (int64_t k = 0; k < n_ops; ++k) c.terms.push_back(read_term(desc, nb));
  c.gemm = n_ops == 2 && plan_gemm(c.terms[0], c.terms[1], c.o, c.plan);
  return remember(calls.emplace(std::move(key), std::move(c)).first->second);
}

template <class T>
void einsum(const int64_t* desc, int64_t nb, const T* const* ops, T* out) {
  const EinsumCall& c = einsum_call(desc, nb);
  if (c.gemm) run_gemm<T>(c.plan, ops[0], ops[1], out);
  else einsum_naive<T>(c.terms, c.o, std::vector<const T*>(ops, ops + c.terms.size()), out);
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

// Whether operand k of `c` is the B operand of its single GEMM.
bool packable(const EinsumCall& c, int k) {
  return c.gemm && c.plan.NB == 1 && c.plan.K > 0 && c.plan.N > 0 && (c.plan.swap ? k == 0 : k == 1);
}

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

// 64-byte aligned thread-local scratch for the packed A panels.
template <class T>
T* aligned_scratch(int64_t n) {
  struct Block {
    std::vector<T> v;
    T* p = nullptr;
    int64_t n = -1;
  };
  thread_local Block b;
  if (n > b.n) {
    b.v.assign(static_cast<size_t>(n) + 64 / sizeof(T), T(0));
    b.p = reinterpret_cast<T*>((reinterpret_cast<uintptr_t>(b.v.data()) + 63) / 64 * 64);
    b.n = n;
  }
  return b.p;
}

template <class T>
void pack_weight(const int64_t* desc, int64_t k, const int64_t* blocking, const T* src, char* dst) {
  using namespace Eigen::internal;
  using Traits = gebp_traits<T, T>;
  const EinsumCall& c = einsum_call(desc, 1);
  if (!packable(c, static_cast<int>(k))) return;  // einsum_pack_blocking said 0: never packed
  const GemmPlan& p = c.plan;
  const int64_t N = p.N, K = p.K;
  if (p.b_perm) {
    T* s = scratch<T>(1, K * N);
    permute(src, p.b, s, p.bkn);
    src = s;
  }
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
  if (p.b_t && !p.b_perm)
    pack(const_blas_data_mapper<T, Eigen::Index, Eigen::RowMajor>(src, K), std::integral_constant<int, Eigen::RowMajor>());
  else
    pack(const_blas_data_mapper<T, Eigen::Index, Eigen::ColMajor>(src, N), std::integral_constant<int, Eigen::ColMajor>());
}

template <class T>
void einsum_packed(const int64_t* desc, int64_t nb, const T* const* ops, T* out, int64_t k) {
  using namespace Eigen::internal;
  using Traits = gebp_traits<T, T>;
  const EinsumCall& c = einsum_call(desc, nb);
  const GemmPlan& p = c.plan;
  const auto* packed = reinterpret_cast<const char*>(ops[k]);
  PackedHeader h;
  std::memcpy(&h, packed, sizeof h);
  const T* blocks = reinterpret_cast<const T*>(packed + sizeof h);
  const T* pa = ops[1 - k];
  const int64_t M = p.M, N = p.N, K = p.K;
  if (p.a_perm) {
    T* s = scratch<T>(0, M * K);
    permute(pa, p.a, s, p.amk);
    pa = s;
  }
  T* pc = p.o_perm ? scratch<T>(2, M * N) : out;
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
  if (p.a_t && !p.a_perm)
    run(const_blas_data_mapper<T, Eigen::Index, Eigen::RowMajor>(pa, M), std::integral_constant<int, Eigen::RowMajor>());
  else
    run(const_blas_data_mapper<T, Eigen::Index, Eigen::ColMajor>(pa, K), std::integral_constant<int, Eigen::ColMajor>());
  if (p.o_perm) permute(pc, p.omn, out, p.o);
}

}  // namespace

PackBlocking einsum_pack_blocking(const std::vector<int64_t>& desc, int k, bool f64) {
  const EinsumCall& c = einsum_call(desc.data(), 1);
  if (!packable(c, k)) return {};
  const PackedHeader h = f64 ? blocking<double>(c.plan.K, c.plan.N) : blocking<float>(c.plan.K, c.plan.N);
  const int64_t elements = f64 ? packed_elements<double>(h) : packed_elements<float>(h);
  return {h.kc, h.mc, h.nc, static_cast<int64_t>(sizeof(PackedHeader)) + elements * (f64 ? 8 : 4)};
}

}  // namespace hamux::codegen

extern "C" {
void hamux_einsum_f32(const int64_t* desc, int64_t nb, const float* const* ops, float* out) {
  hamux::codegen::einsum<float>(desc, nb, ops, out);
}
void hamux_einsum_f64(const int64_t* desc, int64_t nb, const double* const* ops, double* out) {
  hamux::codegen::einsum<double>(desc, nb, ops, out);
}
void hamux_einsum_pack_f32(const int64_t* desc, int64_t k, const int64_t* blocking, const float* src, char* dst) {
  hamux::codegen::pack_weight<float>(desc, k, blocking, src, dst);
}
void hamux_einsum_pack_f64(const int64_t* desc, int64_t k, const int64_t* blocking, const double* src, char* dst) {
  hamux::codegen::pack_weight<double>(desc, k, blocking, src, dst);
}
void hamux_einsum_packed_f32(const int64_t* desc, int64_t nb, const float* const* ops, float* out, int64_t k) {
  hamux::codegen::einsum_packed<float>(desc, nb, ops, out, k);
}
void hamux_einsum_packed_f64(const int64_t* desc, int64_t nb, const double* const* ops, double* out, int64_t k) {
  hamux::codegen::einsum_packed<double>(desc, nb, ops, out, k);
}
}
