// tests/runtime/gradients_methods_test.cpp - implicit differentiation against BPTT at a
// converged fixed point, checkpointing, thread counts, state gradients, the kernel cache.
#include <cstring>

#include "gradient_testing.h"

namespace hamux {
namespace {

using gradtest::HandLoss;

double relative_difference(const GradientResult& a, const GradientResult& b) {
  double d = 0, n = 0;
  for (const auto& [name, t] : b.params) {
    const Tensor<double>& u = a.params.at(name);
    for (int64_t i = 0; i < t.size(); ++i) {
      d += (u.data[i] - t.data[i]) * (u.data[i] - t.data[i]);
      n += t.data[i] * t.data[i];
    }
  }
  return std::sqrt(d / n);
}

bool bit_identical(const GradientResult& a, const GradientResult& b) {
  if (a.loss_per_sample != b.loss_per_sample || a.params.size() != b.params.size()) return false;
  for (const auto& [name, t] : a.params) {
    const Tensor<double>& u = b.params.at(name);
    if (std::memcmp(t.data.data(), u.data.data(), t.data.size() * sizeof(double)) != 0) return false;
  }
  for (const auto& [name, t] : a.states) {
    const Tensor<double>& u = b.states.at(name);
    if (std::memcmp(t.data.data(), u.data.data(), t.data.size() * sizeof(double)) != 0) return false;
  }
  return true;
}

Loss classify(const std::string& neuron, int64_t batch, int64_t classes) {
  Loss l;
  l.spec = "{\"neuron\": \"" + neuron + "\", \"loss\": \"cross_entropy\"}";
  l.target = Tensor<double>({batch});
  for (int64_t b = 0; b < batch; ++b) l.target.data[b] = static_cast<double>((3 * b + 1) % classes);
  return l;
}

Loss complete(const Ham& ham, const std::string& neuron, int64_t batch) {
  Loss l;
  l.spec = "{\"neuron\": \"" + neuron + "\", \"loss\": \"squared_error\", \"of\": \"state\", \"reduction\": \"sum\"}";
  const NeuronInfo& n = ham.neurons()[ham.neuron_index(neuron)];
  Shape s{batch};
  s.insert(s.end(), n.shape.begin(), n.shape.end());
  l.target = Tensor<double>(s);
  for (int64_t i = 0; i < l.target.size(); ++i) l.target.data[i] = std::sin(0.37 * static_cast<double>(i));
  l.mask = Tensor<double>(n.shape);
  for (int64_t i = l.mask.size() / 2; i < l.mask.size(); ++i) l.mask.data[i] = 1;  // the hidden half
  return l;
}

// Implicit at the fixed point vs BPTT through a run long enough to forget its start.
void expect_implicit_matches_bptt(Ham& ham, States& initial, const Loss& loss, double dt) {
  GradientOptions o;
  o.method = GradientMethod::Implicit;
  o.steps = 20000;
  o.dt = dt;
  o.tol = 1e-10;
  const GradientResult imp = gradients(ham, initial, loss, o);
  ASSERT_TRUE(imp.converged);
  EXPECT_GT(imp.adjoint_iterations, 1);
  GradientOptions b;
  b.steps = 2 * imp.steps;
  b.dt = dt;
  b.checkpoint_every = 50;  // long runs: keep every 50th state only
  const GradientResult bptt = gradients(ham, initial, loss, b);
  EXPECT_NEAR(imp.loss, bptt.loss, 1e-8 * (1 + std::abs(bptt.loss)));
  EXPECT_LE(relative_difference(imp, bptt), 1e-3) << "implicit after " << imp.steps << " steps, "
                                                  << imp.adjoint_iterations << " adjoint iterations";
  EXPECT_LT(imp.memory_bytes, bptt.memory_bytes);
}

TEST(GradientMethods, ImplicitMatchesBpttOnConvergedReadme) {
  Ham ham = Ham::load(gradtest::variant("examples/models/readme.json", true));
  States s = ham.normal(3, 2);
  s.clamp("input");
  expect_implicit_matches_bptt(ham, s, classify("labels", 3, 8), 0.5);
}

TEST(GradientMethods, ImplicitMatchesBpttOnConvergedDenseAm) {
  Ham ham = Ham::load(gradtest::variant("examples/models/dense_am.json", true));
  States s = ham.normal(2, 4, 0.1);
  const NeuronInfo& img = ham.neurons()[0];
  Tensor<double> clamp(img.shape);
  for (int64_t i = 0; i < clamp.size() / 2; ++i) clamp.data[i] = 1;  // the visible half
  s.clamp(img.name, clamp);
  expect_implicit_matches_bptt(ham, s, complete(ham, img.name, 2), 0.5);
}

TEST(GradientMethods, AdjointThatDoesNotConvergeIsAnError) {
  Ham ham = Ham::load(gradtest::variant("examples/models/readme.json", true));
  States s = ham.normal(2, 2);
  s.clamp("input");
  GradientOptions o;
  o.method = GradientMethod::Implicit;
  o.steps = 5000;
  o.dt = 0.5;
  o.tol = 1e-10;
  o.adjoint_tol = 1e-14;
  o.adjoint_max_iterations = 3;
  try {
    gradients(ham, s, classify("labels", 2, 8), o);
    FAIL() << "expected hamux::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("the adjoint iteration did not converge in 3 iterations"), std::string::npos)
        << e.what();
  }
}

TEST(GradientMethods, ForwardRunThatDoesNotConvergeIsAnErrorForImplicit) {
  Ham ham = Ham::load(gradtest::variant("examples/models/readme.json", true));
  States s = ham.normal(2, 2);
  GradientOptions o;
  o.method = GradientMethod::Implicit;
  o.steps = 3;
  o.tol = 1e-12;
  try {
    gradients(ham, s, classify("labels", 2, 8), o);
    FAIL() << "expected hamux::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("implicit gradients: the forward run did not converge in 3 steps"),
              std::string::npos)
        << e.what();
  }
}

TEST(GradientMethods, CheckpointingRecomputesTheSameStatesBitForBit) {
  for (const char* file : {"examples/models/readme.json", "examples/models/conv.json"}) {
    SCOPED_TRACE(file);
    Ham ham = Ham::load(gradtest::variant(file, false));
    States s = ham.normal(3, 9);
    const std::string last = ham.neurons().back().name;
    const Loss loss = complete(ham, last, 3);
    GradientOptions o;
    o.steps = 23;
    o.state_gradients = true;
    const GradientResult all = gradients(ham, s, loss, o);
    for (int64_t k : {1, 4, 23, 50}) {
      o.checkpoint_every = k;
      const GradientResult c = gradients(ham, s, loss, o);
      EXPECT_TRUE(bit_identical(all, c)) << "checkpoint_every " << k;
      if (k == 4) {
        EXPECT_LT(c.memory_bytes, all.memory_bytes);
      }
    }
  }
}

// GradientOptions::store_residuals (the default) keeps the forward values the backward steps
// read instead of recomputing them: the same gradient (float64, up to rounding), more memory;
// a checkpointed run recomputes the residuals with its segments, bit for bit.
TEST(GradientMethods, StoredResidualsGiveTheGradientOfRecomputingThem) {
  for (const char* file : {"examples/models/dense_am.json", "examples/models/energy_transformer.json",
                           "examples/models/custom_energies.json"}) {
    SCOPED_TRACE(file);
    Ham ham = Ham::load(gradtest::variant(file, true, 1.7));
    States s = ham.normal(3, 11, 0.5);
    const std::string last = ham.neurons().back().name;
    const Loss loss = complete(ham, last, 3);
    GradientOptions o;
    o.steps = 6;
    o.dt = 0.2;
    o.state_gradients = true;
    const GradientResult stored = gradients(ham, s, loss, o);
    o.store_residuals = false;
    const GradientResult recomputed = gradients(ham, s, loss, o);
    EXPECT_NEAR(stored.loss, recomputed.loss, 1e-12 * std::abs(recomputed.loss));
    EXPECT_LE(relative_difference(stored, recomputed), 1e-12);
    EXPECT_GT(stored.memory_bytes, recomputed.memory_bytes);
    o.store_residuals = true;
    o.checkpoint_every = 4;  // segments of 4 and 2 steps
    EXPECT_TRUE(bit_identical(stored, gradients(ham, s, loss, o)));
  }
  // Implicit: the residuals at the fixed point, computed once.
  Ham ham = Ham::load(gradtest::variant("examples/models/dense_am.json", true));
  States s = ham.normal(2, 4, 0.1);
  GradientOptions o;
  o.method = GradientMethod::Implicit;
  o.steps = 20000;
  o.dt = 0.5;
  o.tol = 1e-10;
  const Loss loss = complete(ham, ham.neurons()[0].name, 2);
  const GradientResult stored = gradients(ham, s, loss, o);
  o.store_residuals = false;
  const GradientResult recomputed = gradients(ham, s, loss, o);
  EXPECT_EQ(stored.adjoint_iterations, recomputed.adjoint_iterations);
  EXPECT_LE(relative_difference(stored, recomputed), 1e-10);
}

TEST(GradientMethods, OneTwoAndThreeThreadsAreBitIdentical) {
  for (const char* file : {"examples/models/readme.json", "examples/models/dense_am.json",
                           "examples/models/energy_transformer.json"}) {
    SCOPED_TRACE(file);
    Ham ham = Ham::load(gradtest::variant(file, false));
    // Several blocks, the last one partial (the transformer's blocks are small; dense_am's,
    // whose weights dominate, hold up to 64 samples: 36 + 34 at batch 70).
    const int64_t batch = std::string(file).find("transformer") != std::string::npos ? 9 : 70;
    States s = ham.normal(batch, 5, 0.5);
    const std::string last = ham.neurons().back().name;
    const Loss loss = complete(ham, last, batch);
    GradientOptions o;
    o.steps = 4;
    o.state_gradients = true;
    o.threads = 1;
    const GradientResult one = gradients(ham, s, loss, o);
    for (int t : {2, 3}) {
      o.threads = t;
      EXPECT_TRUE(bit_identical(one, gradients(ham, s, loss, o))) << t << " threads";
    }
  }
}

TEST(GradientMethods, StateGradientsMatchFiniteDifferences) {
  Ham ham = Ham::load(gradtest::variant("examples/models/readme.json", true, 2.0));
  States s = ham.normal(2, 6);
  HandLoss l;
  l.kind = "cross_entropy";
  l.neuron = "labels";
  l.target = Tensor<double>({2}, std::vector<double>{3, 5});
  l.mean = true;
  GradientOptions o;
  o.steps = 5;
  o.state_gradients = true;
  const GradientResult g = gradients(ham, s, l.api(), o);
  const Tensor<double> x0 = s.get("hidden");
  for (int64_t i : {0, 4, 13}) {  // elements of [2, 9]
    const double h = 1e-5;
    auto at = [&](double eps) {
      States p = s.clone();
      Tensor<double> x = x0;
      x.data[i] += eps;
      p.set("hidden", x);
      return gradtest::run_loss(ham, p, l, o.steps, o.dt);
    };
    const double fd = (at(h) - at(-h)) / (2 * h);
    EXPECT_NEAR(g.states.at("hidden").data[i], fd, 1e-7 * (1 + std::abs(fd))) << "element " << i;
  }
}

TEST(GradientMethods, CustomExprLossEqualsTheBuiltinItSpellsOut) {
  Ham ham = Ham::load(gradtest::variant("examples/models/readme.json", true));
  States s = ham.normal(2, 8);
  Loss builtin = complete(ham, "hidden", 2);
  Loss custom = builtin;
  custom.spec = R"({"neuron": "hidden", "of": "state", "reduction": "sum",
      "loss": {"expr": {"inputs": ["y", "t", "m"], "let": {"d": ["sub", "y", "t"]},
                        "value": ["sum", ["mul", "m", ["mul", "d", "d"]]]}}})";
  GradientOptions o;
  o.steps = 3;
  const GradientResult a = gradients(ham, s, builtin, o), b = gradients(ham, s, custom, o);
  EXPECT_NEAR(a.loss, b.loss, 1e-12 * (1 + std::abs(a.loss)));
  EXPECT_LE(relative_difference(b, a), 1e-12);
}

}  // namespace
}  // namespace hamux
