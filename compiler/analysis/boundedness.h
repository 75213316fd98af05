// compiler/analysis/boundedness.h - is the model's energy bounded below? (static part)
//
// Decided where it can be:
//  - a neuron with a bounded activation (sigmoid, tanh, softmax, spherical_norm, layernorm,
//    ghostmax) has a neuron energy bounded below on its range, and every connection term
//    that is locally bounded is bounded on that range;
//  - a neuron whose energy is exactly 1/2 |xhat|^2 (identity, relu, repu with n = 2: the
//    "quadratic" neurons) makes the energy a polynomial in its activation: connections that
//    are at most linear in the quadratic activations are dominated by the 1/2 |xhat|^2
//    terms; connections quadratic in them (and free of other activations) form, with those
//    terms, a quadratic form whose smallest eigenvalue (Lanczos on Hessian-vector products)
//    decides: positive -> bounded below; negative along a direction the activations can
//    reach (relu activations are >= 0) -> not bounded below.
// Everything else is "not proved", and left to the run-time check (RunOptions::state_bound).
#pragma once

#include <string>
#include <vector>

#include "autodiff/derive.h"
#include "frontend/model.h"

namespace hamux::analysis {

enum class Boundedness { Proved, Unbounded, NotProved };

struct BoundednessReport {
  Boundedness verdict = Boundedness::NotProved;
  std::string reason;
  std::vector<double> direction;  // Unbounded: activations (all neurons, concatenated) to descend along
  std::string message() const;    // "bounded below: ...", "not bounded below: ...", "not proved bounded below: ..."
};

BoundednessReport check_bounded_below(const Model& model, const Derivation& derivation);

// The builtin name of a neuron's Lagrangian ("softmax" for "softmax(beta=1)"), or "" for
// a custom expression.
std::string builtin_lagrangian(const NeuronDef& neuron);

}  // namespace hamux::analysis
