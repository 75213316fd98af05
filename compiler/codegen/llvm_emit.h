// compiler/codegen/llvm_emit.h - loop program -> one LLVM function.
//
// The emitted function has the C signature
//
//   void NAME(void* const* buffers, int64_t batch_begin, int64_t batch_end,
//             char* workspace, int64_t k_steps);
//
// `buffers[slot]` points at the external buffer with that slot (program.h): batched ones
// hold the WHOLE batch (sample b starts at b * elements), and only samples in
// [batch_begin, batch_end) are read or written, so disjoint slices may run on several
// threads at once, each with its own workspace of Program::workspace_bytes(end - begin)
// bytes (64-byte aligned). The prologue runs once, the body k_steps times, the epilogue
// once. Loops are plain counted loops over row-major indices, written so that LLVM's O3
// pipeline vectorises the innermost one for the host's vector width.
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
