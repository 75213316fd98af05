// runtime/training/optimizer.h - SGD with momentum, Adam and AdamW on float64 params, with
// learning-rate schedules and global gradient-norm clipping (hamux/training.h: Optimizer).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "hamux/training.h"

namespace hamux::training {

// Throws Error("optimizer", ...) for a name, schedule or number out of range.
void check_optimizer(const Optimizer& o);

// The learning rate of step `step` (0-based) of a run of `total_steps` steps.
double learning_rate(const Optimizer& o, int64_t step, int64_t total_steps);

// The global L2 norm of a set of gradients.
double global_norm(const std::map<std::string, std::vector<double>>& grads);

class OptimizerState {
 public:
  OptimizerState(const Optimizer& o, const std::map<std::string, std::vector<double>>& params);

  // One step: params -= update(grads) at learning rate `lr`. `grads` are clipped in place
  // when clip_norm is set. Returns the norm before clipping.
  double step(std::map<std::string, std::vector<double>>& params, std::map<std::string, std::vector<double>>& grads,
              double lr);

  int64_t steps() const { return steps_; }
  // The moments by name ("m" for momentum / Adam's first moment, "v" for Adam's second):
  // what a checkpoint stores, and restores with restore().
  const std::map<std::string, std::vector<double>>& m() const { return m_; }
  const std::map<std::string, std::vector<double>>& v() const { return v_; }
  void restore(int64_t steps, std::map<std::string, std::vector<double>> m, std::map<std::string, std::vector<double>> v);

 private:
  Optimizer o_;
  int64_t steps_ = 0;
  std::map<std::string, std::vector<double>> m_, v_;
};

}  // namespace hamux::training
