// compiler/codegen/evaluate.cpp - binding tensors to a generic kernel's buffer slots.
#include "codegen/jit/evaluate.h"

#include <algorithm>
#include <thread>

#include "codegen/loops/lower.h"
#include "hamux/error.h"

namespace hamux::codegen {

namespace {
Shape with_batch(int64_t batch, const Shape& s) {
  Shape r{batch};
  r.insert(r.end(), s.begin(), s.end());
  return r;
}
}  // namespace

template <class T>
std::vector<Tensor<T>> evaluate(const std::vector<ir::NodePtr>& outputs,
                                const std::vector<Tensor<T>>& inputs,
                                const std::map<std::string, Tensor<T>>& params, int64_t batch,
                                int threads, const CompileOptions& options) {
  const ir::DType dtype = sizeof(T) == 4 ? ir::DType::F32 : ir::DType::F64;
  auto kernel = compile(lower_graphs(outputs, dtype, options.small_einsum_work), options);
  const Program& p = kernel->program();

  std::vector<void*> slots(p.num_external, nullptr);
  std::vector<Tensor<T>> results;
  for (const Buffer& b : p.buffers) {
    if (b.kind == BufferKind::Output) {
      results.emplace_back(b.batched ? with_batch(batch, b.shape) : b.shape);
      slots[b.external] = results.back().data.data();
    }
  }
  for (auto& [index, buf] : p.inputs) {
    const Buffer& b = p.buffers[buf];
    if (index < 0 || index >= static_cast<int>(inputs.size()))
      throw Error("", "codegen: input " + std::to_string(index) + " (" + b.name + ") is not bound");
    const Tensor<T>& t = inputs[index];
    if (t.shape != with_batch(batch, b.shape))
      throw Error("", "codegen: input " + std::to_string(index) + " (" + b.name + ") has shape " +
                          shape_str(t.shape) + ", expected " + shape_str(with_batch(batch, b.shape)));
    slots[b.external] = const_cast<T*>(t.data.data());
  }
  for (auto& [name, buf] : p.params) {
    const Buffer& b = p.buffers[buf];
    auto it = params.find(name);
    if (it == params.end()) throw Error("", "codegen: param " + name + " is not bound");
    if (it->second.shape != b.shape)
      throw Error("", "codegen: param " + name + " has shape " + shape_str(it->second.shape) +
                          ", expected " + shape_str(b.shape));
    slots[b.external] = const_cast<T*>(it->second.data.data());
  }

  threads = static_cast<int>(std::clamp<int64_t>(threads, 1, std::max<int64_t>(batch, 1)));
  if (threads == 1) {
    kernel->run(slots.data(), 0, batch);
  } else {
    // Unbatched outputs are written by every slice; they get the same values, but to
    // keep the writes race-free only slice 0 writes into the real buffer.
    std::vector<std::vector<T>> spare;
    std::vector<std::vector<void*>> slot_sets(threads, slots);
    for (int t = 1; t < threads; ++t)
      for (const Buffer& b : p.buffers)
        if (b.kind == BufferKind::Output && !b.batched) {
          spare.emplace_back(b.elements());
          slot_sets[t][b.external] = spare.back().data();
        }
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      int64_t lo = batch * t / threads, hi = batch * (t + 1) / threads;
      pool.emplace_back([&, t, lo, hi] { kernel->run(slot_sets[t].data(), lo, hi); });
    }
    for (auto& th : pool) th.join();
  }
  // Outputs that do not depend on an input are the same for every sample.
  size_t r = 0;
  for (const Buffer& b : p.buffers) {
    if (b.kind != BufferKind::Output) continue;
    Tensor<T>& t = results[r++];
    if (!b.batched) {
      Tensor<T> full(with_batch(batch, b.shape));
      for (int64_t s = 0; s < batch; ++s) std::copy(t.data.begin(), t.data.end(), full.data.begin() + s * t.size());
      t = std::move(full);
    }
  }
  return results;
}

template std::vector<Tensor<float>> evaluate(const std::vector<ir::NodePtr>&, const std::vector<Tensor<float>>&,
                                             const std::map<std::string, Tensor<float>>&, int64_t, int,
                                             const CompileOptions&);
template std::vector<Tensor<double>> evaluate(const std::vector<ir::NodePtr>&, const std::vector<Tensor<double>>&,
                                              const std::map<std::string, Tensor<double>>&, int64_t, int,
                                              const CompileOptions&);

}  // namespace hamux::codegen
