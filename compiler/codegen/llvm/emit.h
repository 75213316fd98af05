// compiler/codegen/llvm/emit.h - loop program -> the kernel's LLVM functions.
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
// vectorises the innermost one for the target's vector width. Contraction stages become
// calls with fixed arguments into the kernels library (kernels/kernels.h) or calls of loops
// emitted for their plans (contraction_loops.h), as EmitOptions::contractions says.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "codegen/llvm/target.h"
#include "codegen/loops/program.h"

namespace llvm {
class LLVMContext;
class Module;
}  // namespace llvm

namespace hamux::codegen {

enum class Contractions {
  kLibrary,  // JIT: calls into the kernels library, but conv2d and its input gradient with
             // few channels as emitted loops (conv_loops_for_jit)
  kLoops,    // AOT: every contraction as emitted loops; the object needs no runtime
};

struct EmitOptions {
  Contractions contractions = Contractions::kLibrary;
  int64_t conv_loops_max_channels = 32;  // kLibrary: CompileOptions::conv_loops_max_channels
  // The optimiser knows vector variants of exp, tanh, log ... (vector_math.h): short loops
  // that call them are vectorised too (Emitter::loop). Set by compile_to_object.
  bool vector_math = false;
};

// A program whose prologue, body or epilogue has more than kSplitAbove stages is emitted
// as functions ("parts") of at most kStagesPerPart stages, ending early once their stages
// use kBuffersPerPart buffers (Emitter::stages, emit.cpp). The examples stay below the
// first; the others bound what LLVM optimises at once.
inline constexpr size_t kSplitAbove = 64;
inline constexpr size_t kStagesPerPart = 16;
inline constexpr size_t kBuffersPerPart = 256;
bool is_split(const Program& program);

// The module (data layout and triple of `target`, every function annotated for it).
// Throws InternalError when the program is inconsistent.
std::unique_ptr<llvm::Module> emit_module(const Program& program, llvm::LLVMContext& ctx,
                                          const std::string& function_name, const Target& target,
                                          const EmitOptions& options);

}  // namespace hamux::codegen
