// tests/codegen/graph_test.cpp - JIT == interpreter on random graphs containing every op.
#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <set>

#include "autodiff/grad.h"
#include "codegen/loops/lower.h"
#include "codegen/loops/pack_weights.h"
#include "compare.h"
#include "graph/builder.h"
#include "hamux/error.h"
#include "passes/simplify.h"

namespace hamux::codegen {
namespace {

using namespace ir;
using testing::check_against_interpreter;

// Builds a random DAG over a fixed set of inputs and params in which every op of ir.h
// appears; operands are drawn at random from earlier nodes of the right shape. Operands
// of log/sqrt/pow/div/exp are shifted into their domain so every value stays finite.
class RandomGraph {
 public:
  RandomGraph(DType dt, unsigned seed) : dt_(dt), rng_(seed) {
    const Shape A{3, 4};
    keep(input(0, "x0", A, dt));
    keep(input(1, "x1", {4}, dt));
    keep(input(2, "img", {5, 5, 2}, dt));
    keep(param("P", A, dt));
    keep(param("W", {4, 5}, dt));
    keep(param("v", {5}, dt));
    keep(param("K", {3, 3, 2, 3}, dt));
    keep(unary(Op::Tanh, pick({3, 4}, true)));  // parameter-only work: hoisted to the prologue

    auto pos = [&](const NodePtr& x) { return add_c(unary(Op::Abs, x), 0.5); };
    for (Op op : {Op::Neg, Op::Abs, Op::Sign, Op::Step, Op::Relu, Op::Sigmoid, Op::Tanh, Op::Softplus,
                  Op::LogCosh})
      keep(unary(op, pick(A)));
    keep(unary(Op::Exp, unary(Op::Tanh, pick(A))));
    keep(unary(Op::Log, pos(pick(A))));
    keep(unary(Op::Sqrt, pos(pick(A))));
    keep(unary(Op::Log1p, unary(Op::Abs, pick(A))));
    for (Op op : {Op::Add, Op::Sub, Op::Mul, Op::Max, Op::Min, Op::Greater, Op::Equal})
      keep(binary(op, pick(A), pick(A)));
    keep(binary(Op::Equal, pick(A), unary(Op::Relu, pick(A))));  // equal in about half the places
    keep(div(pick(A), pos(pick(A))));
    keep(binary(Op::Pow, pos(pick(A)), unary(Op::Tanh, pick(A))));
    keep(add(pick(A), pick({4})));                               // implicit broadcast [4] -> [3,4]
    keep(make(Op::Broadcast, {reshape(pick({4}), {1, 4})}, attrs_shape({2, 3, 4})));

    // Reductions, and their results broadcast back into [3,4] chains.
    keep(reduce(Op::Sum, pick(A), {1}, false));
    keep(reduce(Op::Sum, pick(A), {0, 1}, true));
    keep(reduce(Op::ReduceMax, pick(A), {0}, false));
    keep(reduce(Op::LogSumExp, pick(A), {1}, false));
    keep(reduce(Op::LogSumExp, pick(A), {0}, true));
    keep(softmax(pick(A), 1));
    keep(mul(pick(A), reshape(pick({3}), {3, 1})));
    keep(sub(pick(A), reshape(pick({3}), {3, 1})));
    keep(add(pick(A), pick({1, 4})));
    keep(mul(pick(A), pick({1, 1})));

    // Layout.
    keep(transpose(pick(A), {1, 0}));
    keep(transpose(unary(Op::Tanh, pick({4, 3})), {1, 0}));
    keep(reshape(pick(A), {2, 6}));
    keep(reshape(unary(Op::Sigmoid, pick({2, 6})), {12}));
    keep(reshape(add(pick({12}), pick({12})), {3, 4}));

    // Contractions (per-sample GEMMs, batched GEMMs, transposed operands, the naive path).
    keep(einsum("ij,jk->ik", {pick(A), pick({4, 5})}));
    keep(einsum("ij,jk->ik", {pick({3, 5}), transpose(pick({4, 5}), {1, 0})}));
    keep(einsum("ij,ij->i", {pick(A), pick(A)}));
    keep(einsum("ij,j->i", {pick(A), pick({4})}));
    keep(einsum("ij,kj->ik", {pick(A), pick(A)}));
    keep(einsum("ji,jk->ik", {pick(A), pick(A)}));
    keep(einsum("ij->ji", {pick(A)}));
    keep(einsum("i->ii", {pick({4})}));
    keep(einsum("ii->i", {pick({4, 4})}));
    keep(einsum("ij,jk,k->i", {pick(A), pick({4, 5}), pick({5})}));
    keep(einsum("ij,jk->ik", {pick(A, true), pick({4, 5}, true)}));  // parameters only

    // Convolutions and their gradients.
    const Shape img{5, 5, 2}, k{3, 3, 2, 3};
    keep(make(Op::Conv2d, {pick(img), pick(k)}, conv_attrs(1, "SAME", {})));
    keep(make(Op::Conv2d, {unary(Op::Tanh, pick(img)), pick(k)}, conv_attrs(2, "VALID", {})));
    keep(make(Op::Conv2dInputGrad, {pick({5, 5, 3}), pick(k)}, conv_attrs(1, "SAME", img)));
    keep(make(Op::Conv2dInputGrad, {pick({2, 2, 3}), pick(k)}, conv_attrs(2, "VALID", img)));
    keep(make(Op::Conv2dKernelGrad, {pick(img), pick({5, 5, 3})}, conv_attrs(1, "SAME", k)));
  }

