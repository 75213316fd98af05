// tests/runtime/run_reference_test.cpp - a readme.json run, step by step, against a loop
// that evaluates the derivation's graphs with the reference interpreter.
//
// The reference is written from the definition: xhat_i = act_i(x_i), then
// x_i -= (dt / tau_i) * dE/dxhat_i for all neurons from the same state, in float32 like
// the model. It shares nothing with the runtime but the derived graphs.
#include <gtest/gtest.h>

#include <cmath>

#include "autodiff/derive.h"
#include "frontend/model.h"
#include "hamux/hamux.h"
#include "interp/interpreter.h"

namespace hamux {
namespace {

TEST(RunReference, ReadmeMatchesInterpreterLoopStepByStep) {
  const std::string path = std::string(HAMUX_MODELS_DIR) + "/readme.json";
  Ham ham = Ham::load(path);
  const Model model = load_model(path);
  const Derivation d = derive(model);
  const auto params = interp::param_values<float>(model);
  const int64_t batch = 3;
  const double dt = 0.1;
  States s = ham.normal(batch, 5);
  s.clamp("input");  // as in the README: the input is given, labels and hidden settle

  std::vector<Tensor<float>> x;
  for (const NeuronDef& n : model.neurons) x.push_back(s.get(n.name).cast<float>());
  const size_t n = x.size();
  RunOptions one;
  one.steps = 1;
  one.dt = dt;
  for (int step = 1; step <= 40; ++step) {
    std::vector<Tensor<float>> xhat = interp::evaluate<float>(d.activation, x, params, batch);
    std::vector<Tensor<float>> in = x;
    in.insert(in.end(), xhat.begin(), xhat.end());
    std::vector<Tensor<float>> u = interp::evaluate<float>(d.update, in, params, batch);
    for (size_t i = 0; i < n; ++i) {
      if (model.neurons[i].name == "input") continue;
      const float rate = static_cast<float>(dt / model.neurons[i].tau);
      for (int64_t e = 0; e < x[i].size(); ++e) x[i][e] -= rate * u[i][e];
    }
    run(ham, s, one);
    for (size_t i = 0; i < n; ++i) {
      const Tensor<double> got = s.get(model.neurons[i].name);
      for (int64_t e = 0; e < got.size(); ++e) {
        ASSERT_NEAR(got[e], x[i][e], 1e-5 * (1 + std::abs(x[i][e])))
            << "step " << step << " neuron " << model.neurons[i].name << " element " << e;
      }
    }
    // The activations the runtime reports are the interpreter's of the same state.
    std::vector<Tensor<float>> xhat_now = interp::evaluate<float>(d.activation, x, params, batch);
    for (size_t i = 0; i < n; ++i) {
      const Tensor<double> a = s.activation(model.neurons[i].name);
      for (int64_t e = 0; e < a.size(); ++e) ASSERT_NEAR(a[e], xhat_now[i][e], 1e-5) << "step " << step;
    }
  }
}

TEST(RunReference, ManyStepsInOneCallEqualOneStepCalls) {
  // Chunking is invisible: 100 steps in one run equal 100 runs of one step, bit for bit.
  Ham ham = Ham::load(std::string(HAMUX_MODELS_DIR) + "/custom_energies.json");
  States a = ham.normal(2, 8), b = a.clone();
  RunOptions o;
  o.steps = 100;
  o.dt = 0.05;
  run(ham, a, o);
  o.steps = 1;
  for (int k = 0; k < 100; ++k) run(ham, b, o);
  for (const NeuronInfo& n : ham.neurons()) EXPECT_EQ(a.get(n.name).data, b.get(n.name).data) << n.name;
}

}  // namespace
}  // namespace hamux
