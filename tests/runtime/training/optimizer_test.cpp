// tests/runtime/training/optimizer_test.cpp - the optimisers against closed forms on the
// quadratic f(p) = a/2 p^2 (gradient a p), the schedules and the clipping.
#include <gtest/gtest.h>

#include <cmath>

#include "training/optimizer.h"

namespace hamux::training {
namespace {

using Vecs = std::map<std::string, std::vector<double>>;

// Two steps of `o` on f(p) = a/2 p^2 from p0, at learning rate lr.
std::vector<double> two_steps(const Optimizer& o, double a, double p0, double lr) {
  Vecs p{{"p", {p0}}};
  OptimizerState s(o, p);
  std::vector<double> out;
  for (int k = 0; k < 2; ++k) {
    Vecs g{{"p", {a * p["p"][0]}}};
    s.step(p, g, lr);
    out.push_back(p["p"][0]);
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
  Vecs p{{"a", {0, 0}}, {"b", {0}}};
  OptimizerState s(o, p);
  Vecs g{{"a", {3, 0}}, {"b", {4}}};  // norm 5
  EXPECT_DOUBLE_EQ(s.step(p, g, 1.0), 5.0);
  EXPECT_DOUBLE_EQ(p["a"][0], -0.6);
  EXPECT_DOUBLE_EQ(p["b"][0], -0.8);
  Vecs small{{"a", {0.3, 0}}, {"b", {0.4}}};  // below the bound: unchanged
  s.step(p, small, 1.0);
  EXPECT_DOUBLE_EQ(p["a"][0], -0.9);
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
