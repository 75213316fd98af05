// tests/codegen/target_test.cpp - choosing the JIT's CPU and vector width (CompileOptions::cpu,
// vector_width, HAMUX_CPU, HAMUX_VECTOR_WIDTH): results, the code it makes, the cache key.
#include <gtest/gtest.h>

#include <llvm/ADT/StringMap.h>
#include <llvm/TargetParser/Host.h>
#include <llvm/TargetParser/Triple.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include "codegen/loops/lower.h"
#include "compare.h"
#include "graph/builder.h"
#include "hamux/error.h"

namespace hamux::codegen {
namespace {

namespace fs = std::filesystem;
using namespace ir;

bool host_has(const char* feature) {
  const auto features = llvm::sys::getHostCPUFeatures();
  auto it = features.find(feature);
  return it != features.end() && it->second;
}

// Long elementwise loops and a GEMM: vectorised at whatever width the target allows.
std::vector<NodePtr> graph(DType t) {
  NodePtr x = input(0, "x", {256}, t);
  NodePtr w = param("w", {256, 64}, t);
  NodePtr h = unary(Op::Tanh, mul(x, constant(1.5, t)));
  return {einsum("i,ij->j", {h, w}), add(mul(h, h), x)};
}

CompileOptions choice(const std::string& cpu, int width) {
  CompileOptions o;
  o.disk_cache = false;
  o.cpu = cpu;
  o.vector_width = width;
  return o;
}

template <class T>
void matches_interpreter(const CompileOptions& opt, const std::string& what) {
  auto g = graph(sizeof(T) == 4 ? DType::F32 : DType::F64);
  std::mt19937 rng(11);
  std::vector<Tensor<T>> in;
  std::map<std::string, Tensor<T>> params;
  testing::random_bindings<T>(g, 9, rng, in, params);
  auto want = interp::evaluate<T>(g, in, params, 9);
  auto got = codegen::evaluate<T>(g, in, params, 9, 1, opt);
  testing::expect_close(got, want, testing::tolerance<T>(), what);
}

TEST(JitTarget, EveryChoiceMatchesTheInterpreter) {
  for (const auto& [cpu, width] : std::vector<std::pair<std::string, int>>{
           {"", 0}, {"x86-64-v3", 0}, {"x86-64-v3", 128}, {"x86-64", 0}, {"", 256}}) {
    if (!host_has("avx2") && cpu == "x86-64-v3") continue;
    const std::string what = "cpu '" + cpu + "' width " + std::to_string(width);
    matches_interpreter<float>(choice(cpu, width), what + " f32");
    matches_interpreter<double>(choice(cpu, width), what + " f64");
  }
}

TEST(JitTarget, TheTargetIsPartOfTheKernelKey) {
  const Program p = lower_graphs(graph(DType::F32), DType::F32);
  const uint64_t host = kernel_key(p, choice("", 0));
  EXPECT_NE(kernel_key(p, choice("x86-64-v3", 0)), host);
  EXPECT_NE(kernel_key(p, choice("", 256)), host);
  EXPECT_NE(kernel_key(p, choice("x86-64-v3", 256)), kernel_key(p, choice("x86-64-v3", 0)));
  EXPECT_NE(kernel_digest(p, choice("x86-64-v3", 0)), kernel_digest(p, choice("", 0)));
}

TEST(JitTarget, EnvironmentVariablesChooseWhenTheOptionsDoNot) {
  const Program p = lower_graphs(graph(DType::F32), DType::F32);
  const uint64_t named = kernel_key(p, choice("x86-64-v3", 256));
  ::setenv("HAMUX_CPU", "x86-64-v3", 1);
  ::setenv("HAMUX_VECTOR_WIDTH", "256", 1);
  const uint64_t from_env = kernel_key(p, choice("", 0));
  const uint64_t option_wins = kernel_key(p, choice("x86-64", 128));
  ::unsetenv("HAMUX_CPU");
  ::unsetenv("HAMUX_VECTOR_WIDTH");
  EXPECT_EQ(from_env, named);
  EXPECT_EQ(option_wins, kernel_key(p, choice("x86-64", 128)));
  EXPECT_NE(kernel_key(p, choice("", 0)), named);
}

// The assembly of the kernel compiled for `opt` (HAMUX_DUMP=asm into a directory).
std::string assembly(CompileOptions opt) {
  const fs::path dir = fs::temp_directory_path() / ("hamux_target_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  ::setenv("HAMUX_DUMP_DIR", dir.c_str(), 1);
  opt.dump = "asm";
  const Program p = lower_graphs(graph(DType::F32), DType::F32);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(kernel_key(p, opt)));
  clear_memory_cache();
  compile(p, opt);
  ::unsetenv("HAMUX_DUMP_DIR");
  std::ifstream in(dir / (std::string(hex) + ".asm.txt"));
  std::stringstream ss;
  ss << in.rdbuf();
  fs::remove_all(dir);
  return ss.str();
}

TEST(JitTarget, WidthsShowInTheCode) {
  if (!host_has("avx2")) GTEST_SKIP() << "the host has no AVX2";
  const std::string avx2 = assembly(choice("x86-64-v3", 0));
  ASSERT_NE(avx2.find("ymm"), std::string::npos);  // 256-bit vectors
  EXPECT_EQ(avx2.find("zmm"), std::string::npos);  // no AVX-512
  const std::string narrow = assembly(choice("x86-64-v3", 128));
  ASSERT_NE(narrow.find("xmm"), std::string::npos);
  EXPECT_EQ(narrow.find("ymm"), std::string::npos);
  if (host_has("avx512f")) {
    EXPECT_NE(assembly(choice("", 512)).find("zmm"), std::string::npos);
  }
}

std::string error_of(const CompileOptions& opt) {
  try {
    compile(lower_graphs(graph(DType::F32), DType::F32), opt);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(JitTarget, UnknownCpuAndBadWidthAreErrors) {
  const std::string triple = llvm::Triple::normalize(llvm::sys::getProcessTriple());
  EXPECT_EQ(error_of(choice("no-such-cpu", 0)), "codegen: unknown CPU 'no-such-cpu' for target '" + triple + "'");
  EXPECT_EQ(error_of(choice("", 300)), "codegen: vector width 300 is not 128, 256 or 512 bits");
  ::setenv("HAMUX_VECTOR_WIDTH", "wide", 1);
  const std::string env = error_of(choice("", 0));
  ::unsetenv("HAMUX_VECTOR_WIDTH");
  EXPECT_EQ(env, "codegen: HAMUX_VECTOR_WIDTH='wide' is not a number of bits (128, 256, 512)");
}

}  // namespace
}  // namespace hamux::codegen
