// tests/frontend/loss_test.cpp - loss specs: the builtins' values (closed forms), custom
// expressions, and errors with their JSON pointers.
#include <gtest/gtest.h>

#include "frontend/loss.h"
#include "frontend_test_util.h"

namespace hamux {
namespace {

using test::eval_scalar;

const Model& readme() {
  static const Model m = load_model(test::model_path("readme.json"));
  return m;
}

TEST(Losses, BuiltinsMatchTheirClosedForms) {
  const Model& m = readme();
  const Tensor<double> y = test::random_tensor({8}, 1, 0.05, 1), t = test::random_tensor({8}, 2);
  Tensor<double> mask({8});
  for (int64_t i = 0; i < 8; i += 3) mask.data[i] = 1;
  double se = 0, ce = 0, lse_max = y.data[0], lse = 0;
  for (int64_t i = 0; i < 8; ++i) {
    se += mask.data[i] * (y.data[i] - t.data[i]) * (y.data[i] - t.data[i]);
    ce -= mask.data[i] * t.data[i] * std::log(y.data[i]);
    lse_max = std::max(lse_max, y.data[i]);
  }
  double dot = 0;
  for (int64_t i = 0; i < 8; ++i) {
    lse += std::exp(y.data[i] - lse_max);
    dot += mask.data[i] * t.data[i] * y.data[i];
  }
  lse = lse_max + std::log(lse) - dot;
  struct Case {
    const char* loss;
    double want;
  };
  for (const Case& c : {Case{"squared_error", se}, Case{"cross_entropy", ce}, Case{"softmax_cross_entropy", lse}}) {
    SCOPED_TRACE(c.loss);
    const LossSpec s = parse_loss(m, std::string(R"({"neuron": "labels", "loss": ")") + c.loss + "\"}");
    EXPECT_NEAR(eval_scalar(s.graph, {y, t, mask}, m), c.want, 1e-12 * (1 + std::abs(c.want)));
    EXPECT_EQ(s.neuron, m.neuron_index("labels"));
    EXPECT_TRUE(s.of_activation);
    EXPECT_TRUE(s.mean);
    EXPECT_EQ(s.class_targets, std::string(c.loss) != "squared_error");
  }
}

TEST(Losses, SpecFieldsAndCustomExpressions) {
  const Model& m = readme();
  LossSpec s = parse_loss(m, R"({"neuron": "hidden", "of": "state", "reduction": "sum",
      "loss": {"expr": {"inputs": ["y"], "value": ["sum", ["square", ["matmul", "W2", "y"]]]}}})");
  EXPECT_FALSE(s.of_activation);
  EXPECT_FALSE(s.mean);
  EXPECT_EQ(s.desc, "custom expr on state of 'hidden' (sum)");
  // A custom loss may read params: sum_i (W2 y)_i^2.
  const Tensor<double> y = test::random_tensor({9}, 3);
  const Tensor<double>& W = m.params[m.param_index("W2")].value;
  double want = 0;
  for (int64_t i = 0; i < 8; ++i) {
    double wy = 0;
    for (int64_t j = 0; j < 9; ++j) wy += W.data[i * 9 + j] * y.data[j];
    want += wy * wy;
  }
  EXPECT_NEAR(eval_scalar(s.graph, {y}, m), want, 1e-12);
  s = parse_loss(m, R"({"neuron": "labels", "loss": {"softmax_cross_entropy": {"axis": 0}}})");
  EXPECT_EQ(s.desc, "softmax_cross_entropy on activation of 'labels' (mean)");
}

void expect_error(const std::string& spec, const std::string& message) {
  try {
    parse_loss(readme(), spec);
    FAIL() << "expected hamux::Error for " << spec;
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), message);
  }
}

TEST(LossErrors, NameTheJsonPointer) {
  expect_error(R"({"neuron": "nope", "loss": "squared_error"})",
               "loss: /neuron: unknown neuron \"nope\" (the model has: input, labels, hidden)");
  expect_error(R"({"loss": "squared_error"})", "loss: missing required key \"neuron\"");
  expect_error(R"({"neuron": "labels", "loss": "hinge"})",
               "loss: /loss: unknown loss \"hinge\" (expected a builtin loss (squared_error, cross_entropy, "
               "softmax_cross_entropy), {\"name\": {arguments}} or {\"expr\": ...})");
  expect_error(R"({"neuron": "labels", "loss": "squared_error", "of": "energy"})",
               "loss: /of: expected \"activation\" or \"state\", got \"energy\"");
  expect_error(R"({"neuron": "labels", "loss": "squared_error", "reduction": "max"})",
               "loss: /reduction: expected \"mean\" or \"sum\", got \"max\"");
  expect_error(R"({"neuron": "labels", "loss": "squared_error", "weight": 2})",
               "loss: /weight: unknown key \"weight\" (expected neuron, of, loss, reduction)");
  expect_error(R"({"neuron": "labels", "loss": {"expr": {"inputs": ["y"], "value": ["mul", 2, "y"]}}})",
               "loss: /loss/expr/value: a loss must be a scalar, got shape [8]");
  expect_error(R"({"neuron": "labels", "loss": {"expr": {"inputs": ["y"], "value": ["sum", ["log", "z"]]}}})",
               "loss: /loss/expr/value/1/1: unknown name \"z\"");
  expect_error(R"({"neuron": "labels", "loss": {"expr": {"inputs": ["y", "t", "m", "q"], "value": 0}}})",
               "loss: /loss/expr/inputs: a loss expression takes 1 to 3 inputs (y, t, m: the value, the target, the mask)");
  expect_error(R"({"neuron": "labels", "loss": {"softmax_cross_entropy": {"axis": 1.5}}})",
               "loss: /loss/softmax_cross_entropy/axis: softmax_cross_entropy: axis must be an integer, got number");
  expect_error(R"({"neuron": "labels", "loss": )", "loss: line 1, column 30: syntax error while parsing value - unexpected end of input; expected '[', '{', or a literal");
}

}  // namespace
}  // namespace hamux
