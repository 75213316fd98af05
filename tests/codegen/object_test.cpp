// tests/codegen/object_test.cpp - which optimisation pipeline a module gets (llvm/object.h):
// the full one exactly when contraction loops are emitted into it; which short loops the
// emitter leaves to the vectoriser (those calling exp, log, tanh ... when libmvec is known).
#include <gtest/gtest.h>

#include <llvm/IR/Instructions.h>
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

// How many loops of the emitted module are forced to be vectorised / kept scalar.
struct LoopHints {
  int vectorised = 0, scalar = 0;
};
LoopHints loop_hints(const Program& p, bool vector_math) {
  llvm::LLVMContext ctx;
  const Target target(TargetChoice{}, "codegen");
  EmitOptions o;
  o.vector_math = vector_math;
  LoopHints h;
  std::unique_ptr<llvm::Module> m = emit_module(p, ctx, "k", target, o);
  for (const llvm::Function& f : *m)
    for (const llvm::BasicBlock& bb : f)
      if (const llvm::MDNode* md = bb.getTerminator() ? bb.getTerminator()->getMetadata(llvm::LLVMContext::MD_loop) : nullptr)
        for (const llvm::MDOperand& op : md->operands())
          if (auto* hint = llvm::dyn_cast_or_null<llvm::MDNode>(op.get()))
            if (auto* name = llvm::dyn_cast<llvm::MDString>(hint->getOperand(0))) {
              h.vectorised += name->getString() == "llvm.loop.vectorize.enable";
              h.scalar += name->getString() == "llvm.loop.vectorize.width";
            }
  return h;
}

TEST(ShortLoops, ThoseCallingExpAreVectorisedWithVectorMath) {
  // exp over 8 elements: vectorised with libmvec's variants known, scalar without; tanh
  // over 3 elements (too short) and a multiply over 8 (no call) stay scalar either way.
  NodePtr x = input(0, "x", {8}, DType::F32);
  NodePtr y = input(1, "y", {3}, DType::F32);
  const Program p = lower_graphs({unary(Op::Exp, x), unary(Op::Tanh, y), mul(x, x)}, DType::F32);
  const LoopHints with = loop_hints(p, true), without = loop_hints(p, false);
  EXPECT_EQ(with.vectorised, 1);
  EXPECT_EQ(without.vectorised, 0);
  EXPECT_EQ(with.vectorised + with.scalar, without.scalar);
}

}  // namespace
}  // namespace hamux::codegen
