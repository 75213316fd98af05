// compiler/passes/rewrite.cpp - memoised bottom-up rewriting (see rewrite.h).
#include "passes/rewrite.h"

#include "graph/node_map.h"

namespace hamux::passes {

ir::NodePtr with_inputs(const ir::NodePtr& node, std::vector<ir::NodePtr> inputs) {
  bool same = inputs.size() == node->inputs.size();
  for (size_t i = 0; same && i < inputs.size(); ++i) same = inputs[i] == node->inputs[i];
  if (same) return node;
  return ir::make(node->op, std::move(inputs), node->attrs);
}

std::vector<ir::NodePtr> rewrite(const std::vector<ir::NodePtr>& roots, const Rule& rule) {
  // One numbering of the graph (one flat-map lookup per edge), then the results in a
  // vector by position: no per-node hash-map entries, which is what made the passes slow on
  // graphs of 10^5 nodes and more (issue 19).
  ir::Numbering num = ir::number_nodes(roots);
  std::vector<ir::NodePtr> done(num.order.size());
  for (size_t k = 0; k < num.order.size(); ++k) {
    const ir::NodePtr& self = *num.order[k];
    const ir::Node* n = self.get();
    // Most nodes keep their inputs: only a changed one is rebuilt (with_inputs' test,
    // without building the input list first).
    bool same = true;
    for (const ir::NodePtr& in : n->inputs) same = same && done[num.position.find(in.get())] == in;
    ir::NodePtr out;
    if (same) {
      out = rule(self);
    } else {
      std::vector<ir::NodePtr> inputs;
      inputs.reserve(n->inputs.size());
      for (const ir::NodePtr& in : n->inputs) inputs.push_back(done[num.position.find(in.get())]);
      out = rule(with_inputs(self, std::move(inputs)));
    }
    if (out->shape != n->shape || out->dtype != n->dtype)
      throw ir::ShapeError(std::string("rewrite: rule changed the shape or dtype of ") +
                           ir::op_name(n->op));
    done[k] = std::move(out);
  }
  std::vector<ir::NodePtr> result;
  for (const ir::NodePtr& r : roots) result.push_back(r ? done[num.position.find(r.get())] : nullptr);
  return result;
}

}  // namespace hamux::passes
