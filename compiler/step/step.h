// compiler/step/step.h - the fused integration-step kernel of a HAM (above the generic backend).
//
// One kernel call advances a slice of the batch by k_steps explicit Euler steps
//
//   xhat_i = grad L_i(x_i)                         (activations, all neurons)
//   x_i   += (dt / tau_i) * mask_i * (-dE/dxhat_i)  (all neurons, from the same state)
//
// without returning in between, then recomputes xhat (and, when asked, the energy per
// sample) for the final state, so the outputs always describe the returned x. With
// k_steps = 0 it only evaluates xhat and the energy of the given state.
//
// Everything the step needs is one loop program (codegen/loops/program.h): the activations are
// written to the xhat buffers, which the update graphs read as their inputs n+i; the
// update direction of neuron i is fused into the loop that writes x_i unless that loop
// would read a state another loop has already overwritten (then it gets a buffer).
//
// A neuron whose update graph is Const 0 (held: the variants of hamux::gradients) keeps its
// state, which is not written; without the energy its xhat is not written either unless an
// update reads it.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "autodiff/derive.h"
#include "codegen/jit/jit.h"
#include "codegen/loops/program.h"
#include "codegen/loops/small_einsums.h"
#include "frontend/model.h"

namespace hamux::codegen {

struct StepOptions {
  bool energy = false;  // also write the energy of each sample after the steps
  // Nodes of derivation.update to write out at every step, each to a batched output of its
  // shape (Bindings::residual): the values of the state the step started from that a
  // backward pass reads (autodiff/backward_step.h). The step computes them anyway; a run of
  // several steps per call leaves those of the last step.
  std::vector<ir::NodePtr> residuals;
  CompileOptions compile;
};

// Which external slot of the step program holds what: per neuron its state x, its
// activations xhat, its rate dt / tau and its mask; per model param (in model order) the
// param; per held term (held_terms.h: inputs 2n + k of the update graphs) its values; the
// energy output (-1 without); per residual its output. Made by the lowering, read by StepKernel's binding
// and by the generated C header (aot_header.h) alike.
struct StepLayout {
  std::vector<int> x, xhat, rate, mask, param, term, residual;
  int energy = -1;
  int slots = 0;  // external slots in all
};

struct StepProgram {
  Program program;
  StepLayout layout;
};

// Builds the step program and its layout.
StepProgram lower_step_program(const Model& model, const Derivation& derivation, bool energy,
                               int64_t small_einsum_work = kSmallEinsumWork,
                               const std::vector<ir::NodePtr>& residuals = {});
// The program alone; exposed for inspection and tests.
Program lower_step(const Model& model, const Derivation& derivation, bool energy,
                   int64_t small_einsum_work = kSmallEinsumWork);

class StepKernel {
 public:
  StepKernel(const Model& model, const Derivation& derivation, const StepOptions& options = {});

  // Pointers into caller-owned memory, all in the model's dtype (float or double).
  //  x[i], xhat[i]: [batch, ...shape of neuron i]; x is read and updated, xhat written.
  //  mask[i]: [...shape of neuron i], 1 where the state moves, 0 where it is clamped;
  //           nullptr means the whole neuron moves.
  //  params[k]: the values of model.params[k].
  //  terms[k]: [batch, ...shape of term k], when the update graphs read held terms
  //           (held_terms.h); the same at every step.
  //  energy: [batch], written when the kernel was built with StepOptions::energy; null
  //          skips computing it.
  //  residual[k]: [batch, ...shape of residual k], when built with StepOptions::residuals.
  struct Bindings {
    std::vector<void*> x, xhat, residual;
    std::vector<const void*> mask, params, terms;
    void* energy = nullptr;
  };

  // The kernel's slots bound to `b` and dt, with the parameter-only values of the step
  // (W + W^T, packed weights ...) computed once. Valid while the buffers of `b` live and
  // the params keep their values (the masks are read by every call, so they may change in
  // place); the threads of one batch share it.
  class Bound {
   public:
    Bound(Bound&&) = default;
    Bound& operator=(Bound&&) = default;

   private:
    Bound() = default;
    std::vector<void*> slots;
    std::vector<double> rate64;  // dt / tau_i, pointed to by slots
    std::vector<float> rate32;
    Prepared prepared;
    friend class StepKernel;
  };
  Bound bind(const Bindings& b, double dt) const;
  // A new step size for `bound`: dt is an argument of the kernel, not a prepared value, so
  // this runs nothing (the prologue depends on the model's params only).
  void set_dt(Bound& bound, double dt) const;
  // New buffers for the residual outputs of `bound` (one set per stored step); runs nothing.
  void set_residuals(Bound& bound, const std::vector<void*>& residual) const;

  // Advances samples [begin, end) of `bound` by k_steps steps. Thread-safe for disjoint
  // slices.
  void run(const Bound& bound, int64_t begin, int64_t end, int64_t k_steps) const;
  // The same for a single call: binds, then runs (the prologue is computed by this call).
  void run(const Bindings& b, int64_t begin, int64_t end, double dt, int64_t k_steps) const;

  const Kernel& kernel() const { return *kernel_; }
  bool has_energy() const { return layout_.energy >= 0; }
  const StepLayout& layout() const { return layout_; }

 private:
  Bound bind_slots(const Bindings& b, double dt) const;

  std::shared_ptr<const Kernel> kernel_;
  ir::DType dtype_;
  std::vector<double> tau_;
  StepLayout layout_;
  std::vector<std::vector<double>> ones64_;
  std::vector<std::vector<float>> ones32_;
};

}  // namespace hamux::codegen
