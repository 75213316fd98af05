// compiler/passes/rewrite.cpp - memoised bottom-up rewriting (see rewrite.h).
#include "passes/rewrite.h"

#include <unordered_map>

namespace hamux::passes {

ir::NodePtr with_inputs(const ir::NodePtr& node, std::vector<ir::NodePtr> inputs) {
  bool same = inputs.size() == node->inputs.size();
  for (size_t i = 0; same && i < inputs.size(); ++i) same = inputs[i] == node->inputs[i];
  if (same) return node;
  return ir::make(node->op, std::move(inputs), node->attrs);
}

std::vector<ir::NodePtr> rewrite(const std::vector<ir::NodePtr>& roots, const Rule& rule) {
  // topological_order hands out raw pointers; keep the owning pointers by walking inputs.
  std::unordered_map<const ir::Node*, ir::NodePtr> owner;
  for (const ir::NodePtr& r : roots) owner[r.get()] = r;
  std::vector<const ir::Node*> order = ir::topological_order(roots);
  for (const ir::Node* n : order)
    for (const ir::NodePtr& in : n->inputs) owner.emplace(in.get(), in);
  std::unordered_map<const ir::Node*, ir::NodePtr> done;
  for (const ir::Node* n : order) {
    const ir::NodePtr& self = owner.at(n);
    std::vector<ir::NodePtr> inputs;
    inputs.reserve(n->inputs.size());
    for (const ir::NodePtr& in : n->inputs) inputs.push_back(done.at(in.get()));
    ir::NodePtr rebuilt = with_inputs(self, std::move(inputs));
    ir::NodePtr out = rule(rebuilt);
    if (out->shape != n->shape || out->dtype != n->dtype)
      throw ir::ShapeError(std::string("rewrite: rule changed the shape or dtype of ") +
                           ir::op_name(n->op));
    done[n] = std::move(out);
  }
  std::vector<ir::NodePtr> result;
  for (const ir::NodePtr& r : roots) result.push_back(r ? done.at(r.get()) : nullptr);
  return result;
}

}  // namespace hamux::passes
