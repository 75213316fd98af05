// Non-convex custom Lagrangians are rejected with a counterexample whose Hessian value
// v'H(x)v is checked against float64 central second differences of L along v.
#include <gtest/gtest.h>

#include <cmath>

#include "analysis/certificate.h"
#include "analysis_testing.h"
#include "interp/interpreter.h"

namespace hamux::analysis {
namespace {

double lagrangian_at(const Model& m, const std::vector<double>& x) {
  Shape s = {1};
  s.insert(s.end(), m.neurons[0].shape.begin(), m.neurons[0].shape.end());
  return interp::evaluate<double>({m.neurons[0].lagrangian}, {Tensor<double>(s, x)}, interp::param_values<double>(m),
                                  1)[0][0];
}

// (L(x + h v) - 2 L(x) + L(x - h v)) / h^2
double second_difference(const Model& m, const std::vector<double>& x, const std::vector<double>& v, double h) {
  std::vector<double> plus = x, minus = x;
  for (size_t i = 0; i < x.size(); ++i) {
    plus[i] += h * v[i];
    minus[i] -= h * v[i];
  }
  return (lagrangian_at(m, plus) - 2 * lagrangian_at(m, x) + lagrangian_at(m, minus)) / (h * h);
}

struct NonConvex {
  const char* spec;
  const char* not_dcp;  // what the rules say
};

const NonConvex kCases[] = {
    {R"({"expr": {"inputs": ["x"], "value": ["sum", ["tanh", "x"]]}})",
     "not proved: tanh of an argument of unknown sign (convex only for x <= 0, concave only for x >= 0) in tanh(x)"},
    {R"({"expr": {"inputs": ["x"], "value": ["sub", ["sum", ["exp", "x"]], ["mul", 2, ["sum", ["square", "x"]]]]}})",
     "not proved: sub of a convex and a convex operand in sum(exp(x)) - 2 * sum(x * x)"},
};

void check_rejected(const std::string& spec, const std::string& rules_message) {
  const Model m = testing_util::one_neuron(spec);
  const NeuronCertificate c = certify_neuron(m, 0);
  ASSERT_EQ(c.verdict, Convexity::NotConvex) << spec << ": " << c.text();
  if (!rules_message.empty()) {
    EXPECT_EQ("not proved: " + c.rules.reason + " in " + c.rules.culprit, rules_message);
  }
  const Counterexample& ce = *c.search->found;
  EXPECT_LT(ce.value, 0);
  double norm = 0;
  for (double v : ce.direction) norm += v * v;
  EXPECT_NEAR(norm, 1.0, 1e-12);
  const double fd = second_difference(m, ce.point, ce.direction, 1e-4);
  EXPECT_NEAR(ce.value, fd, 1e-5 * (1 + std::abs(fd))) << spec;
  EXPECT_EQ(c.text().substr(0, 34), "not convex: counterexample at x = ");
  EXPECT_NE(c.text().find(": v'Hv = -"), std::string::npos) << c.text();
}

TEST(Counterexamples, TanhLagrangian) { check_rejected(kCases[0].spec, kCases[0].not_dcp); }

TEST(Counterexamples, ExpMinusSquares) { check_rejected(kCases[1].spec, kCases[1].not_dcp); }

TEST(Counterexamples, IndefiniteQuadraticForm) {
  // L = x0 x1 - 0.1 sum(x^2) ... written as an einsum with a constant matrix param.
  const std::string text = R"({"hamux": "1", "dtype": "float64", "seed": 3,
      "params": {"A": {"shape": [5, 5], "init": {"normal": {"std": 1.0}}}},
      "neurons": {"n": {"shape": [5], "lagrangian": {"expr": {"inputs": ["x"],
          "value": ["einsum", "x", "A", "x", {"spec": "i,ij,j->"}]}}}}})";
  const Model m = parse_model(text, "t.json", ".");
  const NeuronCertificate c = certify_neuron(m, 0);
  ASSERT_EQ(c.verdict, Convexity::NotConvex) << c.text();
  EXPECT_EQ(c.rules.reason + " in " + c.rules.culprit,
            "the product of non-constant operands in einsum i,ij,j-> in einsum(\"i,ij,j->\", x, A, x)");
  const Counterexample& ce = *c.search->found;
  EXPECT_NEAR(ce.value, second_difference(m, ce.point, ce.direction, 1e-3), 1e-6);
  // The quadratic form's Hessian is A + A': the smallest eigenvalue is found exactly.
  const Tensor<double>& a = m.params[0].value;
  double vhv = 0;
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 5; ++j) vhv += ce.direction[i] * (a[i * 5 + j] + a[j * 5 + i]) * ce.direction[j];
  EXPECT_NEAR(ce.value, vhv, 1e-9);
}

TEST(Counterexamples, ConvexCustomIsNotRefuted) {
  // Convex but not DCP: the search finds nothing, the verdict stays "not proved".
  const NeuronCertificate c = certify_neuron(
      testing_util::one_neuron(R"({"expr": {"inputs": ["x"], "value": ["log", ["sum", ["exp", "x"]]]}})"), 0);
  EXPECT_EQ(c.verdict, Convexity::NotProved);
  EXPECT_EQ(c.text(),
            "not proved: log (concave, nondecreasing) of a convex argument in log(sum(exp(x))); "
            "no counterexample in 24 samples");
}

}  // namespace
}  // namespace hamux::analysis
