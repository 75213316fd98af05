// compiler/interp/einsum.cpp - explicit einsum, straight from its definition in ir.h:
//
//   for every assignment of a value to each letter of the spec:
//     out[output letters] += product over operands k of operand_k[letters of term k]
//
// A letter repeated inside an operand term reads a diagonal ("ii->" is the trace); a letter
// repeated in the output writes a diagonal, and the other output positions stay zero
// ("i->ii" builds diag(x)). Sums accumulate in double (see ops.h).
//
// einsum_by_definition is that loop, verbatim. einsum() runs it too, except for the
// common pairwise contraction without repeated or lone letters, which is the same sum
// computed as a batch of matrix products (Eigen GEMM, still in double) so that the oracle
// stays usable on model-sized graphs; the tests check the two paths against each other.
#include <Eigen/Core>

#include "interp/ops.h"

namespace hamux::interp::detail {

namespace {

bool distinct(const std::string& letters) {
  for (size_t i = 0; i < letters.size(); ++i)
    if (letters.find(letters[i], i + 1) != std::string::npos) return false;
  return true;
}

bool has(const std::string& letters, char c) { return letters.find(c) != std::string::npos; }

// x, whose axes carry the letters `from`, with its axes reordered to `to`.
Values permute(const Values& x, const std::string& from, const std::string& to) {
  std::vector<int64_t> perm;
  for (char c : to) perm.push_back(static_cast<int64_t>(from.find(c)));
  return transpose(x, perm);
}

// a (letters ta) times b (letters tb) -> letters `out`, as GEMMs. Letters split into
// batch (in a, b and out), free (in out and one operand) and contracted (in a and b only).
// Returns false, computing nothing, when the spec is not of that form.
bool pairwise_as_gemm(const std::string& ta, const std::string& tb, const std::string& out,
                      const Values& a, const Values& b, Values* result) {
  if (!distinct(ta) || !distinct(tb) || !distinct(out)) return false;
  std::string batch, free_a, free_b, contracted;
  int64_t nb = 1, m = 1, n = 1, k = 1;
  for (size_t i = 0; i < ta.size(); ++i) {
    char c = ta[i];
    if (has(tb, c) && has(out, c)) batch += c, nb *= a.shape[i];
    else if (has(out, c)) free_a += c, m *= a.shape[i];
    else if (has(tb, c)) contracted += c, k *= a.shape[i];
    else return false;  // summed over a alone
  }
  for (size_t i = 0; i < tb.size(); ++i) {
    char c = tb[i];
    if (has(ta, c)) continue;
    if (!has(out, c)) return false;  // summed over b alone
    free_b += c, n *= b.shape[i];
  }
  if (nb * m * n * k == 0) return false;  // empty: leave it to the definition

  // A as [batch, free_a, contracted], B as [batch, contracted, free_b]: row-major matrices.
  Values pa = permute(a, ta, batch + free_a + contracted);
  Values pb = permute(b, tb, batch + contracted + free_b);
  Shape prod_shape;
  for (char c : batch + free_a) prod_shape.push_back(pa.shape[(batch + free_a + contracted).find(c)]);
  for (char c : free_b) prod_shape.push_back(pb.shape[(batch + contracted + free_b).find(c)]);
  Values prod(prod_shape, 0.0);
  using Matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  for (int64_t i = 0; i < nb; ++i) {
    Eigen::Map<const Matrix> A(pa.data.data() + i * m * k, m, k);
    Eigen::Map<const Matrix> B(pb.data.data() + i * k * n, k, n);
    Eigen::Map<Matrix> C(prod.data.data() + i * m * n, m, n);
    C.noalias() = A * B;
  }
  *result = permute(prod, batch + free_a + free_b, out);
  return true;
}

}  // namespace

Values einsum(const std::string& spec, const std::vector<const Values*>& operands,
              const Shape& out_shape) {
  ir::EinsumSpec s = ir::parse_einsum(spec);
  Values result;
  if (operands.size() == 2 &&
      pairwise_as_gemm(s.operands[0], s.operands[1], s.output, *operands[0], *operands[1], &result))
    return result;
  return einsum_by_definition(spec, operands, out_shape);
}

Values einsum_by_definition(const std::string& spec, const std::vector<const Values*>& operands,
                            const Shape& out_shape) {
  ir::EinsumSpec s = ir::parse_einsum(spec);

  // The distinct letters, and the size each one ranges over (shape inference checked
  // that all occurrences of a letter agree and that output letters occur in operands).
  std::string letters;
  std::vector<int64_t> size;
  for (size_t k = 0; k < s.operands.size(); ++k)
    for (size_t i = 0; i < s.operands[k].size(); ++i)
      if (letters.find(s.operands[k][i]) == std::string::npos) {
        letters += s.operands[k][i];
        size.push_back(operands[k]->shape[i]);
      }
  const size_t L = letters.size();

  // How far a tensor's offset moves when one letter advances by one: the sum of the
  // strides of every axis that carries the letter (a repeated letter moves along the
  // diagonal).
  auto letter_strides = [&](const std::string& term, const Shape& shape) {
    std::vector<int64_t> axis_stride = row_major_strides(shape);
    std::vector<int64_t> st(L, 0);
    for (size_t i = 0; i < term.size(); ++i) st[letters.find(term[i])] += axis_stride[i];
    return st;
  };
  std::vector<std::vector<int64_t>> in_stride;
  for (size_t k = 0; k < operands.size(); ++k)
    in_stride.push_back(letter_strides(s.operands[k], operands[k]->shape));
  std::vector<int64_t> out_stride = letter_strides(s.output, out_shape);

  Values out(out_shape, 0.0);
  for (int64_t n : size)
    if (n == 0) return out;  // no assignment at all: an empty sum

  // Walk all assignments like an odometer, keeping every offset in step.
  std::vector<int64_t> index(L, 0), in_off(operands.size(), 0);
  int64_t out_off = 0;
  while (true) {
    double product = 1.0;
    for (size_t k = 0; k < operands.size(); ++k) product *= operands[k]->data[in_off[k]];
    out.data[out_off] += product;

    size_t a = L;
    bool wrapped_all = true;
    while (a-- > 0) {
      for (size_t k = 0; k < operands.size(); ++k) in_off[k] += in_stride[k][a];
      out_off += out_stride[a];
      if (++index[a] < size[a]) {
        wrapped_all = false;
        break;
      }
      for (size_t k = 0; k < operands.size(); ++k) in_off[k] -= in_stride[k][a] * size[a];
      out_off -= out_stride[a] * size[a];
      index[a] = 0;
    }
    if (wrapped_all) break;
  }
  return out;
}

}  // namespace hamux::interp::detail
