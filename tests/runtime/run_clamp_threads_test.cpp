// tests/runtime/run_clamp_threads_test.cpp - clamping, thread counts, batch reuse, options.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "ham_impl.h"
#include "hamux/hamux.h"

namespace hamux {
namespace {

std::string model_path(const std::string& file) { return std::string(HAMUX_MODELS_DIR) + "/" + file; }

bool bit_identical(const Tensor<double>& a, const Tensor<double>& b) {
  return a.shape == b.shape && std::memcmp(a.data.data(), b.data.data(), a.data.size() * sizeof(double)) == 0;
}

TEST(RunClamp, WholeLayerStaysBitIdentical) {
  Ham ham = Ham::load(model_path("readme.json"));
  States s = ham.normal(4, 3);
  s.clamp("input");
  const Tensor<double> input = s.get("input"), labels = s.get("labels");
  RunOptions o;
  o.steps = 200;
  o.dt = 0.1;
  run(ham, s, o);
  EXPECT_TRUE(bit_identical(s.get("input"), input));
  EXPECT_FALSE(bit_identical(s.get("labels"), labels));  // the free layers do move
}

TEST(RunClamp, ElementMaskHoldsExactlyTheMaskedElements) {
  for (const char* file : {"dense_am.json", "custom_energies.json"}) {
    Ham ham = Ham::load(model_path(file));
    const NeuronInfo& n = ham.neurons()[0];
    Tensor<double> mask(n.shape);
    for (int64_t e = 0; e < mask.size(); e += 3) mask[e] = 1;  // every third element clamped
    States s = ham.normal(3, 5);
    s.clamp(n.name, mask);
    const Tensor<double> x0 = s.get(n.name);
    RunOptions o;
    o.steps = 50;
    run(ham, s, o);
    const Tensor<double> x1 = s.get(n.name);
    const int64_t per = mask.size();
    int moved = 0;
    for (int64_t e = 0; e < x1.size(); ++e) {
      if (mask[e % per] != 0) {
        ASSERT_EQ(std::memcmp(&x0[e], &x1[e], sizeof(double)), 0) << file << " element " << e;
      } else {
        moved += x0[e] != x1[e];
      }
    }
    EXPECT_GT(moved, 0) << file;
    // Unclamped, the same elements move.
    s.unclamp(n.name);
    run(ham, s, o);
    EXPECT_NE(s.get(n.name)[0], x1[0]) << file;
  }
}

TEST(RunBlocks, BlocksFollowTheModelAndTheBatchOnly) {
  // Classical Hopfield's weights (4 MiB) dominate its light samples (1024 floats each): as
  // few blocks as 64 samples a block allow, of equal size. An Energy Transformer sample (64
  // tokens x 256, ~1 MiB of buffers) outweighs its weights and runs alone. Blocks never
  // exceed 64 samples and are multiples of 4 from 4 on (or the whole batch).
  Ham hopfield = Ham::load(model_path("classical_hopfield.json"));
  Ham et = Ham::load(model_path("energy_transformer.json"));
  const Ham::Impl& h = RunAccess::ham(hopfield);
  const Ham::Impl& e = RunAccess::ham(et);
  EXPECT_EQ(block_size(h, 256), 64);
  EXPECT_EQ(block_size(h, 100), 52);  // 52 + 48, not 64 + 36
  EXPECT_EQ(block_size(h, 3), 3);
  EXPECT_EQ(block_size(h, 1), 1);
  EXPECT_EQ(block_size(h, 4096), 64);
  EXPECT_EQ(block_count(h, 100), 2);
  EXPECT_EQ(block_size(e, 8), 1);
  EXPECT_EQ(block_size(e, 100), 8);
  for (int64_t batch = 1; batch <= 300; ++batch) {
    const int64_t b = block_size(h, batch);
    EXPECT_TRUE(b >= 1 && b <= 64 && b <= batch && (b < 4 || b % 4 == 0 || b == batch)) << batch << " -> " << b;
  }
}

TEST(RunThreads, OneAndTwoThreadsGiveIdenticalResults) {
  // (classical_hopfield and dense_am, whose weights dominate: one block at batch 40, two of
  // 52 and 48 at batch 100; readme and conv: several blocks at batch 40.)
  for (const char* file : {"readme.json", "dense_am.json", "conv.json", "classical_hopfield.json"}) {
    Ham ham = Ham::load(model_path(file));
    for (int64_t batch : {1, 5, 40, 100}) {
      States a = ham.normal(batch, 9), b = a.clone(), c = a.clone();
      RunOptions o;
      o.steps = 20;
      o.record_every = 5;
      o.threads = 1;
      const RunReport ra = run(ham, a, o);
      o.threads = 2;
      const RunReport rb = run(ham, b, o);
      o.threads = 3;
      const RunReport rc = run(ham, c, o);
      for (const NeuronInfo& n : ham.neurons()) {
        EXPECT_TRUE(bit_identical(a.get(n.name), b.get(n.name))) << file << " " << n.name;
        EXPECT_TRUE(bit_identical(a.get(n.name), c.get(n.name))) << file << " " << n.name;
        EXPECT_TRUE(bit_identical(a.activation(n.name), b.activation(n.name))) << file << " " << n.name;
      }
      ASSERT_EQ(ra.trace.size(), rb.trace.size());
      for (size_t k = 0; k < ra.trace.size(); ++k) EXPECT_EQ(ra.trace[k].energy, rb.trace[k].energy) << file;
    }
  }
}

TEST(RunBatch, SamplesAreIndependentAndTheProgramIsReusedAcrossBatchSizes) {
  // Sample 2 of a batch of 4 evolves exactly like the same state alone in a batch of 1.
  Ham ham = Ham::load(model_path("readme.json"));
  States big = ham.normal(4, 21);
  States one = ham.zeros(1);
  for (const NeuronInfo& n : ham.neurons()) {
    const Tensor<double> x = big.get(n.name);
    const int64_t per = num_elements(n.shape);
    Tensor<double> sample(n.shape);
    std::copy(x.data.begin() + 2 * per, x.data.begin() + 3 * per, sample.data.begin());
    one.set(n.name, sample);
  }
  RunOptions o;
  o.steps = 30;
  run(ham, big, o);
  run(ham, one, o);
  for (const NeuronInfo& n : ham.neurons()) {
    const Tensor<double> x = big.get(n.name), y = one.get(n.name);
    const int64_t per = num_elements(n.shape);
    for (int64_t e = 0; e < per; ++e) EXPECT_EQ(x[2 * per + e], y[e]) << n.name;
  }
}

TEST(RunConvergence, StopsWhenNoStateMovesMoreThanTol) {
  Ham ham = Ham::load(model_path("readme.json"));
  States s = ham.normal(2, 1);
  RunOptions o;
  o.steps = 100000;
  o.dt = 0.5;
  o.tol = 1e-5;
  const RunReport r = run(ham, s, o);
  EXPECT_TRUE(r.converged);
  EXPECT_LT(r.steps, o.steps);
  EXPECT_LT(r.max_dx, 1e-5);
  // One more step moves nothing by more than tol either.
  const Tensor<double> before = s.get("hidden");
  RunOptions one;
  one.steps = 1;
  one.dt = 0.5;
  run(ham, s, one);
  const Tensor<double> after = s.get("hidden");
  for (int64_t e = 0; e < after.size(); ++e) EXPECT_LT(std::abs(after[e] - before[e]), 1e-5);
}

TEST(RunGuard, HalvesDtWhenTheEnergyWouldRise) {
  // classical_hopfield at dt 3: tanh(4x) with |W| large overshoots; the guard must keep
  // every step's energy non-increasing by shrinking dt, and say so.
  Ham ham = Ham::load(model_path("classical_hopfield.json"));
  States s = ham.normal(2, 4, 0.1);
  RunOptions o;
  o.steps = 30;
  o.dt = 3.0;
  o.energy_guard = true;
  o.record_every = 1;
  const RunReport r = run(ham, s, o);
  ASSERT_FALSE(r.guard.empty());
  EXPECT_LT(r.dt, 3.0);
  EXPECT_EQ(r.dt, 3.0 / (1 << r.guard.size()));
  for (size_t k = 1; k < r.trace.size(); ++k)
    for (size_t b = 0; b < 2; ++b)
      EXPECT_LE(r.trace[k].energy[b], r.trace[k - 1].energy[b] + 1e-5 * (1 + std::abs(r.trace[k - 1].energy[b])));
}

TEST(RunTrace, RecordsEveryKStepsAndTheLast) {
  Ham ham = Ham::load(model_path("readme.json"));
  States s = ham.normal(2, 2);
  RunOptions o;
  o.steps = 23;
  o.record_every = 5;
  o.record_tree = true;
  const RunReport r = run(ham, s, o);
  std::vector<int64_t> steps;
  for (const TraceRow& row : r.trace) steps.push_back(row.step);
  EXPECT_EQ(steps, (std::vector<int64_t>{0, 5, 10, 15, 20, 23}));
  // The tree's terms add up to the total, and the total is the kernel's energy.
  for (const TraceRow& row : r.trace) {
    ASSERT_EQ(row.tree.terms.size(), 5u);  // 3 neurons + 2 connections
    for (size_t b = 0; b < 2; ++b) {
      double sum = 0;
      for (const auto& term : row.tree.values) sum += term[b];
      EXPECT_NEAR(sum, row.tree.total[b], 1e-5);
      EXPECT_NEAR(row.energy[b], row.tree.total[b], 1e-4);
    }
  }
}

}  // namespace
}  // namespace hamux
