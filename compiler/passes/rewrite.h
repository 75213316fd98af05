// compiler/passes/rewrite.h - the bottom-up graph rewriter every pass is built on.
//
// A pass is a local rule: given a node whose inputs have already been rewritten, return
// its replacement (or the node itself). `rewrite` visits each node reachable from the roots
// exactly once, inputs before users, and memoises the result, so a shared subexpression is
// rewritten once and stays shared - rewriting never duplicates work or causes expression
// swell. Nodes that no rule touches keep their identity (pointer), which is how `simplify`
// detects its fixpoint.
#pragma once

#include <functional>
#include <vector>

#include "graph/ir.h"

namespace hamux::passes {

// `rule(node)` gets a node whose inputs are already rewritten and returns its replacement,
// which must have the same shape and dtype.
using Rule = std::function<ir::NodePtr(const ir::NodePtr& node)>;

std::vector<ir::NodePtr> rewrite(const std::vector<ir::NodePtr>& roots, const Rule& rule);

// Rebuilds `node` with new inputs (same op and attributes); returns `node` itself when the
// inputs are pointer-identical.
ir::NodePtr with_inputs(const ir::NodePtr& node, std::vector<ir::NodePtr> inputs);

}  // namespace hamux::passes
