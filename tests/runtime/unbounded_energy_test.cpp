// The run-time check of unbounded energies (RunOptions::state_bound): linear_bias.json,
// whose couplings beat its Lagrangians' curvature, stops with the error naming the neuron,
// the step and the synapse; every contract model runs undisturbed.
#include <gtest/gtest.h>

#include <cmath>

#include "hamux/hamux.h"

namespace hamux {
namespace {

const std::string kLinearBias = std::string(HAMUX_SOURCE_DIR) + "/examples/synapses/linear_bias.json";

std::string error_of(const Ham& ham, States& s, const RunOptions& o) {
  try {
    run(ham, s, o);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(UnboundedEnergy, LinearBiasStopsWithTheError) {
  Ham ham = Ham::load(kLinearBias);
  States s = ham.zeros(1);
  RunOptions o;
  o.steps = 400;
  o.dt = 0.1;
  const std::string msg = error_of(ham, s, o);
  const std::string head = kLinearBias + ": neuron 'feature', sample 0: state grows without limit (|x| = ";
  const std::string tail =
      " > state_bound 1e+08) at step 212; either dt is too large (try a smaller dt; hamux check estimates the "
      "largest stable one) or the energy is not bounded below: check synapse 'wb' "
      "(linear_bias(W=W, b=b)): its couplings may be too strong for the Lagrangians' curvature (see hamux check)";
  ASSERT_GE(msg.size(), head.size() + tail.size()) << msg;
  EXPECT_EQ(msg.substr(0, head.size()), head);
  EXPECT_EQ(msg.substr(msg.size() - tail.size()), tail);
  // The states are those of the step named: past the bound, still finite.
  const Tensor<double> f = s.get("feature");
  double m = 0;
  for (double v : f.data) m = std::max(m, std::abs(v));
  EXPECT_GT(m, 1e8);
  EXPECT_TRUE(std::isfinite(m));
}

TEST(UnboundedEnergy, SameStepWhenCheckedEveryStep) {
  // With tol > 0 the loop takes one step per call; the step named must not change.
  Ham ham = Ham::load(kLinearBias);
  States s = ham.zeros(1);
  RunOptions o;
  o.steps = 400;
  o.dt = 0.1;
  o.tol = 1e-12;
  EXPECT_NE(error_of(ham, s, o).find("at step 212;"), std::string::npos);
}

TEST(UnboundedEnergy, ThresholdIsConfigurable) {
  Ham ham = Ham::load(kLinearBias);
  States s = ham.zeros(1);
  RunOptions o;
  o.steps = 400;
  o.dt = 0.1;
  o.state_bound = 1e4;
  const std::string msg = error_of(ham, s, o);
  EXPECT_NE(msg.find("> state_bound 1e+04) at step "), std::string::npos) << msg;
  // 0 turns the check off: the run goes on to the (huge, negative) end.
  States s2 = ham.zeros(1);
  o.state_bound = 0;
  EXPECT_EQ(error_of(ham, s2, o), "no error");
  EXPECT_LT(s2.energy()[0], -1e20);
  o.state_bound = -1;
  EXPECT_EQ(error_of(ham, s2, o), kLinearBias + ": state_bound must be >= 0 (0: no check), got -1.000000");
}

class ContractModelsUndisturbed : public testing::TestWithParam<const char*> {};

TEST_P(ContractModelsUndisturbed, FourHundredStepsNoError) {
  Ham ham = Ham::load(std::string(HAMUX_MODELS_DIR) + "/" + GetParam() + ".json");
  for (uint64_t seed : {0, 1}) {
    States s = seed == 0 ? ham.zeros(2) : ham.normal(2, seed);
    RunOptions o;
    o.steps = 400;
    o.dt = 0.1;
    EXPECT_EQ(error_of(ham, s, o), "no error") << GetParam();
  }
}

INSTANTIATE_TEST_SUITE_P(All, ContractModelsUndisturbed,
                         testing::Values("readme", "dense_am", "classical_hopfield", "custom_energies", "conv",
                                         "energy_transformer"));

}  // namespace
}  // namespace hamux
