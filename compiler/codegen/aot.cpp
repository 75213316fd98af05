// compiler/codegen/aot.cpp - model -> self-contained object file for a chosen target.
#include "codegen/aot.h"

#include <llvm/ADT/StringMap.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Object/ArchiveWriter.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/Host.h>
#include <llvm/TargetParser/Triple.h>

#include <filesystem>
#include <functional>
#include <fstream>
#include <memory>

#include "autodiff/derive.h"
#include "codegen/aot_contract.h"
#include "codegen/aot_header.h"
#include "codegen/llvm_emit.h"
#include "codegen/step.h"
#include "frontend/npy.h"
#include "hamux/error.h"

namespace hamux::codegen {

namespace {

bool is_identifier(const std::string& s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

void init_targets() {
  static const bool done = [] {
    llvm::InitializeAllTargetInfos();
    llvm::InitializeAllTargets();
    llvm::InitializeAllTargetMCs();
    llvm::InitializeAllAsmPrinters();
    return true;
  }();
  (void)done;
}

std::string host_features() {
  std::string f;
  for (const auto& kv : llvm::sys::getHostCPUFeatures()) {
    if (!f.empty()) f += ",";
    f += kv.second ? '+' : '-';
    f += kv.first().str();
  }
  return f;
}

std::string object_code(llvm::Module& m, llvm::TargetMachine& tm) {
  llvm::SmallVector<char, 0> buf;
  llvm::raw_svector_ostream os(buf);
  llvm::legacy::PassManager pm;
  if (tm.addPassesToEmitFile(pm, os, nullptr, llvm::CodeGenFileType::ObjectFile))
    throw Error("", "aot: the target cannot emit object files");
  pm.run(m);
  return std::string(buf.begin(), buf.end());
}

// One exported constant array per param, in the model's dtype, 64-byte aligned.
void embed_params(llvm::Module& m, const Model& model, const std::string& prefix) {
  const std::vector<std::string> ids = aot_param_ids(model);
  for (size_t k = 0; k < model.params.size(); ++k) {
    const std::vector<double>& v = model.params[k].value.data;
    llvm::Constant* init;
    if (model.dtype == ir::DType::F32) {
      std::vector<float> f(v.begin(), v.end());  // rounded as the runtime rounds them
      init = llvm::ConstantDataArray::get(m.getContext(), f);
    } else {
      init = llvm::ConstantDataArray::get(m.getContext(), v);
    }
    auto* g = new llvm::GlobalVariable(m, init->getType(), true, llvm::GlobalValue::ExternalLinkage, init,
                                       prefix + "_param_" + ids[k]);
    g->setAlignment(llvm::Align(64));
  }
}

std::string archive(const std::string& object, const std::string& member, const llvm::Triple& triple) {
  std::vector<llvm::NewArchiveMember> members;
  members.emplace_back(llvm::MemoryBufferRef(object, member));
  auto kind = triple.isOSDarwin() ? llvm::object::Archive::K_DARWIN
              : triple.isOSWindows() ? llvm::object::Archive::K_COFF
                                     : llvm::object::Archive::K_GNU;
  auto buf = llvm::writeArchiveToBuffer(members, llvm::SymtabWritingMode::NormalSymtab, kind, true, false);
  if (!buf) throw Error("", "aot: cannot build the archive: " + llvm::toString(buf.takeError()));
  return std::string((*buf)->getBuffer());
}

void write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  if (!out.flush()) throw Error(path.string(), "cannot write file");
}

}  // namespace

std::string c_identifier(const std::string& name) {
  std::string s;
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) s += '_';
  for (char c : name) s += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return s;
}

