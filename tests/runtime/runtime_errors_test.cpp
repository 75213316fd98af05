// tests/runtime/runtime_errors_test.cpp - every runtime rejection, with its exact message.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "hamux/hamux.h"

namespace hamux {
namespace {

const std::string kDir = HAMUX_MODELS_DIR;

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(RuntimeErrors, MissingModelFile) {
  EXPECT_EQ(error_of([] { Ham::load("/nonexistent/model.json"); }).substr(0, 25), "/nonexistent/model.json: ");
}

TEST(RuntimeErrors, UnknownNeuronInSetAndClamp) {
  Ham ham = Ham::load(kDir + "/readme.json");
  States s = ham.zeros(2);
  const std::string expected = "neuron 'image': unknown neuron (" + kDir + "/readme.json has: input, labels, hidden)";
  EXPECT_EQ(error_of([&] { s.set("image", Tensor<double>({7})); }), expected);
  EXPECT_EQ(error_of([&] { s.clamp("image"); }), expected);
  EXPECT_EQ(error_of([&] { s.get("image"); }), expected);
  EXPECT_EQ(error_of([&] { ham.param("W9"); }), "param 'W9': unknown param (" + kDir + "/readme.json has: W1, W2)");
}

TEST(RuntimeErrors, WrongShapes) {
  Ham ham = Ham::load(kDir + "/readme.json");
  States s = ham.zeros(2);
  EXPECT_EQ(error_of([&] { s.set("input", Tensor<double>({3, 7})); }),
            "neuron 'input': state of shape [3,7] does not fit: expected [7] or [2,7]");
  EXPECT_EQ(error_of([&] { s.clamp("labels", Tensor<double>({9})); }),
            "neuron 'labels': clamp mask of shape [9] does not fit: expected [8] or [2,8]");
  EXPECT_EQ(error_of([&] { ham.set_param("W1", Tensor<double>({9, 7})); }),
            "param 'W1': shape [9,7] does not match the model's [7,9]");
  EXPECT_EQ(error_of([&] { ham.zeros(0); }), "batch: must be at least 1, got 0");
}

TEST(RuntimeErrors, BadOptions) {
  Ham ham = Ham::load(kDir + "/readme.json");
  States s = ham.zeros(1);
  RunOptions o;
  o.dt = -1;
  EXPECT_EQ(error_of([&] { run(ham, s, o); }), kDir + "/readme.json: dt must be a positive number, got -1.000000");
  Ham other = Ham::load(kDir + "/readme.json");
  EXPECT_EQ(error_of([&] { run(other, s); }), kDir + "/readme.json: the states were made by another model");
}

TEST(RuntimeErrors, NanStateNamesNeuronAndSample) {
  Ham ham = Ham::load(kDir + "/readme.json");
  States s = ham.zeros(3);
  Tensor<double> labels({8});
  labels[5] = std::numeric_limits<double>::quiet_NaN();
  s.set_sample("labels", 1, labels);
  EXPECT_EQ(error_of([&] { run(ham, s); }), kDir + "/readme.json: neuron 'labels', sample 1: state is nan at step 0");
}

TEST(RuntimeErrors, BlowUpNamesTheExactStep) {
  // classical_hopfield at dt 1000: x <- (1 - dt) x + dt W tanh(4x) grows ~1000x per step and
  // overflows float32 within a dozen steps; the run stops at that step, whatever the chunking.
  Ham ham = Ham::load(kDir + "/classical_hopfield.json");
  States s = ham.normal(2, 1);
  RunOptions o;
  o.steps = 100;
  o.dt = 1000;
  o.state_bound = 0;  // off: this is about the non-finite state (the bound stops it at step 3)
  const std::string msg = error_of([&] { run(ham, s, o); });
  // Find the step independently: one step at a time until a state is not finite.
  States t = ham.normal(2, 1);
  RunOptions one = o;
  one.steps = 1;
  int step = 0;
  bool finite = true;
  while (finite && step < 100) {
    ++step;
    try {
      run(ham, t, one);
    } catch (const Error&) {
      finite = false;
    }
  }
  ASSERT_FALSE(finite);
  EXPECT_NE(msg.find(": neuron 'v', sample 0: state is "), std::string::npos) << msg;
  EXPECT_NE(msg.find(" at step " + std::to_string(step) + " (try a smaller dt)"), std::string::npos) << msg;
}

}  // namespace
}  // namespace hamux
