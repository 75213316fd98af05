// runtime/training/optimizer.cpp - see optimizer.h. The update rules are those of optax and
// PyTorch: SGD v = mu v + g, p -= lr (g + mu v if nesterov else v); Adam with bias-corrected
// moments and eps outside the square root; AdamW with the decay lr * wd * p decoupled from
// the moments. Clipping comes first, on the raw gradient (optax.chain(clip_by_global_norm, ...)).
#include "training/optimizer.h"

#include <algorithm>
#include <cmath>

#include "frontend/json_util.h"
#include "support/finite.h"
#include "support/flush_subnormals.h"
#include "thread_pool.h"

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

namespace {

// A step's unit of work: elements [lo, hi) of param `param`. Fixed by the sizes alone, so
// that neither the sums below nor any element depends on which thread runs which chunk.
struct Chunk {
  size_t param;
  int64_t lo, hi;
};
constexpr int64_t kChunk = 1 << 14;  // 64 KiB of float32: the chunk's arrays stay in L2

std::vector<Chunk> chunks_of(const std::vector<int64_t>& sizes) {
  std::vector<Chunk> c;
  for (size_t p = 0; p < sizes.size(); ++p)
    for (int64_t lo = 0; lo < sizes[p]; lo += kChunk) c.push_back({p, lo, std::min(sizes[p], lo + kChunk)});
  return c;
}

// Sum of squares of g[lo, hi): eight running sums (element i into sum i % 8, added up at the
// end), a fixed order the compiler still vectorises, where one sum would be a serial chain.
double squares(const double* g, int64_t lo, int64_t hi) {
  constexpr int64_t kLanes = 8;
  double lanes[kLanes] = {};
  const int64_t whole = lo + (hi - lo) / kLanes * kLanes;
  for (int64_t i = lo; i < whole; i += kLanes)
    for (int64_t l = 0; l < kLanes; ++l) lanes[l] += g[i + l] * g[i + l];
  for (int64_t i = whole; i < hi; ++i) lanes[i - whole] += g[i] * g[i];
  double s = 0;
  for (double l : lanes) s += l;
  return s;
}

enum class Rule { Sgd, Nesterov, Adam, AdamW };

// The constants of one step, in the params' dtype.
template <class T>
struct StepConstants {
  double scale;  // the clipping factor, applied to the float64 gradient
  T lr, wd, mu, b1, one_b1, b2, one_b2, eps, c1, c2;
};

template <class T, Rule R>
void update(T* p, const double* g, T* m, T* v, int64_t lo, int64_t hi, const StepConstants<T>& k) {
  for (int64_t i = lo; i < hi; ++i) {
    const T raw = static_cast<T>(g[i] * k.scale);
    if constexpr (R == Rule::Sgd || R == Rule::Nesterov) {
      const T gi = raw + k.wd * p[i];
      m[i] = k.mu * m[i] + gi;
      p[i] -= k.lr * (R == Rule::Nesterov ? gi + k.mu * m[i] : m[i]);
    } else {
      const T gi = R == Rule::AdamW ? raw : raw + k.wd * p[i];
      m[i] = k.b1 * m[i] + k.one_b1 * gi;
      v[i] = k.b2 * v[i] + k.one_b2 * gi * gi;
      T u = (m[i] * k.c1) / (std::sqrt(v[i] * k.c2) + k.eps);
      if constexpr (R == Rule::AdamW) u += k.wd * p[i];
      p[i] -= k.lr * u;
    }
  }
}

std::string fmt(double v) { return std::isnan(v) ? "nan" : frontend::fmt_number(v); }

}  // namespace

template <class T>
OptimizerState<T>::OptimizerState(const Optimizer& o, const std::vector<int64_t>& sizes) : o_(o) {
  check_optimizer(o);
  for (int64_t n : sizes) {
    m_.emplace_back(static_cast<size_t>(n), T(0));
    v_.emplace_back(o.name == "sgd" ? 0 : static_cast<size_t>(n), T(0));
  }
}

