// tools/hamux/states.cpp - see states.h.
#include "states.h"

#include <cmath>
#include <numbers>
#include <random>

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
  // std::normal_distribution differs between standard libraries; mt19937_64 does not,
  // so the transform to normals is done here (Box-Muller, one normal per two uniforms).
  std::mt19937_64 rng(seed);
  auto uniform = [&rng] { return (static_cast<double>(rng() >> 11) + 0.5) * 0x1.0p-53; };  // (0,1)
  std::vector<Tensor<double>> states = zero_states(model, batch);
  for (Tensor<double>& state : states) {
    for (double& v : state.data) {
      const double u1 = uniform(), u2 = uniform();
      v = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
    }
  }
  return states;
}

}  // namespace hamux::cli
