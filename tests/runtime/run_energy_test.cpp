// tests/runtime/run_energy_test.cpp - the dynamics descend the energy, for every contract model.
//
// A HAM's energy is a Lyapunov function of tau dx/dt = -dE/dxhat; the Euler steps must
// keep it non-increasing at the step sizes users run (dt 0.01 and 0.1), for one sample
// and for a batch, from random starts. The recorded energies come from the compiled
// kernel; the last one is checked against the reference interpreter's energy tree.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "hamux/hamux.h"

namespace hamux {
namespace {

const char* const kModels[] = {"readme.json", "custom_energies.json", "classical_hopfield.json",
                               "dense_am.json", "conv.json", "energy_transformer.json"};

std::string model_path(const std::string& file) { return std::string(HAMUX_MODELS_DIR) + "/" + file; }

TEST(RunEnergy, NonIncreasingForEveryContractModel) {
  for (const char* file : kModels) {
    Ham ham = Ham::load(model_path(file));
    const double rel = ham.is_float64() ? 1e-12 : 2e-6;  // rounding of one energy evaluation
    for (double dt : {0.01, 0.1}) {
      for (int64_t batch : {1, 3}) {
        States s = ham.normal(batch, 11);
        RunOptions o;
        o.steps = 100;
        o.dt = dt;
        o.record_every = 1;
        const RunReport r = run(ham, s, o);
        const std::string what = std::string(file) + " dt " + std::to_string(dt) + " batch " + std::to_string(batch);
        ASSERT_EQ(r.steps, 100) << what;
        ASSERT_EQ(r.trace.size(), 101u) << what;
        for (int64_t b = 0; b < batch; ++b) {
          for (size_t k = 1; k < r.trace.size(); ++k) {
            const double before = r.trace[k - 1].energy[b], after = r.trace[k].energy[b];
            ASSERT_LE(after, before + rel * (1 + std::abs(before)))
                << what << " sample " << b << " step " << r.trace[k].step;
          }
          // It does descend (not a frozen state).
          EXPECT_LT(r.trace.back().energy[b], r.trace.front().energy[b]) << what << " sample " << b;
        }
        // The kernel's energy of the final state agrees with the interpreter's tree.
        const EnergyBreakdown tree = ham.energy_tree(s);
        for (int64_t b = 0; b < batch; ++b) {
          EXPECT_NEAR(r.trace.back().energy[b], tree.total[b], (ham.is_float64() ? 1e-9 : 1e-3) * (1 + std::abs(tree.total[b])))
              << what << " sample " << b;
        }
      }
    }
  }
}

}  // namespace
}  // namespace hamux
