// tests/runtime/states_api_test.cpp - models from JSON text, dE/dxhat values, per-sample
// masks, states files that round-trip.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <unistd.h>

#include "hamux/hamux.h"
#include "hamux/io.h"

namespace hamux {
namespace {

const std::string kDir = HAMUX_MODELS_DIR;
const char* const kContractModels[] = {"readme.json", "dense_am.json", "classical_hopfield.json",
                                       "conv.json", "custom_energies.json", "energy_transformer.json"};

std::string text_of(const std::string& path) {
  std::ifstream f(path);
  EXPECT_TRUE(f) << path;
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

bool bit_identical(const Tensor<double>& a, const Tensor<double>& b) {
  return a.shape == b.shape && std::memcmp(a.data.data(), b.data.data(), a.data.size() * sizeof(double)) == 0;
}

std::string temp_dir(const std::string& name) {
  const std::string d = (std::filesystem::temp_directory_path() / ("hamux_states_api_" + name + "_" +
                                                                     std::to_string(::getpid()))).string();
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

// ---- Ham::from_json ----

TEST(FromJson, SameModelAsTheFile) {
  // classical_hopfield.json reads its patterns from a relative "file": base_dir resolves it.
  for (const char* file : {"readme.json", "classical_hopfield.json", "custom_energies.json"}) {
    const Ham a = Ham::load(kDir + "/" + file);
    const Ham b = Ham::from_json(text_of(kDir + "/" + file), kDir);
    EXPECT_EQ(a.name(), b.name()) << file;
    ASSERT_EQ(a.param_names(), b.param_names()) << file;
    for (const std::string& p : a.param_names()) EXPECT_TRUE(bit_identical(a.param(p), b.param(p))) << file << " " << p;
    EXPECT_EQ(a.normal(3, 7).energy(), b.normal(3, 7).energy()) << file;
  }
}

TEST(FromJson, GeneratedModelsNeedNoFile) {
  // A sweep over softmax temperatures, built as text: E at the zero state is -log(n)/beta.
  for (double beta : {0.5, 1.0, 4.0}) {
    const std::string json = R"({"hamux": "1", "dtype": "float64", "neurons": {"v": {"shape": [5],
        "lagrangian": {"softmax": {"beta": )" + std::to_string(beta) + "}}}}}";
    const Ham ham = Ham::from_json(json);
    EXPECT_EQ(ham.name(), "<json>");
    EXPECT_NEAR(ham.zeros(1).energy()[0], -std::log(5.0) / beta, 1e-12) << beta;
  }
}

TEST(FromJson, ErrorsNameTheTextAndThePointer) {
  EXPECT_EQ(error_of([] { Ham::from_json(R"({"hamux": "1", "neurons": {"v": {"shape": [0], "lagrangian": "identity"}}})"); }),
            "<json>: /neurons/v/shape/0: dimension must be a positive integer, got 0");
  // A relative param file is looked for in base_dir.
  const std::string json = text_of(kDir + "/classical_hopfield.json");
  EXPECT_EQ(error_of([&] { Ham::from_json(json, "/nonexistent"); }),
            "<json>: /params/W/init/file: hebbian_1024x1024.npy: cannot open file");
}

// ---- States::updates ----

TEST(Updates, ClosedFormOfALinearSynapse) {
  // E = 1/2|a|^2 + (neuron energy of b) - a . W tanh(b):  dE/dahat = a - W bhat,
  // dE/dbhat = b - W^T a (identity: ahat = a; tanh: bhat = tanh(b)).
  const Ham ham = Ham::from_json(R"({"hamux": "1", "dtype": "float64", "seed": 3,
      "params": {"W": {"shape": [3, 2], "init": {"normal": {"std": 0.7}}}},
      "neurons": {"a": {"shape": [3], "lagrangian": "identity"},
                  "b": {"shape": [2], "lagrangian": {"tanh": {"beta": 1.0}}}},
      "synapses": {"s": {"linear": {"W": "W"}}},
      "connections": [{"neurons": ["a", "b"], "synapse": "s"}]})");
  const States s = ham.normal(4, 11);
  const Tensor<double> a = s.get("a"), b = s.get("b"), W = ham.param("W");
  const Tensor<double> ua = s.updates("a"), ub = s.updates("b");
  ASSERT_EQ(ua.shape, (Shape{4, 3}));
  ASSERT_EQ(ub.shape, (Shape{4, 2}));
  for (int64_t n = 0; n < 4; ++n) {
    for (int i = 0; i < 3; ++i) {
      double want = a[n * 3 + i];
      for (int j = 0; j < 2; ++j) want -= W[i * 2 + j] * std::tanh(b[n * 2 + j]);
      EXPECT_NEAR(ua[n * 3 + i], want, 1e-13) << n << " " << i;
    }
    for (int j = 0; j < 2; ++j) {
      double want = b[n * 2 + j];
      for (int i = 0; i < 3; ++i) want -= W[i * 2 + j] * a[n * 3 + i];
      EXPECT_NEAR(ub[n * 2 + j], want, 1e-13) << n << " " << j;
    }
  }
}