  // Every node built (each op appears at least once among them).
  std::vector<NodePtr> all_nodes() const {
    std::vector<NodePtr> out;
    for (const NodePtr& n : pool_)
      if (!is_leaf(n->op)) out.push_back(n);
    return out;
  }
  // One scalar that depends on everything: deep fusion across all stages.
  NodePtr total() const {
    NodePtr t;
    for (const NodePtr& n : all_nodes()) t = t ? ir::add(t, sum_all(n)) : sum_all(n);
    return t;
  }
  std::set<Op> ops() const {
    std::set<Op> s;
    for (const ir::Node* n : topological_order(pool_)) s.insert(n->op);
    return s;
  }

 private:
  NodePtr keep(const NodePtr& n) {
    pool_.push_back(n);
    return n;
  }
  NodePtr add_c(const NodePtr& x, double c) { return ir::add(x, constant(c, dt_)); }
  NodePtr pick(const Shape& s, bool params_only = false) {
    std::vector<NodePtr> c;
    for (const NodePtr& n : pool_)
      if (n->shape == s && (!params_only || !depends_on_input(n))) c.push_back(n);
    if (c.empty()) throw std::logic_error("no node of shape " + shape_str(s));
    return c[std::uniform_int_distribution<size_t>(0, c.size() - 1)(rng_)];
  }
  static bool depends_on_input(const NodePtr& n) {
    for (const ir::Node* m : topological_order({n}))
      if (m->op == Op::Input) return true;
    return false;
  }
  static Attrs attrs_shape(const Shape& s) {
    Attrs a;
    a.shape = s;
    return a;
  }
  static Attrs conv_attrs(int64_t stride, const char* padding, const Shape& shape) {
    Attrs a;
    a.strides = {stride, stride};
    a.padding = padding;
    a.shape = shape;
    return a;
  }

