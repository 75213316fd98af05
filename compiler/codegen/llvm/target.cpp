// compiler/codegen/llvm/target.cpp - see target.h.
#include "codegen/llvm/target.h"

#include <llvm/Analysis/TargetTransformInfo.h>
#include <llvm/IR/Function.h>
#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/Host.h>
#include <llvm/TargetParser/Triple.h>

#include <algorithm>

#include "hamux/error.h"

namespace hamux::codegen {

namespace {

void init_targets() {
  static const bool done = [] {
    llvm::InitializeAllTargetInfos();
    llvm::InitializeAllTargets();
    llvm::InitializeAllTargetMCs();
    llvm::InitializeAllAsmPrinters();
    llvm::InitializeAllAsmParsers();
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

}  // namespace

Target::Target(const TargetChoice& choice, const std::string& who) {
  init_targets();
  const bool host_triple = choice.triple.empty();
  triple_ = llvm::Triple::normalize(host_triple ? llvm::sys::getProcessTriple() : choice.triple);
  std::string err;
  const llvm::Target* target = llvm::TargetRegistry::lookupTarget(triple_, err);
  if (!target) throw Error("", who + ": unknown target triple '" + choice.triple + "'");
  cpu_ = !choice.cpu.empty() ? choice.cpu : host_triple ? llvm::sys::getHostCPUName().str() : "generic";
  // Checked before the target machine exists, which would only warn and carry on.
  std::unique_ptr<llvm::MCSubtargetInfo> sti(target->createMCSubtargetInfo(triple_, "", ""));
  if (!sti || !sti->isCPUStringValid(cpu_))
    throw Error("", who + ": unknown CPU '" + cpu_ + "' for target '" + triple_ + "'");
  if (choice.vector_width != 0 && choice.vector_width != 128 && choice.vector_width != 256 &&
      choice.vector_width != 512)
    throw Error("", who + ": vector width " + std::to_string(choice.vector_width) + " is not 128, 256 or 512 bits");
  vector_width_ = choice.vector_width;
  // The host CPU gets exactly the detected features; a named CPU its own.
  host_ = host_triple && choice.cpu.empty();
  if (host_) features_ = host_features();
  tm_.reset(target->createTargetMachine(triple_, cpu_, features_, llvm::TargetOptions(), llvm::Reloc::PIC_,
                                        std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  if (!tm_) throw Error("", who + ": cannot create a target machine for '" + triple_ + "'");
}

Target::~Target() = default;
Target::Target(Target&&) noexcept = default;

bool Target::has(const std::string& feature) const {
  const llvm::MCSubtargetInfo* sti = tm_->getMCSubtargetInfo();
  return sti && sti->checkFeatures("+" + feature);
}

void Target::annotate(llvm::Function& f) const {
  f.addFnAttr("target-cpu", cpu_);
  if (!features_.empty()) f.addFnAttr("target-features", features_);
  if (vector_width_ > 0) f.addFnAttr("prefer-vector-width", std::to_string(vector_width_));
}

VectorShape Target::vector_shape(const llvm::Function& f) const {
  const llvm::TargetTransformInfo tti = tm_->getTargetTransformInfo(f);
  VectorShape vs;
  vs.bytes = std::max<int>(static_cast<int>(
      tti.getRegisterBitWidth(llvm::TargetTransformInfo::RGK_FixedWidthVector).getFixedValue() / 8), 1);
  vs.registers = static_cast<int>(tti.getNumberOfRegisters(tti.getRegisterClassForType(true)));
  // LLVM prefers 256-bit vectors on AVX-512 CPUs (the vectoriser and the legaliser split wider
  // ones), but the registers are 512 bits wide; a function may ask for them with the
  // "min-legal-vector-width" attribute. A chosen vector width caps both.
  vs.widest_bytes = has("avx512f") ? 64 : vs.bytes;
  if (vector_width_ > 0) {
    vs.widest_bytes = std::min(vs.widest_bytes, vector_width_ / 8);
    vs.bytes = std::min(vs.bytes, vector_width_ / 8);
  }
  return vs;
}

std::string Target::key_text() const {
  return "target " + triple_ + " cpu " + cpu_ + " features " + features_ + " vector-width " +
         std::to_string(vector_width_);
}

}  // namespace hamux::codegen
