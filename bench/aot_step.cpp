// bench/aot_step.cpp - loading a workload's AOT object and calling it like the C header.
#include "aot_step.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "codegen/jit/jit.h"
#include "support/flush_subnormals.h"
#include "step/aot_step.h"

namespace hamux::bench {
namespace {


// 64-byte aligned, freed with std::free.
struct Block {
  char* p = nullptr;
  explicit Block(int64_t bytes) : p(static_cast<char*>(std::aligned_alloc(64, (std::max<int64_t>(bytes, 1) + 63) / 64 * 64))) {
    if (!p) throw std::bad_alloc();
  }
  ~Block() { std::free(p); }
  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;
};

class Aot : public AotStep {
 public:
  Aot(const Workload& w, bool kernels_library) : w_(w) {
    codegen::AotOptions o;
    o.prefix = "bench";
    o.kernels_library = kernels_library;
    r_ = codegen::compile_aot(w.model, o);
    linked_ = std::make_unique<codegen::LinkedObject>(r_.object, kernels_library);
    prepare_ = reinterpret_cast<PrepareFn>(linked_->lookup("bench_kernel_prepare"));
    fn_ = reinterpret_cast<KernelFn>(linked_->lookup("bench_kernel"));
    block_ = codegen::samples_per_call(r_.program, w.spec.batch, int64_t{512} << 10);  // the header's budget
  }

  void run(const std::vector<float*>& x, const std::vector<float*>& xhat, int64_t begin, int64_t end, float dt,
           int64_t k_steps) const override {
    const codegen::Program& p = r_.program;
    const size_t n = w_.model.neurons.size();
    std::vector<void*> slots(p.num_external, nullptr);
    std::vector<float> rate(n), energy(w_.spec.batch);
    std::vector<std::vector<float>> ones(n);
    auto slot = [&](int buffer) { return p.buffers.at(buffer).external; };
    for (size_t i = 0; i < n; ++i) {
      const NeuronDef& nd = w_.model.neurons[i];
      rate[i] = static_cast<float>(dt / nd.tau);
      ones[i].assign(num_elements(nd.shape), 1.0f);
      slots[slot(p.inputs.at(static_cast<int>(i)))] = x[i];
      slots[slot(p.inputs.at(static_cast<int>(n + i)))] = xhat[i];
      slots[slot(p.params.at("$rate[" + nd.name + "]"))] = &rate[i];
      slots[slot(p.params.at("$mask[" + nd.name + "]"))] = ones[i].data();
    }
    for (const ParamDef& pd : w_.model.params)
      slots[slot(p.params.at(pd.name))] = const_cast<float*>(w_.params.at(pd.name).data.data());
    for (const codegen::Buffer& b : p.buffers)
      if (b.kind == codegen::BufferKind::Output && b.name == "energy") slots[b.external] = energy.data();
    FlushSubnormals flush;  // as the header's _run_slice does
    Block shared(p.shared_bytes), ws(p.workspace_bytes(std::min(block_, end - begin)));
    prepare_(slots.data(), shared.p);
    for (int64_t b0 = begin; b0 < end; b0 += block_)
      fn_(slots.data(), b0, std::min(end, b0 + block_), shared.p, ws.p, k_steps);
  }

 private:
  using PrepareFn = void (*)(void* const*, char*);
  using KernelFn = void (*)(void* const*, int64_t, int64_t, const char*, char*, int64_t);
  const Workload& w_;
  codegen::AotResult r_;
  std::unique_ptr<codegen::LinkedObject> linked_;
  PrepareFn prepare_ = nullptr;
  KernelFn fn_ = nullptr;
  int64_t block_ = 1;
};

}  // namespace

std::unique_ptr<AotStep> make_aot_step(const Workload& w, bool kernels_library) {
  return std::make_unique<Aot>(w, kernels_library);
}

}  // namespace hamux::bench
