// compiler/codegen/loops/merge_einsums.cpp - einsum(P, X) + einsum(Q, X) -> einsum(P + Q', X).
#include "codegen/loops/merge_einsums.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "graph/builder.h"

namespace hamux::codegen {

namespace {

bool depends_on_input(const ir::NodePtr& root) {
  for (const ir::Node* n : ir::topological_order({root}))
    if (n->op == ir::Op::Input) return true;
  return false;
}

bool unique_letters(const std::string& s) {
  for (size_t i = 0; i < s.size(); ++i)
    if (s.find(s[i], i + 1) != std::string::npos) return false;
  return true;
}

// A two-operand einsum seen as "param-only operand P, shared operand X".
struct Linear {
  ir::EinsumSpec spec;
  int x = -1;  // index of X among the operands; P is 1 - x
};

bool as_linear(const ir::Node& e, const ir::Node* x, Linear& out) {
  if (e.op != ir::Op::Einsum || e.inputs.size() != 2) return false;
  out.spec = ir::parse_einsum(e.attrs.spec);
  if (e.inputs[0].get() == x) out.x = 0;
  else if (e.inputs[1].get() == x) out.x = 1;
  else return false;
  if (e.inputs[0] == e.inputs[1]) return false;  // quadratic, not linear
  for (const std::string& t : out.spec.operands)
    if (!unique_letters(t)) return false;
  return unique_letters(out.spec.output);
}

// Records that letter `from` (of b's spec) is letter `to` (of a's spec); false on a clash.
bool map_letter(std::map<char, char>& fwd, std::map<char, char>& back, char from, char to) {
  auto f = fwd.emplace(from, to).first;
  auto r = back.emplace(to, from).first;
  return f->second == to && r->second == from;
}

ir::NodePtr try_merge(const ir::NodePtr& a, const ir::NodePtr& b, const ir::NodePtr& x) {
  Linear la, lb;
  if (!as_linear(*a, x.get(), la) || !as_linear(*b, x.get(), lb)) return nullptr;
  const ir::NodePtr& p = a->inputs[1 - la.x];
  const ir::NodePtr& q = b->inputs[1 - lb.x];
  if (p->shape.size() != q->shape.size() || depends_on_input(p) || depends_on_input(q)) return nullptr;
  // b's letters in a's naming, through the shared operand and the output.
  const std::string &xa = la.spec.operands[la.x], &xb = lb.spec.operands[lb.x];
  if (xa.size() != xb.size() || la.spec.output.size() != lb.spec.output.size()) return nullptr;
  std::map<char, char> fwd, back;
  for (size_t i = 0; i < xa.size(); ++i)
    if (!map_letter(fwd, back, xb[i], xa[i])) return nullptr;
  for (size_t i = 0; i < la.spec.output.size(); ++i)
    if (!map_letter(fwd, back, lb.spec.output[i], la.spec.output[i])) return nullptr;
  const std::string &pa = la.spec.operands[1 - la.x], &qb = lb.spec.operands[1 - lb.x];
  // Q's axes renamed; each must be some axis of P (a letter only Q has cannot be matched).
  std::vector<int64_t> perm(pa.size());
  std::string renamed;
  for (char c : qb) {
    auto it = fwd.find(c);
    if (it == fwd.end()) return nullptr;
    renamed += it->second;
  }
  for (size_t i = 0; i < pa.size(); ++i) {
    size_t j = renamed.find(pa[i]);
    if (j == std::string::npos) return nullptr;
    perm[i] = static_cast<int64_t>(j);
  }
  bool identity = true;
  for (size_t i = 0; i < perm.size(); ++i) identity = identity && perm[i] == static_cast<int64_t>(i);
  ir::NodePtr q_as_p = identity ? q : ir::transpose(q, perm);
  if (q_as_p->shape != p->shape) return nullptr;
  std::vector<ir::NodePtr> ops = a->inputs;
  ops[1 - la.x] = ir::add(p, q_as_p);
  return ir::make(ir::Op::Einsum, ops, a->attrs);
}

}  // namespace

ir::NodePtr merge_einsum_sum(const ir::NodePtr& a, const ir::NodePtr& b) {
  if (a->op != ir::Op::Einsum || b->op != ir::Op::Einsum || a->shape != b->shape || a->dtype != b->dtype)
    return nullptr;
  // Try each operand of a as the shared one.
  for (const ir::NodePtr& x : a->inputs)
    if (depends_on_input(x))
      if (ir::NodePtr m = try_merge(a, b, x)) return m;
  return nullptr;
}

}  // namespace hamux::codegen
