// tests/golden/gradients_golden_test.cpp - hamux::gradients against jax.grad of the hamux
// Python library (tools/golden/make_golden_grads.py): the same loss through the same T-step
// Euler loop, for the six contract models, in the model's dtype, without JAX.
// Tolerance: |hamux - jax| <= 1e-4 * (1 + max |jax|) per param over the stored elements,
// and the same for the gradient's norm and the loss (float32 rounding compounds over T steps).
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>

#include "frontend/model.h"
#include "hamux/gradients.h"
#include "hamux/hamux.h"
#include "hamux/io.h"

namespace {

using hamux::Tensor;

class GoldenGradients : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenGradients, MatchJaxGradThroughTheEulerLoop) {
  const std::string model = GetParam();
  const auto f = hamux::read_npz(std::string(HAMUX_SOURCE_DIR) + "/tests/golden/data/" + model + "_grad.npz");
  auto at = [&](const std::string& k) -> const Tensor<double>& {
    auto it = f.find(k);
    if (it == f.end()) throw std::runtime_error("fixture has no array '" + k + "'");
    return it->second;
  };
  hamux::Ham ham = hamux::Ham::load(std::string(HAMUX_MODELS_DIR) + "/" + model + ".json");
  for (const auto& [key, value] : f)
    if (key.rfind("param/", 0) == 0) ham.set_param(key.substr(6), value);
  const int64_t batch = at("x0/" + ham.neurons()[0].name).shape[0];
  hamux::States s = ham.zeros(batch);
  for (const auto& n : ham.neurons()) s.set(n.name, at("x0/" + n.name));
  hamux::GradientOptions o;
  o.steps = static_cast<int64_t>(at("steps").data[0]);
  o.dt = at("dt").data[0];
  const double rtol = 1e-4;
  int kinds = 0;
  for (const std::string kind : {"squared_error", "cross_entropy"}) {
    if (!f.count("loss/" + kind + "/value")) continue;
    ++kinds;
    SCOPED_TRACE(kind);
    std::string neuron = ham.neurons().back().name;
    if (kind == "cross_entropy")
      for (const auto& n : ham.model().neurons)
        if (n.lagrangian_desc.rfind("softmax", 0) == 0) neuron = n.name;
    hamux::Loss loss;
    loss.spec = "{\"neuron\": \"" + neuron + "\", \"loss\": \"" + kind + "\"}";
    loss.target = at("loss/" + kind + "/target");
    const hamux::GradientResult g = hamux::gradients(ham, s, loss, o);
    const double want = at("loss/" + kind + "/value").data[0];
    EXPECT_NEAR(g.loss, want, rtol * (1 + std::abs(want)));
    for (const std::string& p : ham.param_names()) {
      SCOPED_TRACE("param " + p);
      const Tensor<double>& idx = at("loss/" + kind + "/grad_index/" + p);
      const Tensor<double>& val = at("loss/" + kind + "/grad_value/" + p);
      const Tensor<double>& got = g.params.at(p);
      double scale = 0, worst = 0, norm = 0;
      for (double v : val.data) scale = std::max(scale, std::abs(v));
      for (int64_t i = 0; i < idx.size(); ++i)
        worst = std::max(worst, std::abs(got.data[static_cast<int64_t>(idx.data[i])] - val.data[i]));
      EXPECT_LE(worst, rtol * (1 + scale));
      for (double v : got.data) norm += v * v;
      const double want_norm = at("loss/" + kind + "/grad_norm/" + p).data[0];
      EXPECT_NEAR(std::sqrt(norm), want_norm, rtol * (1 + want_norm));
    }
  }
  EXPECT_GE(kinds, 1);
}

INSTANTIATE_TEST_SUITE_P(ContractModels, GoldenGradients,
                         ::testing::Values("readme", "dense_am", "classical_hopfield", "conv", "custom_energies",
                                           "energy_transformer"));

}  // namespace
