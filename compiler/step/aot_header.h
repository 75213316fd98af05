// compiler/step/aot_header.h - the C side of an AOT step kernel: generated header, helper.
#pragma once

#include <string>
#include <vector>

#include "step/aot_step.h"

namespace hamux::codegen {

// One unique C identifier per model param, in model order (name collisions after
// sanitising get a numeric suffix). Symbols are <prefix>_param_<id>, files <prefix>_<id>.npy.
std::vector<std::string> aot_param_ids(const Model& model);

// The text of <prefix>.h for a compiled kernel (result.program, prefix, target, params mode).
std::string aot_c_header(const Model& model, const AotResult& result);

// The text of hamux_aot.h: model-independent C helpers (aligned allocation, .npy reading,
// the checked run's codes, messages and structs) that the generated headers include.
const std::string& aot_helper_header();

}  // namespace hamux::codegen
