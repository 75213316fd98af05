// compiler/passes/simplify.cpp - drives the passes to a fixpoint (see simplify.h).
#include "passes/simplify.h"

#include "passes/passes.h"
#include "passes/rewrite.h"

namespace hamux::passes {

namespace {
bool same(const std::vector<ir::NodePtr>& a, const std::vector<ir::NodePtr>& b) {
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i]) return false;
  return true;
}
}  // namespace

std::vector<ir::NodePtr> simplify(const std::vector<ir::NodePtr>& roots, int max_rounds) {
  // CSE first, so the other passes see shared nodes once; every pass returns the same
  // pointers when it changes nothing, which is the fixpoint test. Folding and the
  // identities share one walk over the graph (simplify_top at each node: what fold() then
  // algebraic() would do, but each walk over a graph of 10^6 nodes misses the cache at
  // nearly every node).
  std::vector<ir::NodePtr> cur = cse(roots);
  for (int round = 0; round < max_rounds; ++round) {
    // `cur` is CSE's output, so when folding and the identities change nothing CSE would
    // not either: one pass over the graph fewer per call.
    std::vector<ir::NodePtr> rewritten = rewrite(cur, simplify_top);
    if (same(rewritten, cur)) break;
    std::vector<ir::NodePtr> next = cse(rewritten);
    if (same(next, cur)) break;
    cur = std::move(next);
  }
  return cur;
}

ir::NodePtr simplify_top(const ir::NodePtr& node) { return algebraic_rule(fold_rule(node)); }

ir::NodePtr simplify(const ir::NodePtr& root) { return simplify(std::vector<ir::NodePtr>{root})[0]; }

size_t node_count(const std::vector<ir::NodePtr>& roots) {
  return ir::topological_order(roots).size();
}

}  // namespace hamux::passes
