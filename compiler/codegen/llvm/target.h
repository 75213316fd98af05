// compiler/codegen/llvm/target.h - the one description of what kernels are compiled for.
//
// The JIT and `hamux compile` (AOT) both make a Target from a TargetChoice and hand it to
// compile_to_object (object.h): triple, CPU, its features and an optional vector width.
//   - an empty choice is the host: the process triple, the host CPU with exactly the
//     features the host reports (so the code uses everything the machine has);
//   - a named CPU ("x86-64-v3", "skylake-avx512", "generic" ...) gets that CPU's features;
//   - vector_width (bits, 0: the CPU's preference) caps the vectors the optimiser and the
//     contraction loops use, e.g. 256 to run AVX2-width kernels on an AVX-512 machine.
// The JIT reads its choice from CompileOptions::cpu / vector_width, or the environment
// variables HAMUX_CPU and HAMUX_VECTOR_WIDTH (jit/jit.h); the target is part of the kernel
// cache key (Target::key_text).
#pragma once

#include <memory>
#include <string>

namespace llvm {
class Function;
class TargetMachine;
}  // namespace llvm

namespace hamux::codegen {

struct TargetChoice {
  std::string triple;    // empty: the host's
  std::string cpu;       // empty: the host CPU (host triple) or "generic"
  int vector_width = 0;  // bits; 0: the CPU's preferred width
};

// The target's vector unit, for choosing register tiles (contraction_loops.h).
struct VectorShape {
  int bytes = 16;         // preferred vector register width
  int widest_bytes = 16;  // widest vector register (64 with AVX-512, where LLVM prefers 32)
  int registers = 16;     // vector registers
  int lanes(int element_bytes) const { return bytes / element_bytes > 1 ? bytes / element_bytes : 1; }
};

class Target {
 public:
  // Throws hamux::Error naming `who` ("aot", "codegen") for an unknown triple or CPU, or
  // a vector width that is not 128, 256 or 512.
  Target(const TargetChoice& choice, const std::string& who);
  ~Target();
  Target(Target&&) noexcept;

  const std::string& triple() const { return triple_; }
  const std::string& cpu() const { return cpu_; }
  const std::string& features() const { return features_; }  // explicit ones (host); else ""
  int vector_width() const { return vector_width_; }
  bool is_host() const { return host_; }
  llvm::TargetMachine& machine() const { return *tm_; }

  // Does the CPU (with its features) have `feature` ("avx2", "avx512f" ...)?
  bool has(const std::string& feature) const;
  // Sets target-cpu, target-features and the vector-width attributes on `f`.
  void annotate(llvm::Function& f) const;
  // The vector unit seen from `f` (annotated).
  VectorShape vector_shape(const llvm::Function& f) const;
  // Everything that changes the generated code, as text (part of the kernel cache key).
  std::string key_text() const;

 private:
  std::string triple_, cpu_, features_;
  int vector_width_ = 0;
  bool host_ = false;
  std::unique_ptr<llvm::TargetMachine> tm_;
};

}  // namespace hamux::codegen
