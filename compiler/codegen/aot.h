// compiler/codegen/aot.h - ahead-of-time kernels: an object file and a C header per model.
//
//   Model m = load_model("readme.json");
//   AotOptions o;  o.prefix = "readme";
//   AotResult r = compile_aot(m, o);
//   write_aot(r, m, "out/");   // out/readme.o, libreadme.a, readme.h, hamux_aot.h [, params]
//
// The kernel is the same loop program as the JIT step kernel (lower_step with energy),
// emitted by the same emitter (llvm_emit.h), then made self-contained: the contraction
// calls into the Eigen runtime are replaced by loops emitted into the module
// (aot_contract.h). O3 for the chosen target, then a position-independent relocatable
// object. Its only undefined symbols are libm/libc functions (tanhf, expf, memset ...),
// so a C program links it with `cc main.c readme.o -lm`.
//
// Exported symbols (all prefixed): <prefix>_kernel (the kernel ABI of llvm_emit.h) and,
// with embedded params, one constant array <prefix>_param_<name> per param. The header
// (aot_header.h) documents the buffer layouts and wraps the raw kernel in static inline
// C functions: activations/energy, one step, K steps, relax until the energy settles.
#pragma once

#include <string>
#include <vector>

#include "codegen/program.h"
#include "frontend/model.h"

namespace hamux::codegen {

struct AotOptions {
  std::string triple;        // target triple; empty: the host's
  std::string cpu;           // target CPU; empty: the host CPU (host triple) or "generic"
  bool embed_params = true;  // false: params as <prefix>_<name>.npy files beside the object
  std::string prefix;        // C prefix of every symbol; empty: derived from the model name
};

struct AotResult {
  std::string prefix, triple, cpu, features;
  bool embed_params = true;
  Program program;     // the loop program (slots, workspace sizes)
  std::string object;  // the relocatable object file
  std::string header;  // <prefix>.h
};

// Compiles the model's step kernel. Throws hamux::Error for an unknown triple or CPU or
// an invalid prefix (the message names it).
AotResult compile_aot(const Model& model, const AotOptions& options);

// The object file of any loop program as one function `function` with the kernel ABI
// of llvm_emit.h, self-contained the same way (no params embedded). For tests of the
// contraction loops on arbitrary graphs (lower_graphs).
std::string compile_program_aot(const Program& program, const std::string& function, const AotOptions& options);

// Writes <prefix>.o, lib<prefix>.a, <prefix>.h, hamux_aot.h and, when params are not
// embedded, <prefix>_<param>.npy into `dir` (created if missing). Returns the paths.
std::vector<std::string> write_aot(const AotResult& result, const Model& model, const std::string& dir);

// `name` made a C identifier: other characters become '_', a leading digit gets '_'.
std::string c_identifier(const std::string& name);

}  // namespace hamux::codegen
