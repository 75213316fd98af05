// tests/runtime/training/train_test.cpp - training a small classifier: it learns, and the
// result is bit-identical across thread counts and across an interruption and resume.
#include <atomic>

#include "hamux/io.h"
#include "training_testing.h"

namespace hamux::traintest {
namespace {

TEST(Train, SyntheticClassifierLearnsInTwoEpochs) {
  Ham ham = Ham::from_json(classifier_json());
  const Dataset data = blobs(320, 1), held_out = blobs(160, 2);
  TrainOptions o = classifier_options();
  const EvalResult before = evaluate(ham, held_out, o);
  const TrainReport r = train(ham, data, &held_out, o);
  const EvalResult after = evaluate(ham, held_out, o);
  ASSERT_EQ(r.epochs.size(), 2u);
  EXPECT_EQ(r.steps, 2 * 20);
  EXPECT_FALSE(r.interrupted);
  // Chance is 25% and a loss of log 4 = 1.386; the classes are separable.
  EXPECT_NEAR(before.loss, std::log(4.0), 0.1);
  EXPECT_LT(after.loss, before.loss / 4) << "before " << before.loss << ", after " << after.loss;
  EXPECT_GE(after.accuracy, 0.95);
  EXPECT_LT(r.epochs[1].train_loss, r.epochs[0].train_loss);
  EXPECT_DOUBLE_EQ(r.epochs[1].validation_loss, after.loss);
  EXPECT_DOUBLE_EQ(r.epochs[1].validation_accuracy, after.accuracy);
  EXPECT_GT(r.epochs[0].grad_norm, 0);
  EXPECT_EQ(after.samples, 160);
}

TEST(Train, ParamsAreBitIdenticalForOneTwoAndThreeThreads) {
  const Dataset data = blobs(200, 3);
  std::map<std::string, std::vector<double>> first;
  for (int threads : {1, 2, 3}) {
    Ham ham = Ham::from_json(classifier_json());
    TrainOptions o = classifier_options();
    o.batch = 50;  // blocks of the batch run on different threads
    o.dynamics.threads = threads;
    train(ham, data, nullptr, o);
    if (threads == 1) first = params_of(ham);
    else EXPECT_EQ(params_of(ham), first) << threads << " threads";
  }
}

// Stops the run after `after` batches (through TrainOptions::stop), then resumes it.
std::map<std::string, std::vector<double>> interrupted_run(const Dataset& data, const TrainOptions& base,
                                                           const std::string& dir, int after,
                                                           TrainReport* report = nullptr) {
  std::atomic<bool> stop{false};
  int batches = 0;
  {
    Ham ham = Ham::from_json(classifier_json());
    TrainOptions o = base;
    o.out_dir = dir;
    o.stop = &stop;
    o.progress = [&](const TrainProgress&) {
      if (++batches == after) stop = true;
    };
    const TrainReport r = train(ham, data, nullptr, o);
    EXPECT_TRUE(r.interrupted);
    EXPECT_EQ(r.steps, after);
  }
  Ham ham = Ham::from_json(classifier_json());  // a fresh process would start from the init too
  TrainOptions o = base;
  o.out_dir = dir;
  o.resume = true;
  const TrainReport r = train(ham, data, nullptr, o);
  EXPECT_FALSE(r.interrupted);
  if (report) *report = r;
  return params_of(ham);
}

TEST(Train, ResumeAfterAnInterruptionEndsBitIdentical) {
  Scratch s;
  const Dataset data = blobs(100, 4);
  TrainOptions o = classifier_options();
  o.batch = 16;  // 7 batches per epoch, the last one of 4 samples
  o.epochs = 3;
  o.optimizer.schedule = "cosine";
  o.optimizer.warmup_steps = 3;
  o.optimizer.clip_norm = 0.5;
  Ham straight = Ham::from_json(classifier_json());
  const TrainReport full = train(straight, data, nullptr, o);
  const auto expected = params_of(straight);
  // Mid-epoch, at an epoch's last batch, and in the first batch.
  for (int after : {10, 7, 1}) {
    TrainReport r;
    EXPECT_EQ(interrupted_run(data, o, s.path("run" + std::to_string(after)), after, &r), expected) << after;
    ASSERT_EQ(r.epochs.size(), 3u);
    for (size_t e = 0; e < 3; ++e) {
      EXPECT_EQ(r.epochs[e].train_loss, full.epochs[e].train_loss) << after << " epoch " << e;
      EXPECT_EQ(r.epochs[e].grad_norm, full.epochs[e].grad_norm);
      EXPECT_EQ(r.epochs[e].lr, full.epochs[e].lr);
    }
  }
}

TEST(Train, WritesCheckpointParamsLogAndCurvesAfterEveryEpoch) {
  Scratch s;
  Ham ham = Ham::from_json(classifier_json());
  const Dataset data = blobs(64, 5), val = blobs(32, 6);
  TrainOptions o = classifier_options();
  o.out_dir = s.path("out");
  int epochs_seen = 0;
  o.on_epoch = [&](const EpochStats& e) {
    ++epochs_seen;
    EXPECT_EQ(e.epoch, epochs_seen);
    EXPECT_TRUE(std::filesystem::exists(s.path("out/checkpoint.npz")));
  };
  train(ham, data, &val, o);
  EXPECT_EQ(epochs_seen, 2);
  for (const char* f : {"checkpoint.npz", "params.npz", "log.csv", "curves.svg", "accuracy.svg"})
    EXPECT_TRUE(std::filesystem::exists(s.path(std::string("out/") + f))) << f;
  // params.npz (float32, the model's dtype) loads back into a fresh Ham as the trained params.
  Ham other = Ham::from_json(classifier_json());
  other.load_params(s.path("out/params.npz"));
  for (const auto& [name, values] : params_of(ham)) {
    const std::vector<double> loaded = other.param(name).data;
    ASSERT_EQ(loaded.size(), values.size());
    for (size_t i = 0; i < values.size(); ++i) ASSERT_EQ(loaded[i], static_cast<float>(values[i])) << name << i;
  }
  // The trained Ham's kernels run with exactly those params (the optimiser updates the
  // kernels' arrays in place; Ham::param and params.npz are their published copy).
  States mine = ham.normal(4, 3), theirs = other.normal(4, 3);
  RunOptions r;
  r.steps = 5;
  run(ham, mine, r);
  run(other, theirs, r);
  for (const NeuronInfo& n : ham.neurons()) EXPECT_EQ(mine.get(n.name).data, theirs.get(n.name).data) << n.name;
  std::ifstream log(s.path("out/log.csv"));
  std::string header, row1, row2, extra;
  std::getline(log, header);
  std::getline(log, row1);
  std::getline(log, row2);
  EXPECT_EQ(header, "epoch,train_loss,train_accuracy,validation_loss,validation_accuracy,lr,grad_norm,seconds");
  EXPECT_EQ(row1.substr(0, 2), "1,");
  EXPECT_EQ(row2.substr(0, 2), "2,");
  EXPECT_FALSE(std::getline(log, extra));
  const std::string svg = [&] {
    std::ifstream f(s.path("out/curves.svg"));
    return std::string(std::istreambuf_iterator<char>(f), {});
  }();
  EXPECT_NE(svg.find("train loss"), std::string::npos);
  EXPECT_NE(svg.find("validation loss"), std::string::npos);
}

TEST(Train, SgdWithMomentumLearnsToo) {
  Ham ham = Ham::from_json(classifier_json());
  const Dataset data = blobs(320, 7), held_out = blobs(160, 8);
  TrainOptions o = classifier_options();
  o.optimizer.name = "sgd";
  o.optimizer.lr = 0.05;
  o.optimizer.momentum = 0.9;
  const EvalResult before = evaluate(ham, held_out, o);
  train(ham, data, nullptr, o);
  const EvalResult after = evaluate(ham, held_out, o);
  EXPECT_LT(after.loss, before.loss / 2) << before.loss << " -> " << after.loss;
  EXPECT_GE(after.accuracy, 0.9);
}

}  // namespace
}  // namespace hamux::traintest
