// tests/cli/train_test.cpp - `hamux train`, `hamux eval`, and shipping the trained params
// (`hamux run --params`, `hamux compile --load-params`) from the shell; Ctrl-C and --resume.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "frontend/npy.h"
#include "hamux/io.h"
#include "run_hamux.h"
#include "runtime/training/training_testing.h"

namespace hamux::test {
namespace {

// A model, its data (.npy files) and a training file in one scratch folder.
struct TrainSetup {
  ScratchDir dir;
  std::string file(const std::string& name) const { return dir.path + "/" + name; }
  explicit TrainSetup(int64_t samples = 240, int64_t epochs = 2) {
    write_text(file("model.json"), traintest::classifier_json());
    const Dataset d = traintest::blobs(samples, 1), t = traintest::blobs(80, 2);
    save_npy(file("images.npy"), d.arrays.at("images"));
    save_npy(file("labels.npy"), d.arrays.at("labels"));
    save_npy(file("test_images.npy"), t.arrays.at("images"));
    save_npy(file("test_labels.npy"), t.arrays.at("labels"));
    write_text(file("train.json"), R"({
      "model": "model.json",
      "data": {"train": {"images": "images.npy", "labels": "labels.npy"}, "validation": 0.25,
               "test": {"images": "test_images.npy", "labels": "test_labels.npy"}},
      "feeds": [{"array": "images", "neuron": "input"}],
      "loss": {"neuron": "labels", "loss": "cross_entropy"},
      "target": "labels",
      "dynamics": {"steps": 6, "dt": 0.5},
      "optimizer": {"name": "adam", "lr": 0.03},
      "batch": 16, "epochs": )" + std::to_string(epochs) + R"(, "seed": 1, "out": "out"})");
  }
};

// "test: 80 samples, loss 0.1234, accuracy 97.50%" -> "80 samples, loss 0.1234, accuracy 97.50%"
std::string after(const std::string& text, const std::string& prefix) {
  const size_t at = text.find(prefix);
  if (at == std::string::npos) return "(no '" + prefix + "' in: " + text + ")";
  const size_t end = text.find('\n', at);
  return text.substr(at + prefix.size(), end - at - prefix.size());
}

TEST(TrainCli, TrainThenEvalThenRunAndCompileTheTrainedParams) {
  TrainSetup s;
  const RunResult t = run_hamux("train '" + s.file("train.json") + "'");
  ASSERT_EQ(t.status, 0) << t.err;
  EXPECT_NE(t.out.find("train: 180 samples, validation: 60 samples, batch 16, 2 epochs, adam lr 0.03"),
            std::string::npos) << t.out;
  EXPECT_NE(t.out.find("epoch 1/2: train loss "), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("epoch 2/2: train loss "), std::string::npos) << t.out;
  for (const char* f : {"checkpoint.npz", "params.npz", "log.csv", "curves.svg", "accuracy.svg"})
    EXPECT_TRUE(std::filesystem::exists(s.file(std::string("out/") + f))) << f;
  const std::string test_line = after(t.out, "test: ");
  // hamux eval on the test data gives the very numbers training printed.
  const RunResult e = run_hamux("eval '" + s.file("train.json") + "'");
  ASSERT_EQ(e.status, 0) << e.err;
  EXPECT_EQ(after(e.out, "test data: "), test_line);
  const std::string acc = after(test_line, "accuracy ");
  EXPECT_GE(std::stod(acc), 90.0) << test_line;
  const RunResult v = run_hamux("eval '" + s.file("train.json") + "' --data validation");
  ASSERT_EQ(v.status, 0) << v.err;
  EXPECT_NE(v.out.find("validation data: 60 samples, loss "), std::string::npos) << v.out;

  // The trained params drive hamux run and go into an AOT object.
  save_npy(s.file("x.npy"), traintest::blobs(4, 9).arrays.at("images"));
  const RunResult r = run_hamux("run '" + s.file("model.json") + "' --params '" + s.file("out/params.npz") +
                                "' --batch 4 --set input='" + s.file("x.npy") + "' --clamp input --steps 6 --dt 0.5");
  EXPECT_EQ(r.status, 0) << r.err;
  const RunResult c = run_hamux("compile '" + s.file("model.json") + "' -o '" + s.file("aot") +
                                "' --params files --load-params '" + s.file("out/params.npz") + "'");
  ASSERT_EQ(c.status, 0) << c.err;
  const auto trained = read_npz(s.file("out/params.npz"));
  EXPECT_EQ(read_npy(s.file("aot/toy_classifier_W1.npy")).data, trained.at("W1").data);
  EXPECT_EQ(read_npy(s.file("aot/toy_classifier_W2.npy")).data, trained.at("W2").data);
}

TEST(TrainCli, ResumeExtendsARunAndBadFilesAreNamed) {
  TrainSetup s(96, 1);
  ASSERT_EQ(run_hamux("train '" + s.file("train.json") + "' --quiet").status, 0);
  const RunResult more = run_hamux("train '" + s.file("train.json") + "' --resume --epochs 2");
  ASSERT_EQ(more.status, 0) << more.err;
  EXPECT_EQ(more.out.find("epoch 1/2"), std::string::npos) << more.out;  // epoch 1 was done before
  EXPECT_NE(more.out.find("epoch 2/2"), std::string::npos) << more.out;
  const std::string log = read_text(s.file("out/log.csv"));
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 3) << log;

