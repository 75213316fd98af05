// compiler/codegen/jit.cpp - O3 for the host CPU, object code, ORC LLJIT, kernel caches.
#include "codegen/jit.h"

#include <llvm/Analysis/TargetLibraryInfo.h>
#include <llvm/Config/llvm-config.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <unordered_map>

#include <unistd.h>  // sysconf: the L2 cache size

#include "codegen/aot_contract.h"
#include "codegen/cache.h"
#include "codegen/llvm_emit.h"
#include "codegen/pack_weights.h"
#include "codegen/runtime_kernels.h"
#include "codegen/vector_math.h"
#include "hamux/error.h"

namespace hamux::codegen {

namespace {

constexpr const char* kFunctionName = "hamux_kernel";
constexpr const char* kKernelFormat = "hamux-kernel-6";  // bump when the ABI or entry format changes
// SHA-256 of compiler/codegen's sources at configure time (CMakeLists.txt): part of every
// kernel key, so a kernel compiled by other code generator sources is never loaded.
constexpr const char* kCodegenSourcesHash =
#include "codegen_hash.inc"
    ;

struct Host {
  std::string cpu, features;
};

const Host& host() {
  static const Host h = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
    auto jtmb = llvm::orc::JITTargetMachineBuilder::detectHost();
    if (!jtmb) throw Error("", "codegen: cannot detect the host CPU: " + llvm::toString(jtmb.takeError()));
    return Host{jtmb->getCPU(), jtmb->getFeatures().getString()};
  }();
  return h;
}

llvm::orc::JITTargetMachineBuilder host_jtmb() {
  host();
  auto jtmb = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!jtmb) throw Error("", "codegen: cannot detect the host CPU: " + llvm::toString(jtmb.takeError()));
  jtmb->setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  return std::move(*jtmb);
}

template <class T>
T check(llvm::Expected<T> v, const char* what) {
  if (!v) throw Error("", std::string("codegen: ") + what + ": " + llvm::toString(v.takeError()));
  return std::move(*v);
}
void check(llvm::Error e, const char* what) {
  if (e) throw Error("", std::string("codegen: ") + what + ": " + llvm::toString(std::move(e)));
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

std::string module_text(const llvm::Module& m) {
  std::string s;
  llvm::raw_string_ostream os(s);
  m.print(os, nullptr);
  return os.str();
}


std::string emit_code(llvm::Module& m, llvm::TargetMachine& tm, llvm::CodeGenFileType type) {
  llvm::SmallVector<char, 0> buf;
  llvm::raw_svector_ostream os(buf);
  llvm::legacy::PassManager pm;
  if (tm.addPassesToEmitFile(pm, os, nullptr, type))
    throw Error("", "codegen: the target cannot emit this file type");
  pm.run(m);
  return std::string(buf.begin(), buf.end());
}

// LLVM: emit, optimise, compile to a relocatable object.
std::string build_object(const Program& p, uint64_t key, const Dump& dump, const CompileOptions& options) {
  auto jtmb = host_jtmb();
  auto tm = check(jtmb.createTargetMachine(), "target machine");
  llvm::LLVMContext ctx;
  auto m = emit_module(p, ctx, kFunctionName, host().cpu, host().features);
  m->setDataLayout(tm->createDataLayout());
  m->setTargetTriple(tm->getTargetTriple().str());
  inline_contractions(*m, host().cpu, host().features, vector_shape(*tm, *m->getFunction(kFunctionName)),
                      Inline::kSmallConvolutions, options.conv_loops_max_channels);
  dump.write("ir", key, module_text(*m));
  optimise_o3(*m, *tm, options.vector_math);
  dump.write("opt-ir", key, module_text(*m));
  if (dump.wants("asm")) dump.write("asm", key, emit_code(*m, *tm, llvm::CodeGenFileType::AssemblyFile));
  return emit_code(*m, *tm, llvm::CodeGenFileType::ObjectFile);
}

struct Loaded {
  std::shared_ptr<void> session;
  Kernel::PrepareFn prepare;
  Kernel::Fn fn;
};

// Links the object into a fresh LLJIT session and returns the session and the kernel.
Loaded load_object(const std::string& object) {
  auto jit = check(llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(host_jtmb()).create(), "LLJIT");
  auto& jd = jit->getMainJITDylib();
  // libm (tanh, log1p ...) from the process; the contraction runtime by address, since an
  // executable does not export its own symbols dynamically.
  jd.addGenerator(check(llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
                            jit->getDataLayout().getGlobalPrefix()),
                        "process symbols"));
  if (!vector_math_variants(host().features).empty())
    jd.addGenerator(check(llvm::orc::DynamicLibrarySearchGenerator::Load(
                              vector_math_library(), jit->getDataLayout().getGlobalPrefix()),
                          "libmvec symbols"));
  llvm::orc::SymbolMap rt;
  auto def = [&](const char* name, auto* fn) {
    rt[jit->mangleAndIntern(name)] = {llvm::orc::ExecutorAddr::fromPtr(fn), llvm::JITSymbolFlags::Exported};
  };
  def("hamux_einsum_f32", &hamux_einsum_f32);
  def("hamux_einsum_f64", &hamux_einsum_f64);
  def("hamux_einsum_pack_f32", &hamux_einsum_pack_f32);
  def("hamux_einsum_pack_f64", &hamux_einsum_pack_f64);
  def("hamux_einsum_packed_f32", &hamux_einsum_packed_f32);
  def("hamux_einsum_packed_f64", &hamux_einsum_packed_f64);
  def("hamux_conv_f32", &hamux_conv_f32);
  def("hamux_conv_f64", &hamux_conv_f64);
  check(jd.define(llvm::orc::absoluteSymbols(std::move(rt))), "runtime symbols");
  check(jit->addObjectFile(llvm::MemoryBuffer::getMemBufferCopy(object)), "loading the kernel object");
  auto fn = check(jit->lookup(kFunctionName), "kernel lookup").toPtr<Kernel::Fn>();
  auto prepare = check(jit->lookup(std::string(kFunctionName) + "_prepare"), "kernel lookup").toPtr<Kernel::PrepareFn>();
  return {std::shared_ptr<void>(std::move(jit)), prepare, fn};
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
std::unordered_map<uint64_t, std::shared_ptr<const Kernel>>& memory_cache() {
  static std::unordered_map<uint64_t, std::shared_ptr<const Kernel>> m;
  return m;
}

}  // namespace

