// tools/hamux/states.cpp - see states.h.
#include "states.h"

#include "frontend/random.h"

namespace hamux::cli {
namespace {

Shape batched(const Shape& shape, int64_t batch) {
  Shape s = shape;
  s.insert(s.begin(), batch);
  return s;
}

}  // namespace

std::vector<Tensor<double>> zero_states(const Model& model, int64_t batch) {
  std::vector<Tensor<double>> states;
  for (const NeuronDef& neuron : model.neurons) states.emplace_back(batched(neuron.shape, batch));
  return states;
}

std::vector<Tensor<double>> normal_states(const Model& model, int64_t batch, uint64_t seed) {
  std::vector<Tensor<double>> states;
  for (const NeuronDef& n : model.neurons) states.push_back(frontend::normal_state(seed, n.name, n.shape, batch));
  return states;
}

}  // namespace hamux::cli
