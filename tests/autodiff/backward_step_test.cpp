// tests/autodiff/backward_step_test.cpp - the forward residuals of derive_backward_step:
// which values become inputs, and that the backward step reading them is the one that
// recomputes them (the interpreter, float64).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <unordered_set>

#include "autodiff/backward_step.h"
#include "autodiff/derive.h"
#include "frontend/model.h"
#include "graph/printer.h"
#include "interp/interpreter.h"
#include "test_data.h"

namespace hamux {
namespace {

using ir::NodePtr;

class BackwardResiduals : public ::testing::TestWithParam<std::string> {};

// Every residual is a node of the update graphs themselves (the step kernel that lowers them
// writes it out rather than computing it twice), holds a contraction and is not a leaf.
TEST_P(BackwardResiduals, AreNodesOfTheUpdateGraphsThatHoldAContraction) {
  const Model m = load_model(test_data::contract_model_path(GetParam()));
  const Derivation d = derive(m);
  const autodiff::BackwardStep b = autodiff::derive_backward_step(m, d, {}, true);
  std::unordered_set<const ir::Node*> forward;
  for (const ir::Node* node : ir::topological_order(d.update)) forward.insert(node);
  for (const NodePtr& r : b.residuals) {
    EXPECT_TRUE(forward.count(r.get())) << ir::to_string(r);
    bool contraction = false;
    for (const ir::Node* node : ir::topological_order({r})) contraction |= ir::is_contraction(node->op);
    EXPECT_TRUE(contraction) << ir::to_string(r);
  }
  // Without store_residuals, nothing is stored and no graph reads an input past 2n.
  const autodiff::BackwardStep plain = autodiff::derive_backward_step(m, d, {}, false);
  EXPECT_TRUE(plain.residuals.empty());
  std::vector<NodePtr> all = plain.state_adjoint;
  all.insert(all.end(), plain.param_grad.begin(), plain.param_grad.end());
  for (const ir::Node* node : ir::topological_order(all))
    if (node->op == ir::Op::Input) EXPECT_LT(node->attrs.index, static_cast<int>(2 * m.neurons.size()));
}

// The backward step with the residuals bound to their values at x (computed from x and
// xhat = activations(x), as the forward step does) equals the one that recomputes them.
TEST_P(BackwardResiduals, ReadingThemGivesTheBackwardStepThatRecomputesThem) {
  const Model m = load_model(test_data::contract_model_path(GetParam()));
  const Derivation d = derive(m);
  const size_t n = m.neurons.size();
  const autodiff::BackwardStep stored = autodiff::derive_backward_step(m, d, {}, true);
  const autodiff::BackwardStep plain = autodiff::derive_backward_step(m, d, {}, false);
  const int64_t batch = 2;
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal(0.0, 0.7);
  interp::ParamValues<double> params = interp::param_values<double>(m);
  std::vector<Tensor<double>> x, a;
  for (size_t i = 0; i < n; ++i) {
    Shape s{batch};
    s.insert(s.end(), m.neurons[i].shape.begin(), m.neurons[i].shape.end());
    Tensor<double> xi(s), ai(s), r(m.neurons[i].shape);
    for (double& v : xi.data) v = normal(rng);
    for (double& v : ai.data) v = normal(rng);
    for (double& v : r.data) v = 0.05 + 0.1 * std::abs(normal(rng));
    x.push_back(xi);
    a.push_back(ai);
    params[autodiff::rate_param(m.neurons[i].name)] = r;
  }
  // xhat = activations(x); the update graphs (and the residuals) read x_i at i, xhat_i at n + i.
  std::vector<Tensor<double>> forward_in = x;
  for (const Tensor<double>& t : interp::evaluate<double>(d.activation, x, params, batch)) forward_in.push_back(t);
  std::vector<Tensor<double>> backward_in = x;
  backward_in.insert(backward_in.end(), a.begin(), a.end());
  const std::vector<Tensor<double>> want_in = backward_in;
  if (!stored.residuals.empty())
    for (const Tensor<double>& t : interp::evaluate<double>(stored.residuals, forward_in, params, batch))
      backward_in.push_back(t);
  auto outputs = [](const autodiff::BackwardStep& b) {
    std::vector<NodePtr> all = b.state_adjoint;
    all.insert(all.end(), b.param_grad.begin(), b.param_grad.end());
    return all;
  };
  const std::vector<Tensor<double>> got = interp::evaluate<double>(outputs(stored), backward_in, params, batch);
  const std::vector<Tensor<double>> want = interp::evaluate<double>(outputs(plain), want_in, params, batch);
  ASSERT_EQ(got.size(), want.size());
  for (size_t k = 0; k < got.size(); ++k) {
    double diff = 0, size = 0;
    for (int64_t e = 0; e < want[k].size(); ++e) {
      diff = std::max(diff, std::abs(got[k].data[e] - want[k].data[e]));
      size = std::max(size, std::abs(want[k].data[e]));
    }
    EXPECT_LE(diff, 1e-12 * std::max(1.0, size)) << "output " << k;
  }
}

INSTANTIATE_TEST_SUITE_P(ContractModels, BackwardResiduals, ::testing::ValuesIn(test_data::contract_model_names()),
                         [](const auto& info) { return info.param.substr(0, info.param.find('.')); });

// What the analysis finds on the models whose backward step reads a forward contraction:
// dense_am the softmax of its scores and nothing else (the gradient of the logsumexp
// rebuilds that softmax, matched to the forward node); the readme's and the classical
// Hopfield network's second derivatives read activations only.
TEST(BackwardResidualsFound, DenseAmStoresItsSoftmaxAlone) {
  auto residuals = [](const std::string& name) {
    const Model m = load_model(test_data::contract_model_path(name));
    return autodiff::derive_backward_step(m, derive(m), {}, true).residuals;
  };
  const std::vector<NodePtr> dense = residuals("dense_am.json");
  ASSERT_EQ(dense.size(), 1u);
  EXPECT_EQ(ir::to_string(dense[0]), "softmax(xhat[image] @ Xi, axis=0)");
  EXPECT_TRUE(residuals("readme.json").empty());
  EXPECT_TRUE(residuals("classical_hopfield.json").empty());
  EXPECT_FALSE(residuals("energy_transformer.json").empty());
}

// A residual never reads a held neuron: the forward step of a run with held neurons computes
// those contractions once, as held terms, under other nodes.
TEST(BackwardResidualsFound, NoneReadsAHeldNeuron) {
  const Model m = load_model(test_data::contract_model_path("custom_energies.json"));
  const Derivation d = derive(m);
  ASSERT_FALSE(autodiff::derive_backward_step(m, d, {}, true).residuals.empty());
  std::vector<bool> held(m.neurons.size(), false);
  held[0] = true;
  for (const NodePtr& r : autodiff::derive_backward_step(m, d, held, true).residuals)
    for (const ir::Node* node : ir::topological_order({r}))
      if (node->op == ir::Op::Input) EXPECT_NE(node->attrs.index % static_cast<int>(m.neurons.size()), 0) << ir::to_string(r);
}

}  // namespace
}  // namespace hamux
