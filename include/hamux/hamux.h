// hamux/hamux.h - the hamux runtime: compile a HAM once, run its dynamics on batches of states.
//
//   hamux::Ham ham = hamux::Ham::load("model.json");     // load, derive, JIT-compile (once)
//   hamux::States s = ham.normal(/*batch=*/8, /*seed=*/1); // or ham.zeros(8)
//   s.set("input", image);                                 // [...shape] for all samples, or [batch, ...shape]
//   s.clamp("input");                                      // or s.clamp("input", mask): 1 = held fixed
//   hamux::RunOptions o;
//   o.steps = 100; o.dt = 0.1; o.record_every = 10;
//   hamux::RunReport r = hamux::run(ham, s, o);            // tau dx/dt = -dE/dxhat, explicit Euler
//   hamux::Tensor<double> labels = s.activation("labels");
//
// The compiled program does not depend on the batch size or the parameter values: one Ham
// serves any number of runs, batches and parameter sets (set_param / load_params).
// Every failure throws hamux::Error with a message naming the neuron, param or file.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "hamux/error.h"
#include "hamux/tensor.h"

namespace hamux {

struct Model;  // compiler/frontend/model.h: the loaded model, for tools that need more

struct NeuronInfo {
  std::string name;
  Shape shape;  // per sample
  double tau = 1.0;
};

// The energy of a batch split into its terms (one per neuron, one per connection).
struct EnergyBreakdown {
  std::vector<std::string> terms;           // "neuron input", "connection input,hidden -> dense1"
  std::vector<std::vector<double>> values;  // per term, per sample
  std::vector<double> total;                // per sample
};

struct LoadOptions {
  bool disk_cache = true;  // reuse compiled kernels from ~/.cache/hamux (or HAMUX_CACHE_DIR)
};

class States;

// A compiled model. A handle: copies share the compiled kernel and the parameter values.
class Ham {
 public:
  // Loads, validates, derives and compiles `model_path`. Throws hamux::Error.
  static Ham load(const std::string& model_path, const LoadOptions& options = {});
  // The same from JSON text held in memory (a model generated at run time needs no file).
  // Relative {"file": ...} param paths are resolved against `base_dir`. Errors are those of
  // load(), with the file named "<json>": Error("<json>", "/neurons/x/shape: ...") - the
  // JSON pointer names the place in `json_text`. Without a "name" the model is named "<json>".
  static Ham from_json(const std::string& json_text, const std::string& base_dir = ".",
                       const LoadOptions& options = {});

  const std::string& name() const;
  bool is_float64() const;  // the model's dtype; float32 otherwise
  const std::vector<NeuronInfo>& neurons() const;
  // Index of a neuron; throws Error("neuron 'x'", "unknown neuron (the model has: a, b)").
  int neuron_index(const std::string& name) const;
  const Model& model() const;

  // Parameters, by name, as float64 (stored in the model's dtype).
  std::vector<std::string> param_names() const;
  Tensor<double> param(const std::string& name) const;
  void set_param(const std::string& name, Tensor<double> value);  // shape must match
  // .npz (stored or deflate members) or a directory of <param>.npy files. Every array must
  // name a param of the model with its exact shape; params not in the file keep their values.
  void load_params(const std::string& path);
  // .npz (uncompressed) when `path` ends in .npz, else a directory of <param>.npy files.
  // Written atomically: a failure leaves no half-written file.
  void save_params(const std::string& path) const;

  States zeros(int64_t batch) const;
  // Independent N(0, std^2) elements from a fixed generator: the same bits on every platform.
  States normal(int64_t batch, uint64_t seed, double std = 1.0) const;

  // The energy tree of the states (reference interpreter; for reports, not inner loops).
  EnergyBreakdown energy_tree(const States& states) const;

  struct Impl;

 private:
  explicit Ham(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
  friend class States;
  friend struct RunAccess;
};

// A batch of states of one Ham, with the per-neuron clamp masks.
class States {
 public:
  int64_t batch() const;
  States clone() const;  // an independent copy (States itself is a handle, like Ham)

