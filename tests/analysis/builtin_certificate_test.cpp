// Every builtin Lagrangian is certified convex: by the curvature rules, or (rexp) by the
// proof its stdlib definition carries; the proof is checked numerically too. Arguments
// that make a builtin non-convex are caught.
#include <gtest/gtest.h>

#include <sstream>

#include "analysis/certificate.h"
#include "analysis_testing.h"
#include "frontend/stdlib.h"
#include "interp/interpreter.h"

namespace hamux::analysis {
namespace {

std::vector<std::string> builtin_names() {
  std::vector<std::string> names;
  std::stringstream ss(frontend::lagrangian_names());
  std::string n;
  while (std::getline(ss, n, ',')) names.push_back(n.substr(n.find_first_not_of(' ')));
  return names;
}

TEST(BuiltinCertificates, EveryBuiltinIsCertified) {
  const std::vector<std::string> names = builtin_names();
  ASSERT_EQ(names.size(), 11u);
  for (const std::string& name : names) {
    for (const char* shape : {"[5]", "[2, 3]"}) {
      const Model m = testing_util::one_neuron("\"" + name + "\"", shape);
      const NeuronCertificate c = certify_neuron(m, 0);
      const Convexity expected = name == "rexp" ? Convexity::StdlibProof : Convexity::ProvedByRules;
      EXPECT_EQ(c.verdict, expected) << name << ": " << c.text();
      EXPECT_EQ(c.text(), name == "rexp" ? "convex (stdlib proof)" : "convex (proved by rules)") << name;
    }
  }
}

TEST(BuiltinCertificates, OnlyRexpNeedsAProofAndItsProofHoldsNumerically) {
  for (const std::string& name : builtin_names()) {
    const frontend::Definition* d = frontend::find_lagrangian(name);
    EXPECT_EQ(d->convexity_proof.empty(), name != "rexp") << name;
    const Model m = testing_util::one_neuron("\"" + name + "\"");
    // The rules cannot see rexp; the numeric search must not contradict its proof.
    if (name == "rexp") {
      EXPECT_EQ(analyze_curvature(m.neurons[0].lagrangian).message(),
                "not DCP: sub of a convex and a convex operand in exp(1 * relu(x)) - 1 * relu(x)");
    }
    SearchOptions o;
    o.samples = 40;
    const CounterexampleSearch s = find_nonconvexity(m.neurons[0].lagrangian, interp::param_values<double>(m), o);
    EXPECT_FALSE(s.found) << name << ": " << s.message();
    EXPECT_EQ(s.message(), "no counterexample in 40 samples");
  }
}

TEST(BuiltinCertificates, WithBiasAndArguments) {
  // A bias shifts the argument (affine): still certified.
  const std::string text = R"({"hamux": "1", "dtype": "float64", "params": {"b": {"shape": [4], "init": {"normal": {"std": 1.0}}}},
      "neurons": {"n": {"shape": [4], "lagrangian": {"softmax": {"beta": 3}}, "bias": "b"}}})";
  EXPECT_EQ(certify_neuron(parse_model(text, "t.json", "."), 0).verdict, Convexity::ProvedByRules);
  EXPECT_EQ(certify_neuron(testing_util::one_neuron(R"({"repu": {"n": 3.5}})"), 0).verdict, Convexity::ProvedByRules);
  EXPECT_EQ(certify_neuron(testing_util::one_neuron(R"({"layernorm": {"gamma": 2, "delta": -1}})"), 0).verdict,
            Convexity::ProvedByRules);
}

TEST(BuiltinCertificates, NegativeScalesAreNotConvex) {
  for (const char* spec : {R"({"sigmoid": {"scale": -1}})", R"({"layernorm": {"gamma": -1}})",
                           R"({"spherical_norm": {"gamma": -0.5}})"}) {
    const NeuronCertificate c = certify_neuron(testing_util::one_neuron(spec), 0);
    EXPECT_EQ(c.verdict, Convexity::NotConvex) << spec << ": " << c.text();
    EXPECT_EQ(c.text().substr(0, 34), "not convex: counterexample at x = ") << spec;
  }
}

}  // namespace
}  // namespace hamux::analysis
