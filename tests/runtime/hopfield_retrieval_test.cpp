// tests/runtime/hopfield_retrieval_test.cpp - the classical Hopfield network retrieves a
// stored pattern from a corrupted start.
//
// classical_hopfield.json stores the 100 +/-1 patterns of patterns_100x1024.npy in a
// Hebbian W = (1/N) sum p p^T (load 100/1024, below the capacity ~0.14 N). At this load
// the continuous network keeps most patterns, but not all, as fixed points: started on
// the clean pattern, some settle a few percent of their bits away (patterns 0-19 settle
// at overlaps 0.97 to 1.0). So the test first finds, among patterns 0-5, those that are
// stored (a clean start is still at overlap > 0.995 after 150 steps), then starts each from the pattern with
// 20% of its signs flipped (overlap 0.6): the dynamics must repair it to an overlap
// (1/N) sum sign(x) * p above 0.99, the same attractor as the clean start.
#include <gtest/gtest.h>

#include <random>

#include "frontend/npy.h"
#include "hamux/hamux.h"

namespace hamux {
namespace {

constexpr int64_t kN = 1024;

double overlap(const Tensor<double>& x, int64_t b, const Tensor<double>& patterns, int64_t p) {
  double s = 0;
  for (int64_t e = 0; e < kN; ++e) s += (x[b * kN + e] > 0 ? 1 : (x[b * kN + e] < 0 ? -1 : 0)) * patterns[p * kN + e];
  return s / kN;
}

TEST(HopfieldRetrieval, TwentyPercentFlippedSignsAreRepaired) {
  const std::string dir = HAMUX_MODELS_DIR;
  Ham ham = Ham::load(dir + "/classical_hopfield.json");
  const Tensor<double> patterns = read_npy(dir + "/patterns_100x1024.npy");
  ASSERT_EQ(patterns.shape, (Shape{100, kN}));
  RunOptions o;
  o.steps = 300;
  o.dt = 0.1;
  o.tol = 1e-4;
  o.threads = 2;

  // Which of patterns 0-5 are stored: the clean start stays on the pattern.
  const int64_t candidates = 6;
  States clean = ham.zeros(candidates);
  clean.set("v", Tensor<double>({candidates, kN}, std::vector<double>(patterns.data.begin(),
                                                                      patterns.data.begin() + candidates * kN)));
  RunOptions fixed = o;
  fixed.tol = 0;
  fixed.steps = 150;
  run(ham, clean, fixed);
  std::vector<int64_t> stored;
  for (int64_t p = 0; p < candidates; ++p)
    if (overlap(clean.get("v"), p, patterns, p) > 0.995) stored.push_back(p);
  ASSERT_GE(stored.size(), 2u) << "the Hebbian network should keep most patterns";

  const int64_t batch = static_cast<int64_t>(stored.size());
  Tensor<double> start({batch, kN});
  std::mt19937 rng(123);
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<int64_t> idx(kN);
    for (int64_t e = 0; e < kN; ++e) idx[e] = e;
    std::shuffle(idx.begin(), idx.end(), rng);
    for (int64_t e = 0; e < kN; ++e) start[b * kN + e] = patterns[stored[b] * kN + e];
    for (int64_t k = 0; k < kN / 5; ++k) start[b * kN + idx[k]] *= -1;  // 20% flipped
  }
  States s = ham.zeros(batch);
  s.set("v", start);
  const RunReport r = run(ham, s, o);
  EXPECT_TRUE(r.converged);
  for (int64_t b = 0; b < batch; ++b) {
    EXPECT_NEAR(overlap(start, b, patterns, stored[b]), 0.6, 0.01);
    EXPECT_GT(overlap(s.get("v"), b, patterns, stored[b]), 0.99)
        << "pattern " << stored[b] << " after " << r.steps << " steps";
  }
}

}  // namespace
}  // namespace hamux
