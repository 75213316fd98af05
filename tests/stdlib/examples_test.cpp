// tests/stdlib/examples_test.cpp - every model in examples/synapses/ loads and descends its
// energy: 100 explicit Euler steps x += dt/tau (-dE/dxhat), dt = 0.05, in float64, driven
// by the reference interpreter, with a total energy that never increases. Together the
// examples cover every builtin synapse.
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "autodiff/derive.h"
#include "frontend/stdlib.h"
#include "stdlib_testing.h"

namespace hamux::stdlib_test {
namespace {

const std::string kDir = std::string(HAMUX_SOURCE_DIR) + "/examples/synapses";

std::vector<std::string> example_files() {
  std::vector<std::string> files;
  // Runs at test discovery: a missing folder must not throw here (no examples: the
  // coverage test below fails, naming what is missing).
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(kDir, ec))
    if (e.path().extension() == ".json") files.push_back(e.path().filename().string());
  std::sort(files.begin(), files.end());
  return files;
}

// The example as written, and the same model in float64 (the dynamics test's precision).
Model load(const std::string& file, bool float64) {
  std::ifstream f(kDir + "/" + file);
  std::stringstream ss;
  ss << f.rdbuf();
  nlohmann::json j = nlohmann::json::parse(ss.str());
  if (float64) j["dtype"] = "float64";
  return parse_model(j.dump(), file, kDir);
}

class Example : public ::testing::TestWithParam<std::string> {};

TEST_P(Example, EulerStepsNeverIncreaseTheEnergy) {
  load(GetParam(), false);  // loads as written
  Model m = load(GetParam(), true);
  Derivation d = derive(m);
  const size_t n = m.neurons.size();
  interp::ParamValues<double> params = interp::param_values<double>(m);
  std::vector<T> inputs;  // x of every neuron, then xhat of every neuron
  for (size_t i = 0; i < n; ++i) inputs.push_back(random_tensor(m.neurons[i].shape, 100 + static_cast<unsigned>(i)));
  for (size_t i = 0; i < n; ++i) inputs.push_back(T(m.neurons[i].shape));

  const double dt = 0.05;
  std::vector<NodePtr> step = d.update;
  step.push_back(d.total_energy);
  std::vector<double> energies;
  for (int t = 0; t <= 100; ++t) {
    std::vector<T> act = eval1<double>(d.activation, inputs, params);
    for (size_t i = 0; i < n; ++i) inputs[n + i] = act[i];
    std::vector<T> out = eval1<double>(step, inputs, params);
    const double e = out[n][0];
    ASSERT_TRUE(std::isfinite(e)) << "step " << t;
    if (!energies.empty()) {
      ASSERT_LE(e, energies.back() + 1e-12 * std::max(1.0, std::abs(energies.back())))
          << "step " << t << ": the energy rose from " << energies.back();
    }
    energies.push_back(e);
    if (t == 100) break;
    for (size_t i = 0; i < n; ++i) {
      const double alpha = dt / m.neurons[i].tau;
      for (int64_t k = 0; k < inputs[i].size(); ++k) inputs[i][k] -= alpha * out[i][k];
    }
  }
  // The dynamics really moved: the energy went down, not merely stayed put.
  EXPECT_LT(energies.back(), energies.front() - 1e-3 * std::max(1.0, std::abs(energies.front())));
}

INSTANTIATE_TEST_SUITE_P(Synapses, Example, ::testing::ValuesIn(example_files()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string s = info.param.substr(0, info.param.size() - 5);
                           for (char& ch : s)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return s;
                         });

TEST(Examples, CoverEveryBuiltinSynapseAndOption) {
  std::set<std::string> used, descs;
  for (const std::string& f : example_files()) {
    Model m = load(f, false);
    for (const SynapseDef& s : m.synapses) {
      used.insert(s.desc.substr(0, s.desc.find('(')));
      descs.insert(s.desc);
    }
  }
  std::set<std::string> all;
  std::stringstream names(frontend::synapse_names());
  for (std::string item; std::getline(names, item, ',');) all.insert(item.substr(item.find_first_not_of(' ')));
  for (const std::string& s : all) EXPECT_TRUE(used.count(s)) << "no example uses the synapse " << s;
  auto any = [&](const std::string& part) {
    for (const std::string& d : descs)
      if (d.find(part) != std::string::npos) return true;
    return false;
  };
  EXPECT_TRUE(any("exclude_self=true"));
  EXPECT_TRUE(any("lagrangian=softmax"));
  EXPECT_TRUE(any("lagrangian=relu"));
  EXPECT_TRUE(any("lagrangian=repu"));
}

}  // namespace
}  // namespace hamux::stdlib_test
