// bench/eigen_reference.h - hand-written Eigen implementations of the W1-W5 steps.
//
// The yardstick of brief section 4: what a careful C++ engineer writes by hand for each
// workload, knowing the model (its Lagrangians, shapes and constants), with batched GEMMs
// on Eigen and fused Eigen array expressions for the elementwise work. Each one performs
// the same explicit Euler step as the hamux kernel,
//   xhat = activation(x);  x -= (dt / tau) * dE/dxhat,
// and leaves xhat of the final state, so the benchmark can check it against the JIT.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "workloads.h"

namespace hamux::bench {

class EigenStep {
 public:
  virtual ~EigenStep() = default;
  // Advances samples [begin, end) by k_steps steps; x[i] and xhat[i] are the whole-batch
  // arrays of neuron i in model order. Thread-safe for disjoint slices.
  virtual void run(const std::vector<float*>& x, const std::vector<float*>& xhat, int64_t begin,
                   int64_t end, float dt, int64_t k_steps) const = 0;
};

// The implementation for workload `w` (W1..W5); throws for an unknown workload.
std::unique_ptr<EigenStep> make_eigen_step(const Workload& w);

}  // namespace hamux::bench
