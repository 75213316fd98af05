// tests/codegen/program_test.cpp - samples_per_call: how Kernel::run splits a slice into
// calls (program.h). Whether the split calls compute the right values is checked wherever a
// kernel with a small block runs on a larger batch (step_test: conv.json, one sample per call,
// at batch 3; the golden and runtime tests on conv.json). And the Lowerer's internal faults.
#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "codegen/loops/lower.h"
#include "codegen/loops/program.h"
#include "graph/builder.h"
#include "graph/internal_error.h"

namespace hamux::codegen {
namespace {

using namespace ir;

TEST(SamplesPerCall, SmallSharedOperandsSplitTheSliceByTheCacheBudget) {
  // A 3x3 convolution (shared kernel of 3*3*4*8 floats) on 32x32 images: per-sample buffers
  // dominate, so a few samples per call fit the budget.
  Attrs a;
  a.strides = {1, 1};
  a.padding = "SAME";
  NodePtr x = input(0, "x", {32, 32, 4}, DType::F32);
  NodePtr y = make(Op::Conv2d, {x, param("K", {3, 3, 4, 8}, DType::F32)}, a);
  const Program p = lower_graphs({unary(Op::Tanh, y)}, DType::F32);
  const int64_t bytes = p.footprint_per_sample();  // every batched buffer of one sample
  ASSERT_GT(bytes, 32 * 32 * 12 * 4);  // at least x and the output
  EXPECT_EQ(samples_per_call(p, 100, 10 * bytes), 10);
  EXPECT_EQ(samples_per_call(p, 100, 10 * bytes + bytes / 2), 10);  // whole samples only
  EXPECT_EQ(samples_per_call(p, 7, 10 * bytes), 7);                  // never more than the slice
  EXPECT_EQ(samples_per_call(p, 100, bytes / 3), 1);                 // at least one sample
}

TEST(SamplesPerCall, LargeSharedContractionOperandKeepsTheWholeSlice) {
  // x @ W with W 256x256 floats (256 KiB): one call per slice, so W is streamed once.
  NodePtr x = input(0, "x", {256}, DType::F32);
  NodePtr y = einsum("i,ij->j", {x, param("W", {256, 256}, DType::F32)});
  const Program p = lower_graphs({y}, DType::F32);
  EXPECT_EQ(samples_per_call(p, 100, 1 << 20), 100);
  EXPECT_EQ(samples_per_call(p, 3, 1), 3);
  // The same contraction with a small W (16x16) is split like any other program.
  NodePtr xs = input(0, "x", {16}, DType::F32);
  const Program q = lower_graphs({einsum("i,ij->j", {xs, param("W", {16, 16}, DType::F32)})}, DType::F32, 0);
  EXPECT_EQ(samples_per_call(q, 100, 4 * q.footprint_per_sample()), 4);
}

// Leaves get their buffers from the caller (add_input / add_param) before anything is
// emitted; one that has none is a fault of the lowering's caller inside hamux.
TEST(Lowerer, ALeafWithoutABufferIsAnInternalError) {
  NodePtr x = input(0, "x", {4}, DType::F32);
  NodePtr w = param("W", {4}, DType::F32);
  for (const auto& [root, message] : {std::pair{unary(Op::Tanh, x), std::string("input 0 (x) has no buffer")},
                                      std::pair{unary(Op::Tanh, w), std::string("param W has no buffer")}}) {
    Program p;
    p.dtype = DType::F32;
    Lowerer low(p, {root});
    const int out = low.add_output("y", {4}, true);
    try {
      low.emit(p.body, low.rewritten(root), out);
      ADD_FAILURE() << "no error for " << message;
    } catch (const InternalError& e) {
      EXPECT_EQ(e.message(), message);
      EXPECT_EQ(std::string(e.file()), "compiler/codegen/loops/lower.cpp");
    }
  }
}

}  // namespace
}  // namespace hamux::codegen
