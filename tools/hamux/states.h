// tools/hamux/states.h - batches of neuron states for the summaries.
#pragma once

#include <cstdint>
#include <vector>

#include "frontend/model.h"
#include "hamux/tensor.h"

namespace hamux::cli {

// One zero tensor per neuron, shaped [batch, ...shape].
std::vector<Tensor<double>> zero_states(const Model& model, int64_t batch);

// One tensor per neuron, [batch, ...shape], of independent standard normal samples.
// The stream is fixed by `seed` alone (mt19937_64 + Box-Muller, neurons in model order,
// elements row-major), so every platform prints the same summary.
std::vector<Tensor<double>> normal_states(const Model& model, int64_t batch, uint64_t seed);

}  // namespace hamux::cli
