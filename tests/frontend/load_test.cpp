// tests/frontend/load_test.cpp - the contract models load; params are initialised as asked.
#include <gtest/gtest.h>

#include <fstream>

#include "frontend/model.h"
#include "frontend/npy.h"
#include "frontend_test_util.h"

namespace hamux {
namespace {

using test::model_path;

void expect_scalar_graphs(const Model& m) {
  for (const NeuronDef& n : m.neurons) {
    ASSERT_TRUE(n.lagrangian) << n.name;
    EXPECT_TRUE(n.lagrangian->shape.empty()) << n.name;
    EXPECT_EQ(n.lagrangian->dtype, m.dtype);
  }
  for (const ConnectionDef& c : m.connections) {
    ASSERT_TRUE(c.energy);
    EXPECT_TRUE(c.energy->shape.empty());
    EXPECT_EQ(c.energy->dtype, m.dtype);
  }
}

// Every Input node of a graph is (index, shape) of one of `expected`.
void expect_inputs(const ir::NodePtr& g, const std::vector<Shape>& expected) {
  for (const ir::Node* n : ir::topological_order({g}))
    if (n->op == ir::Op::Input) {
      ASSERT_GE(n->attrs.index, 0);
      ASSERT_LT(n->attrs.index, static_cast<int>(expected.size()));
      EXPECT_EQ(n->shape, expected[n->attrs.index]);
    }
}

TEST(Load, ClassicalHopfield) {
  Model m = load_model(model_path("classical_hopfield.json"));
  EXPECT_EQ(m.name, "continuous-classical-hopfield");
  EXPECT_EQ(m.dtype, ir::DType::F32);
  ASSERT_EQ(m.neurons.size(), 1u);
  EXPECT_EQ(m.neurons[0].shape, (Shape{1024}));
  EXPECT_EQ(m.neurons[0].tau, 1.0);
  EXPECT_EQ(m.neurons[0].lagrangian_desc, "tanh(beta=4)");
  ASSERT_EQ(m.params.size(), 1u);
  EXPECT_EQ(m.params[0].shape, (Shape{1024, 1024}));
  EXPECT_EQ(m.params[0].init, "file(hebbian_1024x1024.npy)");
  EXPECT_EQ(m.param_count(), 1024 * 1024);
  ASSERT_EQ(m.connections.size(), 1u);
  EXPECT_EQ(m.connections[0].neurons, (std::vector<int>{0, 0}));
  EXPECT_EQ(m.synapses[0].desc, "custom expr");
  expect_scalar_graphs(m);
  expect_inputs(m.connections[0].energy, {{1024}, {1024}});
}

TEST(Load, HebbianFileIsSymmetricWithZeroDiagonal) {
  Model m = load_model(model_path("classical_hopfield.json"));
  const Tensor<double>& w = m.params[0].value;
  ASSERT_EQ(w.size(), 1024 * 1024);
  double max_abs = 0;
  for (int i = 0; i < 1024; ++i) {
    EXPECT_EQ(w[i * 1024 + i], 0.0);
    for (int j = 0; j < i; ++j) ASSERT_EQ(w[i * 1024 + j], w[j * 1024 + i]);
  }
  for (double v : w.data) max_abs = std::max(max_abs, std::abs(v));
  EXPECT_GT(max_abs, 0.0);
  // Hebbian from 100 +-1 patterns: every off-diagonal entry is proportional to an integer
  // of the parity of 100 in [-100, 100]; check with the patterns file.
  Tensor<double> p = read_npy(model_path("patterns_100x1024.npy"));
  ASSERT_EQ(p.shape, (Shape{100, 1024}));
  for (double v : p.data) ASSERT_TRUE(v == 1.0 || v == -1.0);
  auto hebb = [&](int i, int j) {
    double s = 0;
    for (int k = 0; k < 100; ++k) s += p[k * 1024 + i] * p[k * 1024 + j];
    return s;
  };
  double scale = w[0 * 1024 + 1] / hebb(0, 1);
  for (int i = 0; i < 40; ++i)
    for (int j = 0; j < 40; ++j)
      if (i != j) {
        EXPECT_NEAR(w[i * 1024 + j], scale * hebb(i, j), 1e-6) << i << "," << j;
      }
}

TEST(Load, Conv) {
  Model m = load_model(model_path("conv.json"));
  EXPECT_EQ(m.seed, 5u);
  ASSERT_EQ(m.neurons.size(), 2u);
  EXPECT_EQ(m.neurons[0].shape, (Shape{32, 32, 3}));
  EXPECT_EQ(m.neurons[1].shape, (Shape{32, 32, 16}));
  EXPECT_EQ(m.neurons[0].tau, 1.0);
  EXPECT_EQ(m.neurons[1].tau, 0.5);
  EXPECT_EQ(m.neurons[0].lagrangian_desc, "tanh(beta=1)");
  EXPECT_EQ(m.neurons[1].lagrangian_desc, "relu");
  EXPECT_EQ(m.params[0].shape, (Shape{3, 3, 3, 16}));
  EXPECT_EQ(m.params[0].init, "normal(std=0.05)");
  EXPECT_EQ(m.synapses[0].desc, "conv2d(W=K, strides=[1,1], padding=SAME)");
  EXPECT_EQ(m.connections[0].neurons, (std::vector<int>{0, 1}));
  expect_scalar_graphs(m);
  expect_inputs(m.connections[0].energy, {{32, 32, 3}, {32, 32, 16}});
}

TEST(Load, CustomEnergies) {
  Model m = load_model(model_path("custom_energies.json"));
  EXPECT_EQ(m.dtype, ir::DType::F64);
  EXPECT_EQ(m.seed, 7u);
  ASSERT_EQ(m.neurons.size(), 3u);
  EXPECT_EQ(m.neuron_index("a"), 0);
  EXPECT_EQ(m.neuron_index("c"), 2);
  EXPECT_EQ(m.neuron_index("zzz"), -1);
  EXPECT_EQ(m.neurons[0].lagrangian_desc, "custom expr");
  EXPECT_EQ(m.neurons[1].tau, 0.5);
  EXPECT_EQ(m.neurons[2].bias, "b");
  EXPECT_EQ(m.neurons[2].lagrangian_desc, "sigmoid(beta=1.5, scale=1)");
  EXPECT_EQ(m.param_index("T"), 0);
  EXPECT_EQ(m.param_index("b"), 1);
  EXPECT_EQ(m.param_count(), 6 * 5 * 4 + 4);
  ASSERT_EQ(m.connections.size(), 2u);
  EXPECT_EQ(m.connections[0].neurons, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(m.connections[1].neurons, (std::vector<int>{2}));
  EXPECT_EQ(m.synapses[1].desc, "bias(b=b)");
  for (double v : m.params[1].value.data) {
    EXPECT_GE(v, -0.1);
    EXPECT_LT(v, 0.1);
  }
  expect_scalar_graphs(m);
  expect_inputs(m.connections[0].energy, {{6}, {5}, {4}});
}

TEST(Load, DenseAm) {
  Model m = load_model(model_path("dense_am.json"));
  EXPECT_EQ(m.neurons[0].shape, (Shape{784}));
  EXPECT_EQ(m.neurons[0].lagrangian_desc, "spherical_norm(gamma=1, delta=0, axis=-1, eps=1e-05)");
  EXPECT_EQ(m.params[0].shape, (Shape{784, 900}));
  EXPECT_EQ(m.param_count(), 784 * 900);
  EXPECT_EQ(m.synapses[0].desc, "hopfield(Xi=Xi, lagrangian=softmax(beta=1, axis=-1))");
  EXPECT_EQ(m.connections[0].neurons, (std::vector<int>{0}));
  expect_scalar_graphs(m);
}

TEST(Load, EnergyTransformer) {
  Model m = load_model(model_path("energy_transformer.json"));
  EXPECT_EQ(m.neurons[0].shape, (Shape{64, 256}));
  EXPECT_EQ(m.params.size(), 3u);
  EXPECT_EQ(m.param_count(), 2 * 4 * 64 * 256 + 256 * 1024);
  EXPECT_EQ(m.synapses[1].desc, "hopfield(Xi=Xi, lagrangian=relu)");
  ASSERT_EQ(m.connections.size(), 2u);
  expect_scalar_graphs(m);
}

TEST(Load, ReadmeIsFloat32) {
  Model m = load_model(model_path("readme.json"));
  EXPECT_EQ(m.dtype, ir::DType::F32);
  EXPECT_EQ(m.name, "hamux-readme");
  ASSERT_EQ(m.neurons.size(), 3u);
  EXPECT_EQ(m.neurons[0].shape, (Shape{7}));
  EXPECT_EQ(m.neurons[1].shape, (Shape{8}));
  EXPECT_EQ(m.neurons[2].shape, (Shape{9}));
  EXPECT_EQ(m.neurons[1].lagrangian_desc, "softmax(beta=1, axis=-1)");
  EXPECT_EQ(m.synapses[0].desc, "linear(W=W1)");
  EXPECT_EQ(m.connections[1].neurons, (std::vector<int>{1, 2}));
  expect_scalar_graphs(m);
  expect_inputs(m.connections[0].energy, {{7}, {9}});
}

TEST(Load, NameDefaultsToFileStem) {
  Model m = parse_model(R"({"hamux": "1", "neurons": {"x": {"shape": [2], "lagrangian": "identity"}}})",
                        "dir/my_model.json", "");
  EXPECT_EQ(m.name, "my_model");
  EXPECT_EQ(m.file, "dir/my_model.json");
  EXPECT_EQ(m.seed, 0u);
  EXPECT_TRUE(m.params.empty());
  EXPECT_TRUE(m.connections.empty());
}

// ---- parameter initialisation ----

std::string param_model(const std::string& params, int seed = 0) {
  return R"({"hamux": "1", "seed": )" + std::to_string(seed) + R"(, "params": {)" + params +
         R"(}, "neurons": {"x": {"shape": [1], "lagrangian": "identity"}}})";
}

void stats(const std::vector<double>& v, double& mean, double& stdev) {
  double s = 0, s2 = 0;
  for (double x : v) s += x;
  mean = s / v.size();
  for (double x : v) s2 += (x - mean) * (x - mean);
  stdev = std::sqrt(s2 / v.size());
}

TEST(Init, NormalMatchesRequestedStatistics) {
  Model m = parse_model(param_model(R"("P": {"shape": [100000], "init": {"normal": {"std": 2.0, "mean": 3.0}}})"),
                        "m.json", "");
  double mean, stdev;
  stats(m.params[0].value.data, mean, stdev);
  EXPECT_NEAR(mean, 3.0, 0.03);   // standard error 2/sqrt(1e5) = 0.0063
  EXPECT_NEAR(stdev, 2.0, 0.03);
  // Fourth moment of a normal is 3 sigma^4: Box-Muller is really normal, not just scaled.
  double m4 = 0;
  for (double x : m.params[0].value.data) m4 += std::pow((x - mean) / stdev, 4);
  EXPECT_NEAR(m4 / 1e5, 3.0, 0.1);
  EXPECT_EQ(m.params[0].init, "normal(std=2, mean=3)");
}

TEST(Init, NormalDefaultsAreStandard) {
  Model m = parse_model(param_model(R"("P": {"shape": [100, 1000], "init": {"normal": {}}})"), "m.json", "");
  double mean, stdev;
  stats(m.params[0].value.data, mean, stdev);
  EXPECT_NEAR(mean, 0.0, 0.015);
  EXPECT_NEAR(stdev, 1.0, 0.015);
}

TEST(Init, UniformMatchesRequestedStatistics) {
  Model m = parse_model(param_model(R"("U": {"shape": [100000], "init": {"uniform": {"low": -1, "high": 3}}})"),
                        "m.json", "");
  double mean, stdev;
  stats(m.params[0].value.data, mean, stdev);
  EXPECT_NEAR(mean, 1.0, 0.02);
  EXPECT_NEAR(stdev, 4.0 / std::sqrt(12.0), 0.02);
  for (double v : m.params[0].value.data) {
    ASSERT_GE(v, -1.0);
    ASSERT_LT(v, 3.0);
  }
  Model d = parse_model(param_model(R"("U": {"shape": [100000], "init": {"uniform": {}}})"), "m.json", "");
  stats(d.params[0].value.data, mean, stdev);
  EXPECT_NEAR(mean, 0.5, 0.01);
}

TEST(Init, ConstantsZerosOnes) {
  Model m = parse_model(param_model(R"("z": {"shape": [2, 3], "init": {"zeros": {}}},
                                       "o": {"shape": [4], "init": {"ones": {}}},
                                       "c": {"shape": [], "init": {"constant": {"value": -2.5}}})"),
                        "m.json", "");
  EXPECT_EQ(m.params[0].value.data, std::vector<double>(6, 0.0));
  EXPECT_EQ(m.params[1].value.data, std::vector<double>(4, 1.0));
  EXPECT_EQ(m.params[2].value.shape, Shape{});
  EXPECT_EQ(m.params[2].value.data, std::vector<double>{-2.5});
  EXPECT_EQ(m.params[2].init, "constant(value=-2.5)");
}

TEST(Init, DeterministicAndIndependentPerParam) {
  const std::string a = R"("A": {"shape": [50], "init": {"normal": {}}})";
  const std::string b = R"("B": {"shape": [50], "init": {"normal": {}}})";
  Model m1 = parse_model(param_model(a, 11), "m.json", "");
  Model m2 = parse_model(param_model(a, 11), "m.json", "");
  Model both = parse_model(param_model(b + "," + a, 11), "m.json", "");
  Model other_seed = parse_model(param_model(a, 12), "m.json", "");
  EXPECT_EQ(m1.params[0].value.data, m2.params[0].value.data);
  // Adding B (before A even) leaves A unchanged; B differs from A.
  EXPECT_EQ(both.params[1].name, "A");
  EXPECT_EQ(both.params[1].value.data, m1.params[0].value.data);
  EXPECT_NE(both.params[0].value.data, m1.params[0].value.data);
  EXPECT_NE(other_seed.params[0].value.data, m1.params[0].value.data);
}

TEST(Init, ContractModelsAreReproducible) {
  Model a = load_model(model_path("energy_transformer.json"));
  Model b = load_model(model_path("energy_transformer.json"));
  for (size_t i = 0; i < a.params.size(); ++i) EXPECT_EQ(a.params[i].value.data, b.params[i].value.data);
  double mean, stdev;
  stats(a.params[2].value.data, mean, stdev);  // Xi: 262144 samples of normal(std=0.02)
  EXPECT_NEAR(mean, 0.0, 2e-4);
  EXPECT_NEAR(stdev, 0.02, 2e-4);
}

TEST(Init, FileRelativeToModelDirectory) {
  std::string dir = test::temp_dir("fileinit");
  Tensor<double> w = test::random_tensor({3, 2}, 5);
  save_npy(dir + "/w.npy", w);
  std::ofstream(dir + "/m.json") << param_model(R"("W": {"shape": [3, 2], "init": {"file": {"path": "w.npy"}}})");
  Model m = load_model(dir + "/m.json");
  EXPECT_EQ(m.params[0].value.shape, (Shape{3, 2}));
  EXPECT_EQ(m.params[0].value.data, w.data);
  EXPECT_EQ(m.params[0].init, "file(w.npy)");
  std::filesystem::remove_all(dir);
}

// ---- .npy ----

TEST(Npy, RoundTripFloat32ThreeD) {
  std::string dir = test::temp_dir("npy32");
  Tensor<float> t({2, 3, 4});
  for (int i = 0; i < 24; ++i) t[i] = 0.1f * i - 1.0f;
  save_npy(dir + "/t.npy", t);
  Tensor<double> r = read_npy(dir + "/t.npy");
  EXPECT_EQ(r.shape, (Shape{2, 3, 4}));
  for (int i = 0; i < 24; ++i) EXPECT_EQ(r[i], static_cast<double>(t[i]));
  std::filesystem::remove_all(dir);
}

TEST(Npy, RoundTripFloat64ZeroDAndOneD) {
  std::string dir = test::temp_dir("npy64");
  save_npy(dir + "/s.npy", Tensor<double>(Shape{}, std::vector<double>{3.141592653589793}));
  Tensor<double> s = read_npy(dir + "/s.npy");
  EXPECT_EQ(s.shape, Shape{});
  EXPECT_EQ(s.data, std::vector<double>{3.141592653589793});
  Tensor<double> v({5}, std::vector<double>{1e-300, -2, 0.5, 7, 1e300});
  save_npy(dir + "/v.npy", v);
  EXPECT_EQ(read_npy(dir + "/v.npy").data, v.data);
  // The header is what NumPy writes: a 64-byte aligned dict ending in a newline.
  std::ifstream f(dir + "/v.npy", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const std::string dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }";
  EXPECT_EQ(bytes.substr(10, dict.size()), dict);
  EXPECT_EQ((bytes.size() - 5 * 8) % 64, 0u);
  EXPECT_EQ(bytes[bytes.size() - 5 * 8 - 1], '\n');
  std::filesystem::remove_all(dir);
}

// A version 2.0 file with a '|f4' descr written by hand, with keys in another order.
TEST(Npy, ParsesVersion2AndOtherDescrForms) {
  std::string header = "{'shape': (2,), 'fortran_order': False, 'descr': '|f4'}";
  header += std::string(64 - (12 + header.size() + 1) % 64, ' ') + "\n";
  std::string bytes = std::string("\x93NUMPY\x02\x00", 8);
  uint32_t len = static_cast<uint32_t>(header.size());
  for (int i = 0; i < 4; ++i) bytes += static_cast<char>((len >> (8 * i)) & 0xff);
  bytes += header;
  float vals[2] = {1.5f, -0.25f};
  bytes.append(reinterpret_cast<const char*>(vals), sizeof vals);
  Tensor<double> t = parse_npy(bytes, "v2.npy");
  EXPECT_EQ(t.shape, (Shape{2}));
  EXPECT_EQ(t.data, (std::vector<double>{1.5, -0.25}));
}

}  // namespace
}  // namespace hamux
