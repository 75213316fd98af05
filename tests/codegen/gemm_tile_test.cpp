// tests/codegen/gemm_tile_test.cpp - hamux's packed GEMM (kernels/gemm_tile.h) through the
// ABI the kernels call (hamux_gemm_pack_b / hamux_gemm_packed), against a float64 sum, on
// shapes that are not multiples of the tile, with both transposes and several k-blocks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "codegen/kernels/kernels.h"

namespace hamux::codegen {
namespace {

template <class T>
struct Gemm {
  int64_t m, n, k;
  bool a_t, b_t;
  std::vector<T> a, b;
  Gemm(int64_t m_, int64_t n_, int64_t k_, bool at, bool bt, unsigned seed) : m(m_), n(n_), k(k_), a_t(at), b_t(bt) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> nd;
    a.resize(m * k);
    b.resize(k * n);
    for (T& v : a) v = static_cast<T>(nd(rng));
    for (T& v : b) v = static_cast<T>(nd(rng));
  }
  double A(int64_t i, int64_t p) const { return a_t ? a[p * m + i] : a[i * k + p]; }
  double B(int64_t p, int64_t j) const { return b_t ? b[j * k + p] : b[p * n + j]; }

  // C through the packed path, with the given blocking (or the compiler's for this shape).
  std::vector<T> packed(std::vector<int64_t> blocking = {}) const {
    const PackBlocking pb = gemm_pack_blocking(k, n, sizeof(T) == 8);
    if (blocking.empty()) blocking = {pb.kc, pb.mc, pb.nc};
    std::vector<char> raw(static_cast<size_t>(pb.bytes) + 64);
    char* dst = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(raw.data()) + 63) / 64 * 64);
    std::vector<T> c(m * n, T(-7));  // overwritten, never read
    if constexpr (sizeof(T) == 8) {
      hamux_gemm_pack_b_f64(k, n, b_t, blocking[0], blocking[1], blocking[2], b.data(), dst);
      hamux_gemm_packed_f64(m, n, k, a_t, a.data(), dst, c.data());
    } else {
      hamux_gemm_pack_b_f32(k, n, b_t, blocking[0], blocking[1], blocking[2], b.data(), dst);
      hamux_gemm_packed_f32(m, n, k, a_t, a.data(), dst, c.data());
    }
    return c;
  }

  // Every element against the float64 sum, to the rounding error the sum allows.
  void check(const std::vector<T>& c, const std::string& what) const {
    const double eps = sizeof(T) == 8 ? 1e-15 : 6e-8;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double sum = 0, abs_sum = 0;
        for (int64_t p = 0; p < k; ++p) {
          sum += A(i, p) * B(p, j);
          abs_sum += std::abs(A(i, p) * B(p, j));
        }
        ASSERT_NEAR(c[i * n + j], sum, 2 * eps * (k + 1) * abs_sum + 1e-300)
            << what << ": element (" << i << ", " << j << ")";
      }
  }
};

std::string name(int64_t m, int64_t n, int64_t k, bool a_t, bool b_t) {
  return std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k) + (a_t ? " A^T" : "") +
         (b_t ? " B^T" : "");
}

template <class T>
void shapes_match_the_float64_sum() {
  for (int64_t m : {1, 3, 4, 5, 8, 13, 52})
    for (int64_t n : {1, 17, 32, 65, 130})
      for (int64_t k : {1, 9, 300})
        for (bool a_t : {false, true})
          for (bool b_t : {false, true}) {
            Gemm<T> g(m, n, k, a_t, b_t, static_cast<unsigned>(m * 1000 + n * 10 + k));
            g.check(g.packed(), name(m, n, k, a_t, b_t));
          }
}
TEST(GemmTile, ShapesOffTheTileMatchTheFloat64SumFloat32) { shapes_match_the_float64_sum<float>(); }
TEST(GemmTile, ShapesOffTheTileMatchTheFloat64SumFloat64) { shapes_match_the_float64_sum<double>(); }

TEST(GemmTile, EveryBlockingLoopIsExercised) {
  // Small blockings: several k-blocks (the later ones added to C), row blocks of A and column
  // blocks of B; an nc that is not a multiple of the tile's columns is rounded up.
  for (std::vector<int64_t> blocking : {std::vector<int64_t>{8, 8, 32}, {16, 24, 20}, {1, 1, 1}, {64, 7, 64}}) {
    Gemm<float> g(37, 99, 70, false, true, 11);
    g.check(g.packed(blocking), "blocking " + std::to_string(blocking[0]) + "," + std::to_string(blocking[1]) + "," +
                                    std::to_string(blocking[2]));
    Gemm<double> h(21, 40, 45, true, false, 12);
    h.check(h.packed(blocking), "float64, blocking " + std::to_string(blocking[0]));
  }
}

TEST(GemmTile, TheCompilersBlockingOfADeepProductSplitsK) {
  // K deeper than one pass (2048 floats): more than one k-block, summed in order.
  const PackBlocking pb = gemm_pack_blocking(2048, 40, false);
  EXPECT_LT(pb.kc, 2048);
  EXPECT_GE(pb.kc, 1);
  Gemm<float> g(9, 40, 2048, false, false, 13);
  g.check(g.packed(), "9x40x2048");
}

