// compiler/step/aot_step.h - ahead-of-time step kernels: an object file and a C header per model.
//
//   Model m = load_model("readme.json");
//   AotOptions o;  o.prefix = "readme";
//   AotResult r = compile_aot(m, o);
//   write_aot(r, m, "out/");   // out/readme.o, libreadme.a, readme.h, hamux_aot.h [, params]
//
// The kernel is the same loop program as the JIT step kernel (lower_step with energy),
// compiled by the generic AOT path (codegen/aot/aot.h): every contraction as loops emitted
// into the module, O3 for the chosen target, a position-independent relocatable object whose
// only undefined symbols are libm/libc functions, so a C program links it with
// `cc main.c readme.o -lm`.
//
// Exported symbols (all prefixed): <prefix>_kernel (the kernel ABI of llvm/emit.h) and,
// with embedded params, one constant array <prefix>_param_<name> per param. The header
// (aot_header.h) documents the buffer layouts and wraps the raw kernel in static inline
// C functions: activations/energy, one step, K steps, relax until the energy settles.
#pragma once

#include <string>
#include <vector>

#include "codegen/aot/aot.h"
#include "codegen/loops/program.h"
#include "frontend/model.h"
#include "step/step.h"

namespace hamux::codegen {

struct AotResult {
  std::string prefix, triple, cpu, features;
  bool embed_params = true;
  bool kernels_library = false;  // AotOptions::kernels_library: the object calls libhamux_kernels
  Program program;     // the loop program (slots, workspace sizes)
  StepLayout layout;   // which slot is which state, activation, param, rate, mask, energy
  std::string object;  // the relocatable object file
  std::string header;  // <prefix>.h
};

// Compiles the model's step kernel. Throws hamux::Error for an unknown triple or CPU or
// an invalid prefix (the message names it).
AotResult compile_aot(const Model& model, const AotOptions& options);

// Writes <prefix>.o, lib<prefix>.a, <prefix>.h, hamux_aot.h and, when params are not
// embedded, <prefix>_<param>.npy into `dir` (created if missing). Returns the paths.
std::vector<std::string> write_aot(const AotResult& result, const Model& model, const std::string& dir);

}  // namespace hamux::codegen
