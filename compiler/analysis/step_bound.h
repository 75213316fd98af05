// compiler/analysis/step_bound.h - the largest Euler step that is still a descent step.
//
// One Euler step is x <- x - dt F(x) with F_i(x) = (1/tau_i) dE/dxhat_i at xhat = grad L(x).
// Near a state the step behaves like the linear map I - dt J, J = dF/dx; it contracts (and
// descends) while dt < 2 / lambda_max(J). J's eigenvalues are real for a convex model
// (J is similar to a symmetric matrix), and lambda_max is found by power iteration on J'
// products, i.e. VJPs of the update graph, evaluated at each given state. The bound is the
// smallest 2 / lambda_max over the states.
#pragma once

#include <vector>

#include "autodiff/derive.h"
#include "frontend/model.h"
#include "hamux/tensor.h"

namespace hamux::analysis {

struct StepBound {
  double lambda_max = 0;  // largest eigenvalue of J over the states
  double dt = 0;          // 2 / lambda_max (infinity when lambda_max <= 0)
  int iterations = 0;
};

// `states` has one tensor per neuron, [batch, ...shape].
StepBound step_size_bound(const Model& model, const Derivation& derivation, const std::vector<Tensor<double>>& states,
                          int iterations = 100);

}  // namespace hamux::analysis