TEST(Updates, EqualOneCompiledEulerStep) {
  // One step moves x by -(dt / tau) dE/dxhat (in the model's dtype): the interpreter's
  // values against the JIT kernel's, on every contract model.
  for (const char* file : kContractModels) {
    const Ham ham = Ham::load(kDir + "/" + file);
    States s = ham.normal(3, 5, 0.5);
    const States before = s.clone();
    RunOptions o;
    o.steps = 1;
    o.dt = 0.5;
    run(ham, s, o);
    const double eps = ham.is_float64() ? 1e-13 : 1e-6;
    for (const NeuronInfo& n : ham.neurons()) {
      const Tensor<double> x0 = before.get(n.name), x1 = s.get(n.name), u = before.updates(n.name);
      ASSERT_EQ(u.shape, x0.shape) << file << " " << n.name;
      const double per_rate = n.tau / o.dt;
      double worst = 0;
      for (int64_t e = 0; e < u.size(); ++e) {
        const double scale = (1 + std::abs(x0[e])) * per_rate + std::abs(u[e]);
        worst = std::max(worst, std::abs((x0[e] - x1[e]) * per_rate - u[e]) / scale);
      }
      EXPECT_LT(worst, 20 * eps) << file << " " << n.name;
    }
  }
}

TEST(Updates, UnknownNeuron) {
  const Ham ham = Ham::load(kDir + "/readme.json");
  EXPECT_EQ(error_of([&] { ham.zeros(1).updates("image"); }),
            "neuron 'image': unknown neuron (" + kDir + "/readme.json has: input, labels, hidden)");
}

// ---- per-sample clamp masks ----

TEST(PerSampleMask, AlikeSamplesAreThePerNeuronMask) {
  const Ham ham = Ham::load(kDir + "/dense_am.json");
  const NeuronInfo& n = ham.neurons()[0];
  Tensor<double> mask(n.shape), batched(Shape{3});
  batched.shape.insert(batched.shape.end(), n.shape.begin(), n.shape.end());
  batched.data.assign(num_elements(batched.shape), 0.0);
  for (int64_t e = 0; e < mask.size(); e += 2) mask[e] = 1;
  for (int64_t e = 0; e < batched.size(); ++e) batched[e] = mask[e % mask.size()];
  States a = ham.normal(3, 2), b = a.clone();
  a.clamp(n.name, mask);
  b.clamp(n.name, batched);
  RunOptions o;
  o.steps = 30;
  run(ham, a, o);
  run(ham, b, o);
  EXPECT_TRUE(bit_identical(a.get(n.name), b.get(n.name)));
}

TEST(PerSampleMask, EachSampleHoldsItsOwnElements) {
  // Different elements held in each sample (the first, middle and last third of a layer):
  // those stay bit-identical, the others move, and each sample evolves as it would alone
  // with its mask as a per-neuron mask (float64 model: to rounding).
  for (const char* file : {"custom_energies.json", "dense_am.json"}) {
    const Ham ham = Ham::load(kDir + "/" + file);
    const NeuronInfo& n = ham.neurons()[0];
    const int64_t per = num_elements(n.shape), batch = 3;
    Shape bshape{batch};
    bshape.insert(bshape.end(), n.shape.begin(), n.shape.end());
    Tensor<double> mask(bshape);
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t e = 0; e < per; ++e) mask[b * per + e] = (e * batch / per == b) ? 1 : 0;
    States s = ham.normal(batch, 8);
    const States start = s.clone();
    s.clamp(n.name, mask);
    RunOptions o;
    o.steps = 25;
    o.dt = 0.05;
    o.record_every = 5;  // the energies run() records describe the held states too
    const RunReport r = run(ham, s, o);
    const Tensor<double> x0 = start.get(n.name), x1 = s.get(n.name);
    int moved = 0;
    for (int64_t e = 0; e < x1.size(); ++e) {
      if (mask[e] != 0) {
        ASSERT_EQ(std::memcmp(&x0[e], &x1[e], sizeof(double)), 0) << file << " element " << e;
      } else {
        moved += x0[e] != x1[e];
      }
    }
    EXPECT_GT(moved, per) << file;
    EXPECT_EQ(r.trace.back().energy, s.energy()) << file;
    for (int64_t b = 0; b < batch; ++b) {
      States one = ham.zeros(1);
      for (const NeuronInfo& m : ham.neurons()) {
        const Tensor<double> x = start.get(m.name);
        const int64_t pm = num_elements(m.shape);
        Tensor<double> sample(m.shape);
        std::copy(x.data.begin() + b * pm, x.data.begin() + (b + 1) * pm, sample.data.begin());
        one.set(m.name, sample);
      }
      Tensor<double> own(n.shape);
      std::copy(mask.data.begin() + b * per, mask.data.begin() + (b + 1) * per, own.data.begin());
      one.clamp(n.name, own);
      run(ham, one, o);
      const double tol = ham.is_float64() ? 1e-12 : 1e-5;
      for (const NeuronInfo& m : ham.neurons()) {
        const Tensor<double> got = s.get(m.name), alone = one.get(m.name);
        const int64_t pm = num_elements(m.shape);
        for (int64_t e = 0; e < pm; ++e) {
          ASSERT_NEAR(got[b * pm + e], alone[e], tol * (1 + std::abs(alone[e]))) << file << " sample " << b;
        }
      }
    }
    // Unclamped, the held elements move too.
    s.unclamp(n.name);
    run(ham, s, o);
    EXPECT_NE(s.get(n.name)[0], x1[0]) << file;
  }
}

