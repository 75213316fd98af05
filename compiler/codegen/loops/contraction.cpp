// compiler/codegen/loops/contraction.cpp - see contraction.h.
#include "codegen/loops/contraction.h"

#include <algorithm>

#include "graph/internal_error.h"

namespace hamux::codegen {
namespace {

int64_t letter_id(char c) { return c >= 'a' && c <= 'z' ? c - 'a' : 26 + (c - 'A'); }

EinsumTerm term(const std::string& letters, const Shape& shape, bool batched) {
  EinsumTerm t;
  if (batched) t.letters.push_back(kSampleLetter), t.dims.push_back(-1);
  for (char c : letters) t.letters.push_back(letter_id(c));
  t.dims.insert(t.dims.end(), shape.begin(), shape.end());
  return t;
}

bool has(const EinsumTerm& t, int64_t l) { return std::find(t.letters.begin(), t.letters.end(), l) != t.letters.end(); }
bool unique_letters(const EinsumTerm& t) {
  for (size_t i = 0; i < t.letters.size(); ++i)
    for (size_t j = i + 1; j < t.letters.size(); ++j)
      if (t.letters[i] == t.letters[j]) return false;
  return true;
}

// Gathers the letters of `order` (with their sizes) into a term.
EinsumTerm term_of(const std::vector<int64_t>& order, const std::vector<EinsumTerm>& from) {
  EinsumTerm t;
  for (int64_t l : order) {
    t.letters.push_back(l);
    bool found = false;
    for (const EinsumTerm& f : from)
      for (size_t i = 0; i < f.letters.size() && !found; ++i)
        if (f.letters[i] == l) t.dims.push_back(f.dims[i]), found = true;
  }
  return t;
}

EinsumTerm concat(const EinsumTerm& a, const EinsumTerm& b) {
  EinsumTerm t = a;
  t.letters.insert(t.letters.end(), b.letters.begin(), b.letters.end());
  t.dims.insert(t.dims.end(), b.dims.begin(), b.dims.end());
  return t;
}

Extent extent(const EinsumTerm& t) {
  Extent e;
  for (int64_t d : t.dims) {
    if (d < 0) e.per_sample = true;
    else e.size *= d;
  }
  return e;
}

// The GEMM form of a two-operand einsum, when it has one.
std::optional<GemmPlan> plan_gemm(const EinsumTerm& a, const EinsumTerm& b, const EinsumTerm& o, bool swapped = false) {
  if (!unique_letters(a) || !unique_letters(b) || !unique_letters(o)) return std::nullopt;
  for (int64_t l : a.letters)
    if (!has(b, l) && !has(o, l)) return std::nullopt;
  for (int64_t l : b.letters)
    if (!has(a, l) && !has(o, l)) return std::nullopt;
  std::vector<int64_t> batch, m, n, k;
  for (int64_t l : o.letters) {
    if (has(a, l) && has(b, l)) batch.push_back(l);
    else if (has(a, l)) m.push_back(l);
    else n.push_back(l);
  }
  for (int64_t l : a.letters)
    if (has(b, l) && !has(o, l)) k.push_back(l);
  const std::vector<EinsumTerm> all{a, b};
  EinsumTerm tb = term_of(batch, all), tm = term_of(m, all), tn = term_of(n, all), tk = term_of(k, all);
  auto same = [](const EinsumTerm& x, const EinsumTerm& y) { return x.letters == y.letters; };
  // The output must be (batch, M, N) to be written in place. When it is (batch, N, M)
  // (e.g. W @ xhat with the sample letter first: C^T = B^T A^T), swapping the operands
  // makes it so, and saves permuting the result through scratch.
  if (!swapped && !same(o, concat(concat(tb, tm), tn)) && same(o, concat(concat(tb, tn), tm)))
    return plan_gemm(b, a, o, true);
  GemmPlan p;
  p.swap = swapped;
  p.batches = extent(tb), p.m = extent(tm), p.n = extent(tn), p.k = extent(tk);
  p.a = a, p.b = b, p.o = o;
  p.amk = concat(concat(tb, tm), tk);
  p.bkn = concat(concat(tb, tk), tn);
  p.omn = concat(concat(tb, tm), tn);
  EinsumTerm akm = concat(concat(tb, tk), tm), bnk = concat(concat(tb, tn), tk);
  p.a_t = same(a, akm) && !same(a, p.amk);
  p.a_perm = !p.a_t && !same(a, p.amk);
  p.b_t = same(b, bnk) && !same(b, p.bkn);
  p.b_perm = !p.b_t && !same(b, p.bkn);
  p.o_perm = !same(o, p.omn);
  return p;
}

std::string term_str(const EinsumTerm& t) {
  std::string s;
  for (int64_t l : t.letters) s += l == kSampleLetter ? '#' : static_cast<char>(l < 26 ? 'a' + l : 'A' + (l - 26));
  return s;
}

std::string extent_str(const Extent& e) { return std::to_string(e.size) + (e.per_sample ? "*nb" : ""); }

}  // namespace

bool EinsumPlan::packable(int k) const {
  return gemm && gemm->batches.size == 1 && !gemm->batches.per_sample && gemm->k.size > 0 && !gemm->k.per_sample &&
         gemm->n.size > 0 && !gemm->n.per_sample && (gemm->swap ? k == 0 : k == 1);
}

EinsumPlan plan_einsum(const ir::Node& node, const std::vector<bool>& operand_batched, bool out_batched) {
  if (node.op != ir::Op::Einsum) HAMUX_INTERNAL("plan_einsum of a " + std::string(ir::op_name(node.op)));
  if (operand_batched.size() != node.inputs.size()) HAMUX_INTERNAL("plan_einsum: operands and flags differ");
  const ir::EinsumSpec spec = ir::parse_einsum(node.attrs.spec);
  EinsumPlan p;
  p.out = term(spec.output, node.shape, out_batched);
  for (size_t k = 0; k < node.inputs.size(); ++k)
    p.ops.push_back(term(spec.operands[k], node.inputs[k]->shape, operand_batched[k]));
  for (const EinsumTerm& t : p.ops)
    for (size_t i = 1; i < t.dims.size(); ++i)
      if (t.dims[i] < 0) HAMUX_INTERNAL("einsum term with a slice axis after the first");
  if (p.ops.size() == 2) p.gemm = plan_gemm(p.ops[0], p.ops[1], p.out);
  return p;
}

hamux_conv_plan plan_conv(const ir::Node& n, bool a_batched, bool b_batched, bool out_batched) {
  Shape x, k;
  int64_t kind = 0;
  if (n.op == ir::Op::Conv2d) x = n.inputs[0]->shape, k = n.inputs[1]->shape;
  else if (n.op == ir::Op::Conv2dInputGrad) kind = 1, x = n.attrs.shape, k = n.inputs[1]->shape;
  else if (n.op == ir::Op::Conv2dKernelGrad) kind = 2, x = n.inputs[0]->shape, k = n.attrs.shape;
  else HAMUX_INTERNAL("plan_conv of a " + std::string(ir::op_name(n.op)));
  const ir::ConvGeometry g =
      ir::conv_geometry(x[0], x[1], k[0], k[1], n.attrs.strides[0], n.attrs.strides[1], n.attrs.padding);
  return hamux_conv_plan{kind, x[0], x[1], x[2], k[0], k[1], k[3], g.out_h, g.out_w,
                         n.attrs.strides[0], n.attrs.strides[1], g.pad_top, g.pad_left,
                         a_batched, b_batched, out_batched};
}

std::string to_string(const EinsumPlan& p) {
  std::string s = "plan ";
  for (size_t k = 0; k < p.ops.size(); ++k) s += (k ? "," : "") + term_str(p.ops[k]);
  s += "->" + term_str(p.out);
  if (!p.gemm) return s + " naive";
  const GemmPlan& g = *p.gemm;
  s += " gemm batches=" + extent_str(g.batches) + " m=" + extent_str(g.m) + " n=" + extent_str(g.n) +
       " k=" + extent_str(g.k);
  if (g.swap) s += " swap";
  if (g.a_t) s += " a_t";
  if (g.b_t) s += " b_t";
  if (g.a_perm) s += " a_perm";
  if (g.b_perm) s += " b_perm";
  if (g.o_perm) s += " o_perm";
  return s;
}

std::string to_string(const hamux_conv_plan& c) {
  std::string s = "plan conv kind=" + std::to_string(c.kind);
  for (int64_t v : {c.H, c.W, c.C, c.KH, c.KW, c.O, c.OH, c.OW, c.sh, c.sw, c.pt, c.pl, c.a_b, c.b_b, c.o_b})
    s += " " + std::to_string(v);
  return s;
}

}  // namespace hamux::codegen
