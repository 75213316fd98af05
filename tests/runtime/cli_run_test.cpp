// tests/runtime/cli_run_test.cpp - `hamux run` and `hamux energy` end to end.
#include <gtest/gtest.h>

#include <filesystem>

#include "cli/run_hamux.h"
#include "frontend/npy.h"
#include "hamux/io.h"

namespace hamux {
namespace {

using test::run_hamux;
using test::ScratchDir;

const std::string kDir = HAMUX_MODELS_DIR;
const std::string kReadme = kDir + "/readme.json";

int files_in(const std::string& dir) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) n += e.is_regular_file();
  return n;
}

TEST(CliRun, WritesTraceStatesAndPlot) {
  ScratchDir dir;
  const std::string d = dir.path;
  const auto r = run_hamux("run '" + kReadme + "' --steps 50 --batch 2 --init normal:3 --clamp input --every 10 --trace '" +
                           d + "/t.csv' --plot '" + d + "/t.svg' --out '" + d + "/s.npz'");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("steps: 50, dt 0.1, batch 2\n"), std::string::npos) << r.out;
  const std::string csv = test::read_text(d + "/t.csv");
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "step,sample_0,sample_1");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 7);  // header + steps 0, 10, ..., 50
  EXPECT_EQ(test::read_text(d + "/t.svg").rfind("<svg", 0), 0u);
  const auto states = read_npz(d + "/s.npz");
  ASSERT_EQ(states.size(), 3u);
  EXPECT_EQ(states.at("hidden").shape, (Shape{2, 9}));
  // The clamped input is the start state: normal:3 through the API gives the same.
  EXPECT_EQ(files_in(d), 3);
}

TEST(CliRun, SetFromNpyAndConvergence) {
  ScratchDir dir;
  Tensor<double> input({7}, {1, -1, 0.5, 0, 2, -2, 1});
  write_npy_atomic(dir.path + "/in.npy", input, false);
  const auto r = run_hamux("run '" + kReadme + "' --set input='" + dir.path + "/in.npy' --clamp input --steps 10000 --tol 1e-6 --dt 0.5 --out '" +
                           dir.path + "/s.npz'");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("converged: max |dx| "), std::string::npos) << r.out;
  EXPECT_EQ(read_npz(dir.path + "/s.npz").at("input").data, input.data);
}

TEST(CliEnergy, PrintsTheTreePerSample) {
  const auto r = run_hamux("energy '" + kReadme + "' --batch 2");
  ASSERT_EQ(r.status, 0) << r.err;
  // Zero state: softmax layers of n units have energy -log n.
  EXPECT_NE(r.out.find("neuron labels                       -2.079442  -2.079442"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("neuron hidden                       -2.197225  -2.197225"), std::string::npos) << r.out;
}

TEST(CliRunErrors, ExactMessagesNonZeroExitNoOutputFile) {
  ScratchDir dir;
  const std::string d = dir.path, out = " --out '" + d + "/s.npz' --trace '" + d + "/t.csv'";
  Tensor<double> wrong({3});
  write_npy_atomic(d + "/wrong.npy", wrong, false);
  std::string header = "{'descr': '<i8', 'fortran_order': False, 'shape': (7,), }";
  header.resize(117, ' ');  // 10 + 118 bytes: a multiple of 64
  test::write_text(d + "/ints.npy", std::string("\x93NUMPY\x01\x00\x76\x00", 10) + header + "\n" + std::string(56, '\0'));
  struct Case {
    std::string args, message;
  };
  const std::vector<Case> cases = {
      {"run '" + kDir + "/nope.json'", "error: " + kDir + "/nope.json: cannot open file\n"},
      {"run '" + kReadme + "' --set image='" + d + "/wrong.npy'",
       "error: neuron 'image': unknown neuron (" + kReadme + " has: input, labels, hidden)\n"},
      {"run '" + kReadme + "' --clamp image", "error: neuron 'image': unknown neuron (" + kReadme + " has: input, labels, hidden)\n"},
      {"run '" + kReadme + "' --set input='" + d + "/missing.npy'", "error: " + d + "/missing.npy: cannot open file\n"},
      {"run '" + kReadme + "' --set input='" + d + "/wrong.npy'",
       "error: neuron 'input': state of shape [3] does not fit: expected [7] or [1,7]\n"},
      {"run '" + kReadme + "' --clamp labels='" + d + "/wrong.npy'",
       "error: neuron 'labels': clamp mask of shape [3] does not fit: expected [8] or [1,8]\n"},
      {"run '" + kDir + "/classical_hopfield.json' --dt 1000 --init normal:1",
       "error: " + kDir + "/classical_hopfield.json: neuron 'v', sample 0: state grows without limit (|x| = 3.25e+08 > "
       "state_bound 1e+08) at step 3; either dt is too large (try a smaller dt; hamux check estimates the largest "
       "stable one) or the energy is not bounded below: check synapse 'recurrent' (custom expr): its couplings may "
       "be too strong for the Lagrangians' curvature (see hamux check)\n"},
      {"run '" + kDir + "/classical_hopfield.json' --dt 1000 --init normal:1 --state-bound 0",
       // The energy overflows one step before the state does (issue 19: energies are checked).
       "error: " + kDir + "/classical_hopfield.json: sample 0: energy is nan at step 12 (neuron v is not finite; try a smaller dt)\n"},
  };
  for (const Case& c : cases) {
    const auto r = run_hamux(c.args + out);
    EXPECT_EQ(r.status, 1) << c.args;
    EXPECT_EQ(r.err, c.message) << c.args;
    EXPECT_EQ(files_in(d), 2) << c.args << ": an output file was written";  // wrong.npy, ints.npy
  }
  const auto r = run_hamux("run '" + kReadme + "' --set input='" + d + "/ints.npy'" + out);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err.rfind("error: " + d + "/ints.npy: dtype '<i8' is not supported", 0), 0u) << r.err;
  EXPECT_EQ(files_in(d), 2);
}

}  // namespace
}  // namespace hamux
