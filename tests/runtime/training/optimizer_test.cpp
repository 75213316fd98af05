// tests/runtime/training/optimizer_test.cpp - the optimisers against closed forms on the
// quadratic f(p) = a/2 p^2 (gradient a p), the schedules and the clipping; float32 against
// float64, thread counts, a step that overflows.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "thread_pool.h"
#include "training/optimizer.h"

namespace hamux::training {
namespace {

// Two steps of `o` on f(p) = a/2 p^2 from p0, at learning rate lr.
std::vector<double> two_steps(const Optimizer& o, double a, double p0, double lr) {
  OptimizerState<double> s(o, {1});
  double p = p0, g = 0;
  std::vector<double> out;
  for (int k = 0; k < 2; ++k) {
    g = a * p;
    s.step({{"p", &p, &g, 1}}, lr);
    out.push_back(p);
  }
  return out;
}

TEST(Optimizer, AdamMatchesItsClosedFormOnAQuadratic) {
  Optimizer o;
  o.name = "adam";
  const double a = 3, p0 = 2, lr = 0.1, b1 = o.beta1, b2 = o.beta2, eps = o.eps;
  // Step 1: m = (1-b1) g, v = (1-b2) g^2, bias-corrected to g and g^2: p1 = p0 - lr g/(|g|+eps).
  const double g0 = a * p0, p1 = p0 - lr * g0 / (std::abs(g0) + eps);
  // Step 2 from the moments written out.
  const double g1 = a * p1;
  const double m = b1 * (1 - b1) * g0 + (1 - b1) * g1, v = b2 * (1 - b2) * g0 * g0 + (1 - b2) * g1 * g1;
  const double p2 = p1 - lr * (m / (1 - b1 * b1)) / (std::sqrt(v / (1 - b2 * b2)) + eps);
  const std::vector<double> got = two_steps(o, a, p0, lr);
  EXPECT_NEAR(got[0], p1, 1e-15);
  EXPECT_NEAR(got[1], p2, 1e-15);
  EXPECT_NEAR(p1, 1.9, 1e-9);  // the first Adam step moves by lr whatever the gradient's size
}

TEST(Optimizer, SgdMomentumAndNesterovMatchTheirClosedForms) {
  Optimizer o;
  o.name = "sgd";
  o.momentum = 0.9;
  const double a = 0.5, p0 = 4, lr = 0.2, mu = 0.9;
  const double p1 = p0 - lr * a * p0;                 // v1 = g0
  const double p2 = p1 - lr * (mu * a * p0 + a * p1);  // v2 = mu g0 + g1
  std::vector<double> got = two_steps(o, a, p0, lr);
  EXPECT_DOUBLE_EQ(got[0], p1);
  EXPECT_DOUBLE_EQ(got[1], p2);
  o.nesterov = true;  // p -= lr (g + mu v)
  const double n1 = p0 - lr * (a * p0 + mu * a * p0);
  const double v2 = mu * a * p0 + a * n1, n2 = n1 - lr * (a * n1 + mu * v2);
  got = two_steps(o, a, p0, lr);
  EXPECT_DOUBLE_EQ(got[0], n1);
  EXPECT_DOUBLE_EQ(got[1], n2);
}

TEST(Optimizer, WeightDecayIsCoupledForAdamAndDecoupledForAdamW) {
  Optimizer o;
  o.weight_decay = 0.5;
  const double a = 1, p0 = 2, lr = 0.1;
  const double eps = o.eps;
  o.name = "adamw";  // p1 = p0 - lr (g / (|g| + eps) + wd p0), g = a p0 = 2
  EXPECT_NEAR(two_steps(o, a, p0, lr)[0], p0 - lr * (2 / (2 + eps) + 0.5 * p0), 1e-15);
  o.name = "adam";  // the decay is in the gradient (g + wd p0 = 3), which Adam's first step normalises
  EXPECT_NEAR(two_steps(o, a, p0, lr)[0], p0 - lr * 3 / (3 + eps), 1e-15);
  o.name = "sgd";
  o.momentum = 0;
  EXPECT_DOUBLE_EQ(two_steps(o, a, p0, lr)[0], p0 - lr * (a * p0 + 0.5 * p0));
}

TEST(Optimizer, ClippingScalesTheGlobalNormAndReportsItBefore) {
  Optimizer o;
  o.name = "sgd";
  o.momentum = 0;
  o.clip_norm = 1;
  OptimizerState<double> s(o, {2, 1});
  std::vector<double> pa{0, 0}, pb{0}, ga{3, 0}, gb{4};  // norm 5
  const std::vector<ParamSlot<double>> slots{{"a", pa.data(), ga.data(), 2}, {"b", pb.data(), gb.data(), 1}};
  EXPECT_DOUBLE_EQ(s.step(slots, 1.0), 5.0);
  EXPECT_DOUBLE_EQ(pa[0], -0.6);
  EXPECT_DOUBLE_EQ(pb[0], -0.8);
  ga = {0.3, 0}, gb = {0.4};  // below the bound: unchanged
  EXPECT_DOUBLE_EQ(s.step(slots, 1.0), 0.5);
  EXPECT_DOUBLE_EQ(pa[0], -0.9);
  EXPECT_EQ(ga[0], 0.3);  // the gradient itself is left as it was
}

// Steps of `o` on random params and gradients of sizes that cut chunks unevenly; the params
// after `steps` steps and the norms, with `threads` threads (0: no pool).
template <class T>
std::pair<std::vector<std::vector<T>>, std::vector<double>> random_run(const Optimizer& o, int threads, int steps = 3) {
  const std::vector<int64_t> sizes{100003, 7, 40000};
  std::mt19937_64 rng(5);
  std::normal_distribution<double> normal;
  std::vector<std::vector<T>> p;
  std::vector<std::vector<double>> g;
  for (int64_t n : sizes) {
    p.emplace_back(n), g.emplace_back(n);
    for (T& v : p.back()) v = static_cast<T>(normal(rng));
  }
  OptimizerState<T> s(o, sizes);
  std::unique_ptr<ThreadPool> pool = threads ? std::make_unique<ThreadPool>(threads) : nullptr;
  std::vector<double> norms;
  for (int k = 0; k < steps; ++k) {
    std::vector<ParamSlot<T>> slots;
    for (size_t i = 0; i < sizes.size(); ++i) {
      for (double& v : g[i]) v = normal(rng);
      slots.push_back({"p" + std::to_string(i), p[i].data(), g[i].data(), sizes[i]});
    }
    norms.push_back(s.step(slots, 0.01, pool.get()));
  }
  return {p, norms};
}

TEST(Optimizer, TheStepDoesNotDependOnTheThreadCount) {
  for (const char* name : {"adam", "adamw", "sgd"}) {
    Optimizer o;
    o.name = name;
    o.weight_decay = 0.01;
    o.clip_norm = std::string(name) == "sgd" ? 100 : 0;  // sgd clips (the norm is ~450)
    const auto one = random_run<float>(o, 0);
    for (int threads : {1, 2, 3}) {
      const auto many = random_run<float>(o, threads);
      EXPECT_EQ(one.first, many.first) << name << ", " << threads << " threads";
      EXPECT_EQ(one.second, many.second) << name << ", " << threads << " threads";
    }
  }
}

TEST(Optimizer, Float32StepsFollowTheFloat64Ones) {
  Optimizer o;
  o.weight_decay = 0.01;
  const auto f = random_run<float>(o, 2, 5);
  const auto d = random_run<double>(o, 2, 5);
  double worst = 0;
  for (size_t i = 0; i < f.first.size(); ++i)
    for (size_t j = 0; j < f.first[i].size(); ++j)
      worst = std::max(worst, std::abs(f.first[i][j] - d.first[i][j]) / (std::abs(d.first[i][j]) + 1e-3));
  // The float32 params start rounded (relatively 6e-8); five steps of 0.01 add a few ulps.
  EXPECT_GT(worst, 0);
  EXPECT_LT(worst, 1e-5);
  EXPECT_EQ(f.second, d.second);  // the norm is summed from the float64 gradient either way
}

TEST(Optimizer, SubnormalMomentsAreFlushedToZero) {
  Optimizer o;
  o.name = "sgd";
  o.momentum = 0.5;
  OptimizerState<float> s(o, {1});
  s.restore(1, {{2e-38f}}, {{}});  // normal; half of it is not (the least normal float is 1.18e-38)
  float p = 1;
  double g = 0;
  s.step({{"p", &p, &g, 1}}, 0.1);
  EXPECT_EQ(s.m()[0][0], 0.0f);
  EXPECT_EQ(p, 1.0f);
}

TEST(Optimizer, AStepThatOverflowsNamesTheParamAndTheElement) {
  Optimizer o;
  o.name = "sgd";
  o.momentum = 0;
  OptimizerState<float> s(o, {3});
  std::vector<float> p{1, 2, 3};
  std::vector<double> g{0, 1e30, 0};
  try {
    s.step({{"W", p.data(), g.data(), 3}}, 1e10);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "param 'W': optimizer step 1 (lr 1e+10) made element 1 -inf from a gradient of norm 1e+30; lower "
              "the learning rate or set clip_norm");
  }
}

TEST(Optimizer, WarmupThenCosineSchedule) {
  Optimizer o;
  o.lr = 1;
  o.min_lr = 0.1;
  o.warmup_steps = 4;
  o.schedule = "cosine";
  EXPECT_DOUBLE_EQ(learning_rate(o, 0, 14), 0.25);
  EXPECT_DOUBLE_EQ(learning_rate(o, 3, 14), 1.0);
  EXPECT_DOUBLE_EQ(learning_rate(o, 4, 14), 1.0);            // the first step after warm-up
  EXPECT_NEAR(learning_rate(o, 9 - 0, 14), 0.1 + 0.9 * 0.5 * (1 + std::cos(M_PI * 5 / 9)), 1e-15);
  EXPECT_NEAR(learning_rate(o, 13, 14), 0.1, 1e-15);           // the last step
  o.schedule = "constant";
  EXPECT_DOUBLE_EQ(learning_rate(o, 10, 14), 1.0);
}

TEST(Optimizer, BadSettingsAreRefusedWithTheirName) {
  auto message = [](const Optimizer& o) {
    try {
      check_optimizer(o);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  Optimizer o;
  o.name = "rmsprop";
  EXPECT_EQ(message(o), "optimizer: unknown optimizer 'rmsprop' (expected sgd, adam or adamw)");
  o = Optimizer{};
  o.schedule = "step";
  EXPECT_EQ(message(o), "optimizer: unknown schedule 'step' (expected constant or cosine)");
  o = Optimizer{};
  o.lr = 0;
  EXPECT_EQ(message(o), "optimizer: lr must be in (0, inf), got 0");
  o = Optimizer{};
  o.beta2 = 1;
  EXPECT_EQ(message(o), "optimizer: beta2 must be in [0, 1), got 1");
  o = Optimizer{};
  o.min_lr = 0.5;
  EXPECT_EQ(message(o), "optimizer: min_lr must be in [0, 0.001], got 0.5");
  o = Optimizer{};
  o.warmup_steps = -1;
  EXPECT_EQ(message(o), "optimizer: warmup_steps must be >= 0, got -1");
}

}  // namespace
}  // namespace hamux::training
