// bench/workloads.cpp - loading the reference workloads.
#include "workloads.h"

#include <random>

#include "interp/interpreter.h"

namespace hamux::bench {

const std::vector<WorkloadSpec>& workloads() {
  static const std::vector<WorkloadSpec> w = {
      {"W1", "classical_hopfield.json", 256, 100, 0.1},
      {"W2", "dense_am.json", 100, 40, 0.5},
      {"W3", "readme.json", 1, 1000, 0.1},
      {"W4", "energy_transformer.json", 8, 12, 0.1},
      {"W5", "conv.json", 32, 20, 0.1},
  };
  return w;
}

std::string models_dir() { return HAMUX_MODELS_DIR; }

Workload Workload::load(const WorkloadSpec& spec) {
  Workload w{spec, load_model(models_dir() + "/" + spec.file), {}, {}, {}};
  if (w.model.dtype != ir::DType::F32) throw Error(spec.file, "bench: the workloads are float32 models");
  w.derivation = derive(w.model);
  w.params = interp::param_values<float>(w.model);
  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (const NeuronDef& n : w.model.neurons) {
    Shape s{spec.batch};
    s.insert(s.end(), n.shape.begin(), n.shape.end());
    Tensor<float> t(s);
    for (float& v : t.data) v = u(rng);
    w.x0.push_back(std::move(t));
  }
  return w;
}

std::vector<const void*> Workload::param_pointers() const {
  std::vector<const void*> p;
  for (const ParamDef& d : model.params) p.push_back(params.at(d.name).data.data());
  return p;
}

}  // namespace hamux::bench
