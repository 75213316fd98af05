// compiler/autodiff/grad.cpp - reverse-mode accumulation over the DAG (see grad.h).
#include "autodiff/grad.h"

#include <map>
#include <unordered_map>
#include <unordered_set>

#include "autodiff/vjp.h"
#include "graph/builder.h"
#include "passes/rewrite.h"

namespace hamux::autodiff {

namespace {

using ir::NodePtr;
using ir::Op;

// Identity of a leaf for matching: inputs by index, params by name.
std::string leaf_key(const ir::Node& n) {
  if (n.op == Op::Input) return "input " + std::to_string(n.attrs.index);
  return "param " + n.attrs.name;
}

std::string describe(const ir::Node& n) {
  if (n.op == Op::Input) return "input " + std::to_string(n.attrs.index) + " '" + n.attrs.name + "'";
  if (n.op == Op::Param) return "param '" + n.attrs.name + "'";
  return std::string(ir::op_name(n.op));
}

}  // namespace

std::vector<NodePtr> vjp(const NodePtr& output, const NodePtr& cotangent,
                         const std::vector<NodePtr>& wrt) {
  if (!output || !cotangent) throw ir::ShapeError("vjp: missing output or cotangent");
  if (cotangent->shape != output->shape || cotangent->dtype != output->dtype)
    throw ir::ShapeError("vjp: cotangent of shape " + shape_str(cotangent->shape) +
                         " does not match output of shape " + shape_str(output->shape));
  std::map<std::string, const ir::Node*> wanted;
  for (const NodePtr& w : wrt) {
    if (!w || (w->op != Op::Input && w->op != Op::Param))
      throw ir::ShapeError("grad: can only differentiate with respect to an input or param, got " +
                           (w ? describe(*w) : std::string("null")));
    wanted.emplace(leaf_key(*w), w.get());
  }

  std::vector<const ir::Node*> order = ir::topological_order({output});
  // Owning pointers (rules need the node itself, e.g. d exp = g * exp) and the set of nodes
  // that depend on a wrt leaf: only those carry cotangents.
  std::unordered_map<const ir::Node*, NodePtr> owner{{output.get(), output}};
  std::unordered_set<const ir::Node*> active;
  for (const ir::Node* n : order) {
    bool a = ir::is_leaf(n->op) ? (n->op != Op::Const && wanted.count(leaf_key(*n)) > 0) : false;
    for (const NodePtr& in : n->inputs) {
      owner.emplace(in.get(), in);
      a = a || active.count(in.get()) > 0;
    }
    if (a) active.insert(n);
  }

  std::unordered_map<const ir::Node*, std::vector<NodePtr>> parts;  // cotangent contributions
  std::map<std::string, NodePtr> leaf_grad;
  if (active.count(output.get())) parts[output.get()].push_back(cotangent);
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const ir::Node* n = *it;
    auto p = parts.find(n);
    if (p == parts.end()) continue;
    // Sum this node's contributions once; every user reads the same sum.
    NodePtr g = p->second[0];
    for (size_t i = 1; i < p->second.size(); ++i) g = ir::add(g, p->second[i]);
    parts.erase(p);
    if (ir::is_leaf(n->op)) {
      NodePtr& acc = leaf_grad[leaf_key(*n)];
      const ir::Node* w = wanted.at(leaf_key(*n));
      if (w->shape != n->shape || w->dtype != n->dtype)
        throw ir::ShapeError("grad: " + describe(*w) + " has shape " + shape_str(w->shape) +
                             " but the graph uses it with shape " + shape_str(n->shape));
      acc = acc ? ir::add(acc, g) : g;
      continue;
    }
    std::vector<bool> needs;
    for (const NodePtr& in : n->inputs) needs.push_back(active.count(in.get()) > 0);
    std::vector<NodePtr> in_grads = vjp_rule(owner.at(n), g, needs);
    for (size_t i = 0; i < in_grads.size(); ++i)
      if (in_grads[i] && needs[i]) parts[n->inputs[i].get()].push_back(in_grads[i]);
  }

  std::vector<NodePtr> result;
  for (const NodePtr& w : wrt) {
    auto it = leaf_grad.find(leaf_key(*w));
    result.push_back(it != leaf_grad.end() ? it->second : ir::constant(0.0, w->dtype, w->shape));
  }
  return result;
}

std::vector<NodePtr> grad(const NodePtr& y, const std::vector<NodePtr>& wrt) {
  if (!y) throw ir::ShapeError("grad: missing output");
  if (!y->shape.empty())
    throw ir::ShapeError("grad: output must be a scalar, got shape " + shape_str(y->shape));
  return vjp(y, ir::constant(1.0, y->dtype), wrt);
}

std::vector<NodePtr> substitute_inputs(const std::vector<NodePtr>& roots,
                                       const std::vector<NodePtr>& by_index) {
  return passes::rewrite(roots, [&](const NodePtr& n) -> NodePtr {
    if (n->op != Op::Input || n->attrs.index < 0 ||
        n->attrs.index >= static_cast<int>(by_index.size()) || !by_index[n->attrs.index])
      return n;
    const NodePtr& r = by_index[n->attrs.index];
    if (r->shape != n->shape || r->dtype != n->dtype)
      throw ir::ShapeError("substitute: input " + std::to_string(n->attrs.index) + " '" +
                           n->attrs.name + "' has shape " + shape_str(n->shape) + " (" +
                           ir::dtype_name(n->dtype) + ") but its replacement has shape " +
                           shape_str(r->shape) + " (" + ir::dtype_name(r->dtype) + ")");
    return r;
  });
}

}  // namespace hamux::autodiff
