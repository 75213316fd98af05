// tests/codegen/cache_test.cpp - the on-disk kernel cache: hits, corruption, truncation.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <sys/stat.h>
#include <unistd.h>

#include "codegen/cache.h"
#include "codegen/lower.h"
#include "compare.h"
#include "graph/builder.h"

namespace hamux::codegen {
namespace {

namespace fs = std::filesystem;
using namespace ir;

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("hamux_cache_test_" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

// A graph unique to each test (the constant), so no earlier kernel is in memory.
std::vector<NodePtr> graph(double c) {
  NodePtr x = input(0, "x", {5}, DType::F64);
  NodePtr w = param("w", {5, 3}, DType::F64);
  return {add(einsum("i,ij->j", {unary(Op::Tanh, x), w}), constant(c, DType::F64))};
}

void check(const std::vector<NodePtr>& g, const CompileOptions& opt) {
  std::mt19937 rng(5);
  std::vector<Tensor<double>> in;
  std::map<std::string, Tensor<double>> params;
  testing::random_bindings<double>(g, 4, rng, in, params);
  auto want = interp::evaluate<double>(g, in, params, 4);
  auto got = codegen::evaluate<double>(g, in, params, 4, 1, opt);
  testing::expect_close(got, want, 1e-12, "cached kernel");
}

std::string file_of(const std::vector<NodePtr>& g, const std::string& dir) {
  return cache_file(dir, kernel_key(lower_graphs(g, DType::F64)));
}

TEST(KernelCache, StoresAndReloadsFromDisk) {
  TempDir dir;
  CompileOptions opt{.disk_cache = true, .cache_dir = dir.path.string(), .dump = ""};
  auto g = graph(1.25);
  CacheStats s0 = cache_stats();
  check(g, opt);
  EXPECT_TRUE(fs::exists(file_of(g, opt.cache_dir)));
  check(g, opt);  // in memory now
  clear_memory_cache();
  check(g, opt);  // from disk
  CacheStats s1 = cache_stats();
  EXPECT_EQ(s1.compiled - s0.compiled, 1);
  EXPECT_EQ(s1.memory_hits - s0.memory_hits, 1);
  EXPECT_EQ(s1.disk_hits - s0.disk_hits, 1);
  EXPECT_EQ(s1.disk_rejected - s0.disk_rejected, 0);
}

// Damages the entry with `damage`, then expects a rejected entry, a rebuild, right results
// and a healthy entry on disk again.
template <class Damage>
void corrupted_entry_is_rebuilt(double c, Damage damage) {
  TempDir dir;
  CompileOptions opt{.disk_cache = true, .cache_dir = dir.path.string(), .dump = ""};
  auto g = graph(c);
  check(g, opt);
  std::string file = file_of(g, opt.cache_dir);
  ASSERT_TRUE(fs::exists(file));
  damage(file);
  clear_memory_cache();
  CacheStats s0 = cache_stats();
  check(g, opt);
  CacheStats s1 = cache_stats();
  EXPECT_EQ(s1.disk_rejected - s0.disk_rejected, 1);
  EXPECT_EQ(s1.compiled - s0.compiled, 1);
  EXPECT_EQ(s1.disk_hits - s0.disk_hits, 0);
  EXPECT_EQ(cache_load(opt.cache_dir, kernel_key(lower_graphs(g, DType::F64))).result, CacheLookup::Hit);
}

TEST(KernelCache, FlippedPayloadBytesAreRejected) {
  corrupted_entry_is_rebuilt(2.5, [](const std::string& file) {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    for (std::streamoff at : {100, 400, 1000}) {
      f.seekg(at);
      char ch = static_cast<char>(f.get());
      f.seekp(at);
      f.put(static_cast<char>(ch ^ 0x5a));
    }
  });
}

TEST(KernelCache, TruncatedEntryIsRejected) {
  corrupted_entry_is_rebuilt(3.75, [](const std::string& file) {
    fs::resize_file(file, fs::file_size(file) / 2);
  });
}

TEST(KernelCache, FifoEntryIsRejectedNotWaitedFor) {
  // Replacing the entry by a FIFO: reading it would block forever (issue 19).
  corrupted_entry_is_rebuilt(5.25, [](const std::string& file) {
    fs::remove(file);
    ASSERT_EQ(mkfifo(file.c_str(), 0600), 0);
  });
}

TEST(KernelCache, DamagedHeaderIsRejected) {
  corrupted_entry_is_rebuilt(4.5, [](const std::string& file) {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(0);
    f.put('X');
  });
}

TEST(KernelCache, ChecksumIsFnv1a) {
  // Published FNV-1a 64 test vectors.
  EXPECT_EQ(fnv1a(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(fnv1a("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(fnv1a("foobar"), 0x85944171f73967e8ULL);
}

}  // namespace
}  // namespace hamux::codegen
