// `hamux check`'s certificate section and --strict; `hamux run --dt auto` and --state-bound.
#include <gtest/gtest.h>

#include <string>

#include "cli/run_hamux.h"

namespace hamux::test {
namespace {

const std::string kModels = HAMUX_MODELS_DIR;
const std::string kLinearBias = std::string(HAMUX_SOURCE_DIR) + "/examples/synapses/linear_bias.json";

std::string section(const std::string& out) {
  const size_t at = out.find("\ncertificate:\n");
  return at == std::string::npos ? "" : out.substr(at + 1);
}

TEST(Certificate, ReadmeIsProved) {
  const RunResult r = run_hamux("check --strict '" + kModels + "/readme.json'");
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string s = section(r.out);
  EXPECT_EQ(s.substr(0, s.find("dt bound: ")),
            "certificate:\n"
            "  neuron  input   convex (proved by rules)\n"
            "  neuron  labels  convex (proved by rules)\n"
            "  neuron  hidden  convex (proved by rules)\n"
            "energy: bounded below: the energy grows like 1/2 |xhat|^2 in the activations of input and every "
            "connection term is at most linear in them\n");
  EXPECT_NE(s.find("verdict: proved (convex Lagrangians, energy bounded below)\n"), std::string::npos) << s;
}

TEST(Certificate, StrictFailsOnAnUnboundedModel) {
  const RunResult plain = run_hamux("check '" + kLinearBias + "'");
  EXPECT_EQ(plain.status, 0) << plain.err;
  const RunResult r = run_hamux("check --strict '" + kLinearBias + "'");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("energy: not bounded below: the energy is a quadratic form in the activations of input, "
                       "feature, which is negative ("),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("verdict: not proved\n"), std::string::npos);
}

TEST(Certificate, StrictFailsOnANonConvexLagrangian) {
  ScratchDir dir;
  const std::string path = dir.path + "/tanh_l.json";
  write_text(path, R"({"hamux": "1", "neurons": {"v": {"shape": [3], "lagrangian":
      {"expr": {"inputs": ["x"], "value": ["sum", ["tanh", "x"]]}}}}})");
  const RunResult r = run_hamux("check --strict '" + path + "'");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("  neuron  v  not convex: counterexample at x = ["), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(": v'Hv = -"), std::string::npos) << r.out;
}

TEST(Certificate, NotProvedIsNotAFailureWithoutStrict) {
  const RunResult r = run_hamux("check '" + kModels + "/custom_energies.json'");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("energy: not proved bounded below: the activation of a is unbounded"), std::string::npos);
  EXPECT_EQ(run_hamux("check --strict '" + kModels + "/custom_energies.json'").status, 1);
}

TEST(Certificate, RunDtAuto) {
  const RunResult r = run_hamux("run '" + kModels + "/readme.json' --dt auto --init normal:1 --steps 50");
  ASSERT_EQ(r.status, 0) << r.err;
  // readme's bound is about 1.9 near standard normal states (check prints it); auto is half.
  const size_t at = r.out.find(", dt ");
  ASSERT_NE(at, std::string::npos) << r.out;
  const double dt = std::stod(r.out.substr(at + 5));
  EXPECT_GT(dt, 0.7);
  EXPECT_LT(dt, 1.2);
}

TEST(Certificate, RunStateBound) {
  const RunResult r = run_hamux("run '" + kLinearBias + "' --steps 400 --state-bound 1e4");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("neuron 'feature', sample 0: state grows without limit (|x| = "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("> state_bound 1e+04) at step "), std::string::npos) << r.err;
  EXPECT_EQ(run_hamux("run '" + kLinearBias + "' --steps 400 --state-bound 0").status, 0);
}

}  // namespace
}  // namespace hamux::test
