// compiler/analysis/hessian.h - Hessian-vector products of a scalar graph, and Lanczos.
//
// The products come from the differentiator: the VJP of the gradient graph (for a
// Lagrangian, the activation graph) with the direction as cotangent, evaluated by the
// reference interpreter in float64 for a batch of points at once.
#pragma once

#include <vector>

#include "graph/ir.h"
#include "interp/interpreter.h"

namespace hamux::analysis {

class HessianProduct {
 public:
  // `f` is a scalar graph of the Inputs `wrt` (each an ir::input; other Inputs are not
  // allowed). Params are bound from `params`.
  HessianProduct(const ir::NodePtr& f, const std::vector<ir::NodePtr>& wrt, interp::ParamValues<double> params);

  int64_t dimension() const { return dim_; }
  // Points and directions are [batch][dimension] (the wrt inputs' elements, concatenated).
  std::vector<std::vector<double>> apply(const std::vector<std::vector<double>>& points,
                                         const std::vector<std::vector<double>>& directions) const;
  std::vector<double> value(const std::vector<std::vector<double>>& points) const;  // f per point

 private:
  std::vector<ir::NodePtr> wrt_;
  ir::NodePtr f_;
  std::vector<ir::NodePtr> hv_;  // one per wrt input
  interp::ParamValues<double> params_;
  int64_t dim_ = 0;
  std::vector<hamux::Tensor<double>> bind(const std::vector<std::vector<double>>& rows) const;
};

// Extreme eigenvalues of the symmetric Hessian at each point by Lanczos (full
// reorthogonalisation, `steps` iterations at most, exact when steps >= dimension).
struct Extremes {
  double smallest = 0, largest = 0;
  std::vector<double> smallest_direction;  // unit vector; its Rayleigh quotient is `smallest`
};
std::vector<Extremes> lanczos_extremes(const HessianProduct& h, const std::vector<std::vector<double>>& points,
                                       int steps, uint64_t seed);

}  // namespace hamux::analysis
