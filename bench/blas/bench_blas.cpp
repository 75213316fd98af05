// bench/blas/bench_blas.cpp - single-precision GEMM libraries on the exact contraction shapes
// of W1, W2 and W4 (issue 20: how near the fastest GEMM libraries are hamux's own and Eigen's?).
//
//   hamux_bench_blas                           # every library found, 1 and 2 threads
//   hamux_bench_blas --benchmark_filter=W2     # one workload
//
// Libraries (a benchmark per library, shape and thread count; a library that is not there is
// reported as skipped, so the bench builds and runs with none of them installed):
//   eigen        Eigen's product on row-major maps (hamux's GEMM before session 13; now only
//                for small products);
//   hamux        hamux_gemm_f32 (B packed per call; the attention's and backward steps'
//                products) or, for a part of a transposed A, codegen::gemm_pack_b once and
//                codegen::gemm_strided per part (the runtime's gradient sums): hamux's tiled
//                GEMM from 8 rows (256 with a transposed B), Eigen's below;
//   hamux_packed hamux_gemm_packed_f32 with B packed once: hamux's own register-blocked GEMM
//                (compiler/codegen/kernels/gemm_tile.h), the JIT's GEMM when B is a param;
//   openblas     Debian's OpenBLAS (libopenblas0-pthread, one thread per call), loaded at run time;
//   blis         Debian's serial BLIS (libblis4-serial), loaded at run time;
//   libxsmm      libxsmm's JIT kernels (libxsmm-dev, linked when CMake finds it; no blocking
//                for the cache, made for small products).
// OpenBLAS and BLIS are loaded with dlopen (RTLD_LOCAL): both export cblas_sgemm, and neither
// becomes a dependency of hamux. Two threads: each thread multiplies its half of the rows of
// C (or of the batch of small products) with one single-threaded call, the way hamux splits a batch.
// Every library's C is compared with Eigen's before anything is timed (relative 1e-4).
#include <benchmark/benchmark.h>
#include <dlfcn.h>

#include <Eigen/Dense>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "../parallel.h"
#include "codegen/kernels/kernels.h"

#ifdef HAMUX_HAVE_LIBXSMM
#include <libxsmm.h>
#endif

namespace {

// C (batches x m x n) = op(A) op(B), row-major; a_t: A stored k x m; b_t: B stored n x k.
struct Shape {
  const char* name;  // workload / contraction
  int64_t batches, m, n, k;
  bool a_t, b_t;
  bool b_is_param;  // B is a param (packed once by the JIT), so hamux_packed applies
};

// The contractions of one step (forward) and of the gradient's backward step, per workload at
// the brief's batch (bench/workloads.h).
const Shape kShapes[] = {
    {"W1/g_W", 1, 256, 1024, 1024, false, false, true},          // g(x) @ (W + W^T)
    {"W2/g_Xi", 1, 100, 900, 784, false, false, true},           // xhat @ Xi
    {"W2/p_XiT", 1, 100, 784, 900, false, true, true},           // softmax @ Xi^T
    {"W2/dXi_UtV", 1, 784, 900, 100, true, false, false},        // dXi += U^T V over the batch
    {"W4/tokens_Wqk", 1, 512, 256, 256, false, false, true},     // 8 x 64 tokens @ Wq, Wk
    {"W4/tokens_Xi", 1, 512, 1024, 256, false, false, true},     // memory: tokens @ Xi
    {"W4/relu_XiT", 1, 512, 256, 1024, false, true, true},       // memory back: relu @ Xi^T
    {"W4/scores_64", 32, 64, 64, 64, false, true, false},        // per sample and head: q k^T
};

// ---- libraries loaded at run time ----

enum CblasOrder { kRowMajor = 101 };
enum CblasTranspose { kNoTrans = 111, kTrans = 112 };
using CblasSgemm = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*,
                            int);

struct Cblas {
  void* handle = nullptr;
  CblasSgemm sgemm = nullptr;
  std::string config;  // what the library says it is (OpenBLAS: its core)
};

