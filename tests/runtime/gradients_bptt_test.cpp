// tests/runtime/gradients_bptt_test.cpp - BPTT gradients against central finite differences
// of the whole run, in float64, for every contract model and every examples/synapses model:
// T = 1, 3, 10, a clamp mask on the first neuron, tau = 0.5 on the last, both builtin losses;
// and T = 3 with the first neuron held whole (the kernel variants with its terms hoisted and
// the fixed operands of the weight gradients computed once, runtime/gradients.cpp).
#include "frontend/model.h"
#include "gradient_testing.h"

namespace hamux {
namespace {

using gradtest::HandLoss;

struct Case {
  std::string file;
  double dt;
};

class BpttMatchesFiniteDifferences : public ::testing::TestWithParam<Case> {};
class BpttWithTheFirstNeuronHeldWhole : public ::testing::TestWithParam<Case> {};

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  std::string n = std::filesystem::path(info.param.file).stem().string();
  for (char& ch : n)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return n;
}

// The two losses of a model: squared error (with a loss mask) on the last neuron's
// activation, and cross entropy on a softmax neuron's activation (the logits form on the
// last neuron's state when the model has no softmax neuron).
std::vector<HandLoss> losses_of(const Ham& ham, int64_t batch, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  const std::vector<NeuronInfo>& ns = ham.neurons();
  const NeuronInfo& last = ns.back();
  const int64_t e = num_elements(last.shape);
  HandLoss se;
  se.kind = "squared_error";
  se.neuron = last.name;
  Shape ts{batch};
  ts.insert(ts.end(), last.shape.begin(), last.shape.end());
  se.target = Tensor<double>(ts);
  for (double& v : se.target.data) v = u(rng);
  se.mask = Tensor<double>(last.shape, 1.0);
  for (int64_t j = 0; j < e; j += 2) se.mask.data[j] = 0;  // only the odd elements count
  se.mean = true;

  HandLoss ce;
  int soft = -1;
  for (size_t i = 0; i < ns.size(); ++i)
    if (ham.model().neurons[i].lagrangian_desc.rfind("softmax", 0) == 0) soft = static_cast<int>(i);
  const NeuronInfo& target = soft >= 0 ? ns[soft] : last;
  ce.kind = soft >= 0 ? "cross_entropy" : "softmax_cross_entropy";
  ce.of_activation = soft >= 0;
  ce.neuron = target.name;
  ce.row_length = target.shape.empty() ? 1 : target.shape.back();
  ce.target = Tensor<double>({batch});
  for (int64_t b = 0; b < batch; ++b)
    ce.target.data[b] = static_cast<double>((b * 7 + 3) % num_elements(target.shape));
  ce.mean = false;
  return {se, ce};
}

TEST_P(BpttMatchesFiniteDifferences, ForT1T3T10AndBothLosses) {
  const Case& c = GetParam();
  Ham ham = Ham::load(gradtest::variant(c.file, /*f64=*/true, /*tau=*/0.5));
  ASSERT_TRUE(ham.is_float64());
  const int64_t batch = 2;
  States initial = ham.normal(batch, 11, 0.5);
  const NeuronInfo& first = ham.neurons()[0];
  Tensor<double> clamp(first.shape);
  for (int64_t j = 0; j < clamp.size(); j += 3) clamp.data[j] = 1;  // every third element held
  initial.clamp(first.name, clamp);
  for (const HandLoss& loss : losses_of(ham, batch, 5)) {
    for (int64_t T : {1, 3, 10}) {
      SCOPED_TRACE(loss.kind + " on '" + loss.neuron + "', T = " + std::to_string(T));
      GradientOptions o;
      o.steps = T;
      o.dt = c.dt;
      const GradientResult g = gradients(ham, initial, loss.api(), o);
      EXPECT_NEAR(g.loss, gradtest::run_loss(ham, initial, loss, T, c.dt), 1e-10 * (1 + std::abs(g.loss)));
      const auto v = gradtest::random_direction(ham, 100 + T);
      const double fd = gradtest::fd_directional(ham, initial, loss, T, c.dt, v);
      const double an = gradtest::directional(g, v);
      // Relative to the larger of |fd| and |grad| (v is a unit vector, so |grad| bounds the
      // directional derivative): a random direction can cancel most of a gradient.
      const double scale = std::max(std::abs(fd), gradtest::norm(g));
      EXPECT_LE(std::abs(an - fd), 1e-5 * scale) << "analytic " << an << ", finite differences " << fd << ", |grad| " << gradtest::norm(g);
    }
  }
}

TEST_P(BpttWithTheFirstNeuronHeldWhole, MatchesFiniteDifferences) {
  const Case& c = GetParam();
  Ham ham = Ham::load(gradtest::variant(c.file, /*f64=*/true, /*tau=*/0.5));
  ASSERT_GE(ham.neurons().size(), 2u) << "one neuron: holding it holds everything";
  const int64_t batch = 2, T = 3;
  States initial = ham.normal(batch, 13, 0.5);
  initial.clamp(ham.neurons()[0].name);
  for (const HandLoss& loss : losses_of(ham, batch, 7)) {
    SCOPED_TRACE(loss.kind + " on '" + loss.neuron + "'");
    GradientOptions o;
    o.steps = T;
    o.dt = c.dt;
    const GradientResult g = gradients(ham, initial, loss.api(), o);
    EXPECT_NEAR(g.loss, gradtest::run_loss(ham, initial, loss, T, c.dt), 1e-10 * (1 + std::abs(g.loss)));
    const auto v = gradtest::random_direction(ham, 200);
    const double fd = gradtest::fd_directional(ham, initial, loss, T, c.dt, v);
    const double an = gradtest::directional(g, v);
    const double scale = std::max(std::abs(fd), gradtest::norm(g));
    EXPECT_GT(gradtest::norm(g), 0);
    EXPECT_LE(std::abs(an - fd), 1e-5 * scale) << "analytic " << an << ", finite differences " << fd;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Models, BpttMatchesFiniteDifferences,
    ::testing::Values(Case{"examples/models/readme.json", 0.1}, Case{"examples/models/dense_am.json", 0.1},
                      Case{"examples/models/conv.json", 0.1}, Case{"examples/models/custom_energies.json", 0.1},
                      Case{"examples/models/energy_transformer.json", 0.1},
                      Case{"examples/models/classical_hopfield.json", 0.05},
                      Case{"examples/synapses/attention.json", 0.1},
                      Case{"examples/synapses/attention_exclude_self.json", 0.1},
                      Case{"examples/synapses/bias.json", 0.1}, Case{"examples/synapses/conv2d.json", 0.1},
                      Case{"examples/synapses/conv2d_avgpool.json", 0.1},
                      Case{"examples/synapses/conv2d_maxpool.json", 0.1},
                      Case{"examples/synapses/dense.json", 0.1}, Case{"examples/synapses/hopfield_relu.json", 0.1},
                      Case{"examples/synapses/hopfield_repu.json", 0.1},
                      Case{"examples/synapses/hopfield_softmax.json", 0.1},
                      Case{"examples/synapses/linear.json", 0.1}, Case{"examples/synapses/linear_bias.json", 0.1},
                      Case{"examples/training/fashion_classifier.json", 0.5}),
    case_name);

// The models with more than one neuron (holding the only neuron of the others leaves nothing
// to move).
INSTANTIATE_TEST_SUITE_P(
    Models, BpttWithTheFirstNeuronHeldWhole,
    ::testing::Values(Case{"examples/models/readme.json", 0.1}, Case{"examples/models/conv.json", 0.1},
                      Case{"examples/models/custom_energies.json", 0.1}, Case{"examples/synapses/conv2d.json", 0.1},
                      Case{"examples/synapses/conv2d_avgpool.json", 0.1},
                      Case{"examples/synapses/conv2d_maxpool.json", 0.1}, Case{"examples/synapses/dense.json", 0.1},
                      Case{"examples/synapses/linear.json", 0.1}, Case{"examples/synapses/linear_bias.json", 0.1},
                      Case{"examples/training/fashion_classifier.json", 0.5}),
    case_name);

}  // namespace
}  // namespace hamux
