// tests/interp/einsum_test.cpp - einsum against explicit loops written out per spec:
// matmul-like products, several contracted indices, batch indices, three operands, traces,
// diagonals and diagonal embedding.
#include "interp/interp_testing.h"
#include "interp/ops.h"

namespace hamux::testing {
namespace {

template <class T>
class Einsum : public ::testing::Test {};
TYPED_TEST_SUITE(Einsum, FloatTypes);

constexpr int64_t kBatch = 2;

// Operand `index` of a per-sample shape, with random values; `data` keeps the T-rounded
// values (as double) for the reference loops.
template <class T>
struct Operand {
  ir::NodePtr node;
  Tensor<T> values;
  // Element at flat per-sample position p of sample b.
  double at(int64_t b, int64_t p) const {
    return static_cast<double>(values.data[b * num_elements(node->shape) + p]);
  }
};

template <class T>
Operand<T> operand(int index, const Shape& shape) {
  Shape batched = shape;
  batched.insert(batched.begin(), kBatch);
  std::string name = "x";
  name += std::to_string(index);  // (not "x" + ...: GCC 12 warns falsely, -Wrestrict)
  return {ir::input(index, name, shape, kDType<T>),
          tensor<T>(batched, random_values(num_elements(batched), 100 + index))};
}

template <class T>
Tensor<T> run(const std::string& spec, const std::vector<Operand<T>>& ops) {
  std::vector<ir::NodePtr> nodes;
  std::vector<Tensor<T>> values;
  // Bind the operands in the order given: input k is the k-th operand.
  for (const auto& o : ops) {
    nodes.push_back(ir::input(static_cast<int>(nodes.size()), o.node->attrs.name, o.node->shape,
                              kDType<T>));
    values.push_back(o.values);
  }
  return eval1<T>(ir::einsum(spec, nodes), values, kBatch);
}

TYPED_TEST(Einsum, MatrixProducts) {
  using T = TypeParam;
  const int64_t I = 3, J = 4, K = 5;
  auto a = operand<T>(0, {I, J});
  auto b = operand<T>(1, {J, K});
  auto v = operand<T>(2, {J});
  auto u = operand<T>(3, {I});
  auto w = operand<T>(4, {J});

  std::vector<double> want;
  for (int64_t s = 0; s < kBatch; ++s)
    for (int64_t i = 0; i < I; ++i)
      for (int64_t k = 0; k < K; ++k) {
        double acc = 0;
        for (int64_t j = 0; j < J; ++j) acc += a.at(s, i * J + j) * b.at(s, j * K + k);
        want.push_back(acc);
      }
  expect_values(run<T>("ij,jk->ik", {a, b}), {kBatch, I, K}, want);

  want.clear();  // vector @ matrix
  for (int64_t s = 0; s < kBatch; ++s)
    for (int64_t k = 0; k < K; ++k) {
      double acc = 0;
      for (int64_t j = 0; j < J; ++j) acc += v.at(s, j) * b.at(s, j * K + k);
      want.push_back(acc);
    }
  expect_values(run<T>("j,jk->k", {v, b}), {kBatch, K}, want);

  want.clear();  // matrix @ vector
  for (int64_t s = 0; s < kBatch; ++s)
    for (int64_t i = 0; i < I; ++i) {
      double acc = 0;
      for (int64_t j = 0; j < J; ++j) acc += a.at(s, i * J + j) * v.at(s, j);
      want.push_back(acc);
    }
  expect_values(run<T>("ij,j->i", {a, v}), {kBatch, I}, want);

  want.clear();  // dot
  for (int64_t s = 0; s < kBatch; ++s) {
    double acc = 0;
    for (int64_t j = 0; j < J; ++j) acc += v.at(s, j) * w.at(s, j);
    want.push_back(acc);
  }
  expect_values(run<T>("j,j->", {v, w}), {kBatch}, want);

  want.clear();  // outer product, with the output transposed
  for (int64_t s = 0; s < kBatch; ++s)
    for (int64_t j = 0; j < J; ++j)
      for (int64_t i = 0; i < I; ++i) want.push_back(u.at(s, i) * v.at(s, j));
  expect_values(run<T>("i,j->ji", {u, v}), {kBatch, J, I}, want);
}

TYPED_TEST(Einsum, SeveralContractedIndicesAndBatchIndices) {
  using T = TypeParam;
  const int64_t P = 2, I = 3, J = 2, K = 4, L = 3;
  auto x = operand<T>(0, {I, J, K});
  auto y = operand<T>(1, {J, K, L});
  std::vector<double> want;
  for (int64_t s = 0; s < kBatch; ++s)
    for (int64_t i = 0; i < I; ++i)
      for (int64_t l = 0; l < L; ++l) {
        double acc = 0;
        for (int64_t j = 0; j < J; ++j)
          for (int64_t k = 0; k < K; ++k)
            acc += x.at(s, (i * J + j) * K + k) * y.at(s, (j * K + k) * L + l);
        want.push_back(acc);
      }
  expect_values(run<T>("ijk,jkl->il", {x, y}), {kBatch, I, L}, want);

  // Batched matmul with the batch letter in the middle of the output.
  auto a = operand<T>(2, {P, I, J});
  auto b = operand<T>(3, {P, J, K});
  want.clear();
  for (int64_t s = 0; s < kBatch; ++s)
    for (int64_t i = 0; i < I; ++i)
      for (int64_t p = 0; p < P; ++p)
        for (int64_t k = 0; k < K; ++k) {
          double acc = 0;
          for (int64_t j = 0; j < J; ++j)
            acc += a.at(s, (p * I + i) * J + j) * b.at(s, (p * J + j) * K + k);
          want.push_back(acc);
        }
  expect_values(run<T>("pij,pjk->ipk", {a, b}), {kBatch, I, P, K}, want);
}

TYPED_TEST(Einsum, ThreeAndMoreOperands) {
  using T = TypeParam;
  const int64_t I = 2, J = 3, K = 4, L = 2;
  auto a = operand<T>(0, {I, J});
  auto b = operand<T>(1, {J, K});
  auto c = operand<T>(2, {K, L});
  std::vector<double> want;
  for (int64_t s = 0; s < kBatch; ++s)
    for (int64_t i = 0; i < I; ++i)
      for (int64_t l = 0; l < L; ++l) {
        double acc = 0;
        for (int64_t j = 0; j < J; ++j)
          for (int64_t k = 0; k < K; ++k)
            acc += a.at(s, i * J + j) * b.at(s, j * K + k) * c.at(s, k * L + l);
        want.push_back(acc);
      }
  expect_values(run<T>("ij,jk,kl->il", {a, b, c}), {kBatch, I, L}, want);

  // An n-ary "dense" energy: sum_ijk W_ijk u_i v_j w_k.
  auto w = operand<T>(3, {I, J, K});
  auto u = operand<T>(4, {I});
  auto v = operand<T>(5, {J});
  auto z = operand<T>(6, {K});
  want.clear();
  for (int64_t s = 0; s < kBatch; ++s) {
    double acc = 0;
    for (int64_t i = 0; i < I; ++i)
      for (int64_t j = 0; j < J; ++j)
        for (int64_t k = 0; k < K; ++k)
          acc += w.at(s, (i * J + j) * K + k) * u.at(s, i) * v.at(s, j) * z.at(s, k);
    want.push_back(acc);
  }
  expect_values(run<T>("ijk,i,j,k->", {w, u, v, z}), {kBatch}, want);

  // Elementwise triple product, kept: "i,i,i->i".
  auto u2 = operand<T>(7, {I});
  auto u3 = operand<T>(8, {I});
  want.clear();
  for (int64_t s = 0; s < kBatch; ++s)
    for (int64_t i = 0; i < I; ++i) want.push_back(u.at(s, i) * u2.at(s, i) * u3.at(s, i));
  expect_values(run<T>("i,i,i->i", {u, u2, u3}), {kBatch, I}, want);
}

TYPED_TEST(Einsum, RepeatedIndicesTraceDiagonalAndEmbedding) {
  using T = TypeParam;
  const int64_t N = 3;
  auto m = operand<T>(0, {N, N});
  auto v = operand<T>(1, {N});

  std::vector<double> trace, diag, embed, sum_all, transposed;
  for (int64_t s = 0; s < kBatch; ++s) {
    double t = 0, total = 0;
    for (int64_t i = 0; i < N; ++i) {
      t += m.at(s, i * N + i);
      diag.push_back(m.at(s, i * N + i));
      for (int64_t j = 0; j < N; ++j) {
        embed.push_back(i == j ? v.at(s, i) : 0.0);
        total += m.at(s, i * N + j);
        transposed.push_back(m.at(s, j * N + i));
      }
    }
    trace.push_back(t);
    sum_all.push_back(total);
  }
  expect_values(run<T>("ii->", {m}), {kBatch}, trace);
  expect_values(run<T>("ii->i", {m}), {kBatch, N}, diag);
  expect_values(run<T>("i->ii", {v}), {kBatch, N, N}, embed);
  expect_values(run<T>("ij->", {m}), {kBatch}, sum_all);
  expect_values(run<T>("ij->ji", {m}), {kBatch, N, N}, transposed);

  // "ij,i->ij" scales rows; "ii,i->i" multiplies the diagonal elementwise.
  std::vector<double> rows, diag_times;
  for (int64_t s = 0; s < kBatch; ++s)
    for (int64_t i = 0; i < N; ++i) {
      diag_times.push_back(m.at(s, i * N + i) * v.at(s, i));
      for (int64_t j = 0; j < N; ++j) rows.push_back(m.at(s, i * N + j) * v.at(s, i));
    }
  expect_values(run<T>("ij,i->ij", {m, v}), {kBatch, N, N}, rows);
  expect_values(run<T>("ii,i->i", {m, v}), {kBatch, N}, diag_times);

  // A repeated output letter next to a free one: "ij->iij" (a gradient shape).
  std::vector<double> block;
  for (int64_t s = 0; s < kBatch; ++s)
    for (int64_t a = 0; a < N; ++a)
      for (int64_t b = 0; b < N; ++b)
        for (int64_t j = 0; j < N; ++j) block.push_back(a == b ? m.at(s, a * N + j) : 0.0);
  expect_values(run<T>("ij->iij", {m}), {kBatch, N, N, N}, block);
}

TYPED_TEST(Einsum, ScalarsAndEmptyAxes) {
  using T = TypeParam;
  auto a = operand<T>(0, {});
  auto b = operand<T>(1, {});
  std::vector<double> want;
  for (int64_t s = 0; s < kBatch; ++s) want.push_back(a.at(s, 0) * b.at(s, 0));
  expect_values(run<T>(",->", {a, b}), {kBatch}, want);
  // A zero-length contracted axis sums nothing.
  auto e = operand<T>(2, {2, 0});
  auto f = operand<T>(3, {0, 3});
  expect_values(run<T>("ij,jk->ik", {e, f}), {kBatch, 2, 3}, std::vector<double>(12, 0.0));
}

// The GEMM route for pairwise contractions must agree with the definition's loop, for
// every way letters can be split into batch, free and contracted ones, in any order.
TEST(EinsumPaths, GemmRouteAgreesWithTheDefinition) {
  std::map<char, int64_t> size = {{'a', 2}, {'b', 3}, {'c', 4}, {'d', 2}, {'e', 3}};
  auto shape_of = [&](const std::string& term) {
    Shape s;
    for (char c : term) s.push_back(size.at(c));
    return s;
  };
  const char* specs[] = {"ab,bc->ac", "ab,bc->ca", "ab,cb->ac", "ba,bc->ac", "abc,acd->abd",
                         "abc,acd->dab", "bac,cda->adb", "ab,cd->abcd", "ab,ab->",  "ab,ab->ba",
                         "abc,c->ab",  "c,abc->ba",  "abc,bce->ae", "a,a->a",    ",ab->ab",
                         "ab,->ba",    "abcd,bd->ca", "ab,bc->ab" /* c summed alone: definition */,
                         "aa,ab->b" /* repeated: definition */};
  unsigned seed = 1;
  for (const char* spec : specs) {
    SCOPED_TRACE(spec);
    ir::EinsumSpec s = ir::parse_einsum(spec);
    interp::detail::Values a(shape_of(s.operands[0]), random_values(num_elements(shape_of(s.operands[0])), seed++));
    interp::detail::Values b(shape_of(s.operands[1]), random_values(num_elements(shape_of(s.operands[1])), seed++));
    Shape out = shape_of(s.output);
    interp::detail::Values fast = interp::detail::einsum(spec, {&a, &b}, out);
    interp::detail::Values slow = interp::detail::einsum_by_definition(spec, {&a, &b}, out);
    ASSERT_EQ(fast.shape, out);
    ASSERT_EQ(slow.shape, out);
    for (size_t i = 0; i < slow.data.size(); ++i) EXPECT_NEAR(fast.data[i], slow.data[i], 1e-14);
  }
}

}  // namespace
}  // namespace hamux::testing
