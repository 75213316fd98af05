// compiler/passes/dce.cpp - dead-code elimination over a program's output list (see passes.h).
#include <set>

#include "passes/passes.h"

namespace hamux::passes {

Pruned dce(const std::vector<ir::NodePtr>& outputs, const std::vector<bool>& keep) {
  if (!keep.empty() && keep.size() != outputs.size())
    throw ir::ShapeError("dce: keep has " + std::to_string(keep.size()) + " entries for " +
                         std::to_string(outputs.size()) + " outputs");
  Pruned p;
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (!keep.empty() && !keep[i]) continue;
    p.outputs.push_back(outputs[i]);
    p.kept.push_back(i);
  }
  // Only what the kept outputs reach is live; everything else needs neither code nor buffers.
  std::set<int> inputs;
  std::set<std::string> params;
  std::vector<const ir::Node*> live = ir::topological_order(p.outputs);
  for (const ir::Node* n : live) {
    if (n->op == ir::Op::Input) inputs.insert(n->attrs.index);
    if (n->op == ir::Op::Param) params.insert(n->attrs.name);
  }
  p.live_inputs.assign(inputs.begin(), inputs.end());
  p.live_params.assign(params.begin(), params.end());
  p.node_count = live.size();
  return p;
}

}  // namespace hamux::passes
