// compiler/codegen/jit/jit.cpp - kernels compiled into this process (ORC LLJIT) and their caches.
#include "codegen/jit/jit.h"

#include <llvm/Config/llvm-config.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <unordered_map>

#include <unistd.h>  // sysconf: the L2 cache size

#include "codegen/jit/cache.h"
#include "codegen/kernels/kernels.h"
#include "codegen/llvm/object.h"
#include "codegen/llvm/target.h"
#include "support/flush_subnormals.h"
#include "codegen/llvm/vector_math.h"
#include "codegen/loops/pack_weights.h"
#include "hamux/error.h"

namespace hamux::codegen {

namespace {

constexpr const char* kFunctionName = "hamux_kernel";
constexpr const char* kKernelFormat = "hamux-kernel-7";  // bump when the ABI or entry format changes
// SHA-256 of compiler/codegen's and compiler/step's sources at configure time
// (CMakeLists.txt): part of every kernel digest, so a kernel compiled by other code
// generator sources is never loaded.
constexpr const char* kCodegenSourcesHash =
#include "codegen_hash.inc"
    ;

template <class T>
T check(llvm::Expected<T> v, const char* what) {
  if (!v) throw Error("", std::string("codegen: ") + what + ": " + llvm::toString(v.takeError()));
  return std::move(*v);
}
void check(llvm::Error e, const char* what) {
  if (e) throw Error("", std::string("codegen: ") + what + ": " + llvm::toString(std::move(e)));
}

// The target of the JIT's kernels: the options, else HAMUX_CPU / HAMUX_VECTOR_WIDTH, else
// the host. One Target per choice for the whole process (the caller holds g_mutex).
const Target& jit_target(const CompileOptions& options) {
  TargetChoice c;
  c.cpu = options.cpu;
  if (c.cpu.empty())
    if (const char* e = std::getenv("HAMUX_CPU")) c.cpu = e;
  c.vector_width = options.vector_width;
  if (c.vector_width == 0)
    if (const char* e = std::getenv("HAMUX_VECTOR_WIDTH"); e && *e) {
      char* end = nullptr;
      const long v = std::strtol(e, &end, 10);
      if (*end != 0 || v <= 0 || v > 4096)
        throw Error("", std::string("codegen: HAMUX_VECTOR_WIDTH='") + e + "' is not a number of bits (128, 256, 512)");
      c.vector_width = static_cast<int>(v);
    }
  static std::map<std::pair<std::string, int>, std::unique_ptr<Target>> targets;
  auto& t = targets[{c.cpu, c.vector_width}];
  if (!t) t = std::make_unique<Target>(c, "codegen");
  return *t;
}

// ---- debug dumps ----
struct Dump {
  std::string what, dir;
  explicit Dump(const std::string& option) {
    what = option;
    if (what.empty())
      if (const char* e = std::getenv("HAMUX_DUMP")) what = e;
    if (const char* d = std::getenv("HAMUX_DUMP_DIR")) dir = d;
  }
  bool wants(const std::string& kind) const {
    if (what == "all") return true;
    size_t start = 0;
    while (start <= what.size()) {
      size_t comma = what.find(',', start);
      if (what.substr(start, comma == std::string::npos ? std::string::npos : comma - start) == kind) return true;
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    return false;
  }
  void write(const std::string& kind, uint64_t key, const std::string& text) const {
    if (!wants(kind)) return;
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(key));
    if (dir.empty()) {
      std::cerr << "=== hamux " << kind << " " << hex << " ===\n" << text << "\n";
    } else {
      std::ofstream(dir + "/" + hex + "." + kind + ".txt") << text;
    }
  }
};

// LLVM: emit, optimise, compile to a relocatable object (llvm/object.h).
std::string build_object(const Program& p, uint64_t key, const Dump& dump, const CompileOptions& options,
                         const Target& target) {
  ObjectOptions o;
  o.emit.contractions = Contractions::kLibrary;
  o.emit.conv_loops_max_channels = options.conv_loops_max_channels;
  o.vector_math = options.vector_math;
  o.wants = [&](const std::string& kind) { return dump.wants(kind); };
  o.write = [&](const std::string& kind, const std::string& text) { dump.write(kind, key, text); };
  return compile_to_object(p, kFunctionName, target, o);
}

struct Loaded {
  std::shared_ptr<void> session;
  Kernel::PrepareFn prepare;
  Kernel::Fn fn;
};

// The kernel object linked into this process (with the kernels library and libmvec).
Loaded load_object(const std::string& object) {
  LinkedObject linked(object, /*kernels_library=*/true);
  return {linked.session(), reinterpret_cast<Kernel::PrepareFn>(linked.lookup(std::string(kFunctionName) + "_prepare")),
          reinterpret_cast<Kernel::Fn>(linked.lookup(kFunctionName))};
}

// The working-set budget for samples_per_call: half of this core's L2 cache (1 MiB when the
// system does not say).
int64_t cache_bytes() {
  static const int64_t bytes = [] {
    const long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
    return (l2 > 0 ? static_cast<int64_t>(l2) : int64_t{1} << 20) / 2;
  }();
  return bytes;
}

std::mutex g_mutex;
CacheStats g_stats;
// Kernels by key, with the full text they were compiled from (so that two programs whose
// keys collide are never confused).
std::unordered_map<uint64_t, std::pair<std::string, std::shared_ptr<const Kernel>>>& memory_cache() {
  static std::unordered_map<uint64_t, std::pair<std::string, std::shared_ptr<const Kernel>>> m;
  return m;
}

}  // namespace

namespace {

// The program as compile() builds it: with its weights packed.
Program packed(Program program, const CompileOptions& options) {
  if (options.pack_min_bytes >= 0) pack_weights(program, options.pack_min_bytes);
  return program;
}

// Everything the kernel of a program that is already packed depends on, as text: its
// SHA-256 is the digest a cache entry must carry; a 64-bit hash of it names the file.
std::string key_text(const Program& program, const CompileOptions& options, const Target& target) {
  std::string t = to_string(program);
  t += "\nllvm " LLVM_VERSION_STRING "\n";
  t += target.key_text();
  t += "\nmath ";
  t += options.vector_math ? vector_math_variants(vector_math_features(target)) : "scalar-math";
  t += "\nconv loops up to " + std::to_string(options.conv_loops_max_channels) + " channels\ncodegen ";
  t += kCodegenSourcesHash;
  t += "\nformat ";
  t += kKernelFormat;
  return t;
}

}  // namespace

LinkedObject::LinkedObject(const std::string& object, bool kernels_library) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  auto jtmb = check(llvm::orc::JITTargetMachineBuilder::detectHost(), "detecting the host");
  jtmb.setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  auto jit = check(llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(std::move(jtmb)).create(), "LLJIT");
  auto& jd = jit->getMainJITDylib();
  // libc and libm (tanh, log1p ...) from the process.
  jd.addGenerator(check(llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
                            jit->getDataLayout().getGlobalPrefix()),
                        "process symbols"));
  if (kernels_library) {
    if (vector_math_available())
      jd.addGenerator(check(llvm::orc::DynamicLibrarySearchGenerator::Load(
                                vector_math_library(), jit->getDataLayout().getGlobalPrefix()),
                            "libmvec symbols"));
    // The kernels library by address: an executable does not export its own symbols
    // dynamically.
    llvm::orc::SymbolMap rt;
    int n = 0;
    const KernelSymbol* symbols = kernel_symbols(&n);
    for (int i = 0; i < n; ++i)
      rt[jit->mangleAndIntern(symbols[i].name)] = {llvm::orc::ExecutorAddr::fromPtr(symbols[i].address),
                                                   llvm::JITSymbolFlags::Exported};
    check(jd.define(llvm::orc::absoluteSymbols(std::move(rt))), "runtime symbols");
  }
  check(jit->addObjectFile(llvm::MemoryBuffer::getMemBufferCopy(object)), "loading the object");
  jit_ = jit.get();
  session_ = std::shared_ptr<void>(std::move(jit));
}

