// compiler/step/held_terms.cpp - see held_terms.h.
#include "step/held_terms.h"

#include <unordered_map>
#include <utility>

#include "autodiff/grad.h"
#include "passes/rewrite.h"

namespace hamux::codegen {

HeldTerms hoist_held_terms(const Model& model, const Derivation& d, const std::vector<bool>& held) {
  const int n = static_cast<int>(model.neurons.size());
  auto is_held = [&](int i) { return i < static_cast<int>(held.size()) && held[i]; };
  HeldTerms h;
  h.update = d.update;
  std::vector<ir::NodePtr> roots;  // the updates of the neurons that move
  for (int i = 0; i < n; ++i)
    if (!is_held(i)) roots.push_back(d.update[i]);
  if (roots.size() == static_cast<size_t>(n)) return h;

  // Per node, inputs before users: whether it reads nothing but params and held neurons
  // (x_j is input j, xhat_j input n + j); whether it reads a held neuron at all (a value of
  // params alone is already the step kernel's prologue); whether it contains a contraction
  // (an elementwise term costs less to recompute than to load).
  struct Facts {
    bool fixed = true, reads_state = false, contracts = false;
  };
  std::unordered_map<const ir::Node*, Facts> facts;
  for (const ir::Node* node : ir::topological_order(roots)) {
    Facts f;
    if (node->op == ir::Op::Input) {
      f.fixed = node->attrs.index < 2 * n && is_held(node->attrs.index % n);
      f.reads_state = true;
    }
    f.contracts = ir::is_contraction(node->op);
    for (const ir::NodePtr& c : node->inputs) {
      const Facts& cf = facts.at(c.get());
      f.fixed = f.fixed && cf.fixed;
      f.reads_state = f.reads_state || cf.reads_state;
      f.contracts = f.contracts || cf.contracts;
    }
    facts[node] = f;
  }
  auto hoisted = [&](const ir::Node* node) {
    const Facts& f = facts.at(node);
    return f.fixed && f.reads_state && f.contracts;
  };

  // Rebuilt from the roots down: the first node on each path that is worth hoisting becomes
  // a term (so the terms are the largest such subgraphs); below it nothing is visited. A
  // node reached twice is rebuilt once, so a shared term is one input everywhere. Iterative:
  // update graphs can be deep.
  std::vector<ir::NodePtr> by_activation(2 * n);  // xhat_j of a held j -> its activation graph
  for (int j = 0; j < n; ++j)
    if (is_held(j)) by_activation[n + j] = d.activation[j];
  std::unordered_map<const ir::Node*, ir::NodePtr> done;
  for (int i = 0; i < n; ++i) {
    if (is_held(i)) continue;
    std::vector<std::pair<ir::NodePtr, bool>> stack{{d.update[i], false}};  // (node, inputs pushed)
    while (!stack.empty()) {
      auto [node, expanded] = stack.back();
      if (done.count(node.get())) {
        stack.pop_back();
        continue;
      }
      if (hoisted(node.get())) {
        const int k = static_cast<int>(h.terms.size());
        h.terms.push_back(autodiff::substitute_inputs({node}, by_activation)[0]);
        done[node.get()] = ir::input(held_term_input(n, k), "term[" + std::to_string(k) + "]", node->shape, node->dtype);
        stack.pop_back();
        continue;
      }
      if (node->inputs.empty()) {
        done[node.get()] = node;
        stack.pop_back();
        continue;
      }
      if (!expanded) {
        stack.back().second = true;
        for (const ir::NodePtr& c : node->inputs)
          if (!done.count(c.get())) stack.push_back({c, false});
        continue;
      }
      std::vector<ir::NodePtr> inputs;
      for (const ir::NodePtr& c : node->inputs) inputs.push_back(done.at(c.get()));
      done[node.get()] = passes::with_inputs(node, std::move(inputs));
      stack.pop_back();
    }
    h.update[i] = done.at(d.update[i].get());
  }
  return h;
}

}  // namespace hamux::codegen
