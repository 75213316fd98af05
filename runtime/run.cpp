// runtime/run.cpp - the integration loop: tau dx/dt = -dE/dxhat by explicit Euler steps.
//
// The step kernel advances a slice of the batch by k steps without coming back; the
// loop calls it on one slice per thread, in chunks that end where something has to be
// looked at: a recorded energy, a convergence check, the energy guard, a NaN check.
#include <algorithm>
#include <cmath>
#include <optional>
#include <thread>

#include "support/finite.h"
#include "ham_impl.h"
#include "step/run_messages.h"
#include "thread_pool.h"

namespace hamux {

namespace {

// The limits and the stop messages are run_messages.h's: the AOT header's C loop uses the same.
using run_messages::kMaxChunk;
using run_messages::kMaxHalvings;

void check_options(const Model& m, const RunOptions& o) {
  const std::string where = m.file;
  if (o.steps < 0) throw Error(where, run_messages::bad_steps(o.steps));
  if (!(o.dt > 0) || !std::isfinite(o.dt)) throw Error(where, run_messages::bad_dt(o.dt));
  if (!(o.tol >= 0) || !std::isfinite(o.tol)) throw Error(where, "tol must be >= 0, got " + std::to_string(o.tol));
  if (o.threads < 0) throw Error(where, "threads must be >= 0, got " + std::to_string(o.threads));
  if (o.record_every < 0) throw Error(where, "record_every must be >= 0, got " + std::to_string(o.record_every));
  if (!(o.state_bound >= 0)) throw Error(where, run_messages::bad_state_bound(o.state_bound));
}

template <class T>
class Integrator {
 public:
  Integrator(Ham::Impl& ham, States::Impl& s, const RunOptions& o)
      : ham_(ham), s_(s), d_(s.data<T>()), o_(o), b_(bindings(ham, d_)) {
    // The kernel computes energies only for a trace or the guard (States::energy() and the
    // activations are recomputed from x when asked for).
    if (o.record_every == 0 && !o.energy_guard) b_.energy = nullptr;
    int threads = resolve_threads(o.threads);
    threads_ = static_cast<int>(std::min<int64_t>(threads, block_count(ham, s.batch)));
    pool_ = PoolCache::take(ham.pools, threads_);
  }

  RunReport run() {
    RunReport r;
    double dt = o_.dt;
    const bool per_step = o_.tol > 0 || o_.energy_guard;
    check_finite(0);
    // The energy of the start is needed to record it and for the guard to compare with;
    // otherwise the first chunk's call computes everything the run returns.
    if (o_.record_every > 0 || o_.energy_guard) call(dt, 0);
    if (b_.energy) check_energy_finite(0);
    if (o_.record_every > 0) record(r, 0);
    int64_t step = 0;
    std::vector<std::vector<T>> prev_x;
    std::vector<T> prev_e;
    while (step < o_.steps) {
      int64_t k = std::min(o_.steps - step, kMaxChunk);
      if (per_step) k = 1;
      if (o_.record_every > 0) k = std::min(k, o_.record_every - step % o_.record_every);
      // Keep the state before the chunk: the guard and max |dx| compare with it, and a
      // chunk that ends in a NaN is replayed step by step to name the step it appeared.
      copy_into(prev_x, d_.x);
      prev_e = d_.energy;
      call(dt, k);
      // One scan of the states when they are fine; the checks that name the element and the
      // step only when they are not.
      if (!all_finite() || !within_state_bound()) {
        if (k > 1) {
          for (size_t i = 0; i < prev_x.size(); ++i) std::copy(prev_x[i].begin(), prev_x[i].end(), d_.x[i].begin());
          for (int64_t j = 1; j <= k; ++j) {
            call(dt, 1);
            check_finite(step + j);
            check_state_bound(step + j);
          }
        }
        check_finite(step + k);
        check_state_bound(step + k);
      }
      // Without the guard a NaN or inf energy stops the run; the guard retries it (below).
      if (b_.energy && !o_.energy_guard) check_energy_finite(step + k);
      if (o_.energy_guard) {
        if (const int64_t b = rising_sample(prev_e); b >= 0) {
          if (static_cast<int>(r.guard.size()) >= kMaxHalvings) {
            check_energy_finite(step + 1);
            throw Error(ham_.model.file, run_messages::guard_failed(b, step + 1, dt));
          }
          r.guard.push_back({step + 1, b, static_cast<double>(prev_e[b]), static_cast<double>(d_.energy[b]), dt / 2});
          // Undo the step (copying into the bound buffers), retry it with half the step size.
          for (size_t i = 0; i < prev_x.size(); ++i) std::copy(prev_x[i].begin(), prev_x[i].end(), d_.x[i].begin());
          std::copy(prev_e.begin(), prev_e.end(), d_.energy.begin());
          dt /= 2;
          s_.xhat_fresh = false;
          continue;
        }
      }
      step += k;
      if (per_step) r.max_dx = max_dx(prev_x);
      if (o_.tol > 0 && r.max_dx < o_.tol) r.converged = true;
      if (o_.record_every > 0 && (step % o_.record_every == 0 || step == o_.steps || r.converged)) record(r, step);
      if (o_.progress) o_.progress(step, o_.steps);
      if (r.converged) break;
    }
    if (!s_.xhat_fresh) call(dt, 0);
    r.steps = step;
    r.dt = dt;
    return r;
  }

