// tests/aot/aot_object_test.cpp - what the AOT object file contains and needs: its
// undefined symbols all resolve in libc/libm (with --kernels library: and in libmvec and
// the kernels library), it exports only the kernel and the params, other targets get
// objects for their machine, and bad options are refused.
#include <dlfcn.h>

#include <set>

#include <llvm/Object/ObjectFile.h>

#include "aot_support.h"
#include "codegen/kernels/kernels.h"
#include "step/aot_header.h"
#include "hamux/error.h"

namespace hamux::aot_test {
namespace {

struct Symbols {
  std::vector<std::string> undefined, exported;
  llvm::Triple::ArchType arch = llvm::Triple::UnknownArch;
};

Symbols symbols_of(const std::string& object) {
  auto obj = llvm::object::ObjectFile::createObjectFile(llvm::MemoryBufferRef(object, "aot.o"));
  if (!obj) throw std::runtime_error(llvm::toString(obj.takeError()));
  Symbols s;
  s.arch = (*obj)->getArch();
  for (const llvm::object::SymbolRef& sym : (*obj)->symbols()) {
    auto flags = sym.getFlags();
    auto name = sym.getName();
    if (!flags || !name) throw std::runtime_error("unreadable symbol");
    if (name->empty()) continue;
    if (*flags & llvm::object::SymbolRef::SF_Undefined) s.undefined.push_back(name->str());
    else if (*flags & llvm::object::SymbolRef::SF_Global) s.exported.push_back(name->str());
  }
  std::sort(s.exported.begin(), s.exported.end());
  return s;
}

// Every contract model's object needs nothing but libc and libm.
TEST(AotObject, NeedsOnlyLibcAndLibm) {
  void* libm = dlopen("libm.so.6", RTLD_NOW);
  void* libc = dlopen("libc.so.6", RTLD_NOW);
  ASSERT_TRUE(libm && libc);
  for (const std::string& file : contract_models()) {
    const Model m = model_as(file, "");
    codegen::AotOptions o;
    o.prefix = "m";
    const Symbols s = symbols_of(codegen::compile_aot(m, o).object);
    for (const std::string& u : s.undefined) {
      EXPECT_TRUE(dlsym(libm, u.c_str()) || dlsym(libc, u.c_str())) << file << " needs " << u;
      EXPECT_EQ(u.find("hamux"), std::string::npos) << file << " needs " << u;
    }
    std::vector<std::string> want{"m_kernel", "m_kernel_prepare"};
    for (const std::string& id : codegen::aot_param_ids(m)) want.push_back("m_param_" + id);
    std::sort(want.begin(), want.end());
    EXPECT_EQ(s.exported, want) << file;
  }
  dlclose(libm);
  dlclose(libc);
}

// With the kernels library: libc, libm, libmvec and the kernels library's routines
// (kernels/kernels.h), and at least one of those for a model with a GEMM.
TEST(AotObject, WithTheKernelsLibraryNeedsOnlyItLibcLibmAndLibmvec) {
  void* libm = dlopen("libm.so.6", RTLD_NOW);
  void* libc = dlopen("libc.so.6", RTLD_NOW);
  void* libmvec = dlopen("libmvec.so.1", RTLD_NOW);
  ASSERT_TRUE(libm && libc && libmvec);
  int n = 0;
  const codegen::KernelSymbol* symbols = codegen::kernel_symbols(&n);
  std::set<std::string> routines;
  for (int i = 0; i < n; ++i) routines.insert(symbols[i].name);
  for (const std::string& file : contract_models()) {
    const Model m = model_as(file, "");
    codegen::AotOptions o;
    o.prefix = "m";
    o.kernels_library = true;
    const Symbols s = symbols_of(codegen::compile_aot(m, o).object);
    bool calls_library = false;
    for (const std::string& u : s.undefined) {
      calls_library = calls_library || routines.count(u);
      EXPECT_TRUE(routines.count(u) || dlsym(libm, u.c_str()) || dlsym(libc, u.c_str()) || dlsym(libmvec, u.c_str()))
          << file << " needs " << u;
    }
    if (file == "dense_am.json" || file == "energy_transformer.json") {
      EXPECT_TRUE(calls_library) << file;
    }
  }
  dlclose(libmvec);
  dlclose(libm);
  dlclose(libc);
}

TEST(AotObject, CrossTargets) {
  const Model m = model_as("readme.json", "");
  codegen::AotOptions o;
  o.prefix = "m";
  o.triple = "aarch64-unknown-linux-gnu";
  codegen::AotResult r = codegen::compile_aot(m, o);
  EXPECT_EQ(symbols_of(r.object).arch, llvm::Triple::aarch64);
  EXPECT_EQ(r.cpu, "generic");
  o.triple = "x86_64-unknown-linux-gnu";
  o.cpu = "x86-64-v2";
  r = codegen::compile_aot(m, o);
  EXPECT_EQ(symbols_of(r.object).arch, llvm::Triple::x86_64);
  EXPECT_NE(r.header.find("CPU x86-64-v2"), std::string::npos);
}

std::string error_of(const codegen::AotOptions& o) {
  try {
    codegen::compile_aot(model_as("readme.json", ""), o);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(AotObject, RefusesBadOptions) {
  codegen::AotOptions o;
  o.triple = "nonsense";
  EXPECT_EQ(error_of(o), "aot: unknown target triple 'nonsense'");
  o.triple = "x86_64-unknown-linux-gnu";
  o.cpu = "pentium9000";
  EXPECT_EQ(error_of(o), "aot: unknown CPU 'pentium9000' for target 'x86_64-unknown-linux-gnu'");
  o = {};
  o.prefix = "1abc";
  EXPECT_EQ(error_of(o), "aot: prefix '1abc' is not a C identifier");
  o.prefix = "a-b";
  EXPECT_EQ(error_of(o), "aot: prefix 'a-b' is not a C identifier");
}

TEST(AotObject, DefaultPrefixIsTheModelName) {
  codegen::AotOptions o;
  EXPECT_EQ(codegen::compile_aot(model_as("readme.json", ""), o).prefix, "hamux_readme");
  EXPECT_EQ(codegen::c_identifier("3-body.x"), "_3_body_x");
}

}  // namespace
}  // namespace hamux::aot_test