  // Sets a neuron's state: `value` is [...shape] (every sample) or [batch, ...shape].
  void set(const std::string& neuron, const Tensor<double>& value);
  void set_sample(const std::string& neuron, int64_t sample, const Tensor<double>& value);  // [...shape]
  Tensor<double> get(const std::string& neuron) const;         // [batch, ...shape]
  Tensor<double> activation(const std::string& neuron) const;  // xhat of the current state
  std::vector<double> energy() const;  // total energy of each sample (compiled kernel)
  // The update direction dE/dxhat of the current states, [batch, ...shape]: the state moves
  // by -(dt / tau) * updates in a step (clamped elements excepted). Evaluated by the reference
  // interpreter in the model's dtype (like Ham::energy_tree; for reports, not inner loops).
  Tensor<double> updates(const std::string& neuron) const;

  // Clamped elements never move (they stay bit-identical). nonzero = clamped. A mask of the
  // neuron's shape [...shape] applies to every sample; one of [batch, ...shape] holds
  // different elements in each sample (e.g. different pixels hidden in each image).
  void clamp(const std::string& neuron);
  void clamp(const std::string& neuron, const Tensor<double>& mask);
  void unclamp(const std::string& neuron);

  // The states of every neuron as an .npz, one array [batch, ...shape] per neuron, in the
  // model's dtype: the file `hamux run --out` writes. Written atomically. (Masks are not saved.)
  void save(const std::string& path) const;
  // States of `ham` read from such a file (.npz; or .npy for a model with one neuron): the
  // batch is the file's, every neuron must be there with [batch, ...shape], and nothing else.
  // Throws Error(path, "...") naming the array that does not fit.
  static States load(const Ham& ham, const std::string& path);

  struct Impl;

 private:
  explicit States(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
  friend class Ham;
  friend struct RunAccess;
};

struct RunOptions {
  int64_t steps = 100;      // the most steps to take
  double dt = 0.1;          // step size; neuron i moves by (dt / tau_i) * -dE/dxhat_i
  double tol = 0.0;         // > 0: stop after the first step whose max |dx| (all samples) < tol
  int threads = 1;          // the batch is split into this many slices (0: all cores)
  int64_t record_every = 0; // > 0: record the energy at step 0, every k steps and the last step
  bool record_tree = false; // with record_every: record the energy tree too (slow)
  // Check that no sample's energy increases in a step; when one does, undo the step,
  // halve dt for the rest of the run and retry (reported in RunReport::guard).
  bool energy_guard = false;
  // Unbounded energies (docs/certification.md): a state element whose magnitude exceeds
  // this stops the run with Error(model, "neuron 'h', sample 0: state grows without limit
  // ..."), naming the step and the neuron's connections. 0 turns the check off.
  double state_bound = 1e8;
  // Called after every chunk of steps with (steps done, steps at most); e.g. a progress bar.
  std::function<void(int64_t, int64_t)> progress;
};

struct TraceRow {
  int64_t step = 0;
  std::vector<double> energy;  // per sample
  EnergyBreakdown tree;        // when RunOptions::record_tree
};

struct GuardEvent {
  int64_t step = 0;  // the step that was undone (1-based)
  int64_t sample = 0;
  double energy_before = 0, energy_after = 0;
  double new_dt = 0;
};

struct RunReport {
  int64_t steps = 0;        // steps taken
  bool converged = false;   // stopped because max |dx| < tol
  double max_dx = 0;        // of the last step, when tol > 0 or the guard was on
  double dt = 0;            // dt at the end (smaller than asked when the guard halved it)
  std::vector<GuardEvent> guard;
  std::vector<TraceRow> trace;
};

// Integrates the dynamics in place. Results do not depend on `threads`: every sample is
// computed alone, by the same code. A NaN or inf in a state stops the run with
// Error(model, "neuron 'v', sample 2: state is nan at step 17"); the states then hold
// the values of that step.
RunReport run(const Ham& ham, States& states, const RunOptions& options = {});

}  // namespace hamux
