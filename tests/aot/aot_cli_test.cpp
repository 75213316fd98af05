// tests/aot/aot_cli_test.cpp - `hamux compile`: files written, options, refusals.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "cli/run_hamux.h"

namespace hamux::aot_test {
namespace {

namespace fs = std::filesystem;
using test::run_hamux;
using test::ScratchDir;

const std::string kModels = HAMUX_MODELS_DIR;

TEST(AotCli, WritesObjectArchiveHeadersAndEmbedsParams) {
  ScratchDir dir;
  const auto r = run_hamux("compile '" + kModels + "/readme.json' -o '" + dir.path + "' --prefix rd");
  ASSERT_EQ(r.status, 0) << r.err;
  for (const char* f : {"rd.o", "librd.a", "rd.h", "hamux_aot.h"}) {
    EXPECT_TRUE(fs::exists(dir.path + "/" + f)) << f;
    EXPECT_NE(r.out.find(dir.path + "/" + f), std::string::npos) << r.out;
  }
  EXPECT_FALSE(fs::exists(dir.path + "/rd_W1.npy"));
  const std::string h = test::read_text(dir.path + "/rd.h");
  EXPECT_NE(h.find("typedef float rd_real;"), std::string::npos);
  EXPECT_NE(h.find("extern const rd_real rd_param_W1[63];"), std::string::npos);
  EXPECT_NE(h.find("#define RD_NUM_NEURONS 3"), std::string::npos);
  EXPECT_EQ(test::read_text(dir.path + "/librd.a").rfind("!<arch>\n", 0), 0u);
}

TEST(AotCli, ParamsAsFilesAndDtype) {
  ScratchDir dir;
  const auto r = run_hamux("compile '" + kModels + "/readme.json' -o '" + dir.path +
                           "/out' --params files --dtype float64");
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string prefix = dir.path + "/out/hamux_readme";
  EXPECT_TRUE(fs::exists(prefix + "_W1.npy"));
  EXPECT_TRUE(fs::exists(prefix + "_W2.npy"));
  const std::string npy = test::read_text(prefix + "_W1.npy");
  EXPECT_NE(npy.find("'descr': '<f8'"), std::string::npos);
  EXPECT_NE(npy.find("(7, 9)"), std::string::npos);
  const std::string h = test::read_text(prefix + ".h");
  EXPECT_NE(h.find("typedef double hamux_readme_real;"), std::string::npos);
  EXPECT_NE(h.find("hamux_readme_load_params"), std::string::npos);
}

TEST(AotCli, KernelsLibrary) {
  ScratchDir dir;
  const auto r = run_hamux("compile '" + kModels + "/dense_am.json' -o '" + dir.path + "' --prefix d --kernels library");
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string h = test::read_text(dir.path + "/d.h");
  EXPECT_NE(h.find(" * Link d.o (or libd.a) into a program with -lhamux_kernels -lstdc++ -lmvec\n"), std::string::npos)
      << h.substr(0, 1200);
  const auto loops = run_hamux("compile '" + kModels + "/dense_am.json' -o '" + dir.path + "/loops' --prefix d");
  ASSERT_EQ(loops.status, 0) << loops.err;
  EXPECT_NE(test::read_text(dir.path + "/loops/d.h").find(" * Link d.o (or libd.a) into a C program with -lm;"),
            std::string::npos);
}

TEST(AotCli, OtherTarget) {
  ScratchDir dir;
  const auto r = run_hamux("compile '" + kModels + "/dense_am.json' -o '" + dir.path +
                           "' --target aarch64-unknown-linux-gnu --cpu cortex-a72 --prefix d");
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string o = test::read_text(dir.path + "/d.o");
  ASSERT_GT(o.size(), 20u);
  EXPECT_EQ(o.substr(0, 4), "\x7f" "ELF");
  EXPECT_EQ(static_cast<unsigned char>(o[18]) | static_cast<unsigned char>(o[19]) << 8, 183);  // EM_AARCH64
  EXPECT_NE(r.out.find("target: aarch64-unknown-linux-gnu (cpu cortex-a72)"), std::string::npos) << r.out;
}

TEST(AotCli, Refusals) {
  ScratchDir dir;
  const std::string model = "'" + kModels + "/readme.json'";
  auto r = run_hamux("compile " + model);
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err.substr(0, r.err.find('\n')), "error: missing output directory (-o DIR)");
  r = run_hamux("compile " + model + " -o '" + dir.path + "' --params inline");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err.substr(0, r.err.find('\n')), "error: option '--params' expects embed or files, got 'inline'");
  r = run_hamux("compile " + model + " -o '" + dir.path + "' --kernels eigen");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err.substr(0, r.err.find('\n')), "error: option '--kernels' expects loops or library, got 'eigen'");
  r = run_hamux("compile " + model + " -o '" + dir.path + "' --dtype float16");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err.substr(0, r.err.find('\n')), "error: option '--dtype' expects float32 or float64, got 'float16'");
  r = run_hamux("compile " + model + " -o '" + dir.path + "' --target nonsense");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "error: aot: unknown target triple 'nonsense'\n");
  r = run_hamux("compile " + model + " -o '" + dir.path + "' --prefix 9lives");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "error: aot: prefix '9lives' is not a C identifier\n");
  r = run_hamux("compile '" + dir.path + "/missing.json' -o '" + dir.path + "'");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("missing.json"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace hamux::aot_test
