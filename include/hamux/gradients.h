// hamux/gradients.h - d loss / d params through the dynamics (docs/gradients.md).
//
//   hamux::Loss loss;
//   loss.spec = R"({"neuron": "labels", "loss": "cross_entropy"})";
//   loss.target = classes;                      // [batch] class indices, or [batch, 8] rows
//   hamux::GradientOptions o;
//   o.steps = 10; o.dt = 0.1;                   // the same T-step Euler loop as hamux::run
//   hamux::GradientResult g = hamux::gradients(ham, initial, loss, o);
//   g.loss; g.params.at("W1");                  // d loss / d W1, W1's shape
//
// BPTT (the default) is the exact gradient of the T-step run; Implicit differentiates the
// fixed point the run converged to (memory independent of T). The backward kernels are
// compiled once per Ham and reused by every call. Results do not depend on `threads`.
// Bad input throws hamux::Error naming the place (loss spec pointer, neuron, sample, step).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "hamux/hamux.h"

namespace hamux {

struct Loss {
  // JSON: {"neuron": N, "loss": LOSS, "of": "activation"|"state", "reduction": "mean"|"sum"};
  // LOSS is "squared_error", "cross_entropy", "softmax_cross_entropy", {"name": {args}} or
  // {"expr": {"inputs": ["y", "t", "m"], "value": ...}} (docs/gradients.md).
  std::string spec;
  // [batch, ...shape] or [...shape] (every sample); the cross entropies also take [batch]
  // class indices (when [batch] is not the neuron's shape).
  Tensor<double> target;
  // Optional, the m of the loss (1 = counts): [...shape] or [batch, ...shape]; empty: all ones.
  Tensor<double> mask;
};

enum class GradientMethod { Bptt, Implicit };

struct GradientOptions {
  int64_t steps = 100;  // T: BPTT takes exactly T steps; implicit at most T (until tol)
  double dt = 0.1;
  double tol = 0.0;     // implicit: the run has converged when max |dx| < tol (needs tol > 0)
  int threads = 1;      // 0: all cores
  GradientMethod method = GradientMethod::Bptt;
  int64_t checkpoint_every = 0;  // BPTT: 0 keeps all T states; k > 0 keeps every k-th and recomputes
  // Implicit: the adjoint iteration stops when max |change| <= adjoint_tol * max(1, max |adjoint|).
  double adjoint_tol = 1e-10;
  int64_t adjoint_max_iterations = 100000;
  bool state_gradients = false;  // BPTT: also d loss / d initial states
  // Keep the values of each forward step that its backward step reads (dense_am's softmax
  // of the scores Xi^T g(x): a GEMM per step not done again), at the cost of their memory per
  // stored step (GradientResult::memory_bytes); false recomputes them (docs/gradients.md).
  bool store_residuals = true;
  bool backward = true;  // false: the forward run and the loss only (evaluation; params stay empty)
};

struct GradientResult {
  std::vector<double> loss_per_sample;
  double loss = 0;                               // mean or sum of loss_per_sample
  std::map<std::string, Tensor<double>> params;  // d loss / d param, by name
  std::map<std::string, Tensor<double>> states;  // state_gradients: [batch, ...shape] by neuron
  Tensor<double> output;            // what the loss read (its y) at the end: [batch, ...shape]
  int64_t steps = 0;                // forward steps taken
  bool converged = false;           // implicit: max |dx| < tol was reached
  int64_t adjoint_iterations = 0;   // implicit
  int64_t memory_bytes = 0;         // stored states, adjoints and per-sample gradient buffers
};

// The loss after the forward run from `initial` (not modified; clamps and masks as set on
// it) and its gradients.
GradientResult gradients(const Ham& ham, const States& initial, const Loss& loss,
                         const GradientOptions& options = {});

}  // namespace hamux