 private:
  // Runs the kernel on every block of samples; the pool hands blocks to threads. The
  // parameter-only values are computed once (bind) and shared by all blocks and every dt.
  void call(double dt, int64_t k) {
    if (!bound_) bound_.emplace(ham_.kernel->bind(b_, dt));
    else if (bound_dt_ != dt) ham_.kernel->set_dt(*bound_, dt);  // (prepares nothing again)
    bound_dt_ = dt;
    if (!s_.has_held()) {
      run_blocks(k);
    } else {
      // Per-sample masks: the kernel's mask is per neuron, so those elements move in the
      // kernel and are put back after every step; the next step's activations (computed at
      // its start) and the final xhat/energy (one call without steps) see the held values.
      for (int64_t j = 0; j < k; ++j) {
        const std::vector<std::vector<T>> before = held_values();
        run_blocks(1);
        restore_held(before);
      }
      run_blocks(0);
    }
    s_.xhat_fresh = true;
  }

  void run_blocks(int64_t k) {
    const int64_t size = block_size(ham_, s_.batch);
    pool_->run(static_cast<int>(block_count(ham_, s_.batch)), [&](int blk) {
      ham_.kernel->run(*bound_, blk * size, std::min(s_.batch, (blk + 1) * size), k);
    });
  }

  // The states of the neurons with per-sample masks (others: empty).
  std::vector<std::vector<T>> held_values() const {
    std::vector<std::vector<T>> v(d_.x.size());
    for (size_t i = 0; i < s_.held.size(); ++i)
      if (!s_.held[i].empty()) v[i] = d_.x[i];
    return v;
  }

  void restore_held(const std::vector<std::vector<T>>& before) {
    for (size_t i = 0; i < s_.held.size(); ++i)
      for (size_t e = 0; e < s_.held[i].size(); ++e)
        if (s_.held[i][e]) d_.x[i][e] = before[i][e];
  }

  static void copy_into(std::vector<std::vector<T>>& dst, const std::vector<std::vector<T>>& src) {
    dst.resize(src.size());
    for (size_t i = 0; i < src.size(); ++i) dst[i].assign(src[i].begin(), src[i].end());
  }

  bool all_finite() const {
    for (const std::vector<T>& x : d_.x)
      if (!hamux::all_finite(x)) return false;
    return true;
  }

  // A NaN or inf anywhere stops the run, naming the first (sample, neuron) that has one.
  void check_finite(int64_t step) const {
    if (all_finite()) return;  // the fast test; the loop below names the place
    for (int64_t b = 0; b < s_.batch; ++b) {
      for (size_t i = 0; i < d_.x.size(); ++i) {
        const int64_t n = s_.elements(static_cast<int>(i));
        for (int64_t e = b * n; e < (b + 1) * n; ++e) {
          const T v = d_.x[i][e];
          if (std::isfinite(v)) continue;
          throw Error(ham_.model.file, run_messages::state_not_finite(ham_.neurons[i].name, b, std::isnan(v), step));
        }
      }
    }
  }

