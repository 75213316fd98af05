// compiler/autodiff/derive_raw.h - the HAM derivation before simplification.
//
// derive() (derive.h) is derive_unsimplified() followed by passes::simplify over all the
// graphs together. The unsimplified form is exposed for measuring what the simplifier
// does (docs/autodiff.md) and for debugging the differentiator on its own.
#pragma once

#include "autodiff/derive.h"

namespace hamux {

Derivation derive_unsimplified(const Model& model);

}  // namespace hamux
