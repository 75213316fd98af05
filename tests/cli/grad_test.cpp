// tests/cli/grad_test.cpp - `hamux grad` prints the derived graphs of a model.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "cli/run_hamux.h"
#include "test_data.h"

namespace hamux::test {
namespace {

TEST(Grad, ReadmeListsEveryNeuron) {
  const RunResult r = run_hamux(std::string("grad '") + HAMUX_MODELS_DIR + "/readme.json'");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out.rfind("model: hamux-readme\n", 0), 0u) << r.out;
  const auto activations = section(r.out, "activations:");
  const auto updates = section(r.out, "update directions:");
  ASSERT_EQ(activations.size(), 3u) << r.out;
  ASSERT_EQ(updates.size(), 3u) << r.out;
  for (const char* neuron : {"input", "labels", "hidden"}) {
    const std::string a = std::string("  ") + neuron + ": xhat = ";
    const std::string u = std::string("  dE/dxhat[") + neuron + "] = ";
    int found_a = 0, found_u = 0;
    for (const auto& line : activations) found_a += line.rfind(a, 0) == 0;
    for (const auto& line : updates) found_u += line.rfind(u, 0) == 0;
    EXPECT_EQ(found_a, 1) << neuron << "\n" << r.out;
    EXPECT_EQ(found_u, 1) << neuron << "\n" << r.out;
  }
  // The softmax layers' activations are a softmax of their own state.
  for (const auto& line : activations) {
    if (line.rfind("  hidden:", 0) == 0) {
      EXPECT_NE(line.find("x[hidden]"), std::string::npos) << line;
    }
  }
  // Each update direction involves the neuron's own state (the Legendre shortcut) and
  // the weights of its synapses.
  for (const auto& line : updates) {
    if (line.rfind("  dE/dxhat[input]", 0) == 0) {
      EXPECT_NE(line.find("x[input]"), std::string::npos) << line;
      EXPECT_NE(line.find("W1"), std::string::npos) << line;
      EXPECT_EQ(line.find("W2"), std::string::npos) << line;
    }
    if (line.rfind("  dE/dxhat[hidden]", 0) == 0) {
      EXPECT_NE(line.find("W1"), std::string::npos) << line;
      EXPECT_NE(line.find("W2"), std::string::npos) << line;
    }
  }
  EXPECT_NE(r.out.find("\nnodes: activations "), std::string::npos) << r.out;
}

TEST(Grad, SucceedsOnEveryContractModel) {
  for (const std::string& path : test_data::contract_model_paths()) {
    const RunResult r = run_hamux("grad '" + path + "'");
    EXPECT_EQ(r.status, 0) << path << "\n" << r.err;
    EXPECT_NE(r.out.find("update directions:"), std::string::npos) << path;
  }
}

TEST(Grad, ShowBackwardPrintsTheAdjointOfOneStep) {
  const RunResult r = run_hamux(std::string("grad '") + HAMUX_MODELS_DIR + "/readme.json' --show backward");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.find("update directions:"), std::string::npos) << r.out;
  const auto lines = section(r.out, "backward step (x' = x - rate * dE/dxhat(x); a = adjoint of x', rate = dt / tau * mask):");
  ASSERT_EQ(lines.size(), 5u) << r.out;  // three state adjoints, two param gradients
  for (const char* neuron : {"input", "labels", "hidden"}) {
    int found = 0;
    for (const auto& line : lines) found += line.rfind(std::string("  adjoint x[") + neuron + "] = a[" + neuron + "] - ", 0) == 0;
    EXPECT_EQ(found, 1) << neuron << "\n" << r.out;
  }
  // d/dW1 of a linear synapse is the outer product of the scaled adjoints and activations.
  int w1 = 0;
  for (const auto& line : lines)
    if (line.rfind("  d/d W1 (per sample) = ", 0) == 0) {
      ++w1;
      EXPECT_NE(line.find("rate[input] * a[input]"), std::string::npos) << line;
      EXPECT_NE(line.find("softmax(x[hidden]"), std::string::npos) << line;
    }
  EXPECT_EQ(w1, 1) << r.out;
  const RunResult all = run_hamux(std::string("grad '") + HAMUX_MODELS_DIR + "/readme.json' --show all");
  EXPECT_NE(all.out.find("update directions:"), std::string::npos);
  EXPECT_NE(all.out.find("backward step"), std::string::npos);
  const RunResult bad = run_hamux(std::string("grad '") + HAMUX_MODELS_DIR + "/readme.json' --show forward");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("--show must be step, backward or all, got 'forward'"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace hamux::test
