// compiler/passes/simplify.h - the simplifier: all passes, to a fixpoint.
#pragma once

#include <vector>

#include "graph/ir.h"

namespace hamux::passes {

// Runs constant folding, algebraic identities and CSE over the roots together (so that
// subexpressions shared between roots are shared in the result) until none of them changes
// anything, or `max_rounds` rounds. The result computes the same values.
std::vector<ir::NodePtr> simplify(const std::vector<ir::NodePtr>& roots, int max_rounds = 50);
ir::NodePtr simplify(const ir::NodePtr& root);

// Folding and the algebraic identities applied once at `node` (not below it): for a node
// built on inputs that are simplified already, e.g. the sum of two simplified graphs. Much
// cheaper than simplify() on the result when the inputs are large, and what the fixpoint
// would do at that node in most cases (not all: simplify() still has the last word).
ir::NodePtr simplify_top(const ir::NodePtr& node);

// Number of distinct nodes reachable from the roots (shared nodes count once).
size_t node_count(const std::vector<ir::NodePtr>& roots);

}  // namespace hamux::passes
