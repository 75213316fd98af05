// compiler/codegen/llvm/object.cpp - see object.h.
#include "codegen/llvm/object.h"

#include <llvm/Analysis/TargetLibraryInfo.h>
#include <llvm/IR/DiagnosticHandler.h>
#include <llvm/IR/DiagnosticInfo.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/CommandLine.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

#include <mutex>

#include "codegen/llvm/contraction_loops.h"
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

// Sets LLVM's boolean command-line option `name` (both used here are cl::opt<bool> in
// LLVM 19, the only version hamux builds with); an option this LLVM does not have is left.
void set_llvm_flag(const char* name, bool value) {
  llvm::StringMap<llvm::cl::Option*>& options = llvm::cl::getRegisteredOptions();
  auto it = options.find(name);
  if (it != options.end()) static_cast<llvm::cl::opt<bool>*>(it->second)->setValue(value);
}

// The emitter asks for some short loops to be vectorised (Emitter::loop: those calling exp,
// log, tanh ...); one the vectoriser cannot do stays a scalar loop, as it was without the
// hint, but LLVM would print "loop not vectorized" on stderr for it - not the user's concern.
// Every other diagnostic goes to LLVM's default handler.
struct QuietVectoriserHints : llvm::DiagnosticHandler {
  bool handleDiagnostics(const llvm::DiagnosticInfo& di) override {
    return di.getKind() == llvm::DK_OptimizationFailure;  // true: handled (dropped)
  }
};

}  // namespace

std::string vector_math_features(const Target& target) {
  std::string f;
  if (target.has("sse4.2")) f += "+sse4.2";
  if (target.has("avx2")) f += f.empty() ? "+avx2" : ",+avx2";
  return f;
}

void optimise(llvm::Module& m, llvm::TargetMachine& tm, const std::string& vector_math_features, bool parts,
              Pipeline pipeline) {
  const llvm::OptimizationLevel level =
      pipeline == Pipeline::kFull ? llvm::OptimizationLevel::O3 : llvm::OptimizationLevel::O2;
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
    pb.buildPerModuleDefaultPipeline(level).run(m, mam);
    return;
  }
  // A split program (many never-inlined parts): each function through the level's function
  // simplification, then its optimisation pipeline (vectorisers, unrolling). What this
  // leaves out is the interprocedural simplification (inliner, IPSCCP, called-value
  // propagation, function attributes), which has nothing to inline or propagate here and
  // grows faster than linearly with the number of parts and their pointer arguments.
  llvm::ModulePassManager mpm;
  mpm.addPass(llvm::createModuleToFunctionPassAdaptor(
      pb.buildFunctionSimplificationPipeline(level, llvm::ThinOrFullLTOPhase::None)));
  mpm.addPass(pb.buildModuleOptimizationPipeline(level, llvm::ThinOrFullLTOPhase::None));
  mpm.run(m, mam);
}

std::string compile_to_object(const Program& program, const std::string& function, const Target& target,
                              const ObjectOptions& options) {
  auto wants = [&](const char* kind) { return options.wants && options.write && options.wants(kind); };
  llvm::LLVMContext ctx;
  ctx.setDiagnosticHandler(std::make_unique<QuietVectoriserHints>());
  const std::string math = options.vector_math ? vector_math_features(target) : "";
  EmitOptions emit = options.emit;
  emit.vector_math = !vector_math_variants(math).empty();
  std::unique_ptr<llvm::Module> m = emit_module(program, ctx, function, target, emit);
  if (options.extra) options.extra(*m);
  if (wants("ir")) options.write("ir", module_text(*m));
  const Pipeline pipeline = has_contraction_loops(*m) ? Pipeline::kFull : Pipeline::kLight;
  // GVN's memory dependences and loop strength reduction can only be switched by LLVM's
  // command-line options, which are process-wide: they are set for each compile, under a
  // lock, so that compiles in other threads (the JIT's and `hamux compile`'s) do not race.
  static std::mutex options_mutex;
  std::lock_guard<std::mutex> lock(options_mutex);
  set_llvm_flag("enable-gvn-memdep", pipeline == Pipeline::kFull);
  set_llvm_flag("disable-lsr", pipeline == Pipeline::kLight);
  optimise(*m, target.machine(), math, is_split(program), pipeline);
  if (wants("opt-ir")) options.write("opt-ir", module_text(*m));
  if (wants("asm")) options.write("asm", emit_file(*m, target.machine(), llvm::CodeGenFileType::AssemblyFile));
  return emit_file(*m, target.machine(), llvm::CodeGenFileType::ObjectFile);
}

}  // namespace hamux::codegen
