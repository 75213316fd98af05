// compiler/codegen/llvm/object.cpp - see object.h.
#include "codegen/llvm/object.h"

#include <llvm/Analysis/TargetLibraryInfo.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

#include "codegen/llvm/vector_math.h"
#include "graph/internal_error.h"

namespace hamux::codegen {

namespace {

std::string module_text(const llvm::Module& m) {
  std::string s;
  llvm::raw_string_ostream os(s);
  m.print(os, nullptr);
  return os.str();
}

std::string emit_file(llvm::Module& m, llvm::TargetMachine& tm, llvm::CodeGenFileType type) {
  llvm::SmallVector<char, 0> buf;
  llvm::raw_svector_ostream os(buf);
  llvm::legacy::PassManager pm;
  if (tm.addPassesToEmitFile(pm, os, nullptr, type))
    HAMUX_INTERNAL("the target cannot emit this file type");
  pm.run(m);
  return std::string(buf.begin(), buf.end());
}

}  // namespace

std::string vector_math_features(const Target& target) {
  std::string f;
  if (target.has("sse4.2")) f += "+sse4.2";
  if (target.has("avx2")) f += f.empty() ? "+avx2" : ",+avx2";
  return f;
}

void optimise_o3(llvm::Module& m, llvm::TargetMachine& tm, const std::string& vector_math_features, bool parts) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  // Vector variants of tanh, exp, log ... (vector_math.h); registered before the default
  // analyses, which would otherwise install a TargetLibraryInfo without them.
  llvm::TargetLibraryInfoImpl tli(tm.getTargetTriple());
  if (!vector_math_features.empty()) add_vector_math(tli, vector_math_features);
  fam.registerPass([&] { return llvm::TargetLibraryAnalysis(tli); });
  llvm::PassBuilder pb(&tm);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  if (!parts) {
    pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3).run(m, mam);
    return;
  }
  // A split program (many never-inlined parts): each function through O3's function
  // simplification, then O3's optimisation pipeline (vectorisers, unrolling). What this
  // leaves out is the interprocedural simplification (inliner, IPSCCP, called-value
  // propagation, function attributes), which has nothing to inline or propagate here and
  // grows faster than linearly with the number of parts and their pointer arguments.
  llvm::ModulePassManager mpm;
  mpm.addPass(llvm::createModuleToFunctionPassAdaptor(
      pb.buildFunctionSimplificationPipeline(llvm::OptimizationLevel::O3, llvm::ThinOrFullLTOPhase::None)));
  mpm.addPass(pb.buildModuleOptimizationPipeline(llvm::OptimizationLevel::O3, llvm::ThinOrFullLTOPhase::None));
  mpm.run(m, mam);
}

std::string compile_to_object(const Program& program, const std::string& function, const Target& target,
                              const ObjectOptions& options) {
  auto wants = [&](const char* kind) { return options.wants && options.write && options.wants(kind); };
  llvm::LLVMContext ctx;
  std::unique_ptr<llvm::Module> m = emit_module(program, ctx, function, target, options.emit);
  if (options.extra) options.extra(*m);
  if (wants("ir")) options.write("ir", module_text(*m));
  optimise_o3(*m, target.machine(), options.vector_math ? vector_math_features(target) : "", is_split(program));
  if (wants("opt-ir")) options.write("opt-ir", module_text(*m));
  if (wants("asm")) options.write("asm", emit_file(*m, target.machine(), llvm::CodeGenFileType::AssemblyFile));
  return emit_file(*m, target.machine(), llvm::CodeGenFileType::ObjectFile);
}

}  // namespace hamux::codegen
