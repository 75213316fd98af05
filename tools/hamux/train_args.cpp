// tools/hamux/train_args.cpp - see train_args.h.
#include "train_args.h"

#include <cmath>
#include <cstdlib>

#include "command.h"

namespace hamux::cli {

TrainFile load_training_file(const ParsedArgs& parsed, const std::string& usage) {
  if (parsed.positional.empty()) throw UsageError("missing training file", usage);
  if (parsed.positional.size() > 1) throw UsageError("too many arguments", usage);
  TrainFile f = load_train_file(parsed.positional[0]);
  TrainOptions& o = f.options;
  auto opt = [&](const char* name) -> const std::string* {
    auto it = parsed.options.find(name);
    return it == parsed.options.end() ? nullptr : &it->second;
  };
  if (auto v = opt("--epochs")) o.epochs = static_cast<int64_t>(parse_uint("--epochs", *v, usage));
  if (auto v = opt("--batch")) {
    o.batch = static_cast<int64_t>(parse_uint("--batch", *v, usage));
    if (o.batch < 1) throw UsageError("option '--batch' must be at least 1", usage);
  }
  if (auto v = opt("--seed")) o.seed = parse_uint("--seed", *v, usage);
  if (auto v = opt("--threads")) o.dynamics.threads = static_cast<int>(parse_uint("--threads", *v, usage));
  if (auto v = opt("--lr")) {
    char* end = nullptr;
    const double lr = std::strtod(v->c_str(), &end);
    if (v->empty() || *end != '\0' || !std::isfinite(lr) || !(lr > 0))
      throw UsageError("option '--lr' expects a positive number, got '" + *v + "'", usage);
    o.optimizer.lr = lr;
  }
  return f;
}

}  // namespace hamux::cli
