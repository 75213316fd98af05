// runtime/ham_impl.h - what a Ham and a States hold (shared by the runtime's files).
//
// States live in the model's dtype, in the layout the step kernel reads and writes:
// one contiguous [batch, ...shape] buffer per neuron for x and for xhat, plus one mask
// per neuron ([...shape], 1 = moves, 0 = clamped) and one energy per sample.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "autodiff/derive.h"
#include "step/step.h"
#include "thread_pool.h"
#include "frontend/model.h"
#include "hamux/hamux.h"

namespace hamux {

// The buffers of one dtype.
template <class T>
struct StateData {
  std::vector<std::vector<T>> x, xhat, mask;  // mask empty: the neuron moves freely
  std::vector<T> energy;                      // [batch]
};

struct Ham::Impl {
  Model model;
  Derivation derivation;
  std::unique_ptr<codegen::StepKernel> kernel;  // built with energies
  std::vector<NeuronInfo> neurons;
  // Param values in the model's dtype, in model.params order (what the kernel reads).
  std::vector<std::vector<float>> params32;
  std::vector<std::vector<double>> params64;
  // The compiled backward step and loss kernels (runtime/gradients.cpp), made on first use.
  std::shared_ptr<void> gradient_kernels;
  // Thread pools reused by run(), gradients() and training (thread_pool.h).
  std::shared_ptr<PoolCache> pools = std::make_shared<PoolCache>();

  bool f64() const { return model.dtype == ir::DType::F64; }
  void refresh_params();          // model.params[*].value -> params32/params64
  void refresh_param(size_t k);   // the same for param k alone
  int neuron_index(const std::string& name) const;  // throws for an unknown name
  int param_index(const std::string& name) const;   // throws for an unknown name
};

struct States::Impl {
  std::shared_ptr<Ham::Impl> ham;
  int64_t batch = 0;
  StateData<float> f32;
  StateData<double> f64;
  bool xhat_fresh = false;  // xhat and energy describe the current x
  // Per-sample clamp masks, per neuron: [batch, ...shape], 1 = held; empty for a neuron
  // without one (the kernel's mask is per neuron, so run() restores these elements after
  // every step instead; see runtime/run.cpp).
  std::vector<std::vector<uint8_t>> held;
  bool has_held() const {
    return std::any_of(held.begin(), held.end(), [](const std::vector<uint8_t>& h) { return !h.empty(); });
  }

  template <class T>
  StateData<T>& data();
  int64_t elements(int neuron) const { return num_elements(ham->neurons[neuron].shape); }
  // Runs the kernel for zero steps: xhat and energy of the current x.
  void refresh_activations();
  // x of every neuron as float64 tensors [batch, ...shape] (for the interpreter).
  std::vector<Tensor<double>> states64() const;
};

template <>
inline StateData<float>& States::Impl::data<float>() { return f32; }
template <>
inline StateData<double>& States::Impl::data<double>() { return f64; }

// The batch is cut into blocks of samples that depend on the model and the batch size
// alone, never on the thread count: the kernel's contractions run one GEMM over a block's
// samples, and a GEMM's rounding can depend on how many rows it has and where a row sits.
// With fixed blocks every thread count computes exactly the same calls. A block holds
//  - when the weights dominate (the shared contraction operands, codegen::
//    shared_operands, exceed 256 KiB and 16 samples' buffers: W1's W, W2's Xi), as
//    many samples as the cap allows, in blocks of equal size: each block reads the weights
//    once per GEMM, and W2's Xi (2.8 MB, more than L2) re-read for every block of 12
//    samples cost its gradient call 1.37x and its forward run 1.6x (docs/performance.md);
//  - otherwise at least 256 KiB of the kernel's per-sample buffers, up to 16 samples, and no
//    fewer than batch / 16 samples (a small working set stays in cache: W5's convolutions
//    are 15% slower in blocks of 4 than of 2);
//  - at most 64 samples, a multiple of 4 from 4 on, or the whole batch (Eigen's GEMM treats
//    the samples in groups of 4; a sample outside a full group takes another, differently
//    rounded path).
inline int64_t block_size(const Ham::Impl& ham, int64_t batch) {
  constexpr int64_t kMaxBlock = 64, kCacheBytes = int64_t{256} << 10;
  const codegen::Program& program = ham.kernel->kernel().program();
  int64_t block;
  const int64_t per_sample = std::max<int64_t>(program.footprint_per_sample(), 1);
  const int64_t weights = codegen::shared_operands(program).total_bytes;
  if (weights > kCacheBytes && weights > 16 * per_sample) {
    const int64_t blocks = (batch + kMaxBlock - 1) / kMaxBlock;
    block = (batch + blocks - 1) / std::max<int64_t>(blocks, 1);
  } else {
    const int64_t least = std::clamp<int64_t>(kCacheBytes / per_sample, 1, 16);
    block = std::clamp<int64_t>(std::max((batch + 15) / 16, least), 1, kMaxBlock);
  }
  if (block >= 4) block = (block + 3) / 4 * 4;
  return std::clamp<int64_t>(block, 1, std::max<int64_t>(batch, 1));
}
inline int64_t block_count(const Ham::Impl& ham, int64_t batch) {
  const int64_t size = block_size(ham, batch);
  return (batch + size - 1) / size;
}

// The energy tree of `s` (see Ham::energy_tree).
EnergyBreakdown energy_breakdown(const Ham::Impl& ham, const States::Impl& s);

// Kernel bindings for the buffers of `d`, with the Ham's params.
template <class T>
codegen::StepKernel::Bindings bindings(const Ham::Impl& ham, StateData<T>& d) {
  codegen::StepKernel::Bindings b;
  for (size_t i = 0; i < d.x.size(); ++i) {
    b.x.push_back(d.x[i].data());
    b.xhat.push_back(d.xhat[i].data());
    b.mask.push_back(d.mask[i].empty() ? nullptr : d.mask[i].data());
  }
  if constexpr (sizeof(T) == 8) {
    for (const auto& p : ham.params64) b.params.push_back(p.data());
  } else {
    for (const auto& p : ham.params32) b.params.push_back(p.data());
  }
  b.energy = d.energy.data();
  return b;
}

// Lets run() reach the insides of Ham and States.
struct RunAccess {
  static Ham::Impl& ham(const Ham& h) { return *h.impl_; }
  static States::Impl& states(States& s) { return *s.impl_; }
  static const States::Impl& states(const States& s) { return *s.impl_; }
};

}  // namespace hamux
