// compiler/autodiff/derive_raw.h - the HAM derivation before simplification.
//
// derive() (derive.h) builds the same graphs but simplifies each neuron's and connection's
// pieces as it goes, then runs passes::simplify over all of them together (the result is
// at least as simple as passes::simplify of this one, tests/autodiff/node_counts_test.cpp).
// The unsimplified form is exposed for measuring what the simplifier does
// (docs/autodiff.md) and for debugging the differentiator on its own.
#pragma once

#include "autodiff/derive.h"

namespace hamux {

Derivation derive_unsimplified(const Model& model);

}  // namespace hamux