namespace {

struct Target {
  std::string triple, cpu, features;
  std::unique_ptr<llvm::TargetMachine> tm;
};

Target resolve_target(const AotOptions& options) {
  init_targets();
  Target t;
  const bool host = options.triple.empty();
  t.triple = llvm::Triple::normalize(host ? llvm::sys::getProcessTriple() : options.triple);
  std::string err;
  const llvm::Target* target = llvm::TargetRegistry::lookupTarget(t.triple, err);
  if (!target) throw Error("", "aot: unknown target triple '" + options.triple + "'");
  t.cpu = !options.cpu.empty() ? options.cpu : host ? llvm::sys::getHostCPUName().str() : "generic";
  // Checked before the target machine exists, which would only warn and carry on.
  std::unique_ptr<llvm::MCSubtargetInfo> sti(target->createMCSubtargetInfo(t.triple, "", ""));
  if (!sti || !sti->isCPUStringValid(t.cpu))
    throw Error("", "aot: unknown CPU '" + t.cpu + "' for target '" + t.triple + "'");
  // The host CPU gets exactly the detected features (as the JIT); a named CPU its own.
  if (host && options.cpu.empty()) t.features = host_features();
  t.tm.reset(target->createTargetMachine(t.triple, t.cpu, t.features, llvm::TargetOptions(), llvm::Reloc::PIC_,
                                         std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  if (!t.tm) throw Error("", "aot: cannot create a target machine for '" + t.triple + "'");
  return t;
}

// Emit, make self-contained, add what `extra` adds (params), optimise, object code.
std::string build(const Program& p, const std::string& function, Target& t,
                  const std::function<void(llvm::Module&)>& extra) {
  llvm::LLVMContext ctx;
  std::unique_ptr<llvm::Module> m = emit_module(p, ctx, function, t.cpu, t.features);
  inline_contractions(*m, t.cpu, t.features, vector_shape(*t.tm, *m->getFunction(function)));
  if (extra) extra(*m);
  m->setDataLayout(t.tm->createDataLayout());
  m->setTargetTriple(t.triple);
  optimise_o3(*m, *t.tm, /*vector_math=*/false);  // the JIT's pipeline, so the code is the same
  return object_code(*m, *t.tm);
}

}  // namespace

std::string compile_program_aot(const Program& program, const std::string& function, const AotOptions& options) {
  Target t = resolve_target(options);
  return build(program, function, t, nullptr);
}

AotResult compile_aot(const Model& model, const AotOptions& options) {
  AotResult r;
  r.prefix = options.prefix.empty() ? c_identifier(model.name) : options.prefix;
  if (!is_identifier(r.prefix)) throw Error("", "aot: prefix '" + r.prefix + "' is not a C identifier");
  r.embed_params = options.embed_params;
  Target t = resolve_target(options);
  r.triple = t.triple;
  r.cpu = t.cpu;
  r.features = t.features;
  r.program = lower_step(model, derive(model), /*energy=*/true);
  r.object = build(r.program, r.prefix + "_kernel", t, [&](llvm::Module& m) {
    if (r.embed_params) embed_params(m, model, r.prefix);
  });
  r.header = aot_c_header(model, r);
  return r;
}

std::vector<std::string> write_aot(const AotResult& r, const Model& model, const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(dir, "cannot create directory: " + ec.message());
  std::vector<std::string> files;
  auto put = [&](const std::string& name, const std::string& bytes) {
    fs::path p = fs::path(dir) / name;
    write_file(p, bytes);
    files.push_back(p.string());
  };
  put(r.prefix + ".o", r.object);
  put("lib" + r.prefix + ".a", archive(r.object, r.prefix + ".o", llvm::Triple(r.triple)));
  put(r.prefix + ".h", r.header);
  put("hamux_aot.h", aot_helper_header());
  if (!r.embed_params) {
    const std::vector<std::string> ids = aot_param_ids(model);
    for (size_t k = 0; k < model.params.size(); ++k) {
      fs::path p = fs::path(dir) / (r.prefix + "_" + ids[k] + ".npy");
      if (model.dtype == ir::DType::F32) save_npy(p.string(), model.params[k].value.cast<float>());
      else save_npy(p.string(), model.params[k].value);
      files.push_back(p.string());
    }
  }
  return files;
}

}  // namespace hamux::codegen
