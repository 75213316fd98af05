// compiler/frontend/random.h - the deterministic random numbers of parameter init.
//
// Our own generator (xoshiro256** seeded through splitmix64) and Box-Muller, so that a
// model's initial parameters are the same bits on every platform and standard library
// (std::normal_distribution is implementation-defined). Each parameter draws from its
// own stream derived from (model seed, parameter name): adding a parameter never changes
// the values of the others.
#pragma once

#include <cstdint>
#include <string>

#include "hamux/tensor.h"

namespace hamux::frontend {

class Rng {
 public:
  Rng(uint64_t seed, const std::string& stream_name);

  uint64_t next_u64();
  double uniform();  // in [0, 1), 53 random bits
  double normal();   // standard normal (Box-Muller, both values used)

 private:
  uint64_t s_[4];
  bool have_spare_ = false;
  double spare_ = 0.0;
};

// Random states of one neuron, [batch, ...shape], independent N(0, std^2) elements, from the
// stream (seed, "state:<neuron>"): the one generator behind Ham::normal, `hamux run --init
// normal:S`, `hamux energy --init normal:S` and `hamux check --seed S`, so that all of them
// start from the same bits for the same S (and adding a neuron does not change the others).
Tensor<double> normal_state(uint64_t seed, const std::string& neuron, const Shape& shape, int64_t batch,
                            double std = 1.0);

}  // namespace hamux::frontend
