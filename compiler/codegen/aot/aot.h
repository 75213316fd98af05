// compiler/codegen/aot/aot.h - ahead-of-time objects: a loop program as a self-contained
// relocatable object for a chosen target.
//
// The object comes out of the same path as the JIT's (llvm/object.h). By default every
// contraction is emitted as loops (Contractions::kLoops) and there is no libmvec, so its
// only undefined symbols are libm/libc functions (tanhf, expf, memset ...) and a C program
// links it with `cc main.c kernel.o -lm`. With `kernels_library` the object is the JIT's
// kernel: contractions call the kernels library (codegen/kernels/kernels.h: Eigen's GEMM,
// packed weights, im2col convolutions) and elementwise math calls libmvec, and a program
// links it with `-lhamux_kernels -lstdc++ -lmvec -lm` (CMake: hamux::kernels), at the
// speed of the JIT (docs/aot.md). The HAM step kernel with its C header is built on top of
// this by step/aot_step.h (`hamux compile`).
#pragma once

#include <functional>
#include <string>

#include "codegen/loops/program.h"

namespace llvm {
class Module;
}

namespace hamux::codegen {

struct AotOptions {
  std::string triple;        // target triple; empty: the host's
  std::string cpu;           // target CPU; empty: the host CPU (host triple) or "generic"
  bool embed_params = true;  // step/aot_step.h: false: params as <prefix>_<name>.npy files beside the object
  std::string prefix;        // step/aot_step.h: C prefix of every symbol; empty: derived from the model name
  int vector_width = 0;      // bits (128, 256, 512); 0: the CPU's preferred width
  // Contractions through the kernels library and math through libmvec, as the JIT's
  // kernels (see above); false: a self-contained object that needs only libm.
  bool kernels_library = false;
};

// What an object was compiled for (the resolved target, llvm/target.h).
struct AotTargetInfo {
  std::string triple, cpu, features;
};

// The object file of any loop program as one function `function` with the kernel ABI of
// llvm/emit.h; `extra` may add to the module before it is optimised (embedded params).
// Throws hamux::Error for an unknown triple or CPU (the message names it).
std::string compile_program_aot(const Program& program, const std::string& function, const AotOptions& options,
                                const std::function<void(llvm::Module&)>& extra = nullptr,
                                AotTargetInfo* info = nullptr);

// A static library (ar archive, in the target's flavour) holding `object` as `member`.
std::string aot_archive(const std::string& object, const std::string& member, const std::string& triple);

// `name` made a C identifier: other characters become '_', a leading digit gets '_'.
std::string c_identifier(const std::string& name);
// Is `s` a C identifier (letters, digits, '_', not starting with a digit)?
bool is_c_identifier(const std::string& s);

}  // namespace hamux::codegen
