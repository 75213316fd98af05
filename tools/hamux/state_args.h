// tools/hamux/state_args.h - the options `run` and `energy` share: which model params and
// which states to start from (--params, --batch, --init, --states, --set, --clamp).
#pragma once

#include <string>
#include <vector>

#include "args.h"
#include "hamux/hamux.h"

namespace hamux::cli {

// Removes every "OPTION VALUE" / "OPTION=VALUE" from `args` (the option may repeat) and
// returns the values in order. Throws UsageError when a value is missing.
std::vector<std::string> take_repeated(std::vector<std::string>& args, const std::string& option,
                                       const std::string& usage);

// Removes a flag without a value ("--guard") from `args`; true when it was there.
bool take_flag(std::vector<std::string>& args, const std::string& flag);

// The value options make_states reads.
inline const std::vector<std::string> kStateOptions = {"--batch", "--init", "--params", "--states"};

// Loads --params into `ham`, makes --batch states by --init (zeros | normal:SEED) or reads
// them from --states FILE (an .npz as `hamux run --out` writes: every neuron, the file's
// batch; not with --batch or --init), applies every --set NEURON=file.npy ([...shape] or
// [batch, ...shape]) and --clamp NEURON[=mask.npy] (mask [...shape] or [batch, ...shape],
// nonzero = clamped).
States make_states(Ham& ham, const ParsedArgs& parsed, const std::vector<std::string>& sets,
                   const std::vector<std::string>& clamps, const std::string& usage);

}  // namespace hamux::cli
