// tests/codegen/small_einsums_test.cpp - tiny einsums lowered as fused sums (small_einsums.h).
#include <gtest/gtest.h>

#include "codegen/loops/lower.h"
#include "codegen/loops/small_einsums.h"
#include "step/step.h"
#include "compare.h"
#include "graph/builder.h"

namespace hamux::codegen {
namespace {

using namespace ir;
using testing::check_against_interpreter;
using testing::stages_of;

TEST(SmallEinsums, ReadmeStepHasNoContractionCalls) {
  // Its four products (7x9 and 8x9 weights, forward and back) are Reduce stages.
  const Model m = load_model(std::string(HAMUX_MODELS_DIR) + "/readme.json");
  const Derivation d = derive(m);
  const Program p = lower_step(m, d, false);
  EXPECT_EQ(stages_of(p.body, StageKind::Einsum), 0) << to_string(p);
  const Program calls = lower_step(m, d, false, /*small_einsum_work=*/0);
  EXPECT_EQ(stages_of(calls.body, StageKind::Einsum), 4) << to_string(calls);
}

TEST(SmallEinsums, LargeAndDiagonalEinsumsStayContractions) {
  NodePtr x = input(0, "x", {784}, DType::F32);
  NodePtr big = einsum("i,ij->j", {x, param("Xi", {784, 900}, DType::F32)});
  EXPECT_EQ(small_einsum_as_sum(*big, big->inputs, kSmallEinsumWork), nullptr);
  NodePtr sq = input(1, "s", {5, 5}, DType::F32);
  NodePtr diag = einsum("ii->i", {sq});
  EXPECT_EQ(small_einsum_as_sum(*diag, diag->inputs, kSmallEinsumWork), nullptr);
  NodePtr row_sums = einsum("ij->i", {sq});
  ASSERT_NE(small_einsum_as_sum(*row_sums, row_sums->inputs, kSmallEinsumWork), nullptr);
  EXPECT_EQ(small_einsum_as_sum(*row_sums, row_sums->inputs, kSmallEinsumWork)->shape, (Shape{5}));
}

template <class T>
void sums_match_interpreter() {
  const DType dt = sizeof(T) == 8 ? DType::F64 : DType::F32;
  NodePtr a = input(0, "a", {6}, dt), b = input(1, "b", {5}, dt), c = input(2, "c", {4}, dt);
  NodePtr T3 = param("T", {6, 5, 4}, dt), W = param("W", {5, 6}, dt);
  NodePtr M = input(3, "M", {3, 5}, dt);
  const std::vector<std::pair<std::string, NodePtr>> cases = {
      {"three-body energy", einsum("ijk,i,j,k->", {T3, a, b, c})},
      {"matrix-vector", einsum("ji,i->j", {W, a})},
      {"vector-matrix", einsum("j,ji->i", {b, W})},
      {"outer product", einsum("i,j->ij", {a, b})},
      {"transposed output", einsum("mj,ji->im", {M, W})},
      {"dot", einsum("i,i->", {a, a})},
      {"partial contraction", einsum("ijk,k->ji", {T3, c})},
  };
  for (const auto& [name, g] : cases) {
    ASSERT_NE(small_einsum_as_sum(*g, g->inputs, kSmallEinsumWork), nullptr) << name;
    for (int64_t batch : {1, 3, 17})
      check_against_interpreter<T>({g, unary(Op::Tanh, g)}, batch, 11, name + " batch " + std::to_string(batch));
  }
}
TEST(SmallEinsums, SumsMatchTheInterpreterFloat64) { sums_match_interpreter<double>(); }
TEST(SmallEinsums, SumsMatchTheInterpreterFloat32) { sums_match_interpreter<float>(); }

}  // namespace
}  // namespace hamux::codegen
