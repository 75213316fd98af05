// compiler/analysis/counterexample.cpp - Lanczos at random points (see counterexample.h).
#include "analysis/counterexample.h"

#include <cmath>

#include "analysis/hessian.h"
#include "frontend/random.h"
#include "graph/printer.h"

namespace hamux::analysis {

std::string short_vector(const std::vector<double>& v, size_t shown) {
  std::string s = "[";
  for (size_t i = 0; i < v.size() && i < shown; ++i)
    s += (i ? ", " : "") + ir::to_string(ir::constant(v[i], ir::DType::F64));
  if (v.size() > shown) s += ", ... (" + std::to_string(v.size()) + " elements)";
  return s + "]";
}

std::string CounterexampleSearch::message() const {
  if (!found) return "no counterexample in " + std::to_string(samples) + " samples";
  return "counterexample at x = " + short_vector(found->point) + ", v = " + short_vector(found->direction) +
         ": v'Hv = " + ir::to_string(ir::constant(found->value, ir::DType::F64));
}

CounterexampleSearch find_nonconvexity(const ir::NodePtr& lagrangian, const interp::ParamValues<double>& params,
                                       const SearchOptions& options) {
  const ir::NodePtr x = ir::input(0, "x", [&] {
    for (const ir::Node* n : ir::topological_order({lagrangian}))
      if (n->op == ir::Op::Input && n->attrs.index == 0) return n->shape;
    return Shape{};
  }(), lagrangian->dtype);
  HessianProduct h(lagrangian, {x}, params);
  frontend::Rng rng(options.seed, "counterexample");
  // Scales from near the origin (where relu-like kinks and small-x curvature live) to
  // far out (where exp-like terms dominate).
  const double scales[] = {0.1, 0.5, 1, 2, 4};
  std::vector<std::vector<double>> points(options.samples, std::vector<double>(h.dimension()));
  for (int s = 0; s < options.samples; ++s)
    for (double& v : points[s]) v = scales[s % 5] * rng.normal();
  const std::vector<Extremes> ex = lanczos_extremes(h, points, options.lanczos_steps, options.seed);
  CounterexampleSearch r;
  r.samples = options.samples;
  for (int s = 0; s < options.samples; ++s) {
    // Rounding leaves |v'Hv| ~ 1e-16 |H|; a counterexample must be clearly negative.
    const double tol = 1e-8 * (1 + std::abs(ex[s].largest));
    if (!(ex[s].smallest < -tol)) continue;
    if (r.found && ex[s].smallest >= r.found->value) continue;
    // The value reported is the Rayleigh quotient of the direction, recomputed.
    const std::vector<double> hv = h.apply({points[s]}, {ex[s].smallest_direction})[0];
    double q = 0;
    for (size_t e = 0; e < hv.size(); ++e) q += hv[e] * ex[s].smallest_direction[e];
    if (!(q < -tol)) continue;
    r.found = Counterexample{points[s], ex[s].smallest_direction, q};
  }
  return r;
}

}  // namespace hamux::analysis
