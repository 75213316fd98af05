// tools/hamux/states.h - batches of neuron states for the summaries.
#pragma once

#include <cstdint>
#include <vector>

#include "frontend/model.h"
#include "hamux/tensor.h"

namespace hamux::cli {

// One zero tensor per neuron, shaped [batch, ...shape].
std::vector<Tensor<double>> zero_states(const Model& model, int64_t batch);

// One tensor per neuron, [batch, ...shape], of independent standard normal samples: the
// states of Ham::normal(batch, seed) (frontend::normal_state), so `hamux check --seed S`
// shows the state `hamux run --init normal:S` starts from, the same bits on every platform.
std::vector<Tensor<double>> normal_states(const Model& model, int64_t batch, uint64_t seed);

}  // namespace hamux::cli