TEST(PerSampleMask, WrongShape) {
  const Ham ham = Ham::load(kDir + "/readme.json");
  States s = ham.zeros(2);
  EXPECT_EQ(error_of([&] { s.clamp("labels", Tensor<double>({3, 8})); }),
            "neuron 'labels': clamp mask of shape [3,8] does not fit: expected [8] or [2,8]");
}

// ---- States::save / States::load ----

TEST(StatesFile, RoundTripIsBitIdentical) {
  const std::string d = temp_dir("roundtrip");
  for (const char* file : {"readme.json", "custom_energies.json", "conv.json"}) {
    const Ham ham = Ham::load(kDir + "/" + file);
    const States s = ham.normal(5, 4);
    s.save(d + "/s.npz");
    const States t = States::load(ham, d + "/s.npz");
    EXPECT_EQ(t.batch(), 5);
    for (const NeuronInfo& n : ham.neurons()) EXPECT_TRUE(bit_identical(s.get(n.name), t.get(n.name))) << file;
    // The file is an ordinary .npz: one [batch, ...shape] array per neuron.
    const auto arrays = read_npz(d + "/s.npz");
    EXPECT_EQ(arrays.size(), ham.neurons().size()) << file;
  }
  std::filesystem::remove_all(d);
}

TEST(StatesFile, ChainedRunsEqualOneRun) {
  const std::string d = temp_dir("chain");
  const Ham ham = Ham::load(kDir + "/readme.json");
  States whole = ham.normal(4, 6), first = whole.clone();
  RunOptions o;
  o.steps = 40;
  run(ham, whole, o);
  o.steps = 20;
  run(ham, first, o);
  first.save(d + "/half.npz");
  States second = States::load(ham, d + "/half.npz");
  run(ham, second, o);
  for (const NeuronInfo& n : ham.neurons()) EXPECT_TRUE(bit_identical(whole.get(n.name), second.get(n.name))) << n.name;
  std::filesystem::remove_all(d);
}

TEST(StatesFile, OneNeuronModelReadsNpy) {
  const std::string d = temp_dir("npy");
  const Ham ham = Ham::load(kDir + "/classical_hopfield.json");
  const States s = ham.normal(2, 1);
  write_npy_atomic(d + "/v.npy", s.get(ham.neurons()[0].name), ham.is_float64());
  EXPECT_TRUE(bit_identical(States::load(ham, d + "/v.npy").get("v"), s.get("v")));
  std::filesystem::remove_all(d);
}

TEST(StatesFile, Errors) {
  const std::string d = temp_dir("errors");
  const Ham ham = Ham::load(kDir + "/readme.json");
  const Tensor<double> input({2, 7}), labels({2, 8}), hidden({2, 9});
  auto write = [&](const std::map<std::string, Tensor<double>>& arrays) {
    write_npz(d + "/s.npz", arrays, false);
    return error_of([&] { States::load(ham, d + "/s.npz"); });
  };
  const std::string f = d + "/s.npz";
  EXPECT_EQ(write({{"input", input}, {"labels", labels}}),
            f + ": neuron 'hidden' is missing (a states file holds every neuron: input, labels, hidden)");
  EXPECT_EQ(write({{"input", input}, {"labels", labels}, {"hidden", hidden}, {"image", input}}),
            f + ": array 'image' is not a neuron of the model (it has: input, labels, hidden)");
  EXPECT_EQ(write({{"input", input}, {"labels", Tensor<double>({2, 9})}, {"hidden", hidden}}),
            f + ": neuron 'labels': array of shape [2,9] does not fit: expected [batch]+[8]");
  EXPECT_EQ(write({{"input", input}, {"labels", labels}, {"hidden", Tensor<double>({3, 9})}}),
            f + ": neuron 'hidden': batch 3, but neuron 'input' has 2");
  EXPECT_EQ(error_of([&] { States::load(ham, d + "/v.npy"); }),
            d + "/v.npy: a .npy file holds one neuron's states and the model has 3 (input, labels, hidden); use .npz");
  EXPECT_EQ(error_of([&] { States::load(ham, d + "/missing.npz"); }), d + "/missing.npz: cannot open file");
  std::filesystem::remove_all(d);
}

}  // namespace
}  // namespace hamux
