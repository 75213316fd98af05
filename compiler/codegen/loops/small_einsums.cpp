// compiler/codegen/loops/small_einsums.cpp - see small_einsums.h.
#include "codegen/loops/small_einsums.h"

#include <algorithm>
#include <map>
#include <numeric>

#include "graph/builder.h"

namespace hamux::codegen {

namespace {
bool repeats_a_letter(const std::string& letters) {
  std::string s = letters;
  std::sort(s.begin(), s.end());
  return std::adjacent_find(s.begin(), s.end()) != s.end();
}
}  // namespace

ir::NodePtr small_einsum_as_sum(const ir::Node& einsum, const std::vector<ir::NodePtr>& operands, int64_t max_work) {
  using namespace ir;
  const EinsumSpec spec = parse_einsum(einsum.attrs.spec);
  if (spec.operands.size() != operands.size() || repeats_a_letter(spec.output)) return nullptr;
  // Every letter once: the output's first, then the contracted ones in order of appearance.
  std::string all = spec.output;
  std::map<char, int64_t> size;
  for (size_t k = 0; k < operands.size(); ++k) {
    const std::string& letters = spec.operands[k];
    if (repeats_a_letter(letters) || letters.size() != operands[k]->shape.size()) return nullptr;
    for (size_t i = 0; i < letters.size(); ++i) {
      size[letters[i]] = operands[k]->shape[i];
      if (all.find(letters[i]) == std::string::npos) all += letters[i];
    }
  }
  int64_t work = 1;
  Shape full;
  for (char c : all) {
    if (!size.count(c)) return nullptr;  // an output letter no operand has
    work *= size[c];
    full.push_back(size[c]);
  }
  if (work > max_work) return nullptr;

  NodePtr product;
  for (size_t k = 0; k < operands.size(); ++k) {
    const std::string& letters = spec.operands[k];
    // Put the operand's axes in the order their letters have in `all` ...
    std::vector<int64_t> perm(letters.size());
    std::iota(perm.begin(), perm.end(), 0);
    std::sort(perm.begin(), perm.end(), [&](int64_t a, int64_t b) { return all.find(letters[a]) < all.find(letters[b]); });
    NodePtr x = operands[k];
    if (!std::is_sorted(perm.begin(), perm.end())) x = transpose(x, perm);
    // ... give the letters it lacks size 1, and broadcast to every letter.
    Shape with_ones;
    for (char c : all) with_ones.push_back(letters.find(c) == std::string::npos ? 1 : size[c]);
    if (with_ones != x->shape) x = reshape(x, with_ones);
    x = broadcast_to(x, full);
    product = product ? mul(product, x) : x;
  }
  std::vector<int64_t> contracted;
  for (size_t a = spec.output.size(); a < all.size(); ++a) contracted.push_back(static_cast<int64_t>(a));
  if (contracted.empty()) return product;
  return reduce(Op::Sum, product, contracted, false);
}

}  // namespace hamux::codegen
