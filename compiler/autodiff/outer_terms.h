// compiler/autodiff/outer_terms.h - a per-sample param gradient split into outer products.
//
// The backward step's gradient of a linear synapse's weight is, per sample, a sum of outer
// products of two per-sample vectors (docs/gradients.md):
//   d/d W (per sample) = einsum("a,b->ab", r_a * a_a, xhat_b) + einsum("b,a->ab", ...).
// Summed over the batch, each term is one GEMM (U^T V, U = [batch, A], V = [batch, B]), which
// is far cheaper than writing the [batch, A, B] per-sample products and adding them up. This
// pass finds such terms among the summands of a gradient graph, so that the runtime can
// compile their operands as kernel outputs and contract them over the batch itself.
#pragma once

#include <vector>

#include "graph/ir.h"

namespace hamux::autodiff {

// scale * (u (x) v): element [i..., j...] = scale * u[i...] * v[j...]; the gradient's shape
// is u.shape ++ v.shape (the operands are ordered so that it is).
struct OuterTerm {
  ir::NodePtr u, v;
  double scale = 1.0;
};

struct OuterSplit {
  std::vector<OuterTerm> outer;
  ir::NodePtr rest;  // the sum of the other summands; null when every summand is an outer product
};

// Splits g = sum_k scale_k * (u_k (x) v_k) + rest, looking through add, sub, neg and
// multiplication by a constant. Each einsum with two operands whose letters are distinct
// and whose output is the letters of one operand followed by those of the other counts.
OuterSplit split_outer_terms(const ir::NodePtr& g);

}  // namespace hamux::autodiff
