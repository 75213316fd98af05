// compiler/autodiff/derive.h - the HAM derivation: activations, update directions, energies.
//
// Input layout of every graph in a Derivation, for a model with n neurons:
//   ir::input(i,     "x[name_i]",    shape_i)   state of neuron i,      i in [0, n)
//   ir::input(n + i, "xhat[name_i]", shape_i)   activation of neuron i
#pragma once

#include <vector>

#include "frontend/model.h"
#include "graph/ir.h"

namespace hamux {

struct Derivation {
  std::vector<ir::NodePtr> activation;         // per neuron: xhat_i = grad L_i(x_i)
  std::vector<ir::NodePtr> update;             // per neuron: dE/dxhat_i
  std::vector<ir::NodePtr> neuron_energy;      // per neuron: <x_i - b_i, xhat_i> - L_i(x_i)
  std::vector<ir::NodePtr> connection_energy;  // per connection: E_s(xhat of its neurons)
  ir::NodePtr total_energy;                    // sum of all the above
};

// Derives and simplifies every graph of the model.
Derivation derive(const Model& model);

}  // namespace hamux
