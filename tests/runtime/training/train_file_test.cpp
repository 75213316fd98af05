// tests/runtime/training/train_file_test.cpp - training files: the bundled ones load, paths
// resolve against the file, the validation split, and located errors.
#include "training_testing.h"

namespace hamux::traintest {
namespace {

TEST(TrainFile, TheBundledFashionFilesLoadWithTheirModels) {
  for (const char* name : {"fashion_mnist.train.json", "fashion_mnist_softmax.train.json"}) {
    const std::string path = std::string(HAMUX_SOURCE_DIR) + "/examples/training/" + name;
    const TrainFile f = load_train_file(path);
    EXPECT_EQ(f.options.batch, 100) << name;
    EXPECT_EQ(f.options.feeds.at(0).neuron, "image");
    EXPECT_DOUBLE_EQ(f.validation_split, 0.1);
    EXPECT_EQ(f.train.at("images").sample_shape, (Shape{784}));
    EXPECT_EQ(f.options.optimizer.schedule, "cosine");
    Ham ham = Ham::load(f.model);  // the model path resolves against the training file
    EXPECT_EQ(ham.neurons().size(), 3u);
  }
}

TEST(TrainFile, ValidationSplitHoldsOutTheLastSamplesInFileOrder) {
  Scratch s;
  Tensor<double> x(Shape{10, 2}), y(Shape{10});
  for (int i = 0; i < 10; ++i) x.data[2 * i] = x.data[2 * i + 1] = y.data[i] = i;
  save_npy(s.path("x.npy"), x);
  save_npy(s.path("y.npy"), y);
  s.write("model.json", classifier_json());
  const std::string file = s.write("t.train.json", R"({"model": "model.json",
    "data": {"train": {"x": "x.npy", "y": "y.npy"}, "validation": 0.3},
    "feeds": [{"array": "x", "neuron": "input", "clamp": false}], "loss": {"neuron": "labels", "loss": "cross_entropy"},
    "target": "y", "out": "run", "seed": 4, "shuffle": false,
    "dynamics": {"steps": 7, "checkpoint_every": 3, "store_residuals": false}})");
  const TrainFile f = load_train_file(file);
  EXPECT_EQ(f.options.dynamics.steps, 7);
  EXPECT_EQ(f.options.dynamics.checkpoint_every, 3);
  EXPECT_FALSE(f.options.dynamics.store_residuals);
  EXPECT_EQ(f.model, s.path("model.json"));
  EXPECT_EQ(f.options.out_dir, s.path("run"));
  EXPECT_FALSE(f.options.feeds[0].clamp);
  EXPECT_FALSE(f.options.shuffle);
  EXPECT_EQ(f.options.seed, 4u);
  const Dataset train = load_train_data(f, "train"), val = load_train_data(f, "validation");
  EXPECT_EQ(train.size(), 7);
  EXPECT_EQ(val.size(), 3);
  EXPECT_EQ(val.name, "validation data");
  EXPECT_EQ(val.arrays.at("y").data, (std::vector<double>{7, 8, 9}));
  EXPECT_EQ(train.arrays.at("x").data.back(), 6);
  EXPECT_EQ(error_of([&] { load_train_data(f, "holdout"); }),
            file + ": no data set 'holdout' (expected train, validation or test)");
}

TEST(TrainFile, ErrorsNameTheJsonPointer) {
  Scratch s;
  auto bad = [&](const std::string& text) {
    const std::string file = s.write("bad.train.json", text);
    return error_of([&] { load_train_file(file); }).substr(file.size() + 2);
  };
  EXPECT_EQ(bad(R"({"data": {}})"), "missing required key \"model\"");
  EXPECT_EQ(bad(R"({"model": "m.json", "data": {"train": {"x": "x.npy"}, "validation": 1.5}})"),
            "/data/validation: a validation split must be a fraction in (0, 1), got 1.5");
  EXPECT_EQ(bad(R"({"model": "m.json", "data": {"train": {}}})"), "/data/train: a data set needs at least one array");
  EXPECT_EQ(bad(R"({"model": "m.json", "data": {"train": {"x": {"file": "x.npy", "scale": "big"}}}})"),
            "/data/train/x/scale: expected a number, got string");
  EXPECT_EQ(bad(R"({"model": "m.json", "data": {"train": {"x": "x.npy"}}, "feeds": [{"array": "x"}]})"),
            "/feeds/0: missing required key \"neuron\"");
  EXPECT_EQ(bad(R"({"model": "m.json", "data": {"train": {"x": "x.npy"}}, "feeds": [], "loss": {}, "target": "y",
                    "batch": 0})"),
            "/batch: must be >= 1, got 0");
  EXPECT_EQ(bad(R"({"model": "m.json", "data": {"train": {"x": "x.npy"}}, "feeds": [], "loss": {}, "target": "y",
                    "dynamics": {"store_residuals": 1}})"),
            "/dynamics/store_residuals: expected a boolean, got integer");
}

}  // namespace
}  // namespace hamux::traintest
