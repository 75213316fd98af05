// compiler/step/aot_step.cpp - model -> self-contained step kernel object and its C header.
#include "step/aot_step.h"

#include <llvm/IR/Constants.h>
#include <llvm/IR/Module.h>

#include <filesystem>

#include "autodiff/derive.h"
#include "codegen/loops/pack_weights.h"
#include "frontend/npy.h"
#include "hamux/error.h"
#include "step/aot_header.h"
#include "support/files.h"

namespace hamux::codegen {

namespace {

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

}  // namespace

AotResult compile_aot(const Model& model, const AotOptions& options) {
  AotResult r;
  r.prefix = options.prefix.empty() ? c_identifier(model.name) : options.prefix;
  if (!is_c_identifier(r.prefix)) throw Error("", "aot: prefix '" + r.prefix + "' is not a C identifier");
  r.embed_params = options.embed_params;
  r.kernels_library = options.kernels_library;
  StepProgram sp = lower_step_program(model, derive(model), /*energy=*/true);
  r.program = std::move(sp.program);
  // The kernels library's GEMM reads weights packed once per call by the prologue, as the
  // JIT's kernels do (loops/pack_weights.h).
  if (options.kernels_library) pack_weights(r.program, kPackMinBytes);
  r.layout = std::move(sp.layout);
  AotTargetInfo info;
  r.object = compile_program_aot(
      r.program, r.prefix + "_kernel", options,
      [&](llvm::Module& m) {
        if (r.embed_params) embed_params(m, model, r.prefix);
      },
      &info);
  r.triple = info.triple;
  r.cpu = info.cpu;
  r.features = info.features;
  r.header = aot_c_header(model, r);
  return r;
}

std::vector<std::string> write_aot(const AotResult& r, const Model& model, const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(dir, "cannot create directory: " + ec.message());
  // Written as a set (support/files.h): a failure part-way leaves every earlier file as it was,
  // so a folder never holds an object of one compile and a header of another.
  std::vector<std::pair<std::string, std::string>> out;
  auto put = [&](const std::string& name, std::string bytes) {
    out.emplace_back((fs::path(dir) / name).string(), std::move(bytes));
  };
  put(r.prefix + ".o", r.object);
  put("lib" + r.prefix + ".a", aot_archive(r.object, r.prefix + ".o", r.triple));
  put(r.prefix + ".h", r.header);
  put("hamux_aot.h", aot_helper_header());
  if (!r.embed_params) {
    const std::vector<std::string> ids = aot_param_ids(model);
    for (size_t k = 0; k < model.params.size(); ++k)
      put(r.prefix + "_" + ids[k] + ".npy", npy_bytes(model.params[k].value, model.dtype == ir::DType::F64));
  }
  write_files_atomic(out);
  std::vector<std::string> files;
  for (const auto& [path, bytes] : out) files.push_back(path);
  return files;
}

}  // namespace hamux::codegen
