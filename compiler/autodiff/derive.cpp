// compiler/autodiff/derive.cpp - the HAM derivation (see derive.h).
//
// For neuron i with Lagrangian L_i (bias shift already inside L_i), state x_i, activation
// input xhat_i and bias b_i (0 without one):
//   activation_i    = dL_i/dx_i                          (reverse-mode grad of L_i's graph)
//   neuron_energy_i = sum((x_i - b_i) * xhat_i) - L_i(x_i)
//   update_i        = (x_i - b_i) + sum_s dE_s/dxhat_i
// The first term of update_i is the Legendre shortcut: with xhat_i an independent variable,
// d/dxhat_i of the neuron energy is exactly x_i - b_i, so L's Hessian is never built.
// Connection energies get their inputs bound to the activations (xhat inputs) of their
// neurons; a neuron that appears twice in a connection is bound twice to the same xhat
// input, so its gradient automatically collects both terms.
#include "autodiff/derive.h"

#include <set>
#include <unordered_map>

#include "autodiff/derive_raw.h"
#include "autodiff/grad.h"
#include "graph/builder.h"
#include "passes/simplify.h"

namespace hamux {

namespace {

// The derivation. With `simplify_pieces`, each neuron's graphs {activation, energy, shifted
// state} and each connection's {gradients, energy} are simplified on their own before they
// go into the updates and the total energy, and each sum is simplified at its top node.
Derivation build(const Model& model, bool simplify_pieces) {
  auto finish = [&](const std::vector<ir::NodePtr>& piece) {
    return simplify_pieces ? passes::simplify(piece) : piece;
  };
  auto plus = [&](const ir::NodePtr& a, const ir::NodePtr& b) {
    return simplify_pieces ? passes::simplify_top(ir::add(a, b)) : ir::add(a, b);
  };
  const size_t n = model.neurons.size();
  const ir::DType dt = model.dtype;
  std::vector<ir::NodePtr> x(n), xhat(n), lagrangian(n), shifted(n);
  for (size_t i = 0; i < n; ++i) {
    const NeuronDef& nd = model.neurons[i];
    x[i] = ir::input(static_cast<int>(i), "x[" + nd.name + "]", nd.shape, dt);
    xhat[i] = ir::input(static_cast<int>(n + i), "xhat[" + nd.name + "]", nd.shape, dt);
  }

  // Bias params by name (a scan of model.params per neuron is quadratic in the layers).
  std::unordered_map<std::string, int> param_at;
  for (size_t p = 0; p < model.params.size(); ++p) param_at.emplace(model.params[p].name, static_cast<int>(p));

  Derivation d;
  for (size_t i = 0; i < n; ++i) {
    const NeuronDef& nd = model.neurons[i];
    if (!nd.lagrangian) throw Error(model.file, "neuron '" + nd.name + "' has no lagrangian graph");
    lagrangian[i] = autodiff::substitute_inputs({nd.lagrangian}, {x[i]})[0];
    d.activation.push_back(autodiff::grad(lagrangian[i], {x[i]})[0]);
    shifted[i] = x[i];
    if (!nd.bias.empty()) {
      auto at = param_at.find(nd.bias);
      int p = at == param_at.end() ? -1 : at->second;
      if (p < 0) throw Error(model.file, "neuron '" + nd.name + "' has unknown bias param '" + nd.bias + "'");
      shifted[i] = ir::sub(x[i], ir::param(nd.bias, model.params[p].shape, dt));
    }
    std::vector<ir::NodePtr> piece = finish(
        {d.activation.back(), ir::sub(ir::sum_all(ir::mul(shifted[i], xhat[i])), lagrangian[i]), shifted[i]});
    d.activation.back() = piece[0];
    d.neuron_energy.push_back(piece[1]);
    d.update.push_back(piece[2]);
  }

  for (const ConnectionDef& c : model.connections) {
    std::vector<ir::NodePtr> bound;
    std::set<int> distinct;
    for (int j : c.neurons) {
      bound.push_back(xhat.at(j));
      distinct.insert(j);
    }
    ir::NodePtr energy = autodiff::substitute_inputs({c.energy}, bound)[0];
    std::vector<ir::NodePtr> wrt;
    for (int j : distinct) wrt.push_back(xhat[j]);
    std::vector<ir::NodePtr> piece = autodiff::grad(energy, wrt);
    piece.push_back(energy);
    piece = finish(piece);
    d.connection_energy.push_back(piece.back());
    size_t k = 0;
    for (int j : distinct) d.update[j] = plus(d.update[j], piece[k++]);
  }

  ir::NodePtr total;
  for (const auto* list : {&d.neuron_energy, &d.connection_energy})
    for (const ir::NodePtr& e : *list) total = total ? plus(total, e) : e;
  d.total_energy = total ? total : ir::constant(0.0, dt);
  return d;
}

}  // namespace

Derivation derive_unsimplified(const Model& model) { return build(model, false); }

Derivation derive(const Model& model) {
  // Each neuron's and each connection's graphs are simplified on their own first, while
  // they are a few dozen nodes that stay in the cache; the passes over the whole graph then
  // have little left to do. (Every pass over all of a large model's graph misses the cache
  // at nearly every node: passes over 10^6 nodes cost 3x per node what passes over 10^4
  // do, issue 19.)
  Derivation d = build(model, true);

  // Then everything together, so that subexpressions shared between the graphs (an
  // activation inside an energy, a synapse product inside two updates) are shared.
  std::vector<ir::NodePtr> all;
  for (const auto* list : {&d.activation, &d.update, &d.neuron_energy, &d.connection_energy})
    all.insert(all.end(), list->begin(), list->end());
  all.push_back(d.total_energy);
  all = passes::simplify(all);
  size_t at = 0;
  for (auto* list : {&d.activation, &d.update, &d.neuron_energy, &d.connection_energy})
    for (ir::NodePtr& node : *list) node = all[at++];
  d.total_energy = all[at];
  return d;
}

}  // namespace hamux
