// compiler/codegen/jit/jit.h - compiling loop programs to machine code in this process (ORC LLJIT, O3).
//
//   Program p = lower_graphs({g1, g2}, ir::DType::F32);      // lower.h
//   std::shared_ptr<const Kernel> k = compile(std::move(p));
//   k->run(pointers, 0, batch);                               // or slices, on threads:
//   Prepared shared = k->prepare(pointers);                   //   parameter-only values, once
//   k->run(pointers, begin, end, 1, &shared);                 //   on every thread
//
// Kernels are compiled for the host CPU with all its features (AVX2/AVX-512 ...), or for
// the CPU and vector width CompileOptions::cpu / vector_width (or the environment variables
// HAMUX_CPU, HAMUX_VECTOR_WIDTH) name, through the same path as AOT objects
// (llvm/object.h), and cached twice: in memory (process lifetime) and on disk as
// checksummed object files (cache.h) that carry the SHA-256 digest of the text they were
// compiled from (the program text, the LLVM version, the target, the code generator's
// sources and the kernel format version); an entry is used only when its digest matches.
//
// Debug dumps: HAMUX_DUMP=program,ir,opt-ir,asm (any subset, or "all") prints the loop
// program, the LLVM IR before and after optimisation and the assembly to stderr, or
// into files <key>.<what>.txt of HAMUX_DUMP_DIR when that is set. Dumps of ir/opt-ir/asm
// are produced when the kernel is actually compiled (not on a cache hit).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "codegen/jit/cache.h"
#include "codegen/loops/pack_weights.h"
#include "codegen/loops/program.h"
#include "codegen/loops/small_einsums.h"

namespace hamux::codegen {

struct CompileOptions {
  bool disk_cache = true;
  std::string cache_dir;  // empty: default_cache_dir() (HAMUX_CACHE_DIR, ~/.cache/hamux)
  std::string dump;       // empty: the HAMUX_DUMP environment variable
  // The CPU kernels are compiled for (an LLVM CPU name: "x86-64-v3", "skylake-avx512" ...)
  // and the vector width in bits (128, 256, 512); empty/0: the environment variables
  // HAMUX_CPU / HAMUX_VECTOR_WIDTH, else the host CPU and its preferred width. The object
  // runs in this process, so the CPU must be one the host can execute (a subset of it).
  std::string cpu{};
  int vector_width = 0;
  // Vectorised tanh/exp/log/... from glibc's libmvec (llvm/vector_math.h); off only to measure
  // what it buys.
  bool vector_math = true;
  // conv2d and its input gradient with at most this many channels in and out run as loops
  // emitted into the kernel (llvm/contraction_loops.h), the others as im2col + Eigen GEMM; 0: all on
  // GEMM. The default is the crossover measured in docs/performance.md.
  int64_t conv_loops_max_channels = 32;
  // Shared GEMM operands of at least this many bytes are packed in the prologue, once per
  // prepare() (loops/pack_weights.h); negative: none (only to measure what it buys).
  int64_t pack_min_bytes = kPackMinBytes;
  // For the callers that lower graphs before compiling them (StepKernel, evaluate): einsums
  // of at most this many multiply-adds per sample become fused sums (small_einsums.h); 0:
  // every einsum stays a contraction stage.
  int64_t small_einsum_work = kSmallEinsumWork;
};

// The values a program's prologue computes from its parameter buffers (W + W^T, rate *
// mask ...), for one binding of those buffers. Made once (Kernel::prepare), then only read,
// so the threads that run slices of one batch share a single copy instead of each
// computing and streaming its own.
class Prepared {
 public:
  const char* data() const { return data_.get(); }

 private:
  struct Free {
    void operator()(char* p) const { std::free(p); }
  };
  std::unique_ptr<char, Free> data_;
  friend class Kernel;
};

class Kernel {
 public:
  // The signatures of llvm/emit.h.
  using PrepareFn = void (*)(void* const* buffers, char* shared);
  using Fn = void (*)(void* const* buffers, int64_t batch_begin, int64_t batch_end, const char* shared,
                      char* workspace, int64_t k_steps);

  Kernel(Program program, PrepareFn prepare, Fn fn, std::shared_ptr<void> owner, uint64_t key)
      : program_(std::move(program)), prepare_(prepare), fn_(fn), owner_(std::move(owner)), key_(key) {}

  const Program& program() const { return program_; }
  Fn function() const { return fn_; }
  PrepareFn prepare_function() const { return prepare_; }
  uint64_t key() const { return key_; }

  // Runs the prologue on `buffers` (only the parameter slots are read). The result stays
  // valid while those buffers keep their values.
  Prepared prepare(void* const* buffers) const;

  // Runs samples [begin, end), k_steps steps, with `prepared` from prepare() on the same
  // parameter buffers, or with the prologue computed by this call when it is null. Uses a
  // workspace owned by the calling thread (allocated once per thread, grown when a larger
  // slice needs more). Thread-safe for disjoint slices of the batched buffers.
  void run(void* const* buffers, int64_t begin, int64_t end, int64_t k_steps = 1,
           const Prepared* prepared = nullptr) const;

 private:
  Program program_;
  PrepareFn prepare_;
  Fn fn_;
  std::shared_ptr<void> owner_;  // keeps the JIT session (and so the code) alive
  uint64_t key_;
};

// Packs the program's GEMM weights (loops/pack_weights.h, CompileOptions::pack_min_bytes),
// then returns the kernel of the packed program (Kernel::program()) from the memory cache,
// the disk cache, or LLVM. A Prepared belongs to the kernel that made it. Throws
// hamux::Error for an unknown CPU or vector width.
std::shared_ptr<const Kernel> compile(Program program, const CompileOptions& options = {});

// An object file linked into this process by an LLJIT session of its own, as a program
// would link it: its undefined symbols resolve in the process (libc, libm) and, with
// `kernels_library`, in libmvec and the kernels library (kernels/kernels.h). The JIT loads
// its kernels this way; tests and benchmarks load AOT objects with it. Throws hamux::Error
// when the object does not link or a symbol is missing.
class LinkedObject {
 public:
  LinkedObject(const std::string& object, bool kernels_library);
  void* lookup(const std::string& symbol) const;
  std::shared_ptr<void> session() const { return session_; }  // keeps the code alive

 private:
  void* jit_ = nullptr;            // the llvm::orc::LLJIT that session_ owns
  std::shared_ptr<void> session_;
};

// Counters since process start (for tests and diagnostics).
struct CacheStats {
  int64_t memory_hits = 0;
  int64_t disk_hits = 0;
  int64_t disk_rejected = 0;  // corrupted/truncated entries, other programs' entries whose
                              // key collides, entries whose object does not load: discarded
  int64_t compiled = 0;       // kernels built by LLVM
};
CacheStats cache_stats();
void clear_memory_cache();

// The key `compile` would use for `program` on this host (cache.h names the file by it),
// and the digest its cache entry must carry.
uint64_t kernel_key(const Program& program, const CompileOptions& options = {});
Digest kernel_digest(const Program& program, const CompileOptions& options = {});

}  // namespace hamux::codegen
