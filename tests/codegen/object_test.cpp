// tests/codegen/object_test.cpp - which optimisation pipeline a module gets (llvm/object.h):
// the full one exactly when contraction loops are emitted into it.
#include <gtest/gtest.h>

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include "codegen/llvm/contraction_loops.h"
#include "codegen/llvm/emit.h"
#include "codegen/llvm/object.h"
#include "codegen/loops/lower.h"
#include "graph/builder.h"

namespace hamux::codegen {
namespace {

using namespace ir;

bool loops_in(const Program& p, const EmitOptions& o) {
  llvm::LLVMContext ctx;
  const Target target(TargetChoice{}, "codegen");
  return has_contraction_loops(*emit_module(p, ctx, "k", target, o));
}

EmitOptions with(Contractions c) {
  EmitOptions o;
  o.contractions = c;
  return o;
}

TEST(Pipeline, AGemmOnTheKernelsLibraryHasNoContractionLoops) {
  NodePtr x = input(0, "x", {64}, DType::F32);
  NodePtr w = param("W", {64, 48}, DType::F32);
  const Program p = lower_graphs({einsum("i,ij->j", {x, w})}, DType::F32, /*small_einsum_work=*/0);
  EXPECT_FALSE(loops_in(p, with(Contractions::kLibrary)));
  EXPECT_TRUE(loops_in(p, with(Contractions::kLoops)));  // a self-contained AOT object
}

TEST(Pipeline, AConvolutionWithFewChannelsIsEmittedAsLoopsInTheJitToo) {
  Attrs a;
  a.strides = {1, 1};
  a.padding = "SAME";
  NodePtr x = input(0, "x", {8, 8, 3}, DType::F32);
  NodePtr k = param("K", {3, 3, 3, 4}, DType::F32);
  const Program p = lower_graphs({make(Op::Conv2d, {x, k}, a)}, DType::F32);
  EXPECT_TRUE(loops_in(p, with(Contractions::kLibrary)));
  EmitOptions all_on_gemm = with(Contractions::kLibrary);
  all_on_gemm.conv_loops_max_channels = 0;
  EXPECT_FALSE(loops_in(p, all_on_gemm));
}

TEST(Pipeline, ElementwiseWorkAloneHasNoContractionLoops) {
  NodePtr x = input(0, "x", {16}, DType::F64);
  const Program p = lower_graphs({unary(Op::Tanh, x), sum_all(unary(Op::Exp, x))}, DType::F64);
  EXPECT_FALSE(loops_in(p, with(Contractions::kLoops)));
}

}  // namespace
}  // namespace hamux::codegen
