// tests/step/scaling_test.cpp - issue 19: what a model of N small layers costs to load grows
// linearly in N. Counted, not timed (machines here are noisy): the derived graph, the loop
// program, and the emitted LLVM module for 64 and 256 layers. Above all, no function that
// LLVM optimises may grow with N: its passes take more than linear time in a function's size
// (one function of all stages took 425 s to compile at 256 layers).
#include <gtest/gtest.h>

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <algorithm>

#include "autodiff/derive.h"
#include "codegen/llvm/emit.h"
#include "passes/simplify.h"
#include "step/many_layers.h"
#include "step/step.h"

namespace hamux::codegen {
namespace {

struct Size {
  size_t nodes = 0;              // distinct nodes of the derived graphs
  size_t stages = 0;             // of the step program (with the energy)
  size_t instructions = 0;       // of the emitted module, before optimisation
  size_t largest_internal = 0;   // instructions of the largest internal function (a part)
  size_t most_arguments = 0;     // of any function
};

Size measure(int layers) {
  const Model m = testing::many_layers(layers, "float32");
  const Derivation d = derive(m);
  Size s;
  std::vector<ir::NodePtr> all;
  for (const auto* list : {&d.activation, &d.update, &d.neuron_energy, &d.connection_energy})
    all.insert(all.end(), list->begin(), list->end());
  all.push_back(d.total_energy);
  s.nodes = passes::node_count(all);
  const Program p = lower_step(m, d, true);
  s.stages = p.prologue.size() + p.body.size() + p.epilogue.size();
  llvm::LLVMContext ctx;
  const Target target(TargetChoice{}, "scaling_test");
  std::unique_ptr<llvm::Module> module = emit_module(p, ctx, "kernel", target, {});
  for (const llvm::Function& f : *module) {
    if (f.isDeclaration()) continue;
    const size_t k = f.getInstructionCount();
    s.instructions += k;
    if (f.hasInternalLinkage()) s.largest_internal = std::max(s.largest_internal, k);
    s.most_arguments = std::max<size_t>(s.most_arguments, f.arg_size());
  }
  return s;
}

TEST(Scaling, FourTimesTheLayersIsFourTimesTheWork) {
  const Size a = measure(256), b = measure(1024);
  ASSERT_GT(a.stages, kSplitAbove);  // the kernel of 256 layers is already in parts
  // Everything grows 4x (the chain has a few links to the first layer per four layers, so
  // slightly less or more than 4x is the model, not the compiler).
  EXPECT_LE(b.nodes, 4.3 * a.nodes) << a.nodes << " -> " << b.nodes;
  EXPECT_LE(b.stages, 4.3 * a.stages) << a.stages << " -> " << b.stages;
  EXPECT_LE(b.instructions, 4.3 * a.instructions) << a.instructions << " -> " << b.instructions;
  // ... except what one function holds: bounded by the part size and the fused-region limit.
  EXPECT_LE(b.largest_internal, a.largest_internal * 5 / 4) << a.largest_internal << " -> " << b.largest_internal;
  EXPECT_LE(b.most_arguments, a.most_arguments * 5 / 4) << a.most_arguments << " -> " << b.most_arguments;
}

}  // namespace
}  // namespace hamux::codegen
