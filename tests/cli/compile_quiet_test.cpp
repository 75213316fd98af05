// tests/cli/compile_quiet_test.cpp - a cold compile prints nothing on stderr: every contract
// model's kernels built from an empty kernel cache, by `hamux run` and `hamux compile` (the
// emitter's vectoriser hints, which LLVM would otherwise warn about when it cannot follow
// one, energy_transformer's case; llvm/object.cpp).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "cli/run_hamux.h"

namespace hamux::test {
namespace {

TEST(ColdCompile, PrintsNothingOnStderr) {
  ScratchDir cache, out;
  ASSERT_EQ(setenv("HAMUX_CACHE_DIR", cache.path.c_str(), 1), 0);
  for (const char* m : {"classical_hopfield", "conv", "custom_energies", "dense_am", "energy_transformer", "readme"}) {
    const std::string model = "'" + std::string(HAMUX_MODELS_DIR) + "/" + m + ".json'";
    const RunResult run = run_hamux("run " + model + " --steps 1");
    EXPECT_EQ(run.status, 0) << m << ": " << run.err;
    EXPECT_EQ(run.err, "") << m;
    const RunResult aot = run_hamux("compile " + model + " -o '" + out.path + "' --prefix k --kernels library");
    EXPECT_EQ(aot.status, 0) << m << ": " << aot.err;
    EXPECT_EQ(aot.err, "") << m;
  }
  unsetenv("HAMUX_CACHE_DIR");
  EXPECT_FALSE(std::filesystem::is_empty(cache.path));  // the runs did compile into it
}

}  // namespace
}  // namespace hamux::test
