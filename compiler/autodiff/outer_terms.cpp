// compiler/autodiff/outer_terms.cpp - see outer_terms.h.
#include "autodiff/outer_terms.h"

#include <set>

#include "graph/builder.h"

namespace hamux::autodiff {

namespace {

// The value of a node that holds one number everywhere (Const, or a broadcast of one).
bool uniform_value(const ir::NodePtr& n, double& value) {
  if (n->op == ir::Op::Const) {
    value = n->attrs.value;
    return true;
  }
  if (n->op == ir::Op::Broadcast) return uniform_value(n->inputs[0], value);
  return false;
}

bool distinct(const std::string& letters) {
  return std::set<char>(letters.begin(), letters.end()).size() == letters.size();
}

// An einsum that is an outer product of its two operands: true and `term` set (scale 1).
bool as_outer(const ir::NodePtr& n, OuterTerm& term) {
  if (n->op != ir::Op::Einsum || n->inputs.size() != 2) return false;
  const ir::EinsumSpec s = ir::parse_einsum(n->attrs.spec);
  const std::string& a = s.operands[0];
  const std::string& b = s.operands[1];
  if (!distinct(a + b)) return false;  // a shared letter is a contraction, a repeat a diagonal
  if (s.output == a + b) term = {n->inputs[0], n->inputs[1], 1.0};
  else if (s.output == b + a) term = {n->inputs[1], n->inputs[0], 1.0};
  else return false;
  return true;
}

void collect(const ir::NodePtr& n, double scale, OuterSplit& out) {
  double c = 0;
  OuterTerm term;
  switch (n->op) {
    case ir::Op::Add:
      collect(n->inputs[0], scale, out);
      collect(n->inputs[1], scale, out);
      return;
    case ir::Op::Sub:
      collect(n->inputs[0], scale, out);
      collect(n->inputs[1], -scale, out);
      return;
    case ir::Op::Neg:
      collect(n->inputs[0], -scale, out);
      return;
    case ir::Op::Mul:
      if (uniform_value(n->inputs[0], c)) return collect(n->inputs[1], scale * c, out);
      if (uniform_value(n->inputs[1], c)) return collect(n->inputs[0], scale * c, out);
      break;
    default:
      if (as_outer(n, term)) {
        term.scale = scale;
        out.outer.push_back(term);
        return;
      }
      break;
  }
  ir::NodePtr part = scale == 1.0 ? n : ir::scale(scale, n);
  out.rest = out.rest ? ir::add(out.rest, part) : part;
}

}  // namespace

OuterSplit split_outer_terms(const ir::NodePtr& g) {
  OuterSplit out;
  collect(g, 1.0, out);
  return out;
}

}  // namespace hamux::autodiff
