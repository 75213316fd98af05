// compiler/passes/fold.cpp - constant folding (see passes.h).
//
// A Const node stands for a tensor whose every element is attrs.value. An op whose inputs
// are all Consts therefore yields a uniform tensor whenever it is elementwise, a
// reduction, a layout op, or an einsum without repeated output letters (those put zeros
// off the diagonal); such a node is replaced by one Const. Convolutions are not folded:
// their zero padding makes the result non-uniform.
#include <cmath>
#include <set>

#include "graph/scalar_ops.h"
#include "passes/passes.h"
#include "passes/rewrite.h"

namespace hamux::passes {

namespace {

using ir::Op;

// Number of elements a reduction combines into each output element.
double reduced_count(const ir::Node& n) {
  double count = 1;
  for (int64_t a : n.attrs.axes) count *= static_cast<double>(n.inputs[0]->shape[a]);
  return count;
}

// Value of a uniform einsum: the product of the operands times the number of terms summed
// into each output element (the sizes of the letters absent from the output). Returns
// false for repeated output letters.
bool einsum_value(const ir::Node& n, double* value) {
  ir::EinsumSpec s = ir::parse_einsum(n.attrs.spec);
  std::set<char> out(s.output.begin(), s.output.end());
  if (out.size() != s.output.size()) return false;
  double v = 1;
  std::set<char> summed;
  for (size_t k = 0; k < s.operands.size(); ++k) {
    v *= n.inputs[k]->attrs.value;
    for (size_t i = 0; i < s.operands[k].size(); ++i) {
      char c = s.operands[k][i];
      if (!out.count(c) && summed.insert(c).second)
        v *= static_cast<double>(n.inputs[k]->shape[i]);
    }
  }
  *value = v;
  return true;
}

ir::NodePtr fold_node(const ir::NodePtr& n) {
  if (ir::is_leaf(n->op)) return n;
  for (const ir::NodePtr& in : n->inputs)
    if (in->op != Op::Const) return n;
  const auto& in = n->inputs;
  double v;
  if (ir::is_unary(n->op)) {
    v = ir::eval_unary(n->op, in[0]->attrs.value);
  } else if (ir::is_binary(n->op)) {
    v = ir::eval_binary(n->op, in[0]->attrs.value, in[1]->attrs.value);
  } else {
    switch (n->op) {
      case Op::Sum: v = in[0]->attrs.value * reduced_count(*n); break;
      case Op::ReduceMax: v = in[0]->attrs.value; break;
      case Op::LogSumExp: v = in[0]->attrs.value + std::log(reduced_count(*n)); break;
      case Op::Broadcast:
      case Op::Reshape:
      case Op::Transpose: v = in[0]->attrs.value; break;
      case Op::Einsum:
        if (!einsum_value(*n, &v)) return n;
        break;
      default: return n;  // convolutions
    }
  }
  if (n->dtype == ir::DType::F32) v = static_cast<double>(static_cast<float>(v));
  return ir::constant(v, n->dtype, n->shape);
}

}  // namespace

ir::NodePtr fold_rule(const ir::NodePtr& node) { return fold_node(node); }

std::vector<ir::NodePtr> fold(const std::vector<ir::NodePtr>& roots) {
  return rewrite(roots, fold_node);
}

}  // namespace hamux::passes
