// hamux/training.h - train a Ham's params on data through its dynamics (docs/training.md).
//
//   hamux::Ham ham = hamux::Ham::load("classifier.json");
//   hamux::Dataset data = hamux::load_dataset("train data", {{"images", {"x.npy"}}, {"labels", {"y.npy"}}});
//   hamux::TrainOptions o;
//   o.feeds = {{"images", "input"}};                     // clamped initial state of 'input'
//   o.loss = R"({"neuron": "labels", "loss": "cross_entropy"})";
//   o.target = "labels";                                 // [N] class indices: accuracy too
//   o.dynamics.steps = 10; o.dynamics.dt = 0.5;          // the T-step run the gradient goes through
//   o.optimizer.name = "adam"; o.optimizer.lr = 1e-3;
//   o.batch = 100; o.epochs = 5; o.out_dir = "run";      // checkpoints, log.csv, curves.svg, params.npz
//   hamux::TrainReport r = hamux::train(ham, data, nullptr, o);   // ham now holds the trained params
//
// Every sample starts from zeros except the fed neurons; each batch is one gradients() call
// (hamux/gradients.h) and one optimiser step in the model's dtype (as optax). The result is
// bit-identical for any number of threads and when a run is resumed from a checkpoint.
// Bad data throws hamux::Error naming the data set, the array and its file before training.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "hamux/gradients.h"
#include "hamux/hamux.h"

namespace hamux {

// One array of a data set: a .npy file, an .npz member, or an IDX file (the MNIST format,
// gzip-compressed or not). Integer and bool dtypes are read as their values.
struct ArraySource {
  std::string file;
  std::string member;        // for an .npz: the array's name in it (default: the array's own name)
  double scale = 1.0;        // values become value * scale + offset (e.g. 1/255 for 8-bit pixels)
  double offset = 0.0;
  Shape sample_shape;        // non-empty: reshape each sample (same number of elements)
};

// Named arrays whose axis 0 is the sample axis, of the same length in every array.
struct Dataset {
  std::string name;                               // "train data": the start of every message
  std::map<std::string, Tensor<double>> arrays;
  std::map<std::string, std::string> files;       // array -> the file it came from
  int64_t size() const;                           // samples (0 without arrays)
  // The samples [begin, end) of every array (a validation split).
  Dataset slice(int64_t begin, int64_t end, const std::string& name) const;
};

// Reads every array; checks that their lengths agree. Throws Error(file, reason).
Dataset load_dataset(const std::string& name, const std::map<std::string, ArraySource>& arrays);

// An array that gives a neuron its initial state; clamped, it holds for the whole run.
struct Feed {
  std::string array;
  std::string neuron;
  bool clamp = true;
};

struct Optimizer {
  std::string name = "adam";  // "sgd" (with momentum), "adam" or "adamw"
  double lr = 1e-3;
  double momentum = 0.9;      // sgd: v = momentum * v + g; 0: plain SGD
  bool nesterov = false;      // sgd
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // adam, adamw
  double weight_decay = 0.0;  // sgd, adam: + weight_decay * p in the gradient; adamw: decoupled
  std::string schedule = "constant";  // or "cosine": from lr to min_lr over the whole run
  int64_t warmup_steps = 0;   // linear warm-up of the learning rate over the first steps
  double min_lr = 0.0;
  double clip_norm = 0.0;     // > 0: the gradient is scaled to a global L2 norm of at most this
};

struct TrainProgress {
  int64_t epoch = 0, epochs = 0;         // epoch is 1-based
  int64_t samples = 0, epoch_samples = 0;  // done in this epoch, of
  double loss = 0;                       // mean over the epoch so far
  double accuracy = -1;                  // class targets only; -1 otherwise
  double samples_per_second = 0;
  double seconds_left = 0;               // of the whole run, at the current speed
};

struct EpochStats {
  int64_t epoch = 0;          // 1-based
  double train_loss = 0;      // mean over the epoch's batches' samples (params changing)
  double train_accuracy = -1; // -1 without class targets
  double validation_loss = -1, validation_accuracy = -1;  // -1 without validation data
  double lr = 0;              // of the epoch's last step
  double grad_norm = 0;       // mean global L2 norm of the batch gradients (before clipping)
  double seconds = 0;
};

struct TrainOptions {
  std::vector<Feed> feeds;
  std::string loss;       // a loss spec (hamux/gradients.h)
  std::string target;     // the array holding the loss's targets ([N] class indices: accuracy too)
  std::string mask;       // optional: the array holding the loss's mask
  GradientOptions dynamics;  // T, dt, tol, method, checkpoint_every; threads (0: all cores)
  Optimizer optimizer;
  int64_t batch = 32;     // the last batch of an epoch may be smaller
  int64_t epochs = 1;
  uint64_t seed = 0;      // the order of the samples in each epoch
  bool shuffle = true;
  // When set, written after every epoch (as one atomic set): checkpoint.npz (params,
  // optimiser state, position, log; float64 arrays), params.npz (model dtype), log.csv, curves.svg;
  // also at the end of a run that finished no epoch (epochs 0: the initial params).
  std::string out_dir;
  bool resume = false;    // continue from out_dir/checkpoint.npz
  std::function<void(const TrainProgress&)> progress;  // after every batch
  std::function<void(const EpochStats&)> on_epoch;     // after every epoch (its files written)
  // Polled after every batch: when true, a checkpoint is written and train() returns.
  const std::atomic<bool>* stop = nullptr;
};

struct TrainReport {
  std::vector<EpochStats> epochs;  // every epoch so far, including those before a resume
  int64_t steps = 0;               // optimiser steps taken in all
  bool interrupted = false;        // stopped by TrainOptions::stop
};

struct EvalResult {
  int64_t samples = 0;
  double loss = 0;       // mean per sample
  double accuracy = -1;  // -1 without class targets
};

// Trains the params of `ham` (it holds the result). `validation` may be null. Throws Error.
TrainReport train(Ham& ham, const Dataset& data, const Dataset* validation, const TrainOptions& options);

// The loss and accuracy of the current params on `data` (forward runs only).
EvalResult evaluate(const Ham& ham, const Dataset& data, const TrainOptions& options);

// A training file (JSON, docs/training.md): the model, the data and the options of a run, so
// that a run is reproducible from one file. Relative paths are resolved against its folder.
struct TrainFile {
  std::string path;
  std::string model;                                  // the model file
  std::string init_params;                            // optional: start from these params (.npz)
  std::map<std::string, ArraySource> train, validation, test;
  double validation_split = 0;                        // the last fraction of `train` held out
  TrainOptions options;
};
TrainFile load_train_file(const std::string& path);
// The data sets a TrainFile names (validation: the split or the file; empty when neither).
Dataset load_train_data(const TrainFile& f, const std::string& which);  // "train", "validation", "test"

}  // namespace hamux
