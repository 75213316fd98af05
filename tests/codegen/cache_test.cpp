// tests/codegen/cache_test.cpp - the on-disk kernel cache: hits, corruption, truncation,
// colliding keys (entries of other programs) and entries whose object does not load.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <sys/stat.h>
#include <unistd.h>

#include "codegen/jit/cache.h"
#include "codegen/loops/lower.h"
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

uint64_t key_of(const std::vector<NodePtr>& g) { return kernel_key(lower_graphs(g, DType::F64)); }
Digest digest_of(const std::vector<NodePtr>& g) { return kernel_digest(lower_graphs(g, DType::F64)); }

// Compiles `g` once more with `entry` (written by `forge`) in its place on disk, and expects
// the entry rejected, the kernel rebuilt with right results, and its own entry on disk.
template <class Forge>
void forged_entry_is_rebuilt(const std::vector<NodePtr>& g, const CompileOptions& opt, Forge forge) {
  forge();
  clear_memory_cache();
  CacheStats s0 = cache_stats();
  check(g, opt);
  CacheStats s1 = cache_stats();
  EXPECT_EQ(s1.disk_rejected - s0.disk_rejected, 1);
  EXPECT_EQ(s1.compiled - s0.compiled, 1);
  EXPECT_EQ(s1.disk_hits - s0.disk_hits, 0);
  CacheEntry e = cache_load(opt.cache_dir, key_of(g));
  EXPECT_EQ(e.result, CacheLookup::Hit);
  EXPECT_EQ(e.digest, digest_of(g));
}

// Another program's entry stored under this program's key (a key collision, forged): intact
// and checksummed, but its digest is the other program's, so it is never executed.
TEST(KernelCache, CollidingKeyOfAnotherProgramIsRejected) {
  TempDir dir;
  CompileOptions opt{.disk_cache = true, .cache_dir = dir.path.string(), .dump = ""};
  auto a = graph(5.25), b = graph(6.5);
  ASSERT_NE(digest_of(a), digest_of(b));
  check(a, opt);
  CacheEntry ea = cache_load(opt.cache_dir, key_of(a));
  ASSERT_EQ(ea.result, CacheLookup::Hit);
  forged_entry_is_rebuilt(b, opt, [&] { cache_store(opt.cache_dir, key_of(b), ea.digest, ea.payload); });
}

// Issue 19: another program's entry file copied under this key with its key field patched.
// The checksum covers the key and the digest, so the patched file is corrupt.
TEST(KernelCache, PatchedKeyFieldIsRejected) {
  TempDir dir;
  CompileOptions opt{.disk_cache = true, .cache_dir = dir.path.string(), .dump = ""};
  auto a = graph(7.75), b = graph(8.5);
  check(a, opt);
  forged_entry_is_rebuilt(b, opt, [&] {
    const std::string to = cache_file(opt.cache_dir, key_of(b));
    fs::copy_file(cache_file(opt.cache_dir, key_of(a)), to, fs::copy_options::overwrite_existing);
    std::fstream f(to, std::ios::in | std::ios::out | std::ios::binary);
    const uint64_t key = key_of(b);
    f.seekp(16);
    f.write(reinterpret_cast<const char*>(&key), 8);
  });
}

// Intact, with the right digest, but not an object file: rejected and rebuilt (not failing
// every later run until someone deletes it).
TEST(KernelCache, EntryWhoseObjectDoesNotLoadIsRebuilt) {
  TempDir dir;
  CompileOptions opt{.disk_cache = true, .cache_dir = dir.path.string(), .dump = ""};
  auto g = graph(9.25);
  const std::string junk = "this is not a relocatable object file";
  forged_entry_is_rebuilt(g, opt, [&] { cache_store(opt.cache_dir, key_of(g), digest_of(g), junk); });
  EXPECT_NE(cache_load(opt.cache_dir, key_of(g)).payload, junk);
  // And the rebuilt entry is used from now on.
  clear_memory_cache();
  CacheStats s0 = cache_stats();
  check(g, opt);
  EXPECT_EQ(cache_stats().disk_hits - s0.disk_hits, 1);
}

TEST(KernelCache, DigestIsSha256) {
  // FIPS 180-2 test vector.
  const Digest d = sha256("abc");
  const uint8_t want[32] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
                            0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
  EXPECT_TRUE(std::equal(d.begin(), d.end(), want));
}

TEST(KernelCache, ChecksumIsFnv1a) {
  // Published FNV-1a 64 test vectors.
  EXPECT_EQ(fnv1a(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(fnv1a("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(fnv1a("foobar"), 0x85944171f73967e8ULL);
}

}  // namespace
}  // namespace hamux::codegen
