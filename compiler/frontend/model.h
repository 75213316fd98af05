// compiler/frontend/model.h - a loaded, validated HAM model and how to load one.
//
// The frontend reads the JSON model format (docs/model-format.md), validates it, reads
// or generates the parameter values and expands every Lagrangian and synapse - builtin
// or custom - into an expression graph of the IR (graph/ir.h).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "graph/ir.h"
#include "hamux/error.h"
#include "hamux/tensor.h"

namespace hamux {

struct ParamDef {
  std::string name;
  Shape shape;
  std::string init;      // how it was initialised, for summaries: "normal(std=0.02)", "file(w.npy)"
  Tensor<double> value;  // the values (float32 models round them when they are used)
};

struct NeuronDef {
  std::string name;
  Shape shape;
  std::string lagrangian_desc;  // "softmax(beta=1)", "custom expr", ...
  // Scalar graph L(x - b) of the state: its only input is ir::input(0, "x", shape).
  // When the neuron has a bias b, the shift x - b is already inside this graph.
  ir::NodePtr lagrangian;
  double tau = 1.0;
  std::string bias;  // name of the bias param, or empty
};

struct SynapseDef {
  std::string name;
  std::string desc;  // "linear(W=W1)", "custom expr", ...
};

struct ConnectionDef {
  std::vector<int> neurons;  // indices into Model::neurons, in the synapse's input order
  int synapse = -1;          // index into Model::synapses
  // Scalar energy graph of this connection; input i is ir::input(i, <synapse input name>,
  // shape of neurons[i]) and stands for the activation of neurons[i].
  ir::NodePtr energy;
};

struct Model {
  std::string name;  // the model's "name", or the file name without extension
  std::string file;  // label used in error messages (the file name as given)
  ir::DType dtype = ir::DType::F32;
  uint64_t seed = 0;
  std::vector<ParamDef> params;
  std::vector<NeuronDef> neurons;
  std::vector<SynapseDef> synapses;
  std::vector<ConnectionDef> connections;

  int neuron_index(const std::string& name) const;  // -1 when absent
  int param_index(const std::string& name) const;   // -1 when absent
  int64_t param_count() const;                      // total number of parameter elements
};

// Loads a model file. Relative {"file": ...} param paths are resolved against the
// model's directory. Throws hamux::Error naming the file, the JSON pointer and the cause.
// A model file larger than this is refused before it is read (the JSON of 2^26 inline values).
inline constexpr uint64_t kMaxModelFileBytes = uint64_t{2} << 30;
Model load_model(const std::string& path);

// Same from text; `file_label` prefixes error messages, `base_dir` resolves param files.
Model parse_model(const std::string& json_text, const std::string& file_label,
                  const std::string& base_dir);

}  // namespace hamux
