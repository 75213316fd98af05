// compiler/codegen/llvm/object.h - the one `compile to object` path of the JIT and the AOT.
//
//   program --emit_module (emit.h)--> LLVM module --[extra]--> O3/O2 --> relocatable object
//
// for a Target (target.h). The JIT (jit/jit.h) loads the object into an ORC session and
// keeps it in its caches; `hamux compile` (aot/aot.h) writes it out. The pipeline is the
// same for both, so the same program for the same target gives the same code.
#pragma once

#include <functional>
#include <string>

#include "codegen/llvm/emit.h"
#include "codegen/llvm/target.h"
#include "codegen/loops/program.h"

namespace llvm {
class Module;
class TargetMachine;
}  // namespace llvm

namespace hamux::codegen {

struct ObjectOptions {
  EmitOptions emit;
  // Vectorised tanh/exp/log/... from glibc's libmvec (vector_math.h): only the JIT resolves
  // them, so AOT objects (which need nothing beyond libm) leave this off.
  bool vector_math = false;
  // Adds to the module before it is optimised (the AOT's embedded params).
  std::function<void(llvm::Module&)> extra;
  // Debug dumps: wants("ir" | "opt-ir" | "asm") says whether to produce that text,
  // write(kind, text) receives it.
  std::function<bool(const std::string&)> wants;
  std::function<void(const std::string&, const std::string&)> write;
};

std::string compile_to_object(const Program& program, const std::string& function, const Target& target,
                              const ObjectOptions& options);

// The feature string vector_math.h decides by, for `target` (its own features or the named
// CPU's): "+sse4.2,+avx2" or a part of it.
std::string vector_math_features(const Target& target);

// Which optimisation a module gets (compile_to_object chooses; docs/codegen.md, "Compile
// time"). kFull: LLVM's O3, and the backend with loop strength reduction: for modules with
// emitted contraction loops (contraction_loops.h), which are their kernels' hot code. kLight:
// O2, GVN without memory dependences, no loop strength reduction: for modules whose
// contractions all call the kernels library, where the three cost 30-40% of the compile
// time and buy no step time.
enum class Pipeline { kFull, kLight };

// Runs LLVM's default O3 (kFull) or O2 (kLight) pipeline for `tm`; with
// `vector_math_features` non-empty the vectoriser may call libmvec's variants for those
// features. With `parts` (a split program, emit.h), the pipeline without its
// interprocedural simplification.
void optimise(llvm::Module& m, llvm::TargetMachine& tm, const std::string& vector_math_features, bool parts,
              Pipeline pipeline);

}  // namespace hamux::codegen
