// Over 200 random models whose Lagrangians are certified convex and whose energy is proved
// bounded below run at the dt the certificate suggests (half the bound) with the energy
// guard and the unbounded-energy check on: the energy never increases, and the run-time
// check never fires on a bounded model.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "analysis/certificate.h"
#include "autodiff/derive.h"
#include "frontend/random.h"
#include "hamux/hamux.h"

namespace hamux {
namespace {

std::string random_model(frontend::Rng& rng, int id) {
  const char* lagrangians[] = {R"({"tanh": {"beta": 1.5}})", R"({"sigmoid": {"beta": 2}})", R"({"softmax": {"beta": 1}})",
                               R"("spherical_norm")", R"("layernorm")", R"("identity")", R"("relu")", R"("ghostmax")",
                               R"({"softmax": {"beta": 4}})"};
  const int layers = 2 + static_cast<int>(rng.uniform() * 2);
  std::vector<int> size(layers);
  std::string neurons, params, synapses, connections;
  for (int i = 0; i < layers; ++i) {
    size[i] = 2 + static_cast<int>(rng.uniform() * 5);
    const char* lag = lagrangians[static_cast<int>(rng.uniform() * 9)];
    const double tau = 0.25 + rng.uniform();
    neurons += (i ? ", " : "") + ("\"n" + std::to_string(i) + "\": {\"shape\": [" + std::to_string(size[i]) +
                                  "], \"lagrangian\": " + lag + ", \"tau\": " + std::to_string(tau) + "}");
  }
  for (int i = 0; i + 1 < layers; ++i) {
    const std::string w = "W" + std::to_string(i);
    const double std = 0.05 + 0.4 * rng.uniform();
    params += (i ? ", " : "") + ("\"" + w + "\": {\"shape\": [" + std::to_string(size[i]) + ", " +
                                 std::to_string(size[i + 1]) + "], \"init\": {\"normal\": {\"std\": " +
                                 std::to_string(std) + "}}}");
    synapses += (i ? ", " : "") + ("\"s" + std::to_string(i) + "\": {\"linear\": {\"W\": \"" + w + "\"}}");
    connections += (i ? ", " : "") + ("{\"neurons\": [\"n" + std::to_string(i) + "\", \"n" + std::to_string(i + 1) +
                                      "\"], \"synapse\": \"s" + std::to_string(i) + "\"}");
  }
  return R"({"hamux": "1", "dtype": "float64", "seed": )" + std::to_string(id) + R"(, "params": {)" + params +
         R"(}, "neurons": {)" + neurons + R"(}, "synapses": {)" + synapses + R"(}, "connections": [)" + connections +
         "]}";
}

TEST(RandomCertifiedModels, GuardedRunsNeverRaiseTheEnergy) {
  const std::filesystem::path dir = std::filesystem::path(testing::TempDir()) / "hamux_random_certified";
  std::filesystem::create_directories(dir);
  frontend::Rng rng(2026, "random-certified-models");
  LoadOptions lo;
  lo.disk_cache = false;
  int certified = 0, tried = 0, guard_events = 0;
  while (certified < 210 && tried < 600) {
    const std::string path = (dir / ("m" + std::to_string(tried) + ".json")).string();
    std::ofstream(path) << random_model(rng, tried);
    ++tried;
    Ham ham = Ham::load(path, lo);
    States s = ham.normal(3, tried);
    std::vector<Tensor<double>> x;
    for (const NeuronInfo& n : ham.neurons()) x.push_back(s.get(n.name));
    const analysis::Certificate cert = analysis::certify(ham.model(), derive(ham.model()), x);
    if (!cert.proved()) continue;  // e.g. relu/identity layers coupled too strongly
    ++certified;
    ASSERT_TRUE(cert.step && std::isfinite(cert.step->dt)) << path;
    RunOptions o;
    o.steps = 60;
    o.dt = cert.step->dt / 2;
    o.energy_guard = true;
    o.record_every = 1;
    RunReport r;
    ASSERT_NO_THROW(r = run(ham, s, o)) << path;
    guard_events += static_cast<int>(r.guard.size());
    for (size_t t = 1; t < r.trace.size(); ++t)
      for (size_t b = 0; b < r.trace[t].energy.size(); ++b)
        ASSERT_LE(r.trace[t].energy[b], r.trace[t - 1].energy[b] + 1e-11 * (1 + std::abs(r.trace[t - 1].energy[b])))
            << path << " step " << r.trace[t].step;
  }
  std::cout << certified << " certified of " << tried << " random models; " << guard_events << " guard events\n";
  EXPECT_GE(certified, 200);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace hamux
