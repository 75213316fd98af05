// examples/aot/bench_aot_jit.cpp - step time of the AOT kernel vs the JIT kernel, W1-W5.
//
//   hamux_aot_bench MODELS_DIR [W1 W2 ...]
//
// Both kernels come from the same loop program (the step kernel with energy); the AOT
// object is compiled for this CPU and, for timing only, loaded into this process with
// LLJIT (the machine code is the object's, unchanged). One thread; each workload runs K steps
// in one call per block of samples (as the generated header does), best of 3 after a warm-up;
// prints milliseconds per step.
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/TargetSelect.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "autodiff/derive.h"
#include "codegen/aot.h"
#include "codegen/step.h"
#include "interp/interpreter.h"

namespace {

using namespace hamux;
using KernelFn = void (*)(void* const*, int64_t, int64_t, char*, int64_t);

struct Workload {
  const char* id;
  const char* file;
  int64_t batch, steps;
  double dt;
};

const Workload kWorkloads[] = {
    {"W1", "classical_hopfield.json", 256, 100, 0.1}, {"W2", "dense_am.json", 100, 40, 0.5},
    {"W3", "readme.json", 1, 1000, 0.1},             {"W4", "energy_transformer.json", 8, 12, 0.1},
    {"W5", "conv.json", 32, 20, 0.1},
};

template <class V>
V unwrap(llvm::Expected<V> v) {
  if (!v) throw std::runtime_error(llvm::toString(v.takeError()));
  return std::move(*v);
}

template <class F>
double best_ms(F f) {
  f();  // warm-up: page faults, caches
  double best = 1e300;
  for (int r = 0; r < 3; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

template <class T>
void bench(const Workload& w, const Model& m) {
  const auto pv = interp::param_values<T>(m);
  const size_t n = m.neurons.size();
  std::vector<std::vector<T>> x(n), xhat(n), mask(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t e = num_elements(m.neurons[i].shape);
    x[i].resize(w.batch * e);
    for (int64_t k = 0; k < w.batch * e; ++k) x[i][k] = static_cast<T>(0.5 * std::sin(0.37 * k));
    xhat[i].resize(w.batch * e);
    mask[i].assign(e, T(1));
  }
  std::vector<T> energy(w.batch);
  const std::vector<std::vector<T>> x0 = x;

  // JIT
  codegen::StepOptions so;
  so.energy = true;
  codegen::StepKernel jit(m, derive(m), so);
  codegen::StepKernel::Bindings b;
  for (size_t i = 0; i < n; ++i) {
    b.x.push_back(x[i].data());
    b.xhat.push_back(xhat[i].data());
    b.mask.push_back(mask[i].data());
  }
  for (const ParamDef& pd : m.params) b.params.push_back(pv.at(pd.name).data.data());
  b.energy = energy.data();
  const double jit_ms = best_ms([&] {
    x = x0;
    jit.run(b, 0, w.batch, w.dt, w.steps);
  });
  const double jit_energy = energy[0];

  // AOT
  codegen::AotOptions o;
  o.prefix = "bench";
  const codegen::AotResult r = codegen::compile_aot(m, o);
  auto lljit = unwrap(llvm::orc::LLJITBuilder().create());
  lljit->getMainJITDylib().addGenerator(unwrap(
      llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(lljit->getDataLayout().getGlobalPrefix())));
  if (auto e = lljit->addObjectFile(llvm::MemoryBuffer::getMemBufferCopy(r.object)))
    throw std::runtime_error(llvm::toString(std::move(e)));
  auto fn = unwrap(lljit->lookup("bench_kernel")).toPtr<KernelFn>();
  const codegen::Program& p = r.program;
  std::vector<void*> slots(p.num_external, nullptr);
  std::vector<T> rate(n);
  auto slot = [&](int buffer) { return p.buffers.at(buffer).external; };
  for (size_t i = 0; i < n; ++i) {
    const NeuronDef& nd = m.neurons[i];
    rate[i] = static_cast<T>(w.dt / nd.tau);
    slots[slot(p.inputs.at(static_cast<int>(i)))] = x[i].data();
    slots[slot(p.inputs.at(static_cast<int>(n + i)))] = xhat[i].data();
    slots[slot(p.params.at("$rate[" + nd.name + "]"))] = &rate[i];
    slots[slot(p.params.at("$mask[" + nd.name + "]"))] = mask[i].data();
  }
  for (const ParamDef& pd : m.params) slots[slot(p.params.at(pd.name))] = const_cast<T*>(pv.at(pd.name).data.data());
  for (const codegen::Buffer& buf : p.buffers)
    if (buf.kind == codegen::BufferKind::Output && buf.name == "energy") slots[buf.external] = energy.data();
  void* ws = std::aligned_alloc(64, (p.workspace_bytes(w.batch) + 64) / 64 * 64);
  // Slices of samples_per_call samples, as the generated header's <prefix>_run_slice calls it.
  const int64_t block = codegen::samples_per_call(p, w.batch, int64_t{512} << 10);
  const double aot_ms = best_ms([&] {
    x = x0;
    for (int64_t b0 = 0; b0 < w.batch; b0 += block)
      fn(slots.data(), b0, std::min<int64_t>(w.batch, b0 + block), static_cast<char*>(ws), w.steps);
  });
  std::free(ws);
  std::printf("| %s %s | %lld, %lld | %.4g | %.4g | %.2f | %.6g / %.6g |\n", w.id, w.file,
              static_cast<long long>(w.batch), static_cast<long long>(w.steps), jit_ms / w.steps,
              aot_ms / w.steps, aot_ms / jit_ms, jit_energy, static_cast<double>(energy[0]));
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: hamux_aot_bench MODELS_DIR [W1 ...]\n");
    return 2;
  }
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  std::vector<std::string> only(argv + 2, argv + argc);
  std::printf("| workload | batch, steps | JIT ms/step | AOT ms/step | AOT/JIT | energy JIT / AOT |\n");
  std::printf("| --- | --- | --- | --- | --- | --- |\n");
  try {
    for (const Workload& w : kWorkloads) {
      if (!only.empty() && std::find(only.begin(), only.end(), w.id) == only.end()) continue;
      const Model m = load_model(std::string(argv[1]) + "/" + w.file);
      if (m.dtype == ir::DType::F32) bench<float>(w, m);
      else bench<double>(w, m);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
