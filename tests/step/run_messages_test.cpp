// The run loop's messages (step/run_messages.h), the one source of hamux::run's stops and of the
// AOT checked run's: exact texts from the formats, and the synapse hint of each kind of neuron.
#include <gtest/gtest.h>

#include "frontend/model.h"
#include "step/run_messages.h"

namespace hamux::run_messages {
namespace {

TEST(RunMessages, ExactTexts) {
  EXPECT_EQ(state_not_finite("v", 2, true, 17), "neuron 'v', sample 2: state is nan at step 17 (try a smaller dt)");
  EXPECT_EQ(state_not_finite("labels", 1, false, 0), "neuron 'labels', sample 1: state is inf at step 0");
  EXPECT_EQ(state_bound("h", 0, 1.0834e8, 1e8, 212, "HINT"),
            "neuron 'h', sample 0: state grows without limit (|x| = 1.08e+08 > state_bound 1e+08) at step 212; either "
            "dt is too large (try a smaller dt; hamux check estimates the largest stable one) or the energy is not "
            "bounded below: HINT");
  EXPECT_EQ(energy_not_finite(0, false, 3, "neuron h"), "sample 0: energy is inf at step 3 (neuron h is not finite; try a smaller dt)");
  EXPECT_EQ(energy_not_finite(1, true, 0, kEnergyTotal), "sample 1: energy is nan at step 0 (the total is not finite)");
  EXPECT_EQ(guard_failed(0, 5, 0.1 / (1 << 20)), "energy guard: the energy of sample 0 still increases at step 5 with dt 0.000000");
  EXPECT_EQ(bad_steps(-1), "steps must be >= 0, got -1");
  EXPECT_EQ(bad_dt(0), "dt must be a positive number, got 0.000000");
  EXPECT_EQ(bad_state_bound(-1), "state_bound must be >= 0 (0: no check), got -1.000000");
  // %f is std::to_string(double)'s conversion: the texts the runtime wrote before, unchanged.
  EXPECT_EQ(bad_dt(-0.25), "dt must be a positive number, got " + std::to_string(-0.25));
}

TEST(RunMessages, SynapseHintNamesEveryConnection) {
  const Model m = load_model(std::string(HAMUX_MODELS_DIR) + "/readme.json");
  EXPECT_EQ(synapse_hint(m, m.neuron_index("input")),
            "check synapse 'dense1' (linear(W=W1)): its couplings may be too strong for the Lagrangians' curvature (see "
            "hamux check)");
  EXPECT_EQ(synapse_hint(m, m.neuron_index("hidden")),
            "check synapse 'dense1' (linear(W=W1)), 'dense2' (linear(W=W2)): its couplings may be too strong for the "
            "Lagrangians' curvature (see hamux check)");
}

}  // namespace
}  // namespace hamux::run_messages