void* LinkedObject::lookup(const std::string& symbol) const {
  return check(static_cast<llvm::orc::LLJIT*>(jit_)->lookup(symbol), "symbol lookup").toPtr<void*>();
}

uint64_t kernel_key(const Program& program, const CompileOptions& options) {
  std::lock_guard<std::mutex> lock(g_mutex);
  return fnv1a(key_text(packed(program, options), options, jit_target(options)));
}

Digest kernel_digest(const Program& program, const CompileOptions& options) {
  std::lock_guard<std::mutex> lock(g_mutex);
  return sha256(key_text(packed(program, options), options, jit_target(options)));
}

std::shared_ptr<const Kernel> compile(Program unpacked, const CompileOptions& options) {
  Program program = packed(std::move(unpacked), options);
  Dump dump(options.dump);
  // One compile at a time keeps the caches simple; compiles are rare, runs are not.
  std::lock_guard<std::mutex> lock(g_mutex);
  const Target& target = jit_target(options);
  const std::string text = key_text(program, options, target);
  const uint64_t key = fnv1a(text);
  if (auto it = memory_cache().find(key); it != memory_cache().end() && it->second.first == text) {
    ++g_stats.memory_hits;
    return it->second.second;
  }
  dump.write("program", key, to_string(program));
  std::string dir = options.disk_cache ? (options.cache_dir.empty() ? default_cache_dir() : options.cache_dir) : "";
  const Digest digest = sha256(text);
  std::optional<Loaded> loaded;
  if (!dir.empty()) {
    CacheEntry e = cache_load(dir, key);
    if (e.result == CacheLookup::Hit && e.digest != digest) {
      // An intact entry of another program whose key collides: not this kernel.
      cache_remove(dir, key);
      e.result = CacheLookup::Rejected;
    }
    if (e.result == CacheLookup::Hit) {
      try {
        loaded = load_object(e.payload);
        ++g_stats.disk_hits;
      } catch (const Error&) {
        // Intact but unusable (written by a broken build, or not an object for this
        // process): rebuilt below, so that it does not fail every later run.
        cache_remove(dir, key);
        e.result = CacheLookup::Rejected;
      }
    }
    if (e.result == CacheLookup::Rejected) ++g_stats.disk_rejected;
  }
  if (!loaded) {
    const std::string object = build_object(program, key, dump, options, target);
    ++g_stats.compiled;
    loaded = load_object(object);
    if (!dir.empty()) cache_store(dir, key, digest, object);
  }
  auto k = std::make_shared<const Kernel>(std::move(program), loaded->prepare, loaded->fn, std::move(loaded->session),
                                          key);
  memory_cache()[key] = {text, k};
  return k;
}