  write_text(s.file("bad.json"), R"({"model": "model.json", "data": {"train": {"x": "images.npy"}}, "feeds": [],
    "loss": {}, "target": "y", "optimiser": {}})");
  RunResult b = run_hamux("train '" + s.file("bad.json") + "'");
  EXPECT_EQ(b.status, 1);
  EXPECT_EQ(b.err, "error: " + s.file("bad.json") + ": /optimiser: unknown key \"optimiser\" (expected model, data, "
                   "feeds, loss, target, mask, dynamics, optimizer, batch, epochs, seed, shuffle, threads, out, "
                   "init_params)\n");
  write_text(s.file("bad2.json"), R"({"model": "model.json", "data": {"train": {"images": "images.npy",
    "labels": "labels.npy"}}, "feeds": [{"array": "images", "neuron": "input"}],
    "loss": {"neuron": "labels", "loss": "cross_entropy"}, "target": "labels", "dynamics": {"method": "adjoint"}})");
  b = run_hamux("train '" + s.file("bad2.json") + "'");
  EXPECT_EQ(b.err, "error: " + s.file("bad2.json") + ": /dynamics/method: expected \"bptt\" or \"implicit\", got "
                   "\"adjoint\"\n");
  b = run_hamux("train '" + s.file("train.json") + "' --out '" + s.file("fresh") + "' --resume");
  EXPECT_EQ(b.err, "error: " + s.file("fresh") + "/checkpoint.npz: no checkpoint to resume from\n");
  b = run_hamux("eval '" + s.file("train.json") + "' --params '" + s.file("nothing.npz") + "'");
  EXPECT_EQ(b.err, "error: " + s.file("nothing.npz") + ": cannot open file\n");
  b = run_hamux("train '" + s.file("train.json") + "' --batch 0");
  EXPECT_EQ(b.status, 2);
  // --epochs 0 writes the initial params (in the model's dtype, float32); --init-params
  // starts from them: the same run as from the model's init, up to that rounding.
  ASSERT_EQ(run_hamux("train '" + s.file("train.json") + "' --epochs 0 --out '" + s.file("init") + "'").status, 0);
  const auto init = read_npz(s.file("init/params.npz"));
  Ham fresh = Ham::load(s.file("model.json"));
  const std::vector<double> w1 = fresh.param("W1").data;
  ASSERT_EQ(init.at("W1").data.size(), w1.size());
  for (size_t i = 0; i < w1.size(); ++i) ASSERT_EQ(init.at("W1").data[i], static_cast<float>(w1[i]));
  ASSERT_EQ(run_hamux("train '" + s.file("train.json") + "' --quiet --out '" + s.file("plain") + "'").status, 0);
  ASSERT_EQ(run_hamux("train '" + s.file("train.json") + "' --quiet --out '" + s.file("again") + "' --init-params '" +
                      s.file("init/params.npz") + "'").status, 0);
  const auto plain = read_npz(s.file("plain/params.npz")), again = read_npz(s.file("again/params.npz"));
  for (size_t i = 0; i < w1.size(); ++i) ASSERT_NEAR(again.at("W1").data[i], plain.at("W1").data[i], 1e-4);
  EXPECT_NE(again.at("W1").data, init.at("W1").data);
}

TEST(TrainCli, CtrlCWritesTheCheckpointAndResumeContinues) {
  TrainSetup s(96, 100000);
  const std::string log = s.file("out/log.csv");
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    freopen("/dev/null", "w", stdout);
    execl(HAMUX_BINARY, HAMUX_BINARY, "train", s.file("train.json").c_str(), "--quiet", static_cast<char*>(nullptr));
    _exit(127);
  }
  // Interrupt once the first epoch's files are there (the handler is installed by then).
  for (int i = 0; i < 1200 && !std::filesystem::exists(log); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(std::filesystem::exists(log));
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by the signal instead of stopping";
  EXPECT_EQ(WEXITSTATUS(status), 130);
  const auto ck = read_npz(s.file("out/checkpoint.npz"));
  const double epoch = ck.at("position").data[1];
  EXPECT_GE(epoch, 1);
  // Resuming with as many epochs as were started finishes the interrupted one.
  const RunResult r = run_hamux("train '" + s.file("train.json") + "' --resume --epochs " +
                                std::to_string(static_cast<int>(epoch) + 1));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("epoch " + std::to_string(static_cast<int>(epoch) + 1) + "/"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace hamux::test
