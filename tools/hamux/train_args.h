// tools/hamux/train_args.h - the options `hamux train` and `hamux eval` share: overrides of
// a training file's settings.
#pragma once

#include <string>

#include "args.h"
#include "hamux/training.h"

namespace hamux::cli {

// Applies --epochs, --batch, --lr, --seed and --threads when given. Throws UsageError.
void apply_overrides(const ParsedArgs& parsed, TrainOptions& o, const std::string& usage);

}  // namespace hamux::cli
