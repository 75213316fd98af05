// tests/step/held_terms_test.cpp - hoist_held_terms (step/held_terms.h): the update graphs
// with the held terms cut out, evaluated with the terms' values, equal the original updates.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <fstream>
#include <sstream>

#include "autodiff/derive.h"
#include "interp/interpreter.h"
#include "step/held_terms.h"
#include "step/step.h"

namespace hamux::codegen {
namespace {

Model load(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_model(ss.str(), path, std::string(HAMUX_MODELS_DIR));
}

// States of `batch` samples, a fixed smooth pattern in [-1, 1] (no zeros, kinks of relu aside).
std::vector<Tensor<double>> states(const Model& m, int64_t batch) {
  std::vector<Tensor<double>> x;
  for (size_t i = 0; i < m.neurons.size(); ++i) {
    Shape s{batch};
    s.insert(s.end(), m.neurons[i].shape.begin(), m.neurons[i].shape.end());
    Tensor<double> t(s);
    for (int64_t e = 0; e < t.size(); ++e) t.data[e] = std::sin(0.37 * static_cast<double>(e) + 1.3 * static_cast<double>(i) + 0.1);
    x.push_back(std::move(t));
  }
  return x;
}

// The updates of the moving neurons, from the original graphs and from the hoisted ones.
void expect_same_updates(const Model& m, const std::vector<bool>& held, size_t* terms = nullptr) {
  const Derivation d = derive(m);
  const HeldTerms h = hoist_held_terms(m, d, held);
  if (terms) *terms = h.terms.size();
  const int64_t batch = 3;
  const auto params = interp::param_values<double>(m);
  std::vector<Tensor<double>> in = states(m, batch);
  const std::vector<Tensor<double>> xhat = interp::evaluate<double>(d.activation, in, params, batch);
  // The terms read the states only (activations substituted): evaluated from x alone.
  const std::vector<Tensor<double>> t =
      h.terms.empty() ? std::vector<Tensor<double>>{} : interp::evaluate<double>(h.terms, in, params, batch);
  in.insert(in.end(), xhat.begin(), xhat.end());
  const std::vector<Tensor<double>> want = interp::evaluate<double>(d.update, in, params, batch);
  in.insert(in.end(), t.begin(), t.end());
  const std::vector<Tensor<double>> got = interp::evaluate<double>(h.update, in, params, batch);
  for (size_t i = 0; i < m.neurons.size(); ++i) {
    if (held[i]) continue;
    ASSERT_EQ(got[i].shape, want[i].shape);
    for (int64_t e = 0; e < want[i].size(); ++e)
      EXPECT_NEAR(got[i].data[e], want[i].data[e], 1e-12 * (1 + std::abs(want[i].data[e])))
          << m.file << " neuron " << m.neurons[i].name << " element " << e;
  }
}

TEST(HeldTerms, TheClassifiersImageContractionIsOneTerm) {
  const Model m = load(std::string(HAMUX_MODELS_DIR) + "/../training/fashion_classifier.json");
  std::vector<bool> held(m.neurons.size(), false);
  const int image = m.neuron_index("image");
  held[image] = true;
  const HeldTerms h = hoist_held_terms(m, derive(m), held);
  ASSERT_EQ(h.terms.size(), 1u);  // W1^T image, read by the memory's update
  const ir::NodePtr& term = h.terms[0];
  EXPECT_EQ(term->shape, m.neurons[m.neuron_index("memory")].shape);
  for (const ir::Node* node : ir::topological_order({term}))
    if (node->op == ir::Op::Input) {
      EXPECT_EQ(node->attrs.index, image);  // x of the image, nothing else
    }
  size_t terms = 0;
  expect_same_updates(m, held, &terms);
  EXPECT_EQ(terms, 1u);
}

// The forward step of hamux::gradients' variant for a held image (its update Const 0, the
// contraction W1^T image hoisted): no stage writes the image's x or xhat, every other
// neuron's are written. With the energy, the activations stay (the energy reads them).
TEST(HeldTerms, AVariantsStepWritesNothingOfTheHeldNeuron) {
  const Model m = load(std::string(HAMUX_MODELS_DIR) + "/../training/fashion_classifier.json");
  std::vector<bool> held(m.neurons.size(), false);
  held[m.neuron_index("image")] = true;
  Derivation d = derive(m);
  const HeldTerms h = hoist_held_terms(m, d, held);
  for (size_t i = 0; i < m.neurons.size(); ++i)
    d.update[i] = held[i] ? ir::constant(0.0, m.dtype, m.neurons[i].shape) : h.update[i];
  auto written = [](const Program& p) {
    std::set<std::string> names;
    for (const auto* list : {&p.body, &p.epilogue})
      for (const Stage& st : *list) names.insert(p.buffers[st.out].name);
    return names;
  };
  const std::set<std::string> plain = written(lower_step(m, d, /*energy=*/false));
  EXPECT_EQ(plain.count("x[image]"), 0u);
  EXPECT_EQ(plain.count("xhat[image]"), 0u);
  for (const char* name : {"x[memory]", "x[labels]", "xhat[memory]", "xhat[labels]"})
    EXPECT_EQ(plain.count(name), 1u) << name;
  EXPECT_EQ(written(lower_step(m, d, /*energy=*/true)).count("xhat[image]"), 1u);
}

TEST(HeldTerms, NothingHeldChangesNothing) {
  const Model m = load(std::string(HAMUX_MODELS_DIR) + "/dense_am.json");
  const Derivation d = derive(m);
  const HeldTerms h = hoist_held_terms(m, d, std::vector<bool>(m.neurons.size(), false));
  EXPECT_TRUE(h.terms.empty());
  for (size_t i = 0; i < m.neurons.size(); ++i) EXPECT_EQ(h.update[i].get(), d.update[i].get());
}

TEST(HeldTerms, EveryContractModelWithAnyOneNeuronHeld) {
  std::vector<std::string> with_terms;
  for (const char* file : {"classical_hopfield.json", "dense_am.json", "conv.json", "custom_energies.json",
                           "energy_transformer.json", "readme.json"}) {
    const Model m = load(std::string(HAMUX_MODELS_DIR) + "/" + file);
    bool any = false;
    for (size_t j = 0; j < m.neurons.size(); ++j) {
      std::vector<bool> held(m.neurons.size(), false);
      held[j] = true;
      size_t terms = 0;
      expect_same_updates(m, held, &terms);
      any = any || terms > 0;
    }
    if (any) with_terms.push_back(file);
  }
  // The models with a contraction of one layer feeding another (the one-layer models have
  // nothing left to move when their neuron is held).
  EXPECT_EQ(with_terms, (std::vector<std::string>{"conv.json", "readme.json"}));
}

}  // namespace
}  // namespace hamux::codegen
