// compiler/frontend/loss.h - loss specs: a scalar per sample on one neuron after the run.
//
// A loss spec is JSON (docs/gradients.md, docs/model-format.md section Losses):
//
//   {"neuron": "labels", "of": "activation", "loss": "cross_entropy", "reduction": "mean"}
//
//   neuron     the neuron whose final value the loss reads (required)
//   of         "activation" (default: xhat = grad L(x)) or "state" (x)
//   loss       a builtin name ("squared_error", "cross_entropy", "softmax_cross_entropy"),
//              {"name": {arguments}}, or {"expr": {"inputs": ["y", "t", "m"], ...}}
//   reduction  "mean" (default) or "sum" over the batch
//
// A loss expression is an EXPR like an energy: its inputs, in order, are y (the neuron's
// value), t (the target) and m (the mask, 1 where no mask was given), each of the neuron's
// shape; it may declare fewer (["y", "t"]) and may read the model's params; its value is a
// scalar per sample. Builtins live in stdlib.json, section "losses".
#pragma once

#include <string>

#include "frontend/model.h"
#include "graph/ir.h"

namespace hamux {

struct LossSpec {
  int neuron = -1;            // index into model.neurons
  bool of_activation = true;  // false: of the state
  bool mean = true;           // false: sum over the batch
  std::string desc;           // "cross_entropy on activation of 'labels' (mean)"
  // Targets may be given as class indices ([batch], expanded to one-hot rows): true for
  // the cross-entropy builtins.
  bool class_targets = false;
  // Scalar per sample; inputs 0 y, 1 t, 2 m (shape of the neuron, model dtype).
  ir::NodePtr graph;
};

// Parses and compiles a loss spec against `model`. Errors are hamux::Error
// "<label>: <JSON pointer>: <cause>", e.g. "loss: /neuron: unknown neuron \"x\" (...)".
LossSpec parse_loss(const Model& model, const std::string& json_text, const std::string& label = "loss");

}  // namespace hamux
