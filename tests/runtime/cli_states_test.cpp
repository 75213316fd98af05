// tests/runtime/cli_states_test.cpp - states files between runs, `energy --updates`,
// per-sample masks, one generator for check/run/energy, the dt lines of `hamux run`.
#include <gtest/gtest.h>

#include <cstring>
#include <sstream>

#include "cli/run_hamux.h"
#include "frontend/npy.h"
#include "hamux/hamux.h"
#include "hamux/io.h"

namespace hamux {
namespace {

using test::run_hamux;
using test::ScratchDir;

const std::string kDir = HAMUX_MODELS_DIR;
const std::string kReadme = kDir + "/readme.json";

bool bit_identical(const Tensor<double>& a, const Tensor<double>& b) {
  return a.shape == b.shape && std::memcmp(a.data.data(), b.data.data(), a.data.size() * sizeof(double)) == 0;
}

// The last number on the first line of `text` that starts with `prefix` (after spaces).
double number_on(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const size_t at = line.find_first_not_of(' ');
    if (at != std::string::npos && line.compare(at, prefix.size(), prefix) == 0) {
      return std::stod(line.substr(line.find_last_of(' ') + 1));
    }
  }
  ADD_FAILURE() << "no line starting with '" << prefix << "' in\n" << text;
  return 0;
}

TEST(CliStates, RunOutIsTheNextRunsStart) {
  // 20 steps, then 20 more from the written states, equal 40 steps in one run (bit for bit),
  // and `hamux energy --states` reads the same file.
  ScratchDir dir;
  const std::string d = dir.path;
  const std::string start = "run '" + kReadme + "' --batch 3 --init normal:2 --clamp input ";
  ASSERT_EQ(run_hamux(start + "--steps 20 --out '" + d + "/a.npz'").status, 0);
  const auto second = run_hamux("run '" + kReadme + "' --states '" + d + "/a.npz' --clamp input --steps 20 --out '" + d +
                                "/b.npz'");
  ASSERT_EQ(second.status, 0) << second.err;
  EXPECT_NE(second.out.find("steps: 20, dt 0.1, batch 3\n"), std::string::npos) << second.out;  // the file's batch
  ASSERT_EQ(run_hamux(start + "--steps 40 --out '" + d + "/c.npz'").status, 0);
  const auto b = read_npz(d + "/b.npz"), c = read_npz(d + "/c.npz");
  ASSERT_EQ(b.size(), 3u);
  for (const auto& [name, t] : c) EXPECT_TRUE(bit_identical(b.at(name), t)) << name;

  const auto e = run_hamux("energy '" + kReadme + "' --states '" + d + "/b.npz'");
  ASSERT_EQ(e.status, 0) << e.err;
  const Ham ham = Ham::load(kReadme);
  const States s = States::load(ham, d + "/b.npz");
  const EnergyBreakdown tree = ham.energy_tree(s);
  std::istringstream lines(e.out);
  std::string line;
  while (std::getline(lines, line) && line.rfind("  total", 0) != 0) {
  }
  std::istringstream words(line);
  std::string word;
  words >> word;  // "total"
  for (int64_t n = 0; n < 3; ++n) {
    ASSERT_TRUE(words >> word) << e.out;
    EXPECT_NEAR(std::stod(word), tree.total[n], 1e-6) << e.out;
  }
}

TEST(CliStates, EnergyWritesUpdateDirections) {
  ScratchDir dir;
  const std::string d = dir.path;
  for (const char* file : {"readme.json", "custom_energies.json"}) {
    const std::string model = kDir + "/" + file;
    const auto r = run_hamux("energy '" + model + "' --batch 2 --init normal:7 --updates '" + d + "/u.npz'");
    ASSERT_EQ(r.status, 0) << r.err;
    const auto u = read_npz(d + "/u.npz");
    const Ham ham = Ham::load(model);
    const States s = ham.normal(2, 7);
    ASSERT_EQ(u.size(), ham.neurons().size()) << file;
    for (const NeuronInfo& n : ham.neurons()) EXPECT_TRUE(bit_identical(u.at(n.name), s.updates(n.name))) << file << " " << n.name;
  }
}

TEST(CliStates, PerSampleClampMask) {
  // Sample 0 holds input elements 0-2, sample 1 elements 3-6.
  ScratchDir dir;
  const std::string d = dir.path;
  Tensor<double> mask({2, 7});
  for (int e = 0; e < 7; ++e) mask[e] = e < 3, mask[7 + e] = e >= 3;
  write_npy_atomic(d + "/mask.npy", mask, false);
  const auto r = run_hamux("run '" + kReadme + "' --batch 2 --init normal:1 --steps 30 --clamp input='" + d +
                           "/mask.npy' --out '" + d + "/s.npz'");
  ASSERT_EQ(r.status, 0) << r.err;
  const Tensor<double> before = Ham::load(kReadme).normal(2, 1).get("input");
  const Tensor<double> after = read_npz(d + "/s.npz").at("input");
  for (int64_t e = 0; e < 14; ++e) {
    if (mask[e] != 0) {
      EXPECT_EQ(after[e], before[e]) << e;
    } else {
      EXPECT_NE(after[e], before[e]) << e;
    }
  }
}

TEST(CliStates, CheckSeedRunInitAndEnergyInitAreOneGenerator) {
  for (const char* file : {"readme.json", "conv.json"}) {
    const std::string model = kDir + "/" + file;
    const auto check = run_hamux("check '" + model + "' --seed 4");
    const auto energy = run_hamux("energy '" + model + "' --init normal:4");
    const auto run = run_hamux("run '" + model + "' --init normal:4 --steps 0");
    ASSERT_EQ(check.status, 0) << check.err;
    ASSERT_EQ(energy.status, 0) << energy.err;
    ASSERT_EQ(run.status, 0) << run.err;
    const std::string random = check.out.substr(check.out.find("energy tree at a random state"));
    const double want = Ham::load(model).energy_tree(Ham::load(model).normal(1, 4)).total[0];
    EXPECT_NEAR(number_on(random, "total"), want, 1e-6) << file;
    EXPECT_NEAR(number_on(energy.out, "total"), want, 1e-6) << file;
    EXPECT_NEAR(number_on(run.out, "0 "), want, 1e-4 * (1 + std::abs(want))) << file;  // compiled kernel, float32
  }
}

TEST(CliStates, RunPrintsTheDtAskedAndTheDtAtTheEnd) {
  const auto halved = run_hamux("run '" + kReadme + "' --batch 2 --init normal:1 --steps 20 --dt 20 --guard");
  ASSERT_EQ(halved.status, 0) << halved.err;
  EXPECT_NE(halved.out.find("steps: 20, dt 20, batch 2\n"), std::string::npos) << halved.out;
  const size_t last = halved.out.rfind("dt halved to ");
  ASSERT_NE(last, std::string::npos) << halved.out;
  const std::string final_dt = halved.out.substr(last + 13, halved.out.find('\n', last) - last - 13);
  EXPECT_NE(halved.out.find("dt at the end: " + final_dt + " (the energy guard halved it)\n"), std::string::npos)
      << halved.out;
  const auto kept = run_hamux("run '" + kReadme + "' --steps 5 --dt 0.1 --guard");
  ASSERT_EQ(kept.status, 0) << kept.err;
  EXPECT_EQ(kept.out.find("dt at the end"), std::string::npos) << kept.out;
}

TEST(CliStates, Errors) {
  ScratchDir dir;
  const std::string d = dir.path;
  const auto batch = run_hamux("run '" + kReadme + "' --states '" + d + "/a.npz' --batch 2");
  EXPECT_EQ(batch.status, 2);
  EXPECT_EQ(batch.err.rfind("error: option '--states' gives the batch and the states: it does not go with '--batch'\n", 0), 0u)
      << batch.err;
  const auto init = run_hamux("energy '" + kReadme + "' --states '" + d + "/a.npz' --init normal:1");
  EXPECT_EQ(init.status, 2);
  EXPECT_EQ(init.err.rfind("error: option '--states' gives the batch and the states: it does not go with '--init'\n", 0), 0u)
      << init.err;
  const auto npy = run_hamux("energy '" + kReadme + "' --updates '" + d + "/u.npy'");
  EXPECT_EQ(npy.status, 2);
  EXPECT_EQ(npy.err.rfind("error: option '--updates' expects a .npz file, got '" + d + "/u.npy'\n", 0), 0u) << npy.err;
  write_npz(d + "/part.npz", {{"input", Tensor<double>({1, 7})}}, false);
  const auto part = run_hamux("run '" + kReadme + "' --states '" + d + "/part.npz'");
  EXPECT_EQ(part.status, 1);
  EXPECT_EQ(part.err, "error: " + d + "/part.npz: neuron 'labels' is missing (a states file holds every neuron: input, labels, hidden)\n");
}

}  // namespace
}  // namespace hamux
