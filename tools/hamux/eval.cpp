// tools/hamux/eval.cpp - `hamux eval train.json`: the loss and accuracy of trained params on
// a data set of a training file (docs/training.md).
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "args.h"
#include "command.h"
#include "hamux/training.h"
#include "support/printable.h"
#include "train_args.h"

namespace hamux::cli {
namespace {

const char* const kUsage =
    "usage: hamux eval <train.json> [options]\n"
    "\n"
    "Runs the training file's model with the given params on one of its data sets (the\n"
    "same forward dynamics as training, without gradients) and prints the mean loss and,\n"
    "for class targets, the accuracy.\n"
    "\n"
    "options:\n"
    "  --params FILE   params (.npz or a directory of .npy; default: OUT/params.npz, OUT\n"
    "                  being the file's \"out\", else train-out)\n"
    "  --data SET      test (default when the file has test data), validation or train\n"
    "  --batch N       samples per run (default: the file's batch)\n"
    "  --threads T     threads (default: the file's, else 1; 0 = all cores)\n"
    "  -h, --help      show this help\n";

int run_eval(const std::vector<std::string>& args) {
  const ParsedArgs parsed = parse_args(args, {"--params", "--data", "--batch", "--threads"}, kUsage);
  if (parsed.help) {
    std::cout << kUsage;
    return 0;
  }
  TrainFile f = load_training_file(parsed, kUsage);
  auto opt = [&](const char* name) {
    auto it = parsed.options.find(name);
    return it == parsed.options.end() ? std::string() : it->second;
  };
  std::string which = opt("--data");
  if (which.empty()) which = f.test.empty() ? "validation" : "test";
  if (which != "test" && which != "validation" && which != "train")
    throw UsageError("option '--data' expects test, validation or train, got '" + which + "'", kUsage);
  if (which == "test" && f.test.empty()) throw Error(f.path, "names no test data (/data/test)");
  if (which == "validation" && f.validation.empty() && f.validation_split <= 0)
    throw Error(f.path, "names no validation data (/data/validation)");
  std::string params = opt("--params");
  if (params.empty())
    params = (std::filesystem::path(f.options.out_dir.empty() ? "train-out" : f.options.out_dir) / "params.npz").string();

  Ham ham = Ham::load(f.model);
  ham.load_params(params);
  const Dataset data = load_train_data(f, which);
  const EvalResult r = evaluate(ham, data, f.options);
  char loss[32];
  std::snprintf(loss, sizeof loss, "%.6g", r.loss);
  std::cout << "model: " << printable(ham.name()) << "\nparams: " << params << "\n"
            << data.name << ": " << r.samples << " samples, loss " << loss;
  if (r.accuracy >= 0) {
    char acc[32];
    std::snprintf(acc, sizeof acc, "%.2f%%", 100 * r.accuracy);
    std::cout << ", accuracy " << acc;
  }
  std::cout << "\n";
  return 0;
}

}  // namespace

const Command kEvalCommand = {"eval", "loss and accuracy of trained params on a data set of a training file",
                              kUsage, run_eval};

}  // namespace hamux::cli
