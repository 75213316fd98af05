// tools/hamux/compile.cpp - `hamux compile model.json -o DIR`: ahead-of-time kernels.
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "support/files.h"
#include "support/printable.h"
#include "args.h"
#include "hamux/io.h"
#include "step/aot_step.h"
#include "command.h"
#include "frontend/model.h"

namespace hamux::cli {
namespace {

const char* const kUsage =
    "usage: hamux compile <model.json> -o DIR [options]\n"
    "\n"
    "Compiles the model's dynamics ahead of time into DIR: an object file <prefix>.o (and\n"
    "the same as a static library lib<prefix>.a), a C header <prefix>.h declaring the\n"
    "kernels (activations and energy, one step, K steps) with their buffer layouts, the\n"
    "helper header hamux_aot.h, and the params, embedded in the object or as .npy files.\n"
    "A C program links the object with -lm alone: no LLVM, Eigen or hamux library\n"
    "(with --kernels library: -lhamux_kernels -lstdc++ -lmvec -lm, see docs/aot.md).\n"
    "\n"
    "options:\n"
    "  -o, --output DIR     where to write the files (created if missing; required)\n"
    "  --target TRIPLE      target triple (default: this machine's)\n"
    "  --cpu NAME           target CPU (default: this machine's CPU, or generic with --target)\n"
    "  --params MODE        embed (default): params inside the object; files: .npy files\n"
    "  --load-params FILE   param values from an .npz or a directory of .npy files (e.g.\n"
    "                       the params.npz of hamux train) instead of the model's init\n"
    "  --prefix NAME        C prefix of every symbol (default: the model name)\n"
    "  --dtype T            float32 or float64: compile the model with this dtype instead\n"
    "  --kernels MODE       loops (default): contractions as loops in the object, which\n"
    "                       needs only libm; library: contractions call libhamux_kernels\n"
    "                       (Eigen's GEMM) and math calls libmvec, as the JIT's kernels do:\n"
    "                       JIT speed, for this machine's CPU\n"
    "  -h, --help           show this help\n";

std::string read_file(const std::string& path) {
  return read_regular_file(path, kMaxModelFileBytes, "a model file may take");
}

// The model with its "dtype" replaced (the file itself is not touched).
Model load_as(const std::string& path, const std::string& dtype) {
  const std::string text = read_file(path);
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return load_model(path);  // load_model reports why
  j["dtype"] = dtype;
  const size_t slash = path.find_last_of('/');
  return parse_model(j.dump(), path, slash == std::string::npos ? "." : path.substr(0, slash));
}

int run_compile(const std::vector<std::string>& raw) {
  std::vector<std::string> args = raw;
  for (std::string& a : args)
    if (a == "-o") a = "--output";
    else if (a.rfind("-o=", 0) == 0) a = "--output=" + a.substr(3);
  const ParsedArgs parsed =
      parse_args(args, {"--output", "--target", "--cpu", "--params", "--prefix", "--dtype", "--load-params", "--kernels"}, kUsage);
  if (parsed.help) {
    std::cout << kUsage;
    return 0;
  }
  if (parsed.positional.empty()) throw UsageError("missing model file", kUsage);
  if (parsed.positional.size() > 1) throw UsageError("too many arguments", kUsage);
  auto opt = [&](const std::string& name) {
    auto it = parsed.options.find(name);
    return it == parsed.options.end() ? std::string() : it->second;
  };
  const std::string dir = opt("--output");
  if (dir.empty()) throw UsageError("missing output directory (-o DIR)", kUsage);
  codegen::AotOptions o;
  o.triple = opt("--target");
  o.cpu = opt("--cpu");
  o.prefix = opt("--prefix");
  const std::string params = opt("--params");
  if (params == "files") o.embed_params = false;
  else if (!params.empty() && params != "embed")
    throw UsageError("option '--params' expects embed or files, got '" + params + "'", kUsage);
  const std::string kernels = opt("--kernels");
  if (kernels == "library") o.kernels_library = true;
  else if (!kernels.empty() && kernels != "loops")
    throw UsageError("option '--kernels' expects loops or library, got '" + kernels + "'", kUsage);
  const std::string dtype = opt("--dtype");
  if (!dtype.empty() && dtype != "float32" && dtype != "float64")
    throw UsageError("option '--dtype' expects float32 or float64, got '" + dtype + "'", kUsage);

  const std::string& path = parsed.positional[0];
  Model model = dtype.empty() ? load_model(path) : load_as(path, dtype);
  if (!opt("--load-params").empty())
    for (auto& [key, t] : read_params(model, opt("--load-params"))) model.params[model.param_index(key)].value = t;
  const codegen::AotResult r = codegen::compile_aot(model, o);
  const std::vector<std::string> files = codegen::write_aot(r, model, dir);
  std::cout << "model: " << printable(model.name) << "\ntarget: " << r.triple << " (cpu " << r.cpu << ")\nwrote:\n";
  for (const std::string& f : files) std::cout << "  " << f << "\n";
  return 0;
}

}  // namespace

const Command kCompileCommand = {"compile", "compile the dynamics to an object file and a C header", kUsage,
                                 run_compile};

}  // namespace hamux::cli
