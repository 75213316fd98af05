// compiler/passes/cse.cpp - common-subexpression elimination (see passes.h).
//
// Nodes are visited inputs-first, so when a node is looked up its inputs are already the
// canonical representatives: two nodes are then the same computation exactly when their
// op, attributes and input pointers agree, which structurally_equal checks in O(1) (its
// recursion stops at pointer-equal inputs). The structural hash buckets the candidates.
#include <unordered_map>

#include "passes/passes.h"
#include "passes/rewrite.h"

namespace hamux::passes {

namespace {

bool commutative(ir::Op op) {
  return op == ir::Op::Add || op == ir::Op::Mul || op == ir::Op::Max || op == ir::Op::Min ||
         op == ir::Op::Equal;
}

class Table {
 public:
  ir::NodePtr find(const ir::NodePtr& n) const {
    auto range = by_hash_.equal_range(n->hash);
    for (auto it = range.first; it != range.second; ++it)
      if (ir::structurally_equal(it->second, n)) return it->second;
    return nullptr;
  }
  void insert(const ir::NodePtr& n) { by_hash_.emplace(n->hash, n); }

 private:
  std::unordered_multimap<uint64_t, ir::NodePtr> by_hash_;
};

}  // namespace

std::vector<ir::NodePtr> cse(const std::vector<ir::NodePtr>& roots) {
  Table table;
  return rewrite(roots, [&](const ir::NodePtr& n) -> ir::NodePtr {
    if (ir::NodePtr seen = table.find(n)) return seen;
    if (commutative(n->op) && n->inputs[0] != n->inputs[1]) {
      ir::NodePtr swapped = ir::make(n->op, {n->inputs[1], n->inputs[0]}, n->attrs);
      if (ir::NodePtr seen = table.find(swapped)) return seen;
    }
    table.insert(n);
    return n;
  });
}

}  // namespace hamux::passes
