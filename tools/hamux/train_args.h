// tools/hamux/train_args.h - the options `hamux train` and `hamux eval` share: overrides of
// a training file's settings.
#pragma once

#include <string>

#include "args.h"
#include "hamux/training.h"

namespace hamux::cli {

// The training file named by the one positional argument, with --epochs, --batch, --lr,
// --seed and --threads applied when given. Throws UsageError, or Error for a bad file.
TrainFile load_training_file(const ParsedArgs& parsed, const std::string& usage);

}  // namespace hamux::cli