template <class T>
double OptimizerState<T>::step(const std::vector<ParamSlot<T>>& params, double lr, ThreadPool* pool) {
  std::vector<int64_t> sizes;
  for (const ParamSlot<T>& p : params) sizes.push_back(p.size);
  const std::vector<Chunk> chunks = chunks_of(sizes);
  const int tasks = static_cast<int>(chunks.size());
  auto run = [&](const std::function<void(int)>& fn) {
    if (pool) pool->run(tasks, fn);
    else for (int c = 0; c < tasks; ++c) fn(c);
  };
  std::vector<double> partial(chunks.size(), 0.0);
  std::vector<char> finite(chunks.size(), 1);
  auto norm = [&] {
    double s = 0;
    for (double v : partial) s += v;  // in chunk order: the same bits for any pool
    return std::sqrt(s);
  };

  ++steps_;
  const double t = static_cast<double>(steps_);
  StepConstants<T> k{};
  k.lr = static_cast<T>(lr), k.scale = 1, k.wd = static_cast<T>(o_.weight_decay), k.mu = static_cast<T>(o_.momentum);
  k.b1 = static_cast<T>(o_.beta1), k.one_b1 = static_cast<T>(1 - o_.beta1);
  k.b2 = static_cast<T>(o_.beta2), k.one_b2 = static_cast<T>(1 - o_.beta2), k.eps = static_cast<T>(o_.eps);
  // The bias corrections as factors: one division per element is left (a division costs
  // as much as the rest of the update).
  k.c1 = static_cast<T>(1 / (1 - std::pow(o_.beta1, t))), k.c2 = static_cast<T>(1 / (1 - std::pow(o_.beta2, t)));
  // Clipping needs the norm before any element moves: a pass of its own. Without it, the
  // norm is summed in the update's pass, while the chunk's gradient is in the cache.
  const bool clip = o_.clip_norm > 0;
  double total = 0;
  if (clip) {
    run([&](int c) { partial[c] = squares(params[chunks[c].param].grad, chunks[c].lo, chunks[c].hi); });
    total = norm();
    if (total > o_.clip_norm) k.scale = o_.clip_norm / total;
  }
  // The rule is chosen once per step, not per element: the loops are plain arithmetic on
  // arrays, which the compiler vectorises.
  void (*rule)(T*, const double*, T*, T*, int64_t, int64_t, const StepConstants<T>&) =
      o_.name == "sgd" ? (o_.nesterov ? update<T, Rule::Nesterov> : update<T, Rule::Sgd>)
                       : (o_.name == "adamw" ? update<T, Rule::AdamW> : update<T, Rule::Adam>);
  run([&](int c) {
    const FlushSubnormals flush;  // support/flush_subnormals.h: why
    const Chunk& ch = chunks[c];
    const ParamSlot<T>& p = params[ch.param];
    if (!clip) partial[c] = squares(p.grad, ch.lo, ch.hi);
    T* v = v_[ch.param].empty() ? nullptr : v_[ch.param].data();
    rule(p.values, p.grad, m_[ch.param].data(), v, ch.lo, ch.hi, k);
    finite[c] = all_finite(p.values + ch.lo, static_cast<size_t>(ch.hi - ch.lo));
  });
  if (!clip) total = norm();
  for (size_t c = 0; c < chunks.size(); ++c) {
    if (finite[c]) continue;
    const ParamSlot<T>& p = params[chunks[c].param];
    int64_t i = chunks[c].lo;
    while (std::isfinite(p.values[i])) ++i;
    throw Error("param '" + p.name + "'",
                "optimizer step " + std::to_string(steps_) + " (lr " + fmt(lr) + ") made element " + std::to_string(i) +
                    " " + fmt(static_cast<double>(p.values[i])) +
                    " from a gradient of norm " + fmt(total) + "; lower the learning rate or set clip_norm");
  }
  return total;
}

template <class T>
void OptimizerState<T>::restore(int64_t steps, std::vector<std::vector<T>> m, std::vector<std::vector<T>> v) {
  steps_ = steps;
  m_ = std::move(m);
  v_ = std::move(v);
}

template class OptimizerState<float>;
template class OptimizerState<double>;

}  // namespace hamux::training