Cblas load_cblas(const std::vector<std::string>& paths, const char* config_symbol) {
  Cblas c;
  for (const std::string& p : paths) {
    c.handle = dlopen(p.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (c.handle) break;
  }
  if (!c.handle) return c;
  c.sgemm = reinterpret_cast<CblasSgemm>(dlsym(c.handle, "cblas_sgemm"));
  if (config_symbol)
    if (auto f = reinterpret_cast<const char* (*)()>(dlsym(c.handle, config_symbol))) c.config = f();
  return c;
}

// The pthread build, told to use one thread of its own per call: Debian's serial build
// (libopenblas0-serial) is not safe to call from two threads at once (measured here: wrong
// products on two threads, from its shared buffer pool).
const Cblas& openblas() {
  static const Cblas c = [] {
    Cblas l = load_cblas({"/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
                          "/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0"},
                         "openblas_get_corename");
    if (l.handle)
      if (auto set = reinterpret_cast<void (*)(int)>(dlsym(l.handle, "openblas_set_num_threads"))) set(1);
    return l;
  }();
  return c;
}
const Cblas& blis() {
  static const Cblas c = load_cblas({"/usr/lib/x86_64-linux-gnu/blis-serial/libblis.so.4",
                                     "/usr/lib/aarch64-linux-gnu/blis-serial/libblis.so.4"},
                                    nullptr);
  return c;
}

// ---- one product on rows [r0, r1) of C (or batches [r0, r1) when batches > 1) ----

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Stride = Eigen::OuterStride<>;

struct Operands {
  std::vector<float> a, b, c;
  // hamux_gemm_pack_b's output is read with aligned vector loads: 64-byte aligned, as the
  // JIT's param store allocates it.
  std::shared_ptr<char> packed_b;
};

// Pointers to the part of one product that rows [r0, r1) of C read and write.
struct Part {
  const float* a;
  int64_t lda;
  const float* b;
  float* c;
  int64_t rows;
};

Part part(const Shape& s, Operands& o, int64_t batch, int64_t r0, int64_t r1) {
  const float* a = o.a.data() + batch * s.m * s.k;
  return {s.a_t ? a + r0 : a + r0 * s.k, s.a_t ? s.m : s.k, o.b.data() + batch * s.k * s.n,
          o.c.data() + batch * s.m * s.n + r0 * s.n, r1 - r0};
}

void eigen_part(const Shape& s, const Part& p) {
  const int64_t ldb = s.b_t ? s.k : s.n;
  Eigen::Map<RowMat> C(p.c, p.rows, s.n);
  Eigen::Map<const RowMat, 0, Stride> B(p.b, s.b_t ? s.n : s.k, s.b_t ? s.k : s.n, Stride(ldb));
  if (s.a_t) {
    Eigen::Map<const RowMat, 0, Stride> A(p.a, s.k, p.rows, Stride(p.lda));
    if (s.b_t) C.noalias() = A.transpose() * B.transpose();
    else C.noalias() = A.transpose() * B;
  } else {
    Eigen::Map<const RowMat, 0, Stride> A(p.a, p.rows, s.k, Stride(p.lda));
    if (s.b_t) C.noalias() = A * B.transpose();
    else C.noalias() = A * B;
  }
}

void cblas_part(const Cblas& lib, const Shape& s, const Part& p) {
  lib.sgemm(kRowMajor, s.a_t ? kTrans : kNoTrans, s.b_t ? kTrans : kNoTrans, static_cast<int>(p.rows),
            static_cast<int>(s.n), static_cast<int>(s.k), 1.0f, p.a, static_cast<int>(p.lda), p.b,
            static_cast<int>(s.b_t ? s.k : s.n), 0.0f, p.c, static_cast<int>(s.n));
}

#ifdef HAMUX_HAVE_LIBXSMM
// libxsmm is column-major: row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T,
// i.e. its "A" is our B and its "B" our A, with the transposes swapped accordingly.
libxsmm_smmfunction xsmm_kernel(const Shape& s, int64_t rows, int64_t lda) {
  const libxsmm_blasint m = static_cast<libxsmm_blasint>(s.n), n = static_cast<libxsmm_blasint>(rows),
                        k = static_cast<libxsmm_blasint>(s.k);
  const libxsmm_blasint la = static_cast<libxsmm_blasint>(s.b_t ? s.k : s.n),
                        lb = static_cast<libxsmm_blasint>(lda), lc = static_cast<libxsmm_blasint>(s.n);
  const int flags = (s.b_t ? LIBXSMM_GEMM_FLAG_TRANS_A : 0) | (s.a_t ? LIBXSMM_GEMM_FLAG_TRANS_B : 0);
  const float alpha = 1, beta = 0;
  return libxsmm_smmdispatch(m, n, k, &la, &lb, &lc, &alpha, &beta, &flags, nullptr);
}
#endif

enum class Lib { Eigen, Hamux, HamuxPacked, OpenBlas, Blis, Libxsmm };

// Why `lib` cannot run `s` here, or empty.
std::string unavailable(Lib lib, const Shape& s) {
  switch (lib) {
    case Lib::Eigen: return "";
    case Lib::Hamux: return s.a_t && s.b_t && s.batches == 1 ? "no strided call for A^T B^T" : "";
    case Lib::HamuxPacked: return s.b_is_param && !s.a_t && s.batches == 1 ? "" : "B is not a param";
    case Lib::OpenBlas: return openblas().sgemm ? "" : "no libopenblas0-pthread";
    case Lib::Blis: return blis().sgemm ? "" : "no libblis4-serial";
    case Lib::Libxsmm:
#ifdef HAMUX_HAVE_LIBXSMM
      return xsmm_kernel(s, s.batches > 1 ? s.m : (s.m + 1) / 2, s.a_t ? s.m : s.k) ? "" : "libxsmm gave no kernel";
#else
      return "built without libxsmm (libxsmm-dev)";
#endif
  }
  return "";
}

// The whole product on `team`: rows of C split in contiguous halves, or the batch of small
// products.
class Gemm {
 public:
  Gemm(Lib lib, const Shape& s, Operands& o) : lib_(lib), s_(s), o_(o) {
    if (lib == Lib::HamuxPacked) {
      const hamux::codegen::PackBlocking pb = hamux::codegen::gemm_pack_blocking(s.k, s.n, false);
      const size_t bytes = (static_cast<size_t>(pb.bytes) + 63) / 64 * 64;
      o.packed_b.reset(static_cast<char*>(std::aligned_alloc(64, bytes)), std::free);
      hamux_gemm_pack_b_f32(s.k, s.n, s.b_t, pb.kc, pb.mc, pb.nc, o.b.data(), o.packed_b.get());
    }
  }

  void run(hamux::bench::Team& team) {
    if (strided()) {
      // As the runtime does: B packed once per product, shared by the parts.
      packed_per_call_.resize(static_cast<size_t>(hamux::codegen::gemm_pack_blocking(s_.k, s_.n, false).bytes));
      hamux::codegen::gemm_pack_b(s_.k, s_.n, o_.b.data(), packed_per_call_.data());
    }
    const int64_t units = s_.batches > 1 ? s_.batches : s_.m;
    team.run(units, [&](int64_t u0, int64_t u1) {
      if (s_.batches > 1) {
        for (int64_t b = u0; b < u1; ++b) one(part(s_, o_, b, 0, s_.m));
      } else {
        one(part(s_, o_, 0, u0, u1));
      }
    });
  }

 private:
  void one(const Part& p) {
    switch (lib_) {
      case Lib::Eigen: eigen_part(s_, p); break;
      case Lib::Hamux:
        // As the kernels and the runtime call it: hamux_gemm on contiguous operands, the
        // strided entry (the gradient sums') for a part of a transposed A.
        if (strided())
          hamux::codegen::gemm_strided(p.rows, s_.n, s_.k, p.a, 1, p.lda, packed_per_call_.data(), 1.0f, p.c, s_.n,
                                       false);
        else
          hamux_gemm_f32(1, p.rows, s_.n, s_.k, (s_.a_t ? 1 : 0) | (s_.b_t ? 2 : 0), p.a, p.b, p.c);
        break;
      case Lib::HamuxPacked: {
        // The packed B holds the whole product's B; the rows of A are this part's.
        hamux_gemm_packed_f32(p.rows, s_.n, s_.k, 0, p.a, o_.packed_b.get(), p.c);
        break;
      }
      case Lib::OpenBlas: cblas_part(openblas(), s_, p); break;
      case Lib::Blis: cblas_part(blis(), s_, p); break;
      case Lib::Libxsmm: {
#ifdef HAMUX_HAVE_LIBXSMM
        // One kernel per part size (the dispatch is cached by libxsmm itself).
        const libxsmm_smmfunction f = xsmm_kernel(s_, p.rows, p.lda);
        f(p.b, p.a, p.c);
#endif
        break;
      }
    }
  }

  // The runtime's gradient-sum call: a part of a transposed A against a packed B.
  bool strided() const { return lib_ == Lib::Hamux && s_.a_t && s_.batches == 1; }

  Lib lib_;
  const Shape& s_;
  Operands& o_;
  std::vector<char> packed_per_call_;
};

Operands random_operands(const Shape& s) {
  std::mt19937 rng(42);
  std::normal_distribution<float> n(0.0f, 1.0f);
  Operands o;
  o.a.resize(static_cast<size_t>(s.batches * s.m * s.k));
  o.b.resize(static_cast<size_t>(s.batches * s.k * s.n));
  o.c.assign(static_cast<size_t>(s.batches * s.m * s.n), 0.0f);
  for (float& v : o.a) v = n(rng);
  for (float& v : o.b) v = n(rng);
  return o;
}

void bm_gemm(benchmark::State& state, Lib lib, const Shape* s) {
  const int threads = static_cast<int>(state.range(0));
  if (const std::string why = unavailable(lib, *s); !why.empty()) {
    state.SkipWithError(why.c_str());
    return;
  }
  Operands o = random_operands(*s);
  hamux::bench::Team team(threads);
  // Eigen's result first, to check every library against before timing it.
  Operands ref = o;
  Gemm(Lib::Eigen, *s, ref).run(team);
  // Why C differs from Eigen's (relative 1e-4 of its largest element), or empty.
  auto differs = [&] {
    double worst = 0, scale = 0;
    for (size_t i = 0; i < ref.c.size(); ++i) {
      worst = std::max(worst, static_cast<double>(std::fabs(o.c[i] - ref.c[i])));
      scale = std::max(scale, static_cast<double>(std::fabs(ref.c[i])));
    }
    return worst <= 1e-4 * scale ? std::string() : "result differs from Eigen's: max |diff| " + std::to_string(worst);
  };
  Gemm gemm(lib, *s, o);
  gemm.run(team);
  if (const std::string why = differs(); !why.empty()) {
    state.SkipWithError(why.c_str());
    return;
  }
  for (auto _ : state) {
    gemm.run(team);
    benchmark::ClobberMemory();
  }
  // Again after the timed calls: a library that is not safe to call from two threads at once
  // may get only some of them wrong.
  if (const std::string why = differs(); !why.empty()) {
    state.SkipWithError(why.c_str());
    return;
  }
  const double flops = 2.0 * static_cast<double>(s->batches * s->m * s->n * s->k);
  state.counters["flops"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
  if (lib == Lib::OpenBlas) state.SetLabel("core " + openblas().config);
}

const int kRegistered = [] {
  const std::pair<const char*, Lib> libs[] = {{"eigen", Lib::Eigen},
                                              {"hamux", Lib::Hamux},
                                              {"hamux_packed", Lib::HamuxPacked},
                                              {"openblas", Lib::OpenBlas},
                                              {"blis", Lib::Blis},
                                              {"libxsmm", Lib::Libxsmm}};
  for (const Shape& s : kShapes)
    for (const auto& [name, lib] : libs)
      benchmark::RegisterBenchmark((std::string("gemm/") + s.name + "/" + name).c_str(), bm_gemm, lib, &s)
          ->ArgName("threads")
          ->Arg(1)
          ->Arg(2)
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
  return 0;
}();

}  // namespace

BENCHMARK_MAIN();
