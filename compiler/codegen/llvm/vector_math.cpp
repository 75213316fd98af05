// compiler/codegen/vector_math.cpp - libmvec variants for the loop vectoriser.
#include "codegen/llvm/vector_math.h"

#include <llvm/Analysis/TargetLibraryInfo.h>
#include <llvm/Support/DynamicLibrary.h>

#include <vector>

namespace hamux::codegen {

namespace {

// One scalar function (or intrinsic) the emitter produces, and its libmvec stem.
struct Fn {
  const char* scalar;
  const char* stem;  // _ZGV<isa>N<lanes><params>_<stem>
  bool f32;
  int args;
};

const Fn kFns[] = {
    {"tanhf", "tanhf", true, 1},         {"tanh", "tanh", false, 1},
    {"log1pf", "log1pf", true, 1},       {"log1p", "log1p", false, 1},
    {"sinhf", "sinhf", true, 1},         {"sinh", "sinh", false, 1},
    {"llvm.exp.f32", "expf", true, 1},   {"llvm.exp.f64", "exp", false, 1},
    {"llvm.log.f32", "logf", true, 1},   {"llvm.log.f64", "log", false, 1},
    {"llvm.pow.f32", "powf", true, 2},   {"llvm.pow.f64", "pow", false, 2},
};

bool has_feature(const std::string& features, const char* f) {
  return ("," + features + ",").find(std::string(",+") + f + ",") != std::string::npos;
}

}  // namespace

const char* vector_math_library() { return "libmvec.so.1"; }

bool vector_math_available() {
  static const bool ok = !llvm::sys::DynamicLibrary::LoadLibraryPermanently(vector_math_library());
  return ok;
}

std::string vector_math_variants(const std::string& host_features) {
  if (!vector_math_available() || !has_feature(host_features, "sse4.2")) return "";
  return has_feature(host_features, "avx2") ? "libmvec-bd" : "libmvec-b";
}

void add_vector_math(llvm::TargetLibraryInfoImpl& tli, const std::string& host_features) {
  const std::string v = vector_math_variants(host_features);
  if (v.empty()) return;
  // VecDesc keeps StringRefs: the names must outlive the TLI, so they are kept here.
  static std::vector<std::string> names;
  static const bool built = [] {
    for (const char isa : {'b', 'd'})
      for (const Fn& f : kFns) {
        const int lanes = (isa == 'b' ? 16 : 32) / (f.f32 ? 4 : 8);
        const std::string params(f.args, 'v');
        names.push_back("_ZGV" + std::string(1, isa) + "N" + std::to_string(lanes) + params + "_" + f.stem);
        names.push_back("_ZGV_LLVM_N" + std::to_string(lanes) + params);
      }
    return true;
  }();
  (void)built;
  std::vector<llvm::VecDesc> descs;
  size_t k = 0;
  for (const char isa : {'b', 'd'})
    for (const Fn& f : kFns) {
      const int lanes = (isa == 'b' ? 16 : 32) / (f.f32 ? 4 : 8);
      const std::string& vector_name = names[k++];
      const std::string& prefix = names[k++];
      if (isa == 'd' && v != "libmvec-bd") continue;
      descs.emplace_back(f.scalar, vector_name, llvm::ElementCount::getFixed(lanes), false, prefix);
    }
  tli.addVectorizableFunctions(descs);
}

}  // namespace hamux::codegen
