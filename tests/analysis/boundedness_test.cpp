// The static bounded-below check (analysis/boundedness.h), with closed-form truths.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>

#include "analysis/boundedness.h"
#include "autodiff/derive.h"
#include "frontend/model.h"

namespace hamux::analysis {
namespace {

BoundednessReport bounded(const Model& m) { return check_bounded_below(m, derive(m)); }

// Two identity layers coupled by W = w * ones(2, 2): E = 1/2|a|^2 + 1/2|b|^2 - a'Wb, whose
// quadratic form [[I, -W], [-W', I]] has smallest eigenvalue 1 - 2|w|.
Model coupled(double w, const char* second = "identity") {
  const std::string text = R"({"hamux": "1", "dtype": "float64",
      "params": {"W": {"shape": [2, 2], "init": {"constant": {"value": )" + std::to_string(w) + R"(}}}},
      "neurons": {"a": {"shape": [2], "lagrangian": "identity"}, "b": {"shape": [2], "lagrangian": ")" + second +
                           R"("}},
      "synapses": {"s": {"linear": {"W": "W"}}},
      "connections": [{"neurons": ["a", "b"], "synapse": "s"}]})";
  return parse_model(text, "t.json", ".");
}

TEST(Boundedness, QuadraticFormPositiveDefinite) {
  const BoundednessReport r = bounded(coupled(0.3));
  EXPECT_EQ(r.verdict, Boundedness::Proved);
  // 1 - 2 * 0.3 = 0.4
  const std::string head = "bounded below: the energy is a quadratic form in the activations of a, b, positive definite (smallest eigenvalue 0.4";
  EXPECT_EQ(r.message().substr(0, head.size()), head) << r.message();
}

TEST(Boundedness, QuadraticFormIndefiniteAndReachable) {
  const BoundednessReport r = bounded(coupled(0.8));
  ASSERT_EQ(r.verdict, Boundedness::Unbounded) << r.message();
  // The direction is the eigenvector of 1 - 2w = -0.6: (1, 1, 1, 1)/2 or its negation.
  ASSERT_EQ(r.direction.size(), 4u);
  for (double v : r.direction) EXPECT_NEAR(std::abs(v), 0.5, 1e-9);
  EXPECT_NE(r.message().find("which is negative (-0.6"), std::string::npos) << r.message();
}

TEST(Boundedness, ReluCutsTheUnreachableHalf) {
  // With w < 0 the descending eigenvector has a = -b; relu's b must be >= 0, and the sign
  // of the whole vector is free, so (-1, -1, 1, 1)/2 is reachable: unbounded.
  EXPECT_EQ(bounded(coupled(-0.8, "relu")).verdict, Boundedness::Unbounded);
}

TEST(Boundedness, LinearBiasExample) {
  const Model m = load_model(std::string(HAMUX_SOURCE_DIR) + "/examples/synapses/linear_bias.json");
  const BoundednessReport r = bounded(m);
  EXPECT_EQ(r.verdict, Boundedness::Unbounded) << r.message();
  // Independent truth: the smallest eigenvalue of [[I, -W], [-W', I]] is 1 - sigma_max(W) < 0.
  const Tensor<double>& w = m.params[m.param_index("W")].value;
  Eigen::MatrixXd W = Eigen::Map<const Eigen::Matrix<double, -1, -1, Eigen::RowMajor>>(w.data.data(), 8, 6);
  EXPECT_GT(Eigen::JacobiSVD<Eigen::MatrixXd>(W).singularValues()(0), 1.0);
}

TEST(Boundedness, ContractModels) {
  for (const char* f : {"readme", "dense_am", "classical_hopfield", "energy_transformer", "conv"}) {
    const BoundednessReport r = bounded(load_model(std::string(HAMUX_MODELS_DIR) + "/" + f + ".json"));
    EXPECT_EQ(r.verdict, Boundedness::Proved) << f << ": " << r.message();
  }
  const BoundednessReport r = bounded(load_model(std::string(HAMUX_MODELS_DIR) + "/custom_energies.json"));
  EXPECT_EQ(r.message(),
            "not proved bounded below: the activation of a is unbounded and its energy is not a quadratic form "
            "(checked at run time instead)");
}

}  // namespace
}  // namespace hamux::analysis
