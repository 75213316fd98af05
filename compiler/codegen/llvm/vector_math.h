// compiler/codegen/llvm/vector_math.h - vectorised transcendentals for JIT kernels (glibc libmvec).
//
// Kernels call tanh, log1p, sinh (libm) and the llvm.exp/log/pow intrinsics. LLVM's loop
// vectoriser keeps such calls scalar unless TargetLibraryInfo names a vector variant, so
// one scalar call per element would dominate elementwise loops. glibc's libmvec has vector
// variants of all of them (x86-64 vector function ABI: _ZGV<isa>N<lanes>v_<name>, accurate
// to a few ulp, far inside the tests' tolerances). When libmvec.so.1 can be loaded, the
// optimiser is told about its SSE ('b') and AVX2 ('d') variants and the JIT resolves
// their symbols from it. The AVX-512 ('e') variants are not offered: with LLVM's default
// 256-bit preference on AVX-512 CPUs a 512-bit argument may be split over two registers,
// which would not match that ABI. docs/codegen.md records the measurement.
#pragma once

#include <string>

namespace llvm {
class TargetLibraryInfoImpl;
}

namespace hamux::codegen {

// Is libmvec usable in this process (loaded into it, once, on the first call)?
bool vector_math_available();

// Which variants kernels use on a host with `host_features` (LLVM feature string,
// "+avx2,..."): "" (none), "libmvec-b" or "libmvec-bd". Part of the cache key.
std::string vector_math_variants(const std::string& host_features);

// Registers those variants with `tli`.
void add_vector_math(llvm::TargetLibraryInfoImpl& tli, const std::string& host_features);

// The shared object the JIT resolves the vector variants from ("libmvec.so.1").
const char* vector_math_library();

}  // namespace hamux::codegen