  DType dt_;
  std::mt19937 rng_;
  std::vector<NodePtr> pool_;
};

TEST(RandomGraph, ContainsEveryOp) {
  RandomGraph g(DType::F64, 1);
  std::set<Op> ops = g.ops();
  for (int o = static_cast<int>(Op::Const); o <= static_cast<int>(Op::Conv2dKernelGrad); ++o)
    EXPECT_TRUE(ops.count(static_cast<Op>(o))) << op_name(static_cast<Op>(o));
}

TEST(RandomGraph, HasGemmsWithAPackableWeight) {
  // So that the packed-weight runs below do exercise packed GEMMs.
  for (unsigned seed : {1u, 2u, 3u}) {
    RandomGraph g(DType::F64, seed);
    Program p = lower_graphs(g.all_nodes(), DType::F64, /*small_einsum_work=*/0);
    EXPECT_GT(pack_weights(p, 0), 0) << "seed " << seed;
  }
}

template <class T>
void every_op(int threads, const codegen::CompileOptions& options = {}) {
  const DType dt = sizeof(T) == 8 ? DType::F64 : DType::F32;
  for (unsigned seed : {1u, 2u, 3u}) {
    RandomGraph g(dt, seed);
    for (int64_t batch : {1, 3, 17, 256}) {
      std::string what = std::string(dtype_name(dt)) + " seed " + std::to_string(seed) + " batch " +
                         std::to_string(batch);
      check_against_interpreter<T>(g.all_nodes(), batch, seed * 100 + batch, what + " (all nodes)", threads, options);
      check_against_interpreter<T>({g.total()}, batch, seed * 100 + batch, what + " (total)", threads, options);
    }
  }
}

// The random graphs' contractions are small, so by default their einsums become fused sums
// (small_einsums.h) and their convolutions emitted loops (aot_contract.h); the runtime
// routines that large contractions call (runtime_kernels.cpp, runtime_conv.cpp) are checked
// on the same graphs with both switched off.
codegen::CompileOptions runtime_contractions() {
  codegen::CompileOptions o;
  o.conv_loops_max_channels = 0;
  o.small_einsum_work = 0;
  return o;
}

TEST(JitVsInterpreter, EveryOpFloat64) { every_op<double>(1); }
TEST(JitVsInterpreter, EveryOpFloat32) { every_op<float>(1); }
TEST(JitVsInterpreter, SlicesOnSeveralThreads) { every_op<double>(4); }
// Every shared GEMM operand packed (pack_weights.h), however small.
codegen::CompileOptions packed_weights() {
  codegen::CompileOptions o;
  o.pack_min_bytes = 0;
  o.small_einsum_work = 0;
  return o;
}

TEST(JitVsInterpreter, EveryOpWithPackedWeightsFloat64) { every_op<double>(1, packed_weights()); }
TEST(JitVsInterpreter, EveryOpWithPackedWeightsFloat32) { every_op<float>(1, packed_weights()); }
TEST(JitVsInterpreter, EveryOpWithPackedWeightsOnSeveralThreads) { every_op<double>(4, packed_weights()); }
TEST(JitVsInterpreter, EveryOpWithRuntimeContractionsFloat64) { every_op<double>(1, runtime_contractions()); }
TEST(JitVsInterpreter, EveryOpWithRuntimeContractionsFloat32) { every_op<float>(1, runtime_contractions()); }

TEST(JitVsInterpreter, LogSumExpOfInfinities) {
  // Rows: all -inf (-> -inf), one +inf (-> +inf), one NaN (-> NaN), finite huge values.
  const double inf = std::numeric_limits<double>::infinity();
  NodePtr x = input(0, "x", {4, 3}, DType::F64);
  std::vector<NodePtr> out{reduce(Op::LogSumExp, x, {1}, false)};
  Tensor<double> v({1, 4, 3}, {-inf, -inf, -inf, 1, inf, 2, std::nan(""), 0, 1, 1e300, 1e300, -1e300});
  auto want = interp::evaluate<double>(out, {v}, {}, 1);
  auto got = codegen::evaluate<double>(out, {v}, {}, 1);
  testing::expect_close(got, want, 1e-12, "logsumexp");
  EXPECT_EQ(got[0][0], -inf);
  EXPECT_EQ(got[0][1], inf);
  EXPECT_TRUE(std::isnan(got[0][2]));
}

// The softmax as the derivation makes it (the gradient of a logsumexp, simplified), and the
// logsumexp itself: what a softmax layer's kernel computes.
std::vector<NodePtr> softmax_and_logsumexp(const NodePtr& x) {
  NodePtr lse = reduce(Op::LogSumExp, x, {1}, false);
  return {passes::simplify(autodiff::grad(sum_all(lse), {x})[0]), lse};
}

TEST(JitVsInterpreter, SoftmaxOfInfinitiesAndLargeValues) {
  // Lowered as exp(x - max) / sum (lower.cpp). Rows of -inf, with a +inf and with a NaN give
  // the interpreter's NaNs and 0s (its logsumexp is -inf, +inf, NaN, and so is the kernel's); finite
  // rows give the closed form exp(x_i - max) / sum_j exp(x_j - max) in long double. (Near the
  // float64 limits that is more than the interpreter's exp(x - logsumexp(x)) gets right:
  // for [1e300, 1e300, -1e300] it rounds logsumexp to 1e300 and answers 1, 1, 0.)
  const double inf = std::numeric_limits<double>::infinity();
  NodePtr x = input(0, "x", {5, 3}, DType::F64);
  std::vector<NodePtr> out = softmax_and_logsumexp(x);
  const std::vector<double> rows{-inf, -inf, -inf, 1, inf, 2, std::nan(""), 0, 1, 1e300, 1e300, -1e300, -2, 0.5, 3};
  Tensor<double> v({1, 5, 3}, rows);
  auto want = interp::evaluate<double>(out, {v}, {}, 1);
  auto got = codegen::evaluate<double>(out, {v}, {}, 1);
  for (int64_t e = 0; e < 9; ++e) {
    if (std::isnan(want[0][e])) {
      EXPECT_TRUE(std::isnan(got[0][e])) << "element " << e << ": " << got[0][e];
    } else {
      EXPECT_EQ(got[0][e], want[0][e]) << "element " << e;  // the 0s beside a +inf
    }
  }
  EXPECT_TRUE(std::isnan(want[0][4]));
  for (int r = 3; r < 5; ++r) {
    long double m = std::max({rows[3 * r], rows[3 * r + 1], rows[3 * r + 2]}), s = 0;
    for (int i = 0; i < 3; ++i) s += std::exp(static_cast<long double>(rows[3 * r + i]) - m);
    for (int i = 0; i < 3; ++i)
      EXPECT_NEAR(got[0][3 * r + i], static_cast<double>(std::exp(rows[3 * r + i] - m) / s), 4e-16) << "row " << r;
  }
  EXPECT_EQ(got[1][0], -inf);
  EXPECT_EQ(got[1][1], inf);
  EXPECT_TRUE(std::isnan(got[1][2]));
  EXPECT_EQ(got[1][3], want[1][3]);
  EXPECT_NEAR(got[1][4], want[1][4], 1e-15);
}

TEST(JitVsInterpreter, ExpOfXMinusALogSumExpLinedUpWithOtherElementsIsNotASoftmax) {
  // exp(x_ij - logsumexp_k(x_jk)): the row logsumexps reshaped to [1, 3], so broadcast down
  // the columns; the lowering must not take it for the softmax exp(x_ij - logsumexp_k(x_ik)).
  NodePtr x = input(0, "x", {3, 3}, DType::F64);
  NodePtr lse = reduce(Op::LogSumExp, x, {1}, false);
  NodePtr across = unary(Op::Exp, sub(x, broadcast_to(reshape(lse, {1, 3}), {3, 3})));
  NodePtr along = unary(Op::Exp, sub(x, broadcast_to(reshape(lse, {3, 1}), {3, 3})));
  Tensor<double> v({1, 3, 3}, {0.1, -2, 3, 1.5, 0.2, -0.7, 2.5, 1, -1});
  const std::vector<NodePtr> out{across, along};
  testing::expect_close(codegen::evaluate<double>(out, {v}, {}, 1), interp::evaluate<double>(out, {v}, {}, 1), 1e-14,
                        "exp(x - logsumexp)");
}

TEST(Lowering, ASoftmaxTakesOneExponentialPerElement) {
  // The logsumexp's exponentials, divided by their sum, are the softmax: one exp in the
  // whole program, not one for the sum and another for the softmax.
  NodePtr x = input(0, "x", {4, 9}, DType::F32);
  const std::string text = to_string(lower_graphs(softmax_and_logsumexp(x), DType::F32));
  size_t exps = 0;
  for (size_t at = text.find(" = exp "); at != std::string::npos; at = text.find(" = exp ", at + 1)) ++exps;
  EXPECT_EQ(exps, 1u) << text;
}

TEST(Lowering, ElementwiseChainsFuseIntoOneStage) {
  // tanh(x) * 2 + exp(x)^2 ... is one loop; the sum is a reduction stage fed by the chain.
  NodePtr x = input(0, "x", {8}, DType::F64);
  NodePtr chain = add(scale(2.0, unary(Op::Tanh, x)), unary(Op::Sigmoid, unary(Op::Neg, x)));
  Program p = lower_graphs({chain, sum_all(unary(Op::Exp, x))}, DType::F64);
  EXPECT_EQ(p.body.size(), 2u);
  EXPECT_TRUE(p.prologue.empty());
  for (const Buffer& b : p.buffers) EXPECT_NE(b.kind, BufferKind::Temp) << b.name;
}

TEST(Lowering, BatchedContractionIsOneStageOverTheSlice) {
  // xhat @ Xi: one einsum stage whose operand is the batched input itself.
  NodePtr x = input(0, "xhat", {784}, DType::F32);
  NodePtr xi = param("Xi", {784, 900}, DType::F32);
  Program p = lower_graphs({einsum("i,ij->j", {x, xi})}, DType::F32);
  ASSERT_EQ(p.body.size(), 1u);
  EXPECT_EQ(p.body[0].kind, StageKind::Einsum);
  EXPECT_EQ(p.body[0].args, (std::vector<int>{p.inputs.at(0), p.params.at("Xi")}));
}

TEST(Lowering, SharedSubexpressionIsMaterialisedOnce) {
  NodePtr x = input(0, "x", {8}, DType::F64);
  NodePtr e = unary(Op::Exp, x);
  Program p = lower_graphs({add(mul(e, e), e)}, DType::F64);
  int temps = 0;
  for (const Buffer& b : p.buffers) temps += b.kind == BufferKind::Temp;
  EXPECT_EQ(temps, 1);
  EXPECT_EQ(p.body.size(), 2u);
}

TEST(Lowering, SharedArithmeticOfLeavesIsRecomputedNotMaterialised) {
  // 4 x feeds tanh and the sum: recomputed in both loops, no temporary for it. exp(x) with
  // two consumers is still materialised (SharedSubexpressionIsMaterialisedOnce).
  NodePtr x = input(0, "x", {8}, DType::F64);
  NodePtr m = scale(4.0, x);
  Program p = lower_graphs({unary(Op::Tanh, m), sum_all(unary(Op::Exp, m))}, DType::F64);
  int temps = 0;
  for (const Buffer& b : p.buffers) temps += b.kind == BufferKind::Temp;
  EXPECT_EQ(temps, 0);
  EXPECT_EQ(p.body.size(), 2u);  // the tanh loop and the reduction
  testing::check_against_interpreter<double>({unary(Op::Tanh, m), sum_all(unary(Op::Exp, m))}, 3, 5, "4x shared");
}

TEST(Lowering, RejectsMixedDtypes) {
  NodePtr x = input(0, "x", {2}, DType::F32);
  try {
    lower_graphs({x}, DType::F64);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "codegen: graph node input is float32, expected float64");
  }
}

}  // namespace
}  // namespace hamux::codegen
