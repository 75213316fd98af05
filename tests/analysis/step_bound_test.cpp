// The dt bound (analysis/step_bound.h) against the largest stable dt found by bisection.
#include <gtest/gtest.h>

#include <cmath>

#include "analysis/step_bound.h"
#include "autodiff/derive.h"
#include "frontend/model.h"
#include "hamux/hamux.h"

namespace hamux {
namespace {

// A run is stable at dt when it stays finite and no step raises any sample's energy
// (beyond float rounding).
bool stable(const Ham& ham, const States& start, double dt) {
  States s = start.clone();
  RunOptions o;
  o.steps = 200;
  o.dt = dt;
  o.record_every = 1;
  try {
    const RunReport r = run(ham, s, o);
    for (size_t t = 1; t < r.trace.size(); ++t)
      for (size_t b = 0; b < r.trace[t].energy.size(); ++b) {
        const double before = r.trace[t - 1].energy[b], after = r.trace[t].energy[b];
        if (!std::isfinite(after) || after > before + 1e-5 * (1 + std::abs(before))) return false;
      }
  } catch (const Error&) {
    return false;
  }
  return true;
}

double bisect_stable_dt(const Ham& ham, const States& start) {
  double lo = 1e-3, hi = 64;
  EXPECT_TRUE(stable(ham, start, lo));
  while (hi / lo > 1.01) {
    const double mid = std::sqrt(lo * hi);
    (stable(ham, start, mid) ? lo : hi) = mid;
  }
  return lo;
}

class StepBoundVsBisection : public testing::TestWithParam<const char*> {};

TEST_P(StepBoundVsBisection, WithinAFactorOfTwo) {
  const std::string path = std::string(HAMUX_MODELS_DIR) + "/" + GetParam() + ".json";
  LoadOptions lo;
  lo.disk_cache = false;
  Ham ham = Ham::load(path, lo);
  States start = ham.normal(4, 3);
  std::vector<Tensor<double>> x;
  for (const NeuronInfo& n : ham.neurons()) x.push_back(start.get(n.name));
  const analysis::StepBound bound = analysis::step_size_bound(ham.model(), derive(ham.model()), x);
  const double measured = bisect_stable_dt(ham, start);
  std::cout << GetParam() << ": bound " << bound.dt << ", bisection " << measured << "\n";
  EXPECT_GT(bound.dt, measured / 2);
  EXPECT_LT(bound.dt, measured * 2);
}

INSTANTIATE_TEST_SUITE_P(ContractModels, StepBoundVsBisection,
                         testing::Values("readme", "dense_am", "classical_hopfield"));

}  // namespace
}  // namespace hamux
