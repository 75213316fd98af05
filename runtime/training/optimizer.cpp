// runtime/training/optimizer.cpp - see optimizer.h. The update rules are those of optax and
// PyTorch: SGD v = mu v + g, p -= lr (g + mu v if nesterov else v); Adam with bias-corrected
// moments and eps outside the square root; AdamW with the decay lr * wd * p decoupled from
// the moments. Clipping comes first, on the raw gradient (optax.chain(clip_by_global_norm, ...)).
#include "training/optimizer.h"

#include <cmath>

#include "frontend/json_util.h"

namespace hamux::training {

namespace {

[[noreturn]] void bad(const std::string& what) { throw Error("optimizer", what); }

void check_range(const char* name, double v, double lo, bool lo_open, double hi, bool hi_open) {
  const bool ok = std::isfinite(v) && (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi);
  if (!ok) {
    std::string range = std::string(lo_open ? "(" : "[") + frontend::fmt_number(lo) + ", " +
                        (std::isinf(hi) ? "inf" : frontend::fmt_number(hi)) + (hi_open ? ")" : "]");
    bad(std::string(name) + " must be in " + range + ", got " + (std::isnan(v) ? "nan" : frontend::fmt_number(v)));
  }
}

}  // namespace

void check_optimizer(const Optimizer& o) {
  if (o.name != "sgd" && o.name != "adam" && o.name != "adamw")
    bad("unknown optimizer '" + o.name + "' (expected sgd, adam or adamw)");
  if (o.schedule != "constant" && o.schedule != "cosine")
    bad("unknown schedule '" + o.schedule + "' (expected constant or cosine)");
  const double inf = INFINITY;
  check_range("lr", o.lr, 0, true, inf, true);
  check_range("momentum", o.momentum, 0, false, 1, true);
  check_range("beta1", o.beta1, 0, false, 1, true);
  check_range("beta2", o.beta2, 0, false, 1, true);
  check_range("eps", o.eps, 0, true, inf, true);
  check_range("weight_decay", o.weight_decay, 0, false, inf, true);
  check_range("min_lr", o.min_lr, 0, false, o.lr, false);
  check_range("clip_norm", o.clip_norm, 0, false, inf, true);
  if (o.warmup_steps < 0) bad("warmup_steps must be >= 0, got " + std::to_string(o.warmup_steps));
}

double learning_rate(const Optimizer& o, int64_t step, int64_t total_steps) {
  if (step < o.warmup_steps) return o.lr * static_cast<double>(step + 1) / static_cast<double>(o.warmup_steps);
  if (o.schedule == "constant") return o.lr;
  // Cosine from lr (the first step after warm-up) to min_lr (the last step).
  const int64_t span = total_steps - o.warmup_steps - 1;
  if (span <= 0) return o.lr;
  const double f = static_cast<double>(step - o.warmup_steps) / static_cast<double>(span);
  const double kPi = 3.14159265358979323846;
  return o.min_lr + (o.lr - o.min_lr) * 0.5 * (1 + std::cos(kPi * std::min(f, 1.0)));
}

double global_norm(const std::map<std::string, std::vector<double>>& grads) {
  // Eight running sums, element i into sum i % 8, added up at the end: a fixed order (the
  // same bits on every run), and eight independent chains the compiler vectorises, where
  // one sum is a chain of dependent additions as long as the params.
  constexpr size_t kLanes = 8;
  double lanes[kLanes] = {};
  for (const auto& [name, g] : grads) {
    const size_t n = g.size(), whole = n - n % kLanes;
    for (size_t i = 0; i < whole; i += kLanes)
      for (size_t l = 0; l < kLanes; ++l) lanes[l] += g[i + l] * g[i + l];
    for (size_t i = whole; i < n; ++i) lanes[i - whole] += g[i] * g[i];
  }
  double s = 0;
  for (double l : lanes) s += l;
  return std::sqrt(s);
}

OptimizerState::OptimizerState(const Optimizer& o, const std::map<std::string, std::vector<double>>& params) : o_(o) {
  check_optimizer(o);
  for (const auto& [name, p] : params) {
    m_[name].assign(p.size(), 0.0);
    if (o.name != "sgd") v_[name].assign(p.size(), 0.0);
  }
}

double OptimizerState::step(std::map<std::string, std::vector<double>>& params,
                            std::map<std::string, std::vector<double>>& grads, double lr) {
  const double norm = global_norm(grads);
  if (o_.clip_norm > 0 && norm > o_.clip_norm) {
    const double f = o_.clip_norm / norm;
    for (auto& [name, g] : grads)
      for (double& v : g) v *= f;
  }
  ++steps_;
  const double t = static_cast<double>(steps_);
  // The bias corrections as factors: one division per element is left (a division costs
  // as much as the rest of the update).
  const double c1 = 1 / (1 - std::pow(o_.beta1, t)), c2 = 1 / (1 - std::pow(o_.beta2, t));
  // The rule is chosen once per step, not per element: the loops below are plain arithmetic
  // on arrays, which the compiler vectorises (a string compare and a map lookup per element
  // made this step cost more than the whole gradient of a batch).
  const bool sgd = o_.name == "sgd", adamw = o_.name == "adamw";
  const double wd = o_.weight_decay, mu = o_.momentum, b1 = o_.beta1, b2 = o_.beta2, eps = o_.eps;
  for (auto& [name, param] : params) {
    const size_t n = param.size();
    double* p = param.data();
    const double* g = grads.at(name).data();
    double* m = m_.at(name).data();
    if (sgd) {
      for (size_t i = 0; i < n; ++i) {
        const double gi = g[i] + wd * p[i];
        m[i] = mu * m[i] + gi;
        p[i] -= lr * (o_.nesterov ? gi + mu * m[i] : m[i]);
      }
      continue;
    }
    double* v = v_.at(name).data();
    for (size_t i = 0; i < n; ++i) {
      const double gi = adamw ? g[i] : g[i] + wd * p[i];
      m[i] = b1 * m[i] + (1 - b1) * gi;
      v[i] = b2 * v[i] + (1 - b2) * gi * gi;
      double update = (m[i] * c1) / (std::sqrt(v[i] * c2) + eps);
      if (adamw) update += wd * p[i];
      p[i] -= lr * update;
    }
  }
  return norm;
}

void OptimizerState::restore(int64_t steps, std::map<std::string, std::vector<double>> m,
                             std::map<std::string, std::vector<double>> v) {
  steps_ = steps;
  m_ = std::move(m);
  v_ = std::move(v);
}

}  // namespace hamux::training
