// compiler/passes/cse.cpp - common-subexpression elimination (see passes.h).
//
// Nodes are visited inputs-first, so when a node is looked up its inputs are already the
// canonical representatives: two nodes are then the same computation exactly when their
// op, attributes and input pointers agree, which structurally_equal checks in O(1) (its
// recursion stops at pointer-equal inputs). The structural hash buckets the candidates.
#include <cstdint>
#include <vector>

#include "passes/passes.h"
#include "passes/rewrite.h"

namespace hamux::passes {

namespace {

bool commutative(ir::Op op) {
  return op == ir::Op::Add || op == ir::Op::Mul || op == ir::Op::Max || op == ir::Op::Min ||
         op == ir::Op::Equal;
}

// `c` computes what `n` with its two inputs swapped would.
bool equal_commuted(const ir::NodePtr& c, const ir::NodePtr& n) {
  return c->op == n->op && c->dtype == n->dtype && c->shape == n->shape &&
         c->inputs.size() == 2 && ir::attrs_equal(c->attrs, n->attrs) &&
         ir::structurally_equal(c->inputs[0], n->inputs[1]) &&
         ir::structurally_equal(c->inputs[1], n->inputs[0]);
}

// The representatives by structural hash: open addressing over (hash, node) slots with
// linear probing, at most half full; nodes of equal hash sit in the same probe run. (A
// std::unordered_multimap allocates an entry per node, which made CSE a large part of the
// load time of big models, issue 19.)
class Table {
 public:
  // The first representative with `hash` that `same` accepts, or null.
  template <class Same>
  ir::NodePtr find(uint64_t hash, Same same) const {
    if (slots_.empty()) return nullptr;
    for (size_t i = home(hash);; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (!s.node) return nullptr;
      if (s.hash == hash && same(s.node)) return s.node;
    }
  }
  void insert(const ir::NodePtr& n) {
    if (2 * (size_ + 1) > slots_.size()) grow();
    place(n->hash, n);
    ++size_;
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    ir::NodePtr node;
  };
  // Fibonacci hashing: the top bits of hash * 2^64/phi, spread whatever bits vary.
  size_t home(uint64_t hash) const { return static_cast<size_t>((hash * 0x9E3779B97F4A7C15ULL) >> shift_); }
  void place(uint64_t hash, ir::NodePtr n) {
    size_t i = home(hash);
    while (slots_[i].node) i = (i + 1) & mask_;
    slots_[i] = {hash, std::move(n)};
  }
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 64 : 2 * old.size(), Slot{});
    mask_ = slots_.size() - 1;
    shift_ = 64;
    for (size_t c = slots_.size(); c > 1; c >>= 1) --shift_;
    for (Slot& s : old)
      if (s.node) place(s.hash, std::move(s.node));
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
  size_t mask_ = 0;
  unsigned shift_ = 64;
};

}  // namespace

std::vector<ir::NodePtr> cse(const std::vector<ir::NodePtr>& roots) {
  Table table;
  return rewrite(roots, [&](const ir::NodePtr& n) -> ir::NodePtr {
    if (ir::NodePtr seen = table.find(n->hash, [&](const ir::NodePtr& c) { return ir::structurally_equal(c, n); }))
      return seen;
    if (commutative(n->op) && n->inputs[0] != n->inputs[1]) {
      // Looked up as if built with its inputs swapped (nothing is built).
      uint64_t swapped = ir::hash_with_inputs(*n, {n->inputs[1], n->inputs[0]});
      if (ir::NodePtr seen = table.find(swapped, [&](const ir::NodePtr& c) { return equal_commuted(c, n); }))
        return seen;
    }
    table.insert(n);
    return n;
  });
}

}  // namespace hamux::passes
