// Cross-check of hamux (JIT runtime, float32 and float64) against the hamux Python library on JAX.
//
// The fixtures in tests/golden/data/ were produced by tools/golden/make_golden.py from the
// Python library (float32, jax.jit): for each contract model, at a seeded batch of states and
// seeded params (stored in the fixture), the energy, the energy tree, the activations, dE/dxhat
// and a 40-step Euler trajectory. This test needs no JAX: it loads the same model with hamux,
// sets the same params and states, and compares.
//
// Tolerances (both sides compute in the model's dtype, in a different order of operations):
//   energies and energy-tree terms at the fixed state: |hamux - jax| <= rtol * scale, where scale
//     is 1 + the sum of the absolute values of the energy tree terms (the size of the numbers
//     that were added); rtol = 1e-5 in float32 (epsilon 1.2e-7: ~100 ulps of the largest term),
//     1e-12 in float64 (epsilon 2.2e-16: ~4500 ulps);
//   activations and dE/dxhat: max |hamux - jax| <= rtol * (1 + max |jax|) per neuron, same rtol;
//   the 40-step trajectory: energies after every step within 10 rtol * scale, and the states after
//     20 and 40 steps within 10 rtol * (1 + max |jax|): rounding differences compound over steps.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include "hamux/hamux.h"
#include "hamux/io.h"

namespace {

using hamux::Tensor;

struct Fixture {
  std::map<std::string, Tensor<double>> a;
  const Tensor<double>& at(const std::string& key) const {
    auto it = a.find(key);
    if (it == a.end()) throw std::runtime_error("fixture has no array '" + key + "'");
    return it->second;
  }
};

Fixture load_fixture(const std::string& model) {
  return {hamux::read_npz(std::string(HAMUX_SOURCE_DIR) + "/tests/golden/data/" + model + ".npz")};
}

// custom_energies is the one float64 contract model; its fixture was made with JAX in float64.
bool is_float64_model(const std::string& model) { return model == "custom_energies"; }

// The relative tolerance at a fixed state (see the top of the file); 10x that for trajectories.
double fixed_state_rtol(const hamux::Ham& ham) { return ham.is_float64() ? 1e-12 : 1e-5; }

hamux::Ham load_ham(const std::string& model, const Fixture& f) {
  hamux::Ham ham = hamux::Ham::load(std::string(HAMUX_MODELS_DIR) + "/" + model + ".json");
  EXPECT_EQ(ham.is_float64(), is_float64_model(model));
  for (const auto& [key, value] : f.a) {
    if (key.rfind("param/", 0) == 0) ham.set_param(key.substr(6), value);
  }
  return ham;
}

hamux::States initial_states(const hamux::Ham& ham, const Fixture& f) {
  const Tensor<double>& first = f.at("x0/" + ham.neurons()[0].name);
  hamux::States s = ham.zeros(first.shape[0]);
  for (const auto& n : ham.neurons()) s.set(n.name, f.at("x0/" + n.name));
  return s;
}

double max_abs(const Tensor<double>& t) {
  double m = 0;
  for (double v : t.data) m = std::max(m, std::fabs(v));
  return m;
}

// max |got - want| <= rtol * (1 + max |want|), element by element, with the worst reported.
void expect_close(const Tensor<double>& got, const Tensor<double>& want, double rtol,
                  const std::string& what) {
  ASSERT_EQ(got.shape, want.shape) << what;
  const double tol = rtol * (1.0 + max_abs(want));
  double worst = 0;
  int64_t at = 0;
  for (int64_t i = 0; i < want.size(); ++i) {
    const double d = std::fabs(got[i] - want[i]);
    if (!(d <= worst)) worst = d, at = i;  // also catches NaN
  }
  EXPECT_LE(worst, tol) << what << ": worst element " << at << ": hamux " << got[at] << ", jax "
                        << want[at];
}

// 1 + the sum over terms of |term| for each sample: the magnitude of what the energy adds up.
std::vector<double> energy_scale(const Fixture& f, int64_t batch) {
  std::vector<double> scale(batch, 1.0);
  for (const auto& [key, value] : f.a) {
    if (key.rfind("tree0/", 0) != 0) continue;
    for (int64_t b = 0; b < batch; ++b) scale[b] += std::fabs(value[b]);
  }
  return scale;
}

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, EnergyTreeAndActivationsAtTheFixedState) {
  const Fixture f = load_fixture(GetParam());
  hamux::Ham ham = load_ham(GetParam(), f);
  hamux::States s = initial_states(ham, f);
  const Tensor<double>& e0 = f.at("energy0");
  const std::vector<double> scale = energy_scale(f, s.batch());
  const double rtol = fixed_state_rtol(ham);

  const std::vector<double> energy = s.energy();
  ASSERT_EQ(static_cast<int64_t>(energy.size()), e0.size());
  for (int64_t b = 0; b < e0.size(); ++b) {
    EXPECT_NEAR(energy[b], e0[b], rtol * scale[b]) << "total energy, sample " << b;
  }

  const hamux::EnergyBreakdown tree = ham.energy_tree(s);
  int terms_in_fixture = 0;
  for (const auto& [key, value] : f.a) terms_in_fixture += key.rfind("tree0/", 0) == 0;
  ASSERT_EQ(static_cast<int>(tree.terms.size()), terms_in_fixture);
  for (size_t t = 0; t < tree.terms.size(); ++t) {
    const Tensor<double>& want = f.at("tree0/" + tree.terms[t]);
    for (int64_t b = 0; b < want.size(); ++b) {
      EXPECT_NEAR(tree.values[t][b], want[b], rtol * scale[b]) << tree.terms[t] << ", sample " << b;
    }
  }

  for (const auto& n : ham.neurons()) {
    expect_close(s.activation(n.name), f.at("xhat0/" + n.name), rtol, "xhat of " + n.name);
  }
}

