// runtime/energy_tree.cpp - see energy_tree.h.
#include "energy_tree.h"

#include <algorithm>
#include <string>

#include "interp/interpreter.h"

namespace hamux {
namespace {

// Checks that there is one state per neuron, each [batch, ...shape] with one common batch.
int64_t batch_of(const Model& model, const std::vector<Tensor<double>>& states) {
  if (states.size() != model.neurons.size()) {
    throw Error("energy_tree", "expected " + std::to_string(model.neurons.size()) +
                                   " states, got " + std::to_string(states.size()));
  }
  int64_t batch = -1;
  for (size_t i = 0; i < states.size(); ++i) {
    const NeuronDef& neuron = model.neurons[i];
    const Shape& got = states[i].shape;
    const bool fits = got.size() == neuron.shape.size() + 1 &&
                      std::equal(neuron.shape.begin(), neuron.shape.end(), got.begin() + 1) &&
                      states[i].size() == num_elements(got);
    if (!fits) {
      throw Error("energy_tree", "state of neuron '" + neuron.name + "' has shape " +
                                     shape_str(got) + ", expected [batch]+" +
                                     shape_str(neuron.shape));
    }
    if (batch >= 0 && got[0] != batch) {
      throw Error("energy_tree", "state of neuron '" + neuron.name + "' has batch " +
                                     std::to_string(got[0]) + ", the first state has " +
                                     std::to_string(batch));
    }
    batch = got[0];
  }
  return batch < 0 ? 0 : batch;
}

// Per-sample values of a batch of scalars ([batch] tensor) as doubles.
template <class T>
std::vector<double> samples(const Tensor<T>& t) {
  return std::vector<double>(t.data.begin(), t.data.end());
}

template <class T>
EnergyTree evaluate_tree(const Model& model, const Derivation& derivation,
                         const std::vector<Tensor<double>>& states, int64_t batch) {
  const interp::ParamValues<T> params = interp::param_values<T>(model);

  // Activations first: they depend on the states alone.
  std::vector<Tensor<T>> inputs;
  for (const Tensor<double>& s : states) inputs.push_back(s.template cast<T>());
  std::vector<Tensor<T>> xhat = interp::evaluate<T>(derivation.activation, inputs, params, batch);

  // Energies see states (inputs 0..n-1) and activations (inputs n..2n-1).
  inputs.insert(inputs.end(), xhat.begin(), xhat.end());
  std::vector<ir::NodePtr> outputs = derivation.neuron_energy;
  outputs.insert(outputs.end(), derivation.connection_energy.begin(),
                 derivation.connection_energy.end());
  outputs.push_back(derivation.total_energy);
  std::vector<Tensor<T>> energies = interp::evaluate<T>(outputs, inputs, params, batch);

  EnergyTree tree;
  const size_t n = model.neurons.size();
  for (const Tensor<T>& a : xhat) tree.activations.push_back(a.template cast<double>());
  for (size_t i = 0; i < n; ++i) tree.neuron.push_back(samples(energies[i]));
  for (size_t c = 0; c < model.connections.size(); ++c) {
    tree.connection.push_back(samples(energies[n + c]));
  }
  tree.total = samples(energies.back());
  return tree;
}

template <class T>
std::vector<Tensor<double>> evaluate_updates(const Model& model, const Derivation& derivation,
                                             const std::vector<Tensor<double>>& states, int64_t batch) {
  const interp::ParamValues<T> params = interp::param_values<T>(model);
  std::vector<Tensor<T>> inputs;
  for (const Tensor<double>& s : states) inputs.push_back(s.template cast<T>());
  std::vector<Tensor<T>> xhat = interp::evaluate<T>(derivation.activation, inputs, params, batch);
  inputs.insert(inputs.end(), xhat.begin(), xhat.end());
  std::vector<Tensor<double>> out;
  for (const Tensor<T>& u : interp::evaluate<T>(derivation.update, inputs, params, batch)) {
    out.push_back(u.template cast<double>());
  }
  return out;
}

}  // namespace

std::vector<Tensor<double>> update_directions(const Model& model, const Derivation& derivation,
                                              const std::vector<Tensor<double>>& states) {
  const int64_t batch = batch_of(model, states);
  if (model.dtype == ir::DType::F64) return evaluate_updates<double>(model, derivation, states, batch);
  return evaluate_updates<float>(model, derivation, states, batch);
}

EnergyTree energy_tree(const Model& model, const Derivation& derivation,
                       const std::vector<Tensor<double>>& states) {
  const int64_t batch = batch_of(model, states);
  if (model.dtype == ir::DType::F64) {
    return evaluate_tree<double>(model, derivation, states, batch);
  }
  return evaluate_tree<float>(model, derivation, states, batch);
}

}  // namespace hamux
