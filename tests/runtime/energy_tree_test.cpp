// tests/runtime/energy_tree_test.cpp - the energy tree of readme.json against closed forms.
//
// readme.json: input [7] identity, labels [8] softmax, hidden [9] softmax,
// dense1 = linear(W1 [7,9]) on (input, hidden), dense2 = linear(W2 [8,9]) on (labels, hidden).
//   identity: xhat = x,          E = <x, x> - |x|^2/2 = |x|^2/2
//   softmax:  xhat = softmax(x), E = <x, xhat> - logsumexp(x)
//   linear:   E = -xhat_a . W xhat_b
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "autodiff/derive.h"
#include "energy_tree.h"
#include "frontend/model.h"

namespace hamux {
namespace {

const std::string kReadme = std::string(HAMUX_MODELS_DIR) + "/readme.json";

std::vector<double> softmax(const std::vector<double>& x) {
  double m = x[0];
  for (double v : x) m = std::max(m, v);
  double z = 0;
  for (double v : x) z += std::exp(v - m);
  std::vector<double> p;
  for (double v : x) p.push_back(std::exp(v - m) / z);
  return p;
}

double logsumexp(const std::vector<double>& x) {
  double m = x[0];
  for (double v : x) m = std::max(m, v);
  double z = 0;
  for (double v : x) z += std::exp(v - m);
  return m + std::log(z);
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// -a . W b for W [a.size(), b.size()] row-major.
double linear_energy(const std::vector<double>& a, const Tensor<double>& w, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i)
    for (size_t j = 0; j < b.size(); ++j) s += a[i] * w[i * b.size() + j] * b[j];
  return -s;
}

// Sample `s` of a batched state tensor as a vector.
std::vector<double> sample(const Tensor<double>& t, int64_t s) {
  const int64_t n = t.size() / t.shape[0];
  return std::vector<double>(t.data.begin() + s * n, t.data.begin() + (s + 1) * n);
}

// Model params as the model's dtype sees them (float32 models round them).
Tensor<double> param(const Model& m, const std::string& name) {
  Tensor<double> w = m.params[m.param_index(name)].value;
  if (m.dtype == ir::DType::F32)
    for (double& v : w.data) v = static_cast<float>(v);
  return w;
}

std::vector<Tensor<double>> states_of(const Model& m, int64_t batch, double scale, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<Tensor<double>> states;
  for (const NeuronDef& n : m.neurons) {
    Shape s = n.shape;
    s.insert(s.begin(), batch);
    Tensor<double> t(s);
    // float32 models see float32 states; round here so the closed form sees the same.
    for (double& v : t.data) v = static_cast<float>(scale * normal(rng));
    states.push_back(t);
  }
  return states;
}

// Checks every term of the tree, per sample, against the closed forms above.
void expect_closed_forms(const Model& m, const std::vector<Tensor<double>>& states, double tol) {
  const EnergyTree tree = energy_tree(m, derive(m), states);
  const int in = m.neuron_index("input"), lab = m.neuron_index("labels"), hid = m.neuron_index("hidden");
  ASSERT_GE(in, 0);
  ASSERT_GE(lab, 0);
  ASSERT_GE(hid, 0);
  ASSERT_EQ(tree.neuron.size(), 3u);
  ASSERT_EQ(tree.connection.size(), 2u);
  const Tensor<double> w1 = param(m, "W1"), w2 = param(m, "W2");
  const int64_t batch = states[0].shape[0];
  ASSERT_EQ(tree.total.size(), static_cast<size_t>(batch));
  for (int64_t s = 0; s < batch; ++s) {
    const auto x_in = sample(states[in], s), x_lab = sample(states[lab], s), x_hid = sample(states[hid], s);
    const auto a_lab = softmax(x_lab), a_hid = softmax(x_hid);
    const double e_in = dot(x_in, x_in) / 2;
    const double e_lab = dot(x_lab, a_lab) - logsumexp(x_lab);
    const double e_hid = dot(x_hid, a_hid) - logsumexp(x_hid);
    // Connections are listed in file order: dense1 (input, hidden), dense2 (labels, hidden).
    const double e_1 = linear_energy(x_in, w1, a_hid);
    const double e_2 = linear_energy(a_lab, w2, a_hid);
    EXPECT_NEAR(tree.neuron[in][s], e_in, tol);
    EXPECT_NEAR(tree.neuron[lab][s], e_lab, tol);
    EXPECT_NEAR(tree.neuron[hid][s], e_hid, tol);
    EXPECT_NEAR(tree.connection[0][s], e_1, tol);
    EXPECT_NEAR(tree.connection[1][s], e_2, tol);
    EXPECT_NEAR(tree.total[s], e_in + e_lab + e_hid + e_1 + e_2, tol * 5);
    const auto act_hid = sample(tree.activations[hid], s), act_in = sample(tree.activations[in], s);
    for (size_t k = 0; k < a_hid.size(); ++k) EXPECT_NEAR(act_hid[k], a_hid[k], tol);
    for (size_t k = 0; k < x_in.size(); ++k) EXPECT_NEAR(act_in[k], x_in[k], tol);
  }
}

TEST(EnergyTree, ReadmeAtZeroState) {
  const Model m = load_model(kReadme);
  const EnergyTree tree = energy_tree(m, derive(m), states_of(m, 1, 0.0, 0));
  EXPECT_NEAR(tree.neuron[m.neuron_index("hidden")][0], -std::log(9.0), 1e-6);
  EXPECT_NEAR(tree.neuron[m.neuron_index("labels")][0], -std::log(8.0), 1e-6);
  EXPECT_EQ(tree.neuron[m.neuron_index("input")][0], 0.0);
  EXPECT_EQ(tree.connection[0][0], 0.0);  // the input's activation is x = 0
  double sum_w2 = 0;
  for (double v : param(m, "W2").data) sum_w2 += v;
  EXPECT_NEAR(tree.connection[1][0], -sum_w2 / 72.0, 1e-7);  // uniform 1/8 and 1/9
  for (double v : tree.activations[m.neuron_index("hidden")].data) EXPECT_NEAR(v, 1.0 / 9, 1e-7);
  for (double v : tree.activations[m.neuron_index("labels")].data) EXPECT_NEAR(v, 1.0 / 8, 1e-7);
}

TEST(EnergyTree, ReadmeFloat32AtRandomStates) {
  const Model m = load_model(kReadme);
  ASSERT_EQ(m.dtype, ir::DType::F32);
  expect_closed_forms(m, states_of(m, 4, 1.0, 1), 2e-5);
  expect_closed_forms(m, states_of(m, 3, 10.0, 2), 2e-4);  // large states: softmax saturates
}

TEST(EnergyTree, ReadmeFloat64AtRandomStates) {
  std::ifstream in(kReadme);
  std::stringstream text;
  text << in.rdbuf();
  std::string json = text.str();
  json.replace(json.find("\"seed\""), 0, "\"dtype\": \"float64\", ");
  const Model m = parse_model(json, "readme64.json", HAMUX_MODELS_DIR);
  ASSERT_EQ(m.dtype, ir::DType::F64);
  expect_closed_forms(m, states_of(m, 5, 3.0, 3), 1e-12);
}

TEST(EnergyTree, RejectsStatesThatDoNotFit) {
  const Model m = load_model(kReadme);
  const Derivation d = derive(m);
  std::vector<Tensor<double>> states = states_of(m, 2, 1.0, 0);
  states.pop_back();
  try {
    energy_tree(m, d, states);
    FAIL() << "expected hamux::Error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "energy_tree: expected 3 states, got 2");
  }
  states = states_of(m, 2, 1.0, 0);
  states[m.neuron_index("labels")] = Tensor<double>({2, 9});  // labels have shape [8]
  try {
    energy_tree(m, d, states);
    FAIL() << "expected hamux::Error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "energy_tree: state of neuron 'labels' has shape [2,9], expected [batch]+[8]");
  }
  states = states_of(m, 2, 1.0, 0);
  states.back() = Tensor<double>(Shape{3, m.neurons.back().shape[0]});
  try {
    energy_tree(m, d, states);
    FAIL() << "expected hamux::Error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "energy_tree: state of neuron '" + m.neurons.back().name +
                                         "' has batch 3, the first state has 2");
  }
}

}  // namespace
}  // namespace hamux
