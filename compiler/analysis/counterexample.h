// compiler/analysis/counterexample.h - numeric search for a Lagrangian's non-convexity.
//
// For what the curvature rules cannot certify: at random points x (standard normal
// elements times a few scales), the smallest eigenvalue of the Hessian of L by Lanczos on
// Hessian-vector products (hessian.h). A clearly negative one is a counterexample: the
// point, the unit direction v and v' H(x) v. None found proves nothing; the report says
// "no counterexample in N samples".
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "graph/ir.h"
#include "interp/interpreter.h"

namespace hamux::analysis {

struct Counterexample {
  std::vector<double> point;      // x, the Lagrangian's input elements (row-major)
  std::vector<double> direction;  // v, a unit vector
  double value = 0;               // v' H(x) v < 0
};

struct SearchOptions {
  int samples = 24;
  int lanczos_steps = 32;
  uint64_t seed = 1;
};

struct CounterexampleSearch {
  int samples = 0;
  std::optional<Counterexample> found;
  // "counterexample at x = [0.1, -2, ...], v = [...]: v'Hv = -0.25" or
  // "no counterexample in 24 samples".
  std::string message() const;
};

// `lagrangian` is a scalar graph of ir::input(0, ...) (NeuronDef::lagrangian).
CounterexampleSearch find_nonconvexity(const ir::NodePtr& lagrangian, const interp::ParamValues<double>& params,
                                       const SearchOptions& options = {});

// "[0.5, -1.25, 3, ... (10 elements)]": at most `shown` elements.
std::string short_vector(const std::vector<double>& v, size_t shown = 4);

}  // namespace hamux::analysis
