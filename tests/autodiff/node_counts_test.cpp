// tests/autodiff/node_counts_test.cpp - derived graphs stay linear in the primal size.
//
// Also prints the node-count table of docs/autodiff.md (run the binary with
// --gtest_filter='NodeCounts.*' to regenerate it).
#include <filesystem>
#include <iostream>

#include "autodiff/derive.h"
#include "autodiff/derive_raw.h"
#include "autodiff/fd_check.h"
#include "frontend/model.h"
#include "test_data.h"

namespace hamux {
namespace {

using ir::NodePtr;
using ir::Op;

// A random DAG of `depth` layers over x [3]: layer k combines layer k-1 with a random
// earlier layer, so every layer is used many times (a tree expansion would be exponential).
NodePtr random_dag(const NodePtr& x, int depth, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<NodePtr> layers{x, ir::unary(Op::Tanh, x)};
  for (int k = 0; k < depth; ++k) {
    const NodePtr& a = layers.back();
    const NodePtr& b = layers[std::uniform_int_distribution<size_t>(0, layers.size() - 1)(rng)];
    NodePtr next;
    switch (rng() % 6) {
      case 0: next = ir::unary(Op::Tanh, ir::add(a, b)); break;
      case 1: next = ir::mul(a, b); break;
      case 2: next = ir::unary(Op::Sigmoid, ir::sub(a, b)); break;
      case 3: next = ir::softmax(ir::add(a, b), 0); break;
      case 4: next = ir::unary(Op::LogCosh, ir::mul(ir::scalar_like(0.5, a), ir::add(a, b))); break;
      default: next = ir::unary(Op::Tanh, ir::mul(a, b)); break;
    }
    layers.push_back(next);
  }
  return ir::sum_all(layers.back());
}

struct Counts {
  size_t primal, raw, simplified;
};

Counts dag_counts(int depth) {
  NodePtr x = ir::input(0, "x", {3}, ir::DType::F64);
  NodePtr y = random_dag(x, depth, 1234);
  NodePtr g = autodiff::grad(y, {x})[0];
  return {passes::node_count({y}), passes::node_count({g}), passes::node_count({passes::simplify(g)})};
}

TEST(NodeCounts, GradientOfDeepRandomDagIsLinearInItsSize) {
  for (int depth : {200, 400, 800, 1600}) {
    SCOPED_TRACE("depth " + std::to_string(depth));
    Counts c = dag_counts(depth);
    EXPECT_GE(c.primal, static_cast<size_t>(depth));
    // Each primal node contributes a bounded number of VJP nodes.
    EXPECT_LE(c.raw, 8 * c.primal);
    EXPECT_LE(c.simplified, c.raw);
  }
  // Doubling the depth roughly doubles the gradient (no super-linear growth).
  Counts a = dag_counts(400), b = dag_counts(1600);
  EXPECT_LT(static_cast<double>(b.raw) / a.raw, 4.5);
}

TEST(NodeCounts, GradientOfARandomDagMatchesFiniteDifferences) {
  NodePtr x = ir::input(0, "x", {3}, ir::DType::F64);
  NodePtr y = random_dag(x, 40, 99);
  std::mt19937_64 rng(3);
  fdcheck::expect_gradients_match_fd(y, {x}, {fdcheck::random_tensor({3}, rng, -1, 1)});
}

std::vector<NodePtr> all_graphs(const Derivation& d) {
  std::vector<NodePtr> r;
  for (const auto* list : {&d.activation, &d.update, &d.neuron_energy, &d.connection_energy})
    r.insert(r.end(), list->begin(), list->end());
  r.push_back(d.total_energy);
  return r;
}

// derive() simplifies each neuron's and each connection's graphs on their own before the
// whole (so that large models load in near-linear time, issue 19): that must find every
// simplification that one simplify() over all the unsimplified graphs finds, and compute the
// same values.
TEST(NodeCounts, SimplifyingThePiecesFirstLosesNothing) {
  std::vector<std::string> files = test_data::contract_model_paths();
  for (const auto& e : std::filesystem::directory_iterator(std::string(HAMUX_SOURCE_DIR) + "/examples/synapses"))
    if (e.path().extension() == ".json") files.push_back(e.path().string());
  ASSERT_GT(files.size(), test_data::contract_model_paths().size());
  for (const std::string& f : files) {
    SCOPED_TRACE(f);
    Model m = load_model(f);
    Derivation pieces = derive(m);
    std::vector<NodePtr> raw = all_graphs(derive_unsimplified(m));
    std::vector<NodePtr> at_once = passes::simplify(raw);
    EXPECT_LE(passes::node_count(all_graphs(pieces)), passes::node_count(at_once));
    // Same values at a random point (inputs x, xhat; the model's params).
    std::mt19937_64 rng(7);
    std::vector<Tensor<double>> point;
    for (size_t i = 0; i < 2 * m.neurons.size(); ++i) {
      std::vector<int64_t> shape{1};
      const Shape& s = m.neurons[i % m.neurons.size()].shape;
      shape.insert(shape.end(), s.begin(), s.end());
      point.push_back(fdcheck::random_tensor(shape, rng, -1, 1));
    }
    const interp::ParamValues<double> params = interp::param_values<double>(m);
    const std::vector<Tensor<double>> a = interp::evaluate<double>(all_graphs(pieces), point, params, 1);
    const std::vector<Tensor<double>> b = interp::evaluate<double>(at_once, point, params, 1);
    ASSERT_EQ(a.size(), b.size());
    for (size_t k = 0; k < a.size(); ++k) {
      ASSERT_EQ(a[k].size(), b[k].size());
      for (int64_t e = 0; e < a[k].size(); ++e)
        EXPECT_NEAR(a[k][e], b[k][e], 1e-12 * (1 + std::abs(b[k][e]))) << "graph " << k << ", element " << e;
    }
  }
}

TEST(NodeCounts, TableForContractModelsAndDeepDags) {
  const std::vector<std::string> files = test_data::contract_model_paths();
  std::cout << "| graph | primal nodes | derived, unsimplified | derived, simplified | update only, simplified |\n"
            << "| --- | ---: | ---: | ---: | ---: |\n";
  for (const std::string& f : files) {
    Model m = load_model(f);
    std::vector<NodePtr> primal;
    for (const NeuronDef& n : m.neurons) primal.push_back(n.lagrangian);
    for (const ConnectionDef& c : m.connections) primal.push_back(c.energy);
    Derivation raw = derive_unsimplified(m), simple = derive(m);
    size_t r = passes::node_count(all_graphs(raw)), s = passes::node_count(all_graphs(simple));
    EXPECT_LE(s, r);
    EXPECT_LE(r, 12 * passes::node_count(primal) + 16 * m.neurons.size());
    std::cout << "| " << std::filesystem::path(f).filename().string() << " | "
              << passes::node_count(primal) << " | " << r << " | " << s << " | "
              << passes::node_count(simple.update) << " |\n";
  }
  for (int depth : {200, 800, 3200}) {
    Counts c = dag_counts(depth);
    std::cout << "| random DAG, depth " << depth << " (gradient only) | " << c.primal << " | "
              << c.raw << " | " << c.simplified << " | - |\n";
  }
}

}  // namespace
}  // namespace hamux
