// tests/cli/check_test.cpp - `hamux check` on the contract models.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "cli/run_hamux.h"
#include "frontend/model.h"

namespace hamux::test {
namespace {

const std::string kModels = HAMUX_MODELS_DIR;
const std::string kReadme = kModels + "/readme.json";

// The value printed on a line of an energy section, found by its label with spaces
// collapsed ("neuron hidden", "connection input, hidden -> dense1", "total").
std::string energy_text(const std::vector<std::string>& lines, const std::string& label) {
  for (const std::string& line : lines) {
    std::vector<std::string> w = words(line);
    if (w.size() < 2) continue;
    std::string key;
    for (size_t i = 0; i + 1 < w.size(); ++i) key += (i ? " " : "") + w[i];
    if (key == label) return w.back();
  }
  ADD_FAILURE() << "no energy line '" << label << "'";
  return "nan";
}

double energy_on(const std::vector<std::string>& lines, const std::string& label) {
  return std::stod(energy_text(lines, label));
}

TEST(Check, SucceedsOnEveryContractModel) {
  int models = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kModels)) {
    if (entry.path().extension() != ".json") continue;
    ++models;
    const RunResult r = run_hamux("check '" + entry.path().string() + "'");
    EXPECT_EQ(r.status, 0) << entry.path() << "\n" << r.err;
    EXPECT_EQ(r.err, "") << entry.path();
    EXPECT_NE(r.out.find("energy tree at the zero state:"), std::string::npos) << entry.path();
    // Every energy printed is a finite number.
    for (const char* header : {"energy tree at the zero state:",
                               "energy tree at a random state (standard normal, seed 0):"}) {
      const auto lines = section(r.out, header);
      EXPECT_FALSE(lines.empty()) << entry.path() << ": " << header;
      for (const std::string& line : lines) {
        EXPECT_TRUE(std::isfinite(std::stod(words(line).back()))) << entry.path() << ": " << line;
      }
    }
  }
  EXPECT_EQ(models, 6);
}

// The fuzzer's hand-written seeds (every builtin, every op) must stay valid models, or
// they would only exercise the error paths.
TEST(Check, SucceedsOnTheHandWrittenFuzzSeeds) {
  // The other seeds are copies of the contract models, checked above.
  for (const char* seed : {"builtins.json", "ops.json"}) {
    const RunResult r = run_hamux(std::string("check '") + HAMUX_SOURCE_DIR "/tests/fuzz/corpus/" + seed + "'");
    EXPECT_EQ(r.status, 0) << seed << "\n" << r.err;
  }
}

TEST(Check, ReadmeSummary) {
  const RunResult r = run_hamux("check '" + kReadme + "'");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("model: hamux-readme\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("dtype: float32\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("neurons (3):\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("params (2):\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("synapses (2):\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("connections (2):\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  input, hidden -> dense1\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  labels, hidden -> dense2\n"), std::string::npos) << r.out;
  // 7*9 + 8*9 weights.
  EXPECT_NE(r.out.find("total parameters: 135\n"), std::string::npos) << r.out;
}

TEST(Check, ReadmeEnergiesAtZero) {
  const RunResult r = run_hamux("check '" + kReadme + "'");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto lines = section(r.out, "energy tree at the zero state:");
  // Softmax layer of n units at x = 0: <0, 1/n> - log(n * e^0) = -log n.
  // Identity layer at x = 0: <0, 0> - 0 = 0.
  EXPECT_EQ(energy_text(lines, "neuron hidden"), "-2.197225");
  EXPECT_EQ(energy_text(lines, "neuron labels"), "-2.079442");
  EXPECT_EQ(energy_text(lines, "neuron input"), "0.000000");
  EXPECT_NEAR(energy_on(lines, "neuron hidden"), -std::log(9.0), 1e-6);
  EXPECT_NEAR(energy_on(lines, "neuron labels"), -std::log(8.0), 1e-6);
  EXPECT_EQ(energy_on(lines, "neuron input"), 0.0);
  // linear: E = -xhat_a . W xhat_b. input's activation is x = 0, so dense1 vanishes;
  // labels and hidden are uniform (1/8, 1/9), so dense2 = -sum(W2) / 72.
  const Model model = load_model(kReadme);
  const ParamDef& w2 = model.params[model.param_index("W2")];
  double sum = 0;
  for (double v : w2.value.data) sum += static_cast<float>(v);
  EXPECT_EQ(energy_on(lines, "connection input, hidden -> dense1"), 0.0);
  EXPECT_NEAR(energy_on(lines, "connection labels, hidden -> dense2"), -sum / 72.0, 2e-6);
  EXPECT_NEAR(energy_on(lines, "total"), -std::log(9.0) - std::log(8.0) - sum / 72.0, 3e-6);
}

TEST(Check, RandomStateFollowsTheSeed) {
  const std::string header0 = "energy tree at a random state (standard normal, seed 0):";
  const std::string header5 = "energy tree at a random state (standard normal, seed 5):";
  const RunResult a = run_hamux("check '" + kReadme + "'");
  const RunResult b = run_hamux("check '" + kReadme + "' --seed 0");
  const RunResult c = run_hamux("check --seed=5 '" + kReadme + "'");
  ASSERT_EQ(a.status, 0) << a.err;
  ASSERT_EQ(b.status, 0) << b.err;
  ASSERT_EQ(c.status, 0) << c.err;
  EXPECT_EQ(a.out, b.out);  // default seed is 0, and the state is reproducible
  EXPECT_FALSE(section(a.out, header0).empty());
  EXPECT_FALSE(section(c.out, header5).empty());
  EXPECT_NE(section(a.out, header0), section(c.out, header5));
  // A random state gives the identity layer energy |x|^2 / 2 > 0.
  EXPECT_GT(energy_on(section(c.out, header5), "neuron input"), 0.0);
}

}  // namespace
}  // namespace hamux::test