void optimise_o3(llvm::Module& m, llvm::TargetMachine& tm, bool vector_math) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  // Vector variants of tanh, exp, log ... (vector_math.h); registered before the default
  // analyses, which would otherwise install a TargetLibraryInfo without them.
  llvm::TargetLibraryInfoImpl tli(tm.getTargetTriple());
  if (vector_math) add_vector_math(tli, host().features);
  fam.registerPass([&] { return llvm::TargetLibraryAnalysis(tli); });
  llvm::PassBuilder pb(&tm);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3).run(m, mam);
}

namespace {

// The program as compile() builds it: with its weights packed.
Program packed(Program program, const CompileOptions& options) {
  if (options.pack_min_bytes >= 0) pack_weights(program, options.pack_min_bytes);
  return program;
}

// The key of a program that is already packed.
uint64_t key_of(const Program& program, const CompileOptions& options) {
  uint64_t h = fnv1a(to_string(program));
  h = fnv1a(LLVM_VERSION_STRING, h);
  h = fnv1a(host().cpu, h);
  h = fnv1a(host().features, h);
  h = fnv1a(options.vector_math ? vector_math_variants(host().features) : "scalar-math", h);
  h = fnv1a("conv loops up to " + std::to_string(options.conv_loops_max_channels) + " channels", h);
  h = fnv1a(kCodegenSourcesHash, h);
  return fnv1a(kKernelFormat, h);
}

}  // namespace

uint64_t kernel_key(const Program& program, const CompileOptions& options) {
  return key_of(packed(program, options), options);
}

std::shared_ptr<const Kernel> compile(Program unpacked, const CompileOptions& options) {
  Program program = packed(std::move(unpacked), options);
  const uint64_t key = key_of(program, options);
  Dump dump(options.dump);
  // One compile at a time keeps the caches simple; compiles are rare, runs are not.
  std::lock_guard<std::mutex> lock(g_mutex);
  if (auto it = memory_cache().find(key); it != memory_cache().end()) {
    ++g_stats.memory_hits;
    return it->second;
  }
  dump.write("program", key, to_string(program));
  std::string dir = options.disk_cache ? (options.cache_dir.empty() ? default_cache_dir() : options.cache_dir) : "";
  std::string object;
  if (!dir.empty()) {
    CacheEntry e = cache_load(dir, key);
    if (e.result == CacheLookup::Hit) {
      ++g_stats.disk_hits;
      object = std::move(e.payload);
    } else if (e.result == CacheLookup::Rejected) {
      ++g_stats.disk_rejected;
    }
  }
  if (object.empty()) {
    object = build_object(program, key, dump, options);
    ++g_stats.compiled;
    if (!dir.empty()) cache_store(dir, key, object);
  }
  Loaded l = load_object(object);
  auto k = std::make_shared<const Kernel>(std::move(program), l.prepare, l.fn, std::move(l.session), key);
  memory_cache()[key] = k;
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
