// compiler/autodiff/backward_step.h - the adjoint (VJP) of one explicit Euler step.
//
// The forward step of neuron i (codegen/step.h) is
//   x'_i = x_i - r_i * u_i(x),   u_i(x) = dE/dxhat_i evaluated at xhat = activations(x),
// with r_i = (dt / tau_i) * mask_i (0 on clamped elements). Given the cotangent a' of the
// stepped states, its VJP is
//   a_j = a'_j - d/dx_j  s(x),        (the adjoint of the states before the step)
//   g_p =      - d/dp    s(x),        (the step's contribution to d loss / d param p)
//   s(x) = sum_i sum(u_i(x) * r_i * a'_i),
// derived symbolically by differentiating the update graphs of the Derivation (with the
// activation graphs substituted for the xhat inputs: second derivatives of the Lagrangians
// and synapse energies) and simplified. The graphs are per sample, like every graph.
//
// Leaves of the backward graphs, for a model with n neurons:
//   ir::input(i,     "x[name_i]", shape_i)   the state before the step
//   ir::input(n + i, "a[name_i]", shape_i)   the cotangent of the state after it
//   ir::param(rate_param(name_i), shape_i)   r_i = dt / tau_i * mask_i (bound at run time, so
//                                            dt and the masks are not compiled in)
//   the model's params by name,
//   ir::input(2n + k,  "res[k]", shape)      residual k (with store_residuals, below)
//
// Forward residuals. The derivative graphs read values of the forward step: for dense_am,
// p = softmax(Xi^T g(x)) and the scores Xi^T g(x) themselves, whose contraction is as large
// as the step's. Recomputing them costs a forward GEMM per backward step; with
// store_residuals those values (the nodes of the update graphs that a derivative node reads
// and that hold a contraction changing from step to step) become inputs instead, and the
// forward step writes them (StepKernel's residual outputs) for the backward pass to read.
#pragma once

#include <string>
#include <vector>

#include "autodiff/derive.h"
#include "frontend/model.h"
#include "graph/ir.h"

namespace hamux::autodiff {

struct BackwardStep {
  std::vector<ir::NodePtr> state_adjoint;  // per neuron: a_i (shape_i)
  std::vector<ir::NodePtr> param_grad;     // per model param, in model.params order: g_p
  // Residual k: a node of derivation.update itself (so the forward step that lowers the
  // update graphs computes it anyway and writes it out); empty without store_residuals.
  std::vector<ir::NodePtr> residuals;
};

// The input index of residual k in the backward graphs of a model with n neurons.
inline int residual_input(size_t n, size_t k) { return static_cast<int>(2 * n + k); }

// Name of the param leaf that carries r_i of a neuron: "rate[name]".
std::string rate_param(const std::string& neuron);

// Derives and simplifies the backward step of the model. held[i] (optional, one flag per
// neuron) says that every element of neuron i is clamped in every sample: its rate is 0, so
// its update term drops out of s(x) (no contraction of the held neuron's update is left in
// the graphs; for a classifier with a clamped image that is the largest one). Residuals
// never read a held neuron (a run with held neurons computes those contractions once).
BackwardStep derive_backward_step(const Model& model, const Derivation& derivation,
                                  const std::vector<bool>& held = {}, bool store_residuals = false);

// The update graphs u_i as functions of the states alone (activations substituted), per
// neuron; input i is x_i. Shared with tests and `hamux grad --backward`.
std::vector<ir::NodePtr> updates_of_states(const Model& model, const Derivation& derivation);

}  // namespace hamux::autodiff
