// runtime/energy_tree.h - activations and the energy tree of a batch of states.
//
// The HAM energy is a sum: one Legendre energy per neuron plus one synapse energy per
// connection. Reporting each term separately (the "energy tree") is what makes a model
// debuggable: a summary, an energy trace or a test can see which part moves.
#pragma once

#include <vector>

#include "autodiff/derive.h"
#include "frontend/model.h"
#include "hamux/tensor.h"

namespace hamux {

struct EnergyTree {
  std::vector<Tensor<double>> activations;  // per neuron, [batch, ...shape]
  std::vector<std::vector<double>> neuron;      // per neuron, per sample
  std::vector<std::vector<double>> connection;  // per connection, per sample
  std::vector<double> total;                    // per sample
};

// Evaluates the derivation's activation graphs on `states` (one tensor per neuron,
// shaped [batch, ...neuron shape]), then its energy graphs on states and activations.
// Arithmetic is done in the model's dtype by the reference interpreter; results are
// widened to double. Throws hamux::Error when the states do not fit the model.
EnergyTree energy_tree(const Model& model, const Derivation& derivation,
                       const std::vector<Tensor<double>>& states);

// The update directions dE/dxhat of every neuron ([batch, ...shape] each) for `states`, by
// the same interpreter: activations first, then the derivation's update graphs.
std::vector<Tensor<double>> update_directions(const Model& model, const Derivation& derivation,
                                              const std::vector<Tensor<double>>& states);

}  // namespace hamux
