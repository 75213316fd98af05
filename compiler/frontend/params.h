// compiler/frontend/params.h - the "params" section: shapes and initial values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "frontend/json_util.h"
#include "frontend/model.h"

namespace hamux::frontend {

// Reads every parameter of `params` (the JSON object at pointer /params), generating
// random inits from `seed` and reading {"file": ...} inits relative to `base_dir`.
std::vector<ParamDef> parse_params(const Ctx& ctx, const Json& params, const std::string& base_dir,
                                   uint64_t seed);

}  // namespace hamux::frontend