  // The largest |x| in lanes of the state's dtype, compared once: a branch per element in
  // float64 was 3-4% of a conv run (W5, 600k state elements per check). NaN never wins a
  // comparison here; check_finite, which runs first, reports it.
  bool within_state_bound() const {
    if (!(o_.state_bound > 0)) return true;
    constexpr size_t kLanes = 16;
    T lanes[kLanes] = {};
    for (const std::vector<T>& x : d_.x) {
      const size_t n = x.size(), whole = n - n % kLanes;
      for (size_t i = 0; i < whole; i += kLanes)
        for (size_t l = 0; l < kLanes; ++l) {
          const T a = std::abs(x[i + l]);
          lanes[l] = a > lanes[l] ? a : lanes[l];
        }
      for (size_t i = whole; i < n; ++i) lanes[0] = std::max(lanes[0], std::abs(x[i]));
    }
    T largest = 0;
    for (T l : lanes) largest = std::max(largest, l);
    return static_cast<double>(largest) <= o_.state_bound;
  }

  // States growing past RunOptions::state_bound: the energy is (most likely) not bounded
  // below. Names the first (sample, neuron) and the synapses that drive the neuron.
  void check_state_bound(int64_t step) const {
    if (within_state_bound()) return;
    for (int64_t b = 0; b < s_.batch; ++b) {
      for (size_t i = 0; i < d_.x.size(); ++i) {
        const int64_t n = s_.elements(static_cast<int>(i));
        for (int64_t e = b * n; e < (b + 1) * n; ++e) {
          const double v = std::abs(static_cast<double>(d_.x[i][e]));
          if (v <= o_.state_bound) continue;
          throw Error(ham_.model.file,
                      run_messages::state_bound(ham_.neurons[i].name, b, v, o_.state_bound, step,
                                                run_messages::synapse_hint(ham_.model, static_cast<int>(i))));
        }
      }
    }
  }

  // A NaN or inf energy stops the run, naming the sample, the first energy term (neuron or
  // connection) that is not finite, and the step.
  void check_energy_finite(int64_t step) const {
    for (int64_t b = 0; b < s_.batch; ++b) {
      const double e = d_.energy[b];
      if (std::isfinite(e)) continue;
      std::string term = run_messages::kEnergyTotal;
      const EnergyBreakdown tree = energy_breakdown(ham_, s_);
      for (size_t t = 0; t < tree.terms.size(); ++t)
        if (!std::isfinite(tree.values[t][b])) {
          term = tree.terms[t];
          break;
        }
      throw Error(ham_.model.file, run_messages::energy_not_finite(b, std::isnan(e), step, term));
    }
  }

  // The first sample whose energy rose above its previous value (beyond rounding), or -1.
  int64_t rising_sample(const std::vector<T>& prev_e) const {
    const double rel = sizeof(T) == 4 ? run_messages::kGuardRelF32 : run_messages::kGuardRelF64;
    for (int64_t b = 0; b < s_.batch; ++b) {
      const double before = prev_e[b], after = d_.energy[b];
      // A non-finite energy is a failed step too: NaN compares false with everything.
      if (!std::isfinite(after) || after > before + rel * (1.0 + std::abs(before))) return b;
    }
    return -1;
  }

  double max_dx(const std::vector<std::vector<T>>& prev_x) const {
    double m = 0;
    for (size_t i = 0; i < d_.x.size(); ++i)
      for (size_t e = 0; e < d_.x[i].size(); ++e)
        m = std::max(m, std::abs(static_cast<double>(d_.x[i][e]) - static_cast<double>(prev_x[i][e])));
    return m;
  }

  void record(RunReport& r, int64_t step) const {
    TraceRow row;
    row.step = step;
    row.energy.assign(d_.energy.begin(), d_.energy.end());
    if (o_.record_tree) row.tree = energy_breakdown(ham_, s_);
    r.trace.push_back(std::move(row));
  }

  Ham::Impl& ham_;
  States::Impl& s_;
  StateData<T>& d_;
  const RunOptions& o_;
  codegen::StepKernel::Bindings b_;
  std::optional<codegen::StepKernel::Bound> bound_;
  double bound_dt_ = 0;
  int threads_ = 1;
  std::shared_ptr<ThreadPool> pool_;
};

}  // namespace

RunReport run(const Ham& ham, States& states, const RunOptions& options) {
  Ham::Impl& h = RunAccess::ham(ham);
  States::Impl& s = RunAccess::states(states);
  if (s.ham.get() != &h) throw Error(h.model.file, "the states were made by another model");
  check_options(h.model, options);
  if (h.f64()) return Integrator<double>(h, s, options).run();
  return Integrator<float>(h, s, options).run();
}

}  // namespace hamux
