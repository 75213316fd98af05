// tools/hamux/train.cpp - `hamux train train.json`: train a model's params on data
// (hamux/training.h, docs/training.md), with a progress bar, per-epoch lines, checkpoints.
//
// Ctrl-C does not lose the run: the trainer is asked to stop after the batch in progress,
// writes its checkpoint, and `--resume` continues it bit-identically.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "args.h"
#include "command.h"
#include "hamux/training.h"
#include "support/printable.h"
#include "state_args.h"
#include "train_args.h"

namespace hamux::cli {
namespace {

const char* const kUsage =
    "usage: hamux train <train.json> [options]\n"
    "\n"
    "Trains the params of the training file's model on its data through the dynamics\n"
    "(docs/training.md): per batch, the T-step run from the fed states, the loss, its\n"
    "gradient by BPTT or implicit differentiation, one optimiser step. After every epoch\n"
    "it writes into the output folder: checkpoint.npz, params.npz (for hamux run --params,\n"
    "hamux eval --params, hamux compile --load-params), log.csv, curves.svg (and\n"
    "accuracy.svg for class targets). Ctrl-C writes the checkpoint and stops.\n"
    "\n"
    "options:\n"
    "  --out DIR       output folder (default: the file's \"out\", else train-out)\n"
    "  --resume        continue from DIR/checkpoint.npz (bit-identical to an unbroken run)\n"
    "  --init-params F start from these params (.npz or a directory of .npy; default: the\n"
    "                  file's \"init_params\", else the model's init); --epochs 0 writes\n"
    "                  DIR/params.npz of the initial params and stops\n"
    "  --epochs N      override the file's epochs\n"
    "  --batch N       override the file's batch size\n"
    "  --lr X          override the optimiser's learning rate\n"
    "  --seed N        override the shuffling seed\n"
    "  --threads T     threads (default: the file's, else 1; 0 = all cores)\n"
    "  --quiet         no progress bar and no per-epoch lines\n"
    "  -h, --help      show this help\n";

std::atomic<bool> g_stop{false};

extern "C" void on_sigint(int) { g_stop.store(true); }

std::string percent(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f%%", 100 * v);
  return b;
}

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.6g", v);
  return b;
}

std::string clock_text(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  char b[32];
  std::snprintf(b, sizeof b, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  return b;
}

// "\repoch 2/5 [##########          ]  51%  loss 0.4321  acc 84.10%  2345 samples/s  left 0:01:12"
void draw_bar(const TrainProgress& p) {
  const int width = 20;
  const double f = p.epoch_samples > 0 ? static_cast<double>(p.samples) / static_cast<double>(p.epoch_samples) : 1;
  std::string bar(static_cast<size_t>(width * f), '#');
  bar.resize(width, ' ');
  std::string line = "epoch " + std::to_string(p.epoch) + "/" + std::to_string(p.epochs) + " [" + bar + "] " +
                     std::to_string(static_cast<int>(100 * f)) + "%  loss " + num(p.loss);
  if (p.accuracy >= 0) line += "  acc " + percent(p.accuracy);
  line += "  " + std::to_string(static_cast<long>(p.samples_per_second)) + " samples/s  left " +
          clock_text(p.seconds_left);
  std::fprintf(stderr, "\r%-100s", line.c_str());
  std::fflush(stderr);
}

std::string epoch_line(const EpochStats& e, int64_t epochs) {
  std::string s = "epoch " + std::to_string(e.epoch) + "/" + std::to_string(epochs) + ": train loss " + num(e.train_loss);
  if (e.train_accuracy >= 0) s += " accuracy " + percent(e.train_accuracy);
  if (e.validation_loss >= 0) s += ", validation loss " + num(e.validation_loss);
  if (e.validation_accuracy >= 0) s += " accuracy " + percent(e.validation_accuracy);
  s += ", lr " + num(e.lr) + ", grad norm " + num(e.grad_norm) + ", " + num(e.seconds) + " s";
  return s;
}

int run_train(const std::vector<std::string>& raw) {
  std::vector<std::string> args = raw;
  const bool resume = take_flag(args, "--resume");
  const bool quiet = take_flag(args, "--quiet");
  const ParsedArgs parsed = parse_args(args, {"--out", "--epochs", "--batch", "--lr", "--seed", "--threads", "--init-params"}, kUsage);
  if (parsed.help) {
    std::cout << kUsage;
    return 0;
  }
  TrainFile f = load_training_file(parsed, kUsage);
  TrainOptions& o = f.options;
  if (auto it = parsed.options.find("--out"); it != parsed.options.end()) o.out_dir = it->second;
  if (o.out_dir.empty()) o.out_dir = "train-out";
  o.resume = resume;

  if (auto it = parsed.options.find("--init-params"); it != parsed.options.end()) f.init_params = it->second;
  Ham ham = Ham::load(f.model);
  if (!f.init_params.empty()) ham.load_params(f.init_params);  // a resume overrides them
  const Dataset data = load_train_data(f, "train");
  const Dataset validation = load_train_data(f, "validation");
  const Dataset* val = validation.size() > 0 ? &validation : nullptr;

  const bool bar = !quiet && isatty(STDERR_FILENO);
  if (bar) o.progress = draw_bar;
  std::signal(SIGINT, on_sigint);
  o.stop = &g_stop;
  if (!quiet)
    std::cout << "model: " << printable(ham.name()) << "\ntrain: " << data.size() << " samples"
              << (val ? ", validation: " + std::to_string(val->size()) + " samples" : "") << ", batch " << o.batch
              << ", " << o.epochs << " epochs, " << o.optimizer.name << " lr " << num(o.optimizer.lr) << "\n"
              << std::flush;
  o.on_epoch = [&](const EpochStats& e) {
    if (bar) std::fprintf(stderr, "\r%100s\r", "");
    if (!quiet) std::cout << epoch_line(e, o.epochs) << "\n" << std::flush;
  };
  TrainReport r;
  try {
    r = train(ham, data, val, o);
  } catch (...) {
    if (bar) std::fprintf(stderr, "\n");
    throw;
  }
  std::signal(SIGINT, SIG_DFL);
  if (bar) std::fprintf(stderr, "\r%100s\r", "");
  const std::string ck = (std::filesystem::path(o.out_dir) / "checkpoint.npz").string();
  if (r.interrupted) {
    std::cout << "interrupted after " << r.steps << " steps: " << ck << " written; continue with --resume\n";
    return 130;
  }
  std::cout << "params: " << (std::filesystem::path(o.out_dir) / "params.npz").string() << "\n";
  if (!f.test.empty()) {
    const EvalResult t = evaluate(ham, load_train_data(f, "test"), o);
    std::cout << "test: " << t.samples << " samples, loss " << num(t.loss)
              << (t.accuracy >= 0 ? ", accuracy " + percent(t.accuracy) : "") << "\n";
  }
  return 0;
}

}  // namespace

const Command kTrainCommand = {"train", "train a model's params on data (a training file); checkpoints, curves",
                               kUsage, run_train};

}  // namespace hamux::cli
