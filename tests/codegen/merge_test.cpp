// tests/codegen/merge_test.cpp - sums of contractions of one activation become one GEMM.
#include <gtest/gtest.h>

#include "codegen/loops/lower.h"
#include "compare.h"
#include "graph/builder.h"

namespace hamux::codegen {
namespace {

using namespace ir;
using testing::check_against_interpreter;

int einsum_stages(const std::vector<Stage>& phase) {
  int n = 0;
  for (const Stage& s : phase) n += s.kind == StageKind::Einsum;
  return n;
}

TEST(MergeEinsums, BilinearGradientIsOneGemmPerStep) {
  // d/dg of -1/2 g.W g: -1/2 (W g + g W) -> -1/2 (W + W^T) g; W + W^T once, in the prologue.
  auto gradient = [](DType dt) {
    NodePtr g = input(0, "g", {6}, dt);
    NodePtr w = param("W", {6, 6}, dt);
    return scale(-0.5, add(einsum("mk,k->m", {w, g}), einsum("m,mk->k", {g, w})));
  };
  Program p = lower_graphs({gradient(DType::F64)}, DType::F64, 0);
  EXPECT_EQ(einsum_stages(p.body), 1);
  EXPECT_EQ(p.prologue.size(), 1u);  // the parameter sum
  for (int64_t batch : {1, 3, 17}) {
    check_against_interpreter<double>({gradient(DType::F64)}, batch, 11, "f64 batch " + std::to_string(batch));
    check_against_interpreter<float>({gradient(DType::F32)}, batch, 11, "f32 batch " + std::to_string(batch));
  }
}

TEST(MergeEinsums, ParameterAxesArePermutedToMatch) {
  // Q's axes (b, c, a) are P's (k, i, j): Q is transposed by (1, 2, 0) before the sum.
  NodePtr x = input(0, "x", {3, 5}, DType::F64);
  NodePtr p = param("P", {4, 3, 5}, DType::F64);
  NodePtr q = param("Q", {5, 4, 3}, DType::F64);
  NodePtr u = add(einsum("ijk,jk->i", {p, x}), einsum("ab,bca->c", {x, q}));
  Program prog = lower_graphs({u}, DType::F64, 0);
  EXPECT_EQ(einsum_stages(prog.body), 1);
  check_against_interpreter<double>({u}, 5, 12, "permuted");
}

TEST(MergeEinsums, NotMergedWhenTheOtherOperandIsBatched) {
  // x y + x z with inputs y, z: nothing is parameter-only, both contractions stay.
  NodePtr x = input(0, "x", {4}, DType::F64);
  NodePtr y = input(1, "y", {4, 3}, DType::F64);
  NodePtr z = input(2, "z", {4, 3}, DType::F64);
  NodePtr u = add(einsum("i,ij->j", {x, y}), einsum("i,ij->j", {x, z}));
  Program prog = lower_graphs({u}, DType::F64, 0);
  EXPECT_EQ(einsum_stages(prog.body), 2);
  check_against_interpreter<double>({u}, 3, 13, "batched operands");
}

TEST(MergeEinsums, NotMergedWhenALetterIsSummedInsideTheParameter) {
  // 'ij,j->i' and 'ik,j->i'... Q has a letter (k) that is neither X's nor the output's.
  NodePtr x = input(0, "x", {3}, DType::F64);
  NodePtr p = param("P", {2, 3}, DType::F64);
  NodePtr q = param("Q", {2, 4}, DType::F64);
  NodePtr u = add(einsum("ij,j->i", {p, x}), einsum("ik,j->i", {q, x}));
  Program prog = lower_graphs({u}, DType::F64, 0);
  EXPECT_EQ(einsum_stages(prog.body), 2);
  check_against_interpreter<double>({u}, 3, 14, "summed letter");
}

}  // namespace
}  // namespace hamux::codegen
