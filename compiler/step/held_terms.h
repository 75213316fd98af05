// compiler/step/held_terms.h - the part of the update directions that a run with held
// neurons computes once, not at every step.
//
// A neuron is held when every element is clamped in every sample (rate 0): its state, and
// so its activations, keep their initial values for the whole run. A term of another
// neuron's update that reads only params and held neurons is then the same at every step:
// for a classifier with a clamped image, W1^T image is the largest contraction of the step
// and never changes. hoist_held_terms cuts the largest such subgraphs that contain a
// contraction out of the update graphs and puts an input in their place; the caller
// computes the terms once per run (a kernel of their own) and binds them to the step
// kernel (StepKernel::Bindings::terms).
#pragma once

#include <vector>

#include "autodiff/derive.h"
#include "frontend/model.h"
#include "graph/ir.h"

namespace hamux::codegen {

struct HeldTerms {
  // Per neuron: its update graph with term k replaced by ir::input(2n + k, "term[k]", ...).
  // The graphs of held neurons are unchanged (a step with them held leaves them unused).
  std::vector<ir::NodePtr> update;
  // Term k as a graph of the held neurons' states (input j = x_j; their activation graphs
  // substituted for the activation inputs n + j) and the params.
  std::vector<ir::NodePtr> terms;
};

// The index of term k's input in the update graphs of a model with n neurons.
inline int held_term_input(int n, int k) { return 2 * n + k; }

// held[i] per neuron. With nothing held (or no such term) `terms` is empty and `update`
// is derivation.update.
HeldTerms hoist_held_terms(const Model& model, const Derivation& derivation, const std::vector<bool>& held);

}  // namespace hamux::codegen