TEST_P(Golden, GradientOfTheEnergyWithRespectToTheActivations) {
  const Fixture f = load_fixture(GetParam());
  hamux::Ham ham = load_ham(GetParam(), f);
  hamux::States s = initial_states(ham, f);
  // One Euler step with dt = 1 moves x by -(1 / tau) dE/dxhat: dE/dxhat = tau (x0 - x1).
  // With dt = 1 the step is as large as the gradient, so the float32 rounding of x1 costs
  // only an ulp of x0 in the recovered gradient.
  hamux::RunOptions o;
  o.steps = 1;
  o.dt = 1.0;
  hamux::run(ham, s, o);
  for (const auto& n : ham.neurons()) {
    const Tensor<double>& x0 = f.at("x0/" + n.name);
    Tensor<double> g = s.get(n.name);
    for (int64_t i = 0; i < g.size(); ++i) g[i] = n.tau * (x0[i] - g[i]);
    expect_close(g, f.at("dEdxhat0/" + n.name), fixed_state_rtol(ham), "dE/dxhat of " + n.name);
  }
}

TEST_P(Golden, FortyStepEulerTrajectory) {
  const Fixture f = load_fixture(GetParam());
  hamux::Ham ham = load_ham(GetParam(), f);
  hamux::States s = initial_states(ham, f);
  const Tensor<double>& traj = f.at("trajectory_energy");  // [41, batch]
  const int64_t batch = s.batch();
  ASSERT_EQ(traj.shape, (hamux::Shape{41, batch}));
  const std::vector<double> scale = energy_scale(f, batch);
  const double rtol = 10 * fixed_state_rtol(ham);

  hamux::RunOptions o;
  o.steps = 20;
  o.dt = f.at("dt")[0];
  o.record_every = 1;
  for (int half = 0; half < 2; ++half) {
    const hamux::RunReport r = hamux::run(ham, s, o);
    ASSERT_EQ(r.steps, 20);
    ASSERT_EQ(r.trace.size(), 21u);
    for (const hamux::TraceRow& row : r.trace) {
      const int64_t step = 20 * half + row.step;
      for (int64_t b = 0; b < batch; ++b) {
        EXPECT_NEAR(row.energy[b], traj[step * batch + b], rtol * scale[b])
            << "energy at step " << step << ", sample " << b;
      }
    }
    const std::string key = half == 0 ? "x20/" : "x40/";
    for (const auto& n : ham.neurons()) {
      expect_close(s.get(n.name), f.at(key + n.name), rtol, "state " + key + n.name);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(ContractModels, Golden,
                         ::testing::Values("readme", "dense_am", "classical_hopfield", "conv",
                                           "custom_energies", "energy_transformer"));

}  // namespace
