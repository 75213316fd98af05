// compiler/graph/node_map.h - a flat hash map from nodes to 32-bit numbers.
//
// Every pass looks each edge of its graph up by the input node (seen yet? rewritten to
// what? at which position?). std::unordered_map allocates one entry per node and misses the
// cache two or three times per lookup, which dominated the load time of models with 10^5 or
// more nodes (issue 19). This map keeps keys and values in one array: open addressing with
// linear probing, a power-of-two capacity at most half full, no erase.
#pragma once

#include <cstdint>
#include <vector>

#include "graph/ir.h"

namespace hamux::ir {

class NodeMap {
 public:
  static constexpr uint32_t kAbsent = UINT32_MAX;

  // The value stored for `n`, or kAbsent.
  uint32_t find(const Node* n) const {
    if (slots_.empty()) return kAbsent;
    for (size_t i = home(n);; i = (i + 1) & mask_) {
      if (slots_[i].key == n) return slots_[i].value;
      if (!slots_[i].key) return kAbsent;
    }
  }

  // Stores n -> value when `n` is not in the map yet; returns whether it stored it.
  bool insert(const Node* n, uint32_t value) { return put(n, value, false); }
  // Stores n -> value, replacing the value of a key already present.
  void set(const Node* n, uint32_t value) { put(n, value, true); }

  size_t size() const { return size_; }

 private:
  struct Slot {
    const Node* key = nullptr;
    uint32_t value = 0;
  };

  size_t home(const Node* n) const {
    // Fibonacci hashing of the address; the low bits are alignment, the high bits spread.
    return static_cast<size_t>((reinterpret_cast<uintptr_t>(n) * 0x9E3779B97F4A7C15ULL) >> shift_);
  }

  bool put(const Node* n, uint32_t value, bool replace) {
    if (2 * (size_ + 1) > slots_.size()) grow();
    for (size_t i = home(n);; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.key == n) {
        if (replace) s.value = value;
        return false;
      }
      if (!s.key) {
        s = {n, value};
        ++size_;
        return true;
      }
    }
  }

  void grow() {
    std::vector<Slot> old = std::move(slots_);
    size_t capacity = old.empty() ? 64 : 2 * old.size();
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    shift_ = 64;
    for (size_t c = capacity; c > 1; c >>= 1) --shift_;
    size_ = 0;
    for (const Slot& s : old)
      if (s.key) put(s.key, s.value, false);
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
  size_t mask_ = 0;
  unsigned shift_ = 64;
};

}  // namespace hamux::ir

namespace hamux::ir {

// All nodes reachable from `roots`, inputs before users (topological_order's order), as
// pointers to the owning pointers (into `roots` and into the nodes' input lists, so valid
// while `roots` is), with each node's position in the order.
struct Numbering {
  std::vector<const NodePtr*> order;
  NodeMap position;
};
Numbering number_nodes(const std::vector<NodePtr>& roots);

}  // namespace hamux::ir
