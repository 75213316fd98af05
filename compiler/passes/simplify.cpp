// compiler/passes/simplify.cpp - drives the passes to a fixpoint (see simplify.h).
#include "passes/simplify.h"

#include "passes/passes.h"

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
  // pointers when it changes nothing, which is the fixpoint test.
  std::vector<ir::NodePtr> cur = cse(roots);
  for (int round = 0; round < max_rounds; ++round) {
    std::vector<ir::NodePtr> next = cse(algebraic(fold(cur)));
    if (same(next, cur)) break;
    cur = std::move(next);
  }
  return cur;
}

ir::NodePtr simplify(const ir::NodePtr& root) { return simplify(std::vector<ir::NodePtr>{root})[0]; }

size_t node_count(const std::vector<ir::NodePtr>& roots) {
  return ir::topological_order(roots).size();
}

}  // namespace hamux::passes
