// tests/runtime/gradients_errors_test.cpp - bad input to hamux::gradients: exact messages
// that name the place (loss spec pointer, neuron, sample, step, option).
#include "gradient_testing.h"

namespace hamux {
namespace {

std::string model(const char* file) { return std::string(HAMUX_MODELS_DIR) + "/" + file; }

std::string error_of(const Ham& ham, const States& s, const Loss& l, const GradientOptions& o = {}) {
  try {
    gradients(ham, s, l, o);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

Loss cross_entropy(std::vector<double> classes) {
  Loss l;
  l.spec = R"({"neuron": "labels", "loss": "cross_entropy"})";
  const int64_t n = static_cast<int64_t>(classes.size());
  l.target = Tensor<double>({n}, std::move(classes));
  return l;
}

TEST(GradientErrors, LossOnAnUnknownNeuron) {
  Ham ham = Ham::load(model("readme.json"));
  Loss l = cross_entropy({1, 2});
  l.spec = R"({"neuron": "output", "loss": "cross_entropy"})";
  EXPECT_EQ(error_of(ham, ham.zeros(2), l),
            "loss: /neuron: unknown neuron \"output\" (the model has: input, labels, hidden)");
}

TEST(GradientErrors, TargetOfTheWrongShape) {
  Ham ham = Ham::load(model("readme.json"));
  Loss l = cross_entropy({});
  l.target = Tensor<double>({2, 9});
  EXPECT_EQ(error_of(ham, ham.zeros(2), l),
            "loss target: shape [2,9] does not fit neuron 'labels' of shape [8] with batch 2 (expected [2,8] or [8] "
            "or [2] class indices)");
  l.spec = R"({"neuron": "labels", "loss": "squared_error"})";
  l.target = Tensor<double>({3});
  EXPECT_EQ(error_of(ham, ham.zeros(2), l),
            "loss target: shape [3] does not fit neuron 'labels' of shape [8] with batch 2 (expected [2,8] or [8])");
  l.target = Tensor<double>({8});
  l.mask = Tensor<double>({7});
  EXPECT_EQ(error_of(ham, ham.zeros(2), l),
            "loss mask: shape [7] does not fit neuron 'labels' (expected [2,8] or [8])");
}

TEST(GradientErrors, ClassIndexOutOfRangeOrNotAnInteger) {
  Ham ham = Ham::load(model("readme.json"));
  EXPECT_EQ(error_of(ham, ham.zeros(3), cross_entropy({0, 7, 8})),
            "loss target: sample 2: class index 8 is out of range for neuron 'labels' (8 elements: 0 to 7)");
  EXPECT_EQ(error_of(ham, ham.zeros(2), cross_entropy({-1, 0})),
            "loss target: sample 0: class index -1 is out of range for neuron 'labels' (8 elements: 0 to 7)");
  EXPECT_EQ(error_of(ham, ham.zeros(2), cross_entropy({0, 2.5})),
            "loss target: sample 1: class index 2.5 is not an integer");
}

TEST(GradientErrors, NanInATargetNamesSampleAndElement) {
  Ham ham = Ham::load(model("readme.json"));
  Loss l;
  l.spec = R"({"neuron": "labels", "loss": "squared_error"})";
  l.target = Tensor<double>({2, 8});
  l.target.data[11] = std::nan("");
  EXPECT_EQ(error_of(ham, ham.zeros(2), l), "loss target: sample 1, element 3 is nan");
}

TEST(GradientErrors, NanInTheLossGradientNamesNeuronAndSample) {
  // d/dy sqrt((y - t)^2)-like via pow(., 0.5) at y = t: 0.5 * 0^-0.5 * 0 = inf * 0 = nan.
  Ham ham = Ham::load(model("readme.json"));
  States s = ham.normal(2, 1);
  Loss l;
  l.spec = R"({"neuron": "hidden", "of": "state",
               "loss": {"expr": {"inputs": ["y", "t"], "value": ["sum", ["pow", ["square", ["sub", "y", "t"]], 0.5]]}}})";
  l.target = s.get("hidden");
  GradientOptions o;
  o.steps = 0;
  EXPECT_EQ(error_of(ham, s, l, o), "neuron 'hidden': sample 0: d loss / d state is nan");
}

// A synapse energy with pow(W, 0.5): finite forward and finite state adjoints (they see
// W^0.5 only), but d W^0.5 / dW = 0.5 W^-0.5 is inf where W = 0 (pow has no guard, unlike
// sqrt). Its cotangent there is -(rate_b a_b)_j x_a,i - (rate_a a_a)_i x_b,j: 0 when neuron b
// is clamped (rate_b = 0) and x_b,j = 0, and 0 * inf is nan; with x_b,j != 0 it is +-inf.
const char* const kRootWeights = R"({
  "hamux": "1", "name": "root-weights", "dtype": "float64",
  "params": {"W": {"shape": [3, 4], "init": {"constant": {"value": 1}}}},
  "neurons": {"a": {"shape": [3], "lagrangian": "identity"}, "b": {"shape": [4], "lagrangian": "identity"}},
  "synapses": {"s": {"expr": {"inputs": ["ga", "gb"],
    "value": ["neg", ["einsum", ["pow", "W", 0.5], "ga", "gb", {"spec": "ij,i,j->"}]]}}},
  "connections": [{"neurons": ["a", "b"], "synapse": "s"}]
})";

