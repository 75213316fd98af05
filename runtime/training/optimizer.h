// runtime/training/optimizer.h - SGD with momentum, Adam and AdamW, with learning-rate
// schedules and global gradient-norm clipping (hamux/training.h: Optimizer).
//
// The optimiser works in the model's dtype, as optax does: the params it updates are the
// kernels' own arrays (float32 for a float32 model), and so are its moments. A step is one
// pass over each param (gradient, param and moments read once, written once), cut into
// fixed chunks that a thread pool may run in any order: the bits do not depend on it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hamux/training.h"

namespace hamux {
class ThreadPool;
}

namespace hamux::training {

// Throws Error("optimizer", ...) for a name, schedule or number out of range.
void check_optimizer(const Optimizer& o);

// The learning rate of step `step` (0-based) of a run of `total_steps` steps.
double learning_rate(const Optimizer& o, int64_t step, int64_t total_steps);

// One param as a step sees it: its values, updated in place, and its gradient.
template <class T>
struct ParamSlot {
  std::string name;  // for errors
  T* values = nullptr;
  const double* grad = nullptr;
  int64_t size = 0;
};

template <class T>
class OptimizerState {
 public:
  // `sizes`: the element count of each param, in the order step() is given them.
  OptimizerState(const Optimizer& o, const std::vector<int64_t>& sizes);

  // One step at learning rate `lr`: params -= update(grads), the gradient first scaled to a
  // global norm of at most clip_norm when that is set. Returns the global norm before
  // clipping (summed in a fixed order). `pool` may be null (the calling thread does all).
  // Throws Error("param 'W'", ...) when the step leaves a value that is not finite.
  double step(const std::vector<ParamSlot<T>>& params, double lr, ThreadPool* pool = nullptr);

  int64_t steps() const { return steps_; }
  // The moments per param ("m" for momentum / Adam's first moment, "v" for Adam's second,
  // empty for SGD): what a checkpoint stores, and restores with restore().
  const std::vector<std::vector<T>>& m() const { return m_; }
  const std::vector<std::vector<T>>& v() const { return v_; }
  void restore(int64_t steps, std::vector<std::vector<T>> m, std::vector<std::vector<T>> v);

 private:
  Optimizer o_;
  int64_t steps_ = 0;
  std::vector<std::vector<T>> m_, v_;
};

extern template class OptimizerState<float>;
extern template class OptimizerState<double>;

}  // namespace hamux::training