TEST(GemmTile, ZeroDepthGivesZeros) {
  Gemm<float> g(6, 10, 0, false, false, 14);
  for (float v : g.packed()) EXPECT_EQ(v, 0.0f);
}

TEST(GemmTile, ARowsBitsDoNotDependOnTheRowsAroundIt) {
  // What the runtime's blocks and threads rest on: row i of C is the same bits whether the
  // call has 1, 3, 8 or 100 rows and wherever row i falls in the tile.
  Gemm<float> all(100, 75, 600, false, false, 15);
  const std::vector<float> whole = all.packed();
  for (int64_t first : {0, 1, 3, 7, 50})
    for (int64_t rows : {1, 3, 4, 8, 12, 29}) {
      if (first + rows > 100) continue;
      Gemm<float> part = all;
      part.m = rows;
      part.a.assign(all.a.begin() + first * all.k, all.a.begin() + (first + rows) * all.k);
      const std::vector<float> c = part.packed();
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < all.n; ++j)
          ASSERT_EQ(c[i * all.n + j], whole[(first + i) * all.n + j]) << "rows " << first << "+" << rows << ", (" << i
                                                                      << ", " << j << ")";
    }
}

TEST(GemmTile, TheUnpackedGemmMatchesTheFloat64SumOnEveryPath) {
  // hamux_gemm: Eigen below kTileRows rows (256 with a transposed B) or for tiny products,
  // the tile above, in batches.
  for (int64_t m : {1, 7, 8, 40, 260})
    for (int t = 0; t < 4; ++t) {
      const int64_t nb = 3, n = 33, k = 70;
      std::vector<Gemm<double>> g;
      std::vector<double> a, b, c(nb * m * n, -7.0);
      for (int64_t i = 0; i < nb; ++i) {
        g.emplace_back(m, n, k, t & 1, t & 2, static_cast<unsigned>(100 + i));
        a.insert(a.end(), g.back().a.begin(), g.back().a.end());
        b.insert(b.end(), g.back().b.begin(), g.back().b.end());
      }
      hamux_gemm_f64(nb, m, n, k, t, a.data(), b.data(), c.data());
      for (int64_t i = 0; i < nb; ++i)
        g[i].check(std::vector<double>(c.begin() + i * m * n, c.begin() + (i + 1) * m * n),
                   "hamux_gemm " + name(m, n, k, t & 1, t & 2) + " batch " + std::to_string(i));
    }
}

TEST(GemmTile, GemmStridedAccumulatesAScaledStridedProduct) {
  // The runtime's gradient sums: C[r0:r0+rows] += scale U[:, r0:r0+rows]^T V, C with a wider row.
  const int64_t batch = 30, cols_u = 50, r0 = 11, rows = 25, n = 20, ldc = 24;
  Gemm<float> u(batch, 1, cols_u, false, false, 21), v(batch, 1, n, false, false, 22);  // .a: batch x cols_u, batch x n
  std::vector<float> c(rows * ldc);
  for (size_t i = 0; i < c.size(); ++i) c[i] = static_cast<float>(i % 7) - 3.0f;
  const std::vector<float> before = c;
  const float scale = -0.5f;
  std::vector<char> packed(static_cast<size_t>(gemm_pack_blocking(batch, n, false).bytes));
  codegen::gemm_pack_b(batch, n, v.a.data(), packed.data());
  codegen::gemm_strided(rows, n, batch, u.a.data() + r0, 1, cols_u, packed.data(), scale, c.data(), ldc, true);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < ldc; ++j) {
      if (j >= n) {
        EXPECT_EQ(c[i * ldc + j], before[i * ldc + j]) << "outside the product, (" << i << ", " << j << ")";
        continue;
      }
      double sum = 0, abs_sum = 0;
      for (int64_t b = 0; b < batch; ++b) {
        const double term = double(u.a[b * cols_u + r0 + i]) * v.a[b * n + j];
        sum += term;
        abs_sum += std::abs(term);
      }
      ASSERT_NEAR(c[i * ldc + j], before[i * ldc + j] + scale * sum, 4e-7 * (batch + 2) * (abs_sum + 3))
          << "(" << i << ", " << j << ")";
    }
}

TEST(GemmTile, GemmStridedWithoutAccumulateOverwritesC) {
  Gemm<double> g(19, 45, 33, true, false, 23);
  std::vector<double> c(19 * 45, std::nan(""));  // never read
  std::vector<char> packed(static_cast<size_t>(gemm_pack_blocking(33, 45, true).bytes));
  codegen::gemm_pack_b(33, 45, g.b.data(), packed.data());
  codegen::gemm_strided(19, 45, 33, g.a.data(), 1, 19, packed.data(), 1.0, c.data(), 45, false);
  g.check(c, "gemm_strided, A^T, accumulate false");
}

TEST(GemmTile, PackedSizeDependsOnTheShapeOnly) {
  // A kernel compiled on one machine packs into the bytes it reserved on another.
  EXPECT_EQ(gemm_pack_blocking(1024, 1000, false).bytes, 64 + 1024 * 1024 * 4);
  EXPECT_EQ(gemm_pack_blocking(10, 1, true).bytes, 64 + 10 * 64 * 8);
  EXPECT_EQ(gemm_pack_blocking(0, 5, false).bytes, 64);  // the header
}

}  // namespace
}  // namespace hamux::codegen