TEST(GradientErrors, NanInAParamGradientNamesParamSampleElementAndStep) {
  const std::string file = (std::filesystem::temp_directory_path() /
                            ("hamux_root_weights_" + std::to_string(::getpid()) + ".json")).string();
  std::ofstream(file) << kRootWeights;
  Ham ham = Ham::load(file);
  std::filesystem::remove(file);
  Tensor<double> w({3, 4}, 1.0);
  w.data[1 * 4 + 2] = 0;  // W[1, 2]: element 6
  ham.set_param("W", w);
  States s = ham.normal(2, 1);
  Tensor<double> b = s.get("b");
  b.data[2] = 0;  // sample 0, x_b[2]
  s.set("b", b);
  s.clamp("b");
  Loss l;
  l.spec = R"({"neuron": "a", "loss": "squared_error"})";
  l.target = Tensor<double>({3});
  GradientOptions o;
  o.steps = 3;
  o.dt = 0.1;
  // Steps count from 1 (step t takes x_{t-1} to x_t); the backward pass meets step 3 first.
  EXPECT_EQ(error_of(ham, s, l, o), "param 'W': gradient is nan at sample 0, element 6, step 3");
  b.data[2] = 0.25;
  s.set("b", b);
  EXPECT_EQ(error_of(ham, s, l, o), "param 'W': gradient is -inf at sample 0, element 6, step 3");
  // With W[1, 2] > 0 the same run has finite gradients.
  w.data[1 * 4 + 2] = 0.5;
  ham.set_param("W", w);
  EXPECT_EQ(error_of(ham, s, l, o), "no error");
}

TEST(GradientErrors, StateThatOverflowsNamesNeuronSampleAndStep) {
  Ham ham = Ham::load(gradtest::variant("examples/models/readme.json", false));
  ham.set_param("W1", Tensor<double>({7, 9}, 1e30));
  States s = ham.normal(2, 1);
  Loss l = cross_entropy({1, 2});
  GradientOptions o;
  o.steps = 5;
  const std::string e = error_of(ham, s, l, o);
  EXPECT_NE(e.find("readme.json: neuron 'hidden', "), std::string::npos) << e;
  EXPECT_NE(e.find("sample 0: state is inf at step 2"), std::string::npos) << e;
}

TEST(GradientErrors, BadOptions) {
  Ham ham = Ham::load(model("readme.json"));
  const States s = ham.zeros(2);
  const Loss l = cross_entropy({1, 2});
  const std::string f = model("readme.json");
  GradientOptions o;
  o.steps = -1;
  EXPECT_EQ(error_of(ham, s, l, o), f + ": steps must be >= 0, got -1");
  o = {};
  o.dt = 0;
  EXPECT_EQ(error_of(ham, s, l, o), f + ": dt must be a positive number, got 0");
  o = {};
  o.checkpoint_every = -2;
  EXPECT_EQ(error_of(ham, s, l, o), f + ": checkpoint_every must be >= 0, got -2");
  o = {};
  o.method = GradientMethod::Implicit;
  EXPECT_EQ(error_of(ham, s, l, o), f + ": implicit gradients need tol > 0 (the forward run must converge)");
  o.tol = 1e-6;
  o.state_gradients = true;
  EXPECT_EQ(error_of(ham, s, l, o),
            f + ": state_gradients needs method bptt (at a fixed point the free states forget their start)");
  Ham other = Ham::load(model("readme.json"));
  EXPECT_EQ(error_of(ham, other.zeros(2), l, {}), f + ": gradients: the states belong to another Ham");
}

}  // namespace
}  // namespace hamux
