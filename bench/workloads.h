// bench/workloads.h - the reference workloads W1-W5 of the product brief (section 4).
//
// Each workload is a contract model run in float32 on a fixed batch for a fixed number of
// explicit Euler steps. Workload::load reads the model, derives it and draws a
// deterministic initial state, so every engine in the benchmark starts from the same x.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "autodiff/derive.h"
#include "frontend/model.h"
#include "hamux/tensor.h"

namespace hamux::bench {

struct WorkloadSpec {
  const char* id;    // "W1"
  const char* file;  // model file in the models directory
  int64_t batch;
  int64_t steps;
  double dt;
};

// The table of brief section 4.
const std::vector<WorkloadSpec>& workloads();

struct Workload {
  WorkloadSpec spec;
  Model model;
  Derivation derivation;
  std::map<std::string, Tensor<float>> params;  // by name
  std::vector<Tensor<float>> x0;                // per neuron, [batch, ...shape], uniform(-1, 1)

  static Workload load(const WorkloadSpec& spec);
  // Pointers to the params in model order (StepKernel::Bindings::params).
  std::vector<const void*> param_pointers() const;
};

std::string models_dir();

}  // namespace hamux::bench
