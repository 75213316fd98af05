// compiler/codegen/llvm_emit.h - loop program -> the kernel's LLVM functions.
//
// The emitted module defines two functions with the C signatures
//
//   void NAME_prepare(void* const* buffers, char* shared);
//   void NAME(void* const* buffers, int64_t batch_begin, int64_t batch_end,
//             const char* shared, char* workspace, int64_t k_steps);
//
// `buffers[slot]` points at the external buffer with that slot (program.h): batched ones
// hold the WHOLE batch (sample b starts at b * elements). NAME_prepare runs the prologue
// (parameter-only values) into `shared`, Program::shared_bytes bytes. NAME runs the body
// k_steps times and then the epilogue on samples [batch_begin, batch_end) only, reading
// `shared` (never writing it) and keeping per-sample temporaries in `workspace`,
// Program::workspace_bytes(end - begin) bytes; so disjoint slices may run on several
// threads at once with one prepared block, each with its own workspace (both 64-byte
// aligned). Each calls an internal function that takes every buffer as a noalias argument.
// Loops are plain counted loops over row-major indices, written so that LLVM's O3 pipeline
// vectorises the innermost one for the host's vector width.
#pragma once

#include <memory>
#include <string>

#include "codegen/program.h"

namespace llvm {
class LLVMContext;
class Module;
class TargetMachine;
}  // namespace llvm

namespace hamux::codegen {

std::unique_ptr<llvm::Module> emit_module(const Program& program, llvm::LLVMContext& ctx,
                                          const std::string& function_name,
                                          const std::string& target_cpu,
                                          const std::string& target_features);

// Runs LLVM's default O3 pipeline for `tm` (jit.cpp). With `vector_math`, the vectoriser
// may call glibc's vector maths variants (vector_math.h), which only the JIT resolves; the
// AOT path passes false so its objects need nothing beyond libm.
void optimise_o3(llvm::Module& m, llvm::TargetMachine& tm, bool vector_math);

}  // namespace hamux::codegen