namespace {

// 64-byte aligned memory of at least `bytes` (64 when bytes is 0, so never null).
char* aligned_block(int64_t bytes) {
  const size_t size = (static_cast<size_t>(std::max<int64_t>(bytes, 1)) + 63) / 64 * 64;
  char* p = static_cast<char*>(std::aligned_alloc(64, size));
  if (!p) throw Error("", "codegen: out of memory for a kernel block of " + std::to_string(bytes) + " bytes");
  return p;
}

// A block owned by one thread that only grows.
struct ThreadBlock {
  char* data = nullptr;
  int64_t size = -1;
  char* get(int64_t bytes) {
    if (bytes > size) {
      std::free(data);
      data = nullptr;
      size = -1;
      data = aligned_block(bytes);
      size = bytes;
    }
    return data;
  }
  ~ThreadBlock() { std::free(data); }
};

}  // namespace

Prepared Kernel::prepare(void* const* buffers) const {
  Prepared p;
  p.data_.reset(aligned_block(program_.shared_bytes));
  prepare_(buffers, p.data_.get());
  return p;
}

void Kernel::run(void* const* buffers, int64_t begin, int64_t end, int64_t k_steps, const Prepared* prepared) const {
  const FlushSubnormals flush;  // states decaying towards 0 must not slow the steps down
  thread_local ThreadBlock workspace, shared;
  const int64_t block = samples_per_call(program_, end - begin, cache_bytes());
  char* ws = workspace.get(program_.workspace_bytes(std::min(block, end - begin)));
  const char* sh = prepared ? prepared->data() : nullptr;
  if (!sh) {
    char* mine = shared.get(program_.shared_bytes);
    prepare_(buffers, mine);
    sh = mine;
  }
  for (int64_t b0 = begin; b0 < end; b0 += block) fn_(buffers, b0, std::min(end, b0 + block), sh, ws, k_steps);
}

CacheStats cache_stats() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_stats;
}

void clear_memory_cache() {
  std::lock_guard<std::mutex> lock(g_mutex);
  memory_cache().clear();
}

}  // namespace hamux::codegen
