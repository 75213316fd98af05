// runtime/gradients.cpp - loss and d loss / d params by BPTT or implicit differentiation.
//
// Kernels (compiled once per Ham, kept in Ham::Impl::gradient_kernels):
//  - the forward step: the Ham's own step kernel (codegen/step.h), one step per call;
//  - the backward step: the graphs of autodiff/backward_step.h (state adjoints, per-sample
//    param gradients), lowered and compiled by the generic codegen path;
//  - per loss spec: the loss per sample and its gradients w.r.t. the loss neuron's state
//    and the params.
// Every kernel runs on fixed blocks of samples (block_size, independent of the thread
// count); per-sample param gradients are added into float64 accumulators in sample order,
// after each step, so the result is bit-identical for any number of threads.
#include "hamux/gradients.h"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <thread>

#include "autodiff/backward_step.h"
#include "autodiff/grad.h"
#include "autodiff/outer_terms.h"
#include "codegen/jit/jit.h"
#include "codegen/kernels/kernels.h"
#include "codegen/loops/lower.h"
#include "frontend/json_util.h"
#include "frontend/loss.h"
#include "graph/builder.h"
#include "support/finite.h"
#include "ham_impl.h"
#include "passes/simplify.h"
#include "step/held_terms.h"
#include "thread_pool.h"

namespace hamux {

namespace {

// A compiled set of graphs with its slots: inputs by index, params by name, outputs in order.
struct GraphKernel {
  std::shared_ptr<const codegen::Kernel> kernel;
  std::map<int, int> input_slot;
  std::map<std::string, int> param_slot;
  struct Out {
    int slot;
    bool batched;
    int64_t elements;
  };
  std::vector<Out> outputs;
};

GraphKernel compile_graphs(const std::vector<ir::NodePtr>& outputs, ir::DType dtype) {
  codegen::CompileOptions o;
  GraphKernel g;
  g.kernel = codegen::compile(codegen::lower_graphs(outputs, dtype, o.small_einsum_work), o);
  const codegen::Program& p = g.kernel->program();
  for (auto& [index, buf] : p.inputs) g.input_slot[index] = p.buffers[buf].external;
  for (auto& [name, buf] : p.params) g.param_slot[name] = p.buffers[buf].external;
  for (const codegen::Buffer& b : p.buffers)
    if (b.kind == codegen::BufferKind::Output) g.outputs.push_back({b.external, b.batched, b.elements()});
  return g;
}

struct LossKernel {
  LossSpec spec;
  GraphKernel kernel;  // outputs: loss, d loss / d x_k, y, then the d loss / d param that are not 0
  std::vector<int> param_output;  // per model param: its output, or -1 (the loss does not read it)
};

// How a param's per-sample gradient reaches its sum over the batch (autodiff/outer_terms.h):
// the outer-product terms as GEMMs over the batch of two kernel outputs, the rest as a
// per-sample output added up in sample order.
struct ParamPlan {
  int rest = -1;  // the output with the per-sample remainder, or -1 (none)
  struct Outer {
    // Outputs [batch, rows] and [batch, cols] of the backward kernel; for a deferred term
    // the fixed operand's index is an output of the variant's `fixed` kernel instead.
    int u, v;
    int64_t rows, cols;  // the gradient is [rows, cols] (row-major)
    double scale;
    // Which operand changes from step to step. An operand that reads only params, rates
    // and the states of held neurons is the same at every step, so sum_t u (x) v_t =
    // u (x) sum_t v_t: the changing one is summed per sample and contracted once at the end.
    enum class Deferred { No, SumV, SumU } deferred;
    // The term stands for itself and its transpose, u (x) v + v (x) u (square, rows = cols):
    // the pair a symmetric synapse's gradient makes (classical_hopfield, 0.5 (g (x) r + r (x) g)),
    // contracted as one GEMM over the batch whose sum over the steps is added to its
    // transpose once, at the end.
    bool symmetric = false;
  };
  std::vector<Outer> outer;
};

// The kernels for one set of held neurons (every element clamped in every sample: rate 0).
struct Variant {
  std::vector<bool> held;
  // The forward step with the held neurons' updates dropped (their contractions are not
  // computed) and the residuals written out; null when nothing is held and there are no
  // residuals (the Ham's own kernel).
  std::unique_ptr<codegen::StepKernel> forward;
  // Per residual (autodiff/backward_step.h: inputs 2n + k of step_vjp, outputs of
  // `forward`): its elements per sample.
  std::vector<int64_t> residual_elements;
  // The terms of the other updates that read only params and held neurons (W1^T image),
  // computed once per call from the initial states and read by `forward` at every step
  // (step/held_terms.h); no kernel when there are none.
  GraphKernel terms;
  // The fixed operands of the deferred outer terms (the image of a classifier), computed once
  // per call from the initial states rather than written by the backward kernel every step.
  GraphKernel fixed;
  GraphKernel step_vjp;
  std::vector<int> adjoint_output;  // per neuron: its output, or -1 (held, not asked for)
  std::vector<ParamPlan> params;    // per model param
  // The backward kernel's output buffers (often MBs), kept between calls so that a step
  // does not page-fault and zero them afresh.
  std::mutex buffers_mu;
  std::vector<std::vector<std::vector<float>>> buffers32;
  std::vector<std::vector<std::vector<double>>> buffers64;
};

struct Kernels {
  std::mutex mu;
  std::map<std::string, std::shared_ptr<const LossKernel>> losses;  // by spec text
  // By held set (+ "s": state gradients, + "r": residuals stored).
  std::map<std::string, std::shared_ptr<Variant>> variants;
};

std::mutex g_build_mu;  // guards the lazy creation of Ham::Impl::gradient_kernels

Kernels& kernels_of(Ham::Impl& ham) {
  std::lock_guard<std::mutex> lock(g_build_mu);
  if (!ham.gradient_kernels) ham.gradient_kernels = std::make_shared<Kernels>();
  return *static_cast<Kernels*>(ham.gradient_kernels.get());
}

// Whether `g` reads no input but the states x_i (i < n) of held neurons.
bool step_invariant(const ir::NodePtr& g, const std::vector<bool>& held) {
  for (const ir::Node* node : ir::topological_order({g}))
    if (node->op == ir::Op::Input) {
      const size_t i = static_cast<size_t>(node->attrs.index);
      if (i >= held.size() || !held[i]) return false;
    }
  return true;
}

// Folds each pair of outer terms that are each other's transpose (u1 = v2, v1 = u2, the same
// scale, both changing) into one symmetric term.
void pair_transposed_terms(std::vector<ParamPlan::Outer>& terms) {
  using D = ParamPlan::Outer::Deferred;
  for (size_t i = 0; i < terms.size(); ++i) {
    ParamPlan::Outer& a = terms[i];
    if (a.deferred != D::No || a.symmetric || a.rows != a.cols || a.u == a.v) continue;
    for (size_t j = i + 1; j < terms.size(); ++j) {
      const ParamPlan::Outer& b = terms[j];
      if (b.deferred == D::No && !b.symmetric && b.u == a.v && b.v == a.u && b.scale == a.scale) {
        a.symmetric = true;
        terms.erase(terms.begin() + static_cast<std::ptrdiff_t>(j));
        break;
      }
    }
  }
}

std::shared_ptr<Variant> build_variant(Ham::Impl& ham, const std::vector<bool>& held, bool state_gradients,
                                       bool residuals) {
  const Model& m = ham.model;
  const size_t n = m.neurons.size();
  auto v = std::make_shared<Variant>();
  v->held = held;
  const autodiff::BackwardStep b = autodiff::derive_backward_step(m, ham.derivation, held, residuals);
  for (const ir::NodePtr& r : b.residuals) v->residual_elements.push_back(num_elements(r->shape));
  std::vector<ir::NodePtr> outs, fixed_outs;
  std::map<const ir::Node*, int> output_of, fixed_output_of;  // one output per distinct graph
  auto add = [](std::vector<ir::NodePtr>& list, std::map<const ir::Node*, int>& index, const ir::NodePtr& g) {
    auto [it, fresh] = index.emplace(g.get(), static_cast<int>(list.size()));
    if (fresh) list.push_back(g);
    return it->second;
  };
  auto output = [&](const ir::NodePtr& g) { return add(outs, output_of, g); };
  auto fixed_output = [&](const ir::NodePtr& g) { return add(fixed_outs, fixed_output_of, g); };
  // The adjoints get outputs of their own (the runtime swaps their buffers with the states').
  for (size_t i = 0; i < n; ++i) {
    const bool wanted = !held[i] || state_gradients;
    v->adjoint_output.push_back(wanted ? static_cast<int>(outs.size()) : -1);
    if (wanted) outs.push_back(b.state_adjoint[i]);
  }
  for (size_t p = 0; p < m.params.size(); ++p) {
    const autodiff::OuterSplit split = autodiff::split_outer_terms(b.param_grad[p]);
    ParamPlan plan;
    if (split.rest && !(split.rest->op == ir::Op::Const && split.rest->attrs.value == 0.0))
      plan.rest = output(split.rest);
    for (const autodiff::OuterTerm& t : split.outer) {
      using D = ParamPlan::Outer::Deferred;
      const D deferred = step_invariant(t.u, held) ? D::SumV : step_invariant(t.v, held) ? D::SumU : D::No;
      const int u = deferred == D::SumV ? fixed_output(t.u) : output(t.u);
      const int v = deferred == D::SumU ? fixed_output(t.v) : output(t.v);
      plan.outer.push_back({u, v, num_elements(t.u->shape), num_elements(t.v->shape), t.scale, deferred});
    }
    pair_transposed_terms(plan.outer);
    v->params.push_back(std::move(plan));
  }
  v->step_vjp = compile_graphs(outs, m.dtype);
  if (!fixed_outs.empty()) v->fixed = compile_graphs(fixed_outs, m.dtype);
  codegen::StepOptions step;
  step.residuals = b.residuals;
  if (std::find(held.begin(), held.end(), true) != held.end()) {
    const codegen::HeldTerms t = codegen::hoist_held_terms(m, ham.derivation, held);
    Derivation d = ham.derivation;
    for (size_t i = 0; i < n; ++i)
      d.update[i] = held[i] ? ir::constant(0.0, m.dtype, m.neurons[i].shape) : t.update[i];
    if (!t.terms.empty()) v->terms = compile_graphs(t.terms, m.dtype);
    // (The residuals read no held neuron, so hoisting the held terms left them in d.update.)
    v->forward = std::make_unique<codegen::StepKernel>(m, d, step);
  } else if (!b.residuals.empty()) {
    v->forward = std::make_unique<codegen::StepKernel>(m, ham.derivation, step);
  }
  return v;
}

Variant& variant_of(Ham::Impl& ham, Kernels& k, const std::vector<bool>& held, bool state_gradients,
                    bool residuals) {
  std::string key;
  for (bool h : held) key += h ? '1' : '0';
  if (state_gradients) key += 's';
  if (residuals) key += 'r';
  std::lock_guard<std::mutex> lock(k.mu);
  auto it = k.variants.find(key);
  if (it == k.variants.end())
    it = k.variants.emplace(key, build_variant(ham, held, state_gradients, residuals)).first;
  return *it->second;
}

std::shared_ptr<const LossKernel> loss_kernel(Ham::Impl& ham, Kernels& k, const std::string& text) {
  std::lock_guard<std::mutex> lock(k.mu);
  auto it = k.losses.find(text);
  if (it != k.losses.end()) return it->second;
  auto lk = std::make_shared<LossKernel>();
  lk->spec = parse_loss(ham.model, text, "loss");
  const Model& m = ham.model;
  const NeuronDef& nd = m.neurons[lk->spec.neuron];
  // The loss reads input 0 = x_k; its y is x_k or the activation graph of neuron k.
  ir::NodePtr x = ir::input(0, "x[" + nd.name + "]", nd.shape, m.dtype);
  ir::NodePtr y = x;
  if (lk->spec.of_activation) {
    std::vector<ir::NodePtr> by(lk->spec.neuron + 1);
    by[lk->spec.neuron] = x;
    y = autodiff::substitute_inputs({ham.derivation.activation[lk->spec.neuron]}, by)[0];
  }
  ir::NodePtr loss = autodiff::substitute_inputs({lk->spec.graph}, {y})[0];
  std::vector<ir::NodePtr> wrt{x};
  for (const ParamDef& p : m.params) wrt.push_back(ir::param(p.name, p.shape, m.dtype));
  std::vector<ir::NodePtr> grads = autodiff::grad(loss, wrt);
  std::vector<ir::NodePtr> all{loss, grads[0], y};  // y: the prediction, for metrics (an accuracy)
  all.insert(all.end(), grads.begin() + 1, grads.end());
  all = passes::simplify(all);
  // A param the loss does not read has gradient Const 0: no output, rather than a batch of
  // zero rows (as large as the batch times the param) to write and add up.
  std::vector<ir::NodePtr> outs(all.begin(), all.begin() + 3);
  for (size_t p = 0; p < m.params.size(); ++p) {
    const ir::NodePtr& g = all[3 + p];
    const bool zero = g->op == ir::Op::Const && g->attrs.value == 0.0;
    lk->param_output.push_back(zero ? -1 : static_cast<int>(outs.size()));
    if (!zero) outs.push_back(g);
  }
  lk->kernel = compile_graphs(outs, m.dtype);
  k.losses.emplace(text, lk);
  return lk;
}

std::string fmt(double v) { return std::isnan(v) ? "nan" : frontend::fmt_number(v); }

void check_options(const Model& m, const GradientOptions& o) {
  const std::string where = m.file;
  if (o.steps < 0) throw Error(where, "steps must be >= 0, got " + std::to_string(o.steps));
  if (!(o.dt > 0) || !std::isfinite(o.dt)) throw Error(where, "dt must be a positive number, got " + fmt(o.dt));
  if (!(o.tol >= 0) || !std::isfinite(o.tol)) throw Error(where, "tol must be >= 0, got " + fmt(o.tol));
  if (o.threads < 0) throw Error(where, "threads must be >= 0, got " + std::to_string(o.threads));
  if (o.checkpoint_every < 0)
    throw Error(where, "checkpoint_every must be >= 0, got " + std::to_string(o.checkpoint_every));
  if (o.method == GradientMethod::Implicit) {
    if (!(o.tol > 0)) throw Error(where, "implicit gradients need tol > 0 (the forward run must converge)");
    if (!(o.adjoint_tol > 0)) throw Error(where, "adjoint_tol must be > 0, got " + fmt(o.adjoint_tol));
    if (o.adjoint_max_iterations < 1)
      throw Error(where, "adjoint_max_iterations must be >= 1, got " + std::to_string(o.adjoint_max_iterations));
    if (o.state_gradients)
      throw Error(where, "state_gradients needs method bptt (at a fixed point the free states forget their start)");
  }
}

// Target, mask: [batch, ...shape] in the model's dtype.
template <class T>
struct LossData {
  std::vector<T> target, mask;
};

template <class T>
LossData<T> loss_data(const Ham::Impl& ham, const LossSpec& spec, const Loss& loss, int64_t batch) {
  const NeuronDef& nd = ham.model.neurons[spec.neuron];
  const int64_t e = num_elements(nd.shape);
  Shape batched{batch};
  batched.insert(batched.end(), nd.shape.begin(), nd.shape.end());
  LossData<T> d;
  d.target.resize(batch * e);
  d.mask.assign(batch * e, T(1));
  const Tensor<double>& t = loss.target;
  auto finite = [&](const char* what, const Tensor<double>& v, int64_t per_sample) {
    for (int64_t i = 0; i < v.size(); ++i)
      if (!std::isfinite(v.data[i]))
        throw Error(std::string("loss ") + what, "sample " + std::to_string(per_sample ? i / per_sample : 0) +
                                                     ", element " + std::to_string(per_sample ? i % per_sample : i) +
                                                     " is " + fmt(v.data[i]));
  };
  const bool classes = spec.class_targets && t.shape == Shape{batch} && nd.shape != Shape{batch};
  if (classes) {
    for (int64_t s = 0; s < batch; ++s) {
      const double c = t.data[s];
      if (!std::isfinite(c) || c != std::floor(c))
        throw Error("loss target", "sample " + std::to_string(s) + ": class index " + fmt(c) + " is not an integer");
      if (c < 0 || c >= static_cast<double>(e))
        throw Error("loss target", "sample " + std::to_string(s) + ": class index " + fmt(c) +
                                       " is out of range for neuron '" + nd.name + "' (" + std::to_string(e) +
                                       " elements: 0 to " + std::to_string(e - 1) + ")");
      d.target[s * e + static_cast<int64_t>(c)] = T(1);
    }
  } else if (t.shape == batched || t.shape == nd.shape) {
    const bool each = t.shape == batched && t.shape != nd.shape;
    finite("target", t, each ? e : 0);
    for (int64_t s = 0; s < batch; ++s)
      for (int64_t i = 0; i < e; ++i) d.target[s * e + i] = static_cast<T>(t.data[(each ? s * e : 0) + i]);
  } else {
    throw Error("loss target", "shape " + shape_str(t.shape) + " does not fit neuron '" + nd.name + "' of shape " +
                                   shape_str(nd.shape) + " with batch " + std::to_string(batch) + " (expected " +
                                   shape_str(batched) + " or " + shape_str(nd.shape) +
                                   (spec.class_targets ? " or " + shape_str({batch}) + " class indices" : "") + ")");
  }
  const Tensor<double>& m = loss.mask;
  if (m.shape.empty() && m.data.empty()) return d;
  if (m.shape != batched && m.shape != nd.shape)
    throw Error("loss mask", "shape " + shape_str(m.shape) + " does not fit neuron '" + nd.name + "' (expected " +
                                 shape_str(batched) + " or " + shape_str(nd.shape) + ")");
  const bool each = m.shape == batched && m.shape != nd.shape;
  finite("mask", m, each ? e : 0);
  for (int64_t s = 0; s < batch; ++s)
    for (int64_t i = 0; i < e; ++i) d.mask[s * e + i] = static_cast<T>(m.data[(each ? s * e : 0) + i]);
  return d;
}

// Per neuron: every element is clamped (its mask is all 0; the mask is shared by the batch).
std::vector<bool> held_neurons(const States::Impl& s) {
  std::vector<bool> held;
  auto all_zero = [](const auto& mask) {
    return !mask.empty() && std::all_of(mask.begin(), mask.end(), [](auto v) { return v == 0; });
  };
  for (size_t i = 0; i < s.ham->model.neurons.size(); ++i)
    held.push_back(s.ham->f64() ? all_zero(s.f64.mask[i]) : all_zero(s.f32.mask[i]));
  return held;
}

// One gradient computation in the model's dtype T.
template <class T>
class GradientRun {
 public:
  GradientRun(Ham::Impl& ham, const States::Impl& initial, const Loss& loss, const GradientOptions& o)
      : ham_(ham), m_(ham.model), o_(o), n_(m_.neurons.size()), batch_(initial.batch),
        k_(kernels_of(ham)), lk_(loss_kernel(ham, k_, loss.spec)), data_(loss_data<T>(ham, lk_->spec, loss, batch_)),
        v_(variant_of(ham, k_, held_neurons(initial), o.state_gradients,
                      o.store_residuals && o.backward)),
        step_(v_.forward ? v_.forward.get() : ham.kernel.get()) {
    const StateData<T>& d = const_cast<States::Impl&>(initial).data<T>();
    x0_ = d.x;
    mask_ = d.mask;
    for (size_t i = 0; i < n_; ++i) elems_.push_back(num_elements(m_.neurons[i].shape));
    block_ = block_size(ham, batch_);
    blocks_ = batch_ == 0 ? 0 : block_count(ham, batch_);
    int threads = resolve_threads(o.threads);
    pool_ = PoolCache::take(ham.pools, static_cast<int>(std::clamp<int64_t>(threads, 1, std::max<int64_t>(blocks_, 1))));
    // r_i = dt / tau_i * mask_i, the rate params of the backward step.
    for (size_t i = 0; i < n_; ++i) {
      std::vector<T> r(elems_[i], static_cast<T>(o.dt / m_.neurons[i].tau));
      if (!mask_[i].empty())
        for (int64_t e = 0; e < elems_[i]; ++e) r[e] = mask_[i][e] != T(0) ? r[e] : T(0);
      rate_.push_back(std::move(r));
    }
    for (size_t p = 0; p < m_.params.size(); ++p) {
      acc_.emplace_back(num_elements(m_.params[p].shape), 0.0);
      sums_.emplace_back(v_.params[p].outer.size());
      step_sums_.emplace_back();
      rest_outputs_.push_back(v_.params[p].rest);
    }
    std::lock_guard<std::mutex> lock(v_.buffers_mu);
    auto& pool = [&]() -> auto& {
      if constexpr (sizeof(T) == 8) return v_.buffers64;
      else return v_.buffers32;
    }();
    if (!pool.empty()) {
      out_ = std::move(pool.back());
      pool.pop_back();
    }
    if (has_residuals()) scratch_ = fresh_residuals();
  }

  ~GradientRun() {
    std::lock_guard<std::mutex> lock(v_.buffers_mu);
    if constexpr (sizeof(T) == 8) v_.buffers64.push_back(std::move(out_));
    else v_.buffers32.push_back(std::move(out_));
  }
  GradientRun(const GradientRun&) = delete;
  GradientRun& operator=(const GradientRun&) = delete;

  GradientResult run() {
    GradientResult r;
    r.steps = o_.steps;
    compute_terms();
    if (!o_.backward) forward_only(r);
    else if (o_.method == GradientMethod::Bptt) bptt(r);
    else implicit(r);
    if (o_.backward) flush_outer_terms();
    const double scale = lk_->spec.mean && batch_ > 0 ? 1.0 / static_cast<double>(batch_) : 1.0;
    for (double v : r.loss_per_sample) r.loss += v;
    r.loss *= scale;
    for (size_t p = 0; p < m_.params.size() && o_.backward; ++p) {
      for (double& e : acc_[p]) e *= scale;
      r.params.emplace(m_.params[p].name, Tensor<double>(m_.params[p].shape, std::move(acc_[p])));
    }
    if (!o_.backward) r.params.clear();
    r.memory_bytes = peak_bytes_ + terms_bytes_;
    return r;
  }

 private:
  using Xs = std::vector<std::vector<T>>;  // per neuron, [batch, ...shape]
  using Res = std::vector<std::vector<T>>;  // per residual, [batch, ...shape]: one step's

  // The prologue of a graph kernel: parameter-only values, shared by every block, and the
  // outputs that depend on params only (the prologue writes them; they are the same for
  // every sample).
  struct PreparedGraphs {
    codegen::Prepared shared;
    std::vector<std::vector<T>> unbatched;  // per output; empty for batched ones
  };


  // The bytes of one set of states (moving_only: without the held neurons, as a checkpoint).
  int64_t state_bytes(bool moving_only = false) const {
    int64_t b = 0;
    for (size_t i = 0; i < n_; ++i)
      if (!moving_only || !v_.held[i]) b += elems_[i] * batch_ * static_cast<int64_t>(sizeof(T));
    return b;
  }
  void note_bytes(int64_t b) { peak_bytes_ = std::max(peak_bytes_, b); }

  bool has_residuals() const { return !v_.residual_elements.empty(); }
  Res fresh_residuals() const {
    Res r;
    for (int64_t e : v_.residual_elements) r.emplace_back(e * batch_);
    return r;
  }
  int64_t residual_bytes() const {
    int64_t b = 0;
    for (int64_t e : v_.residual_elements) b += e * batch_ * static_cast<int64_t>(sizeof(T));
    return b;
  }
  // The step bound to `bound` writes its residuals into r from now on.
  void bind_residuals(codegen::StepKernel::Bound& bound, Res& r) const {
    std::vector<void*> p;
    for (std::vector<T>& v : r) p.push_back(v.data());
    step_->set_residuals(bound, p);
  }

  // The held terms of the forward step (Variant::terms), from the initial states.
  void compute_terms() {
    if (!v_.terms.kernel) return;
    std::map<int, const T*> in;
    for (auto& [index, slot] : v_.terms.input_slot) in[index] = x0_[index].data();
    run_graphs(v_.terms, in, terms_, prepare(v_.terms));
    for (const std::vector<T>& t : terms_) terms_bytes_ += static_cast<int64_t>(t.size() * sizeof(T));
  }

  // The step kernel bound to the buffers x, xhat (the prologue computed once); its residuals
  // go to scratch_ until bind_residuals says otherwise.
  codegen::StepKernel::Bound bind_step(Xs& x, Xs& xhat) {
    codegen::StepKernel::Bindings b;
    for (std::vector<T>& r : scratch_) b.residual.push_back(r.data());
    for (size_t i = 0; i < n_; ++i) {
      b.x.push_back(x[i].data());
      b.xhat.push_back(xhat[i].data());
      b.mask.push_back(mask_[i].empty() ? nullptr : mask_[i].data());
    }
    for (const std::vector<T>& t : terms_) b.terms.push_back(t.data());
    if constexpr (sizeof(T) == 8) {
      for (const auto& p : ham_.params64) b.params.push_back(p.data());
    } else {
      for (const auto& p : ham_.params32) b.params.push_back(p.data());
    }
    return step_->bind(b, o_.dt);
  }

  // Advances the bound x by one step.
  void forward_step(const codegen::StepKernel::Bound& bound) const {
    pool_->run(static_cast<int>(blocks_), [&](int blk) {
      step_->run(bound, blk * block_, std::min(batch_, (blk + 1) * block_), 1);
    });
  }

  // After step 0 a held neuron is not looked at again: its state is x0, checked at step 0
  // (for a classifier the image is most of the state).
  void check_states(const Xs& x, int64_t step) const {
    for (size_t i = 0; i < n_; ++i)
      if (!(step > 0 && v_.held[i]) && !all_finite(x[i]))
        for (int64_t j = 0; j < static_cast<int64_t>(x[i].size()); ++j)
          if (!std::isfinite(x[i][j]))
            throw Error(m_.file, "neuron '" + m_.neurons[i].name + "', sample " + std::to_string(j / elems_[i]) +
                                     ": state is " + fmt(x[i][j]) + " at step " + std::to_string(step));
  }

  // The states a BPTT checkpoint keeps: a held neuron's never change (x0_ has them), so
  // they are not copied (for a classifier, the image is most of the state).
  Xs stored_states(const Xs& x) const {
    Xs s(n_);
    for (size_t i = 0; i < n_; ++i)
      if (!v_.held[i]) s[i] = x[i];
    return s;
  }
  Xs with_held(Xs s) const {
    for (size_t i = 0; i < n_; ++i)
      if (v_.held[i]) s[i] = x0_[i];
    return s;
  }

  Xs fresh() const {
    Xs v(n_);
    for (size_t i = 0; i < n_; ++i) v[i].assign(elems_[i] * batch_, T(0));
    return v;
  }

  // Runs a graph kernel on every block; outputs[k] is [batch, elements] (unbatched outputs
  // are copied to every sample of their block).
  void run_graphs(const GraphKernel& g, const std::map<int, const T*>& inputs,
                  std::vector<std::vector<T>>& outputs, const PreparedGraphs& prepared) const {
    std::vector<void*> slots(g.kernel->program().num_external, nullptr);
    bind_params(g, slots);
    for (auto& [index, slot] : g.input_slot) slots[slot] = const_cast<T*>(inputs.at(index));
    outputs.resize(g.outputs.size());
    for (size_t k = 0; k < g.outputs.size(); ++k) {
      outputs[k].resize(g.outputs[k].elements * batch_);
      slots[g.outputs[k].slot] = outputs[k].data();
    }
    pool_->run(static_cast<int>(blocks_), [&](int blk) {
      const int64_t lo = blk * block_, hi = std::min(batch_, (blk + 1) * block_);
      std::vector<void*> own = slots;
      // Unbatched outputs come from the prologue (prepare); any write the body would make
      // goes to the block's first sample, then the prologue's value is spread.
      for (size_t k = 0; k < g.outputs.size(); ++k)
        if (!g.outputs[k].batched) own[g.outputs[k].slot] = outputs[k].data() + lo * g.outputs[k].elements;
      g.kernel->run(own.data(), lo, hi, 1, &prepared.shared);
      for (size_t k = 0; k < g.outputs.size(); ++k) {
        if (g.outputs[k].batched) continue;
        const std::vector<T>& v = prepared.unbatched[k];
        for (int64_t s = lo; s < hi; ++s) std::copy(v.begin(), v.end(), outputs[k].data() + s * v.size());
      }
    });
  }

  void bind_params(const GraphKernel& g, std::vector<void*>& slots) const {
    for (auto& [name, slot] : g.param_slot) {
      int p = m_.param_index(name);
      if (p >= 0) {
        if constexpr (sizeof(T) == 8) slots[slot] = const_cast<double*>(ham_.params64[p].data());
        else slots[slot] = const_cast<float*>(ham_.params32[p].data());
        continue;
      }
      for (size_t i = 0; i < n_; ++i)
        if (name == autodiff::rate_param(m_.neurons[i].name)) slots[slot] = const_cast<T*>(rate_[i].data());
    }
  }

  PreparedGraphs prepare(const GraphKernel& g) const {
    std::vector<void*> slots(g.kernel->program().num_external, nullptr);
    bind_params(g, slots);
    PreparedGraphs p;
    p.unbatched.resize(g.outputs.size());
    for (size_t k = 0; k < g.outputs.size(); ++k)
      if (!g.outputs[k].batched) {
        p.unbatched[k].resize(g.outputs[k].elements);
        slots[g.outputs[k].slot] = p.unbatched[k].data();
      }
    p.shared = g.kernel->prepare(slots.data());
    return p;
  }

  // Adds the per-sample param gradients outputs[first + p] into acc_, in sample order. The
  // elements are split into ranges over the threads; each element still sums its samples in
  // order, so the result does not depend on the thread count.
  void accumulate(const std::vector<std::vector<T>>& outputs, const std::vector<int>& output_of_param, int64_t step,
                  bool loss_term) {
    for (size_t p = 0; p < m_.params.size(); ++p) {
      if (output_of_param[p] < 0) continue;
      const std::vector<T>& g = outputs[output_of_param[p]];
      std::vector<double>& acc = acc_[p];
      const int64_t e = static_cast<int64_t>(acc.size());
      constexpr int64_t kRange = 2048;
      const int ranges = static_cast<int>((e + kRange - 1) / kRange);
      std::vector<char> bad(ranges, 0);
      pool_->run(ranges, [&](int r) {
        const int64_t lo = r * kRange, hi = std::min(e, lo + kRange);
        double* a = acc.data();
        for (int64_t s = 0; s < batch_; ++s) {
          const T* row = g.data() + s * e;
          for (int64_t j = lo; j < hi; ++j) a[j] += static_cast<double>(row[j]);  // vectorised
        }
        // A nan or inf in a row stays in the sum (finite floats cannot overflow a double sum
        // of a batch), so one look at the sums finds it.
        for (int64_t j = lo; j < hi; ++j) bad[r] |= !std::isfinite(a[j]);
      });
      if (std::find(bad.begin(), bad.end(), 1) == bad.end()) continue;
      // The message names the first bad value in sample order, as a sequential sum would.
      for (int64_t s = 0; s < batch_; ++s)
        for (int64_t j = 0; j < e; ++j)
          if (!std::isfinite(g[s * e + j]))
            throw Error("param '" + m_.params[p].name + "'",
                        "gradient is " + fmt(g[s * e + j]) + " at sample " + std::to_string(s) + ", element " +
                            std::to_string(j) + (loss_term ? " (the loss term)" : ", step " + std::to_string(step)));
    }
  }

  // Loss per sample at x and the adjoint it seeds: a = d loss_s / d x (the loss neuron only).
  Xs loss_at(const Xs& x, GradientResult& r) {
    const int k = lk_->spec.neuron;
    std::vector<std::vector<T>> out;
    const PreparedGraphs prep = prepare(lk_->kernel);
    run_graphs(lk_->kernel, {{0, x[k].data()}, {1, data_.target.data()}, {2, data_.mask.data()}}, out, prep);
    r.loss_per_sample.assign(batch_, 0.0);
    for (int64_t s = 0; s < batch_; ++s) {
      r.loss_per_sample[s] = static_cast<double>(out[0][s]);
      if (!std::isfinite(r.loss_per_sample[s]))
        throw Error("loss", "sample " + std::to_string(s) + ": the loss is " + fmt(r.loss_per_sample[s]) +
                                " (" + lk_->spec.desc + ")");
    }
    Xs a = fresh();
    a[k] = out[1];
    for (int64_t j = 0; j < static_cast<int64_t>(a[k].size()); ++j)
      if (!std::isfinite(a[k][j]))
        throw Error("neuron '" + m_.neurons[k].name + "'", "sample " + std::to_string(j / elems_[k]) +
                                                           ": d loss / d state is " + fmt(a[k][j]));
    accumulate(out, lk_->param_output, 0, true);
    Shape y_shape{batch_};
    y_shape.insert(y_shape.end(), m_.neurons[k].shape.begin(), m_.neurons[k].shape.end());
    r.output = Tensor<double>(y_shape);
    const std::vector<T>& y = out[2];
    for (int64_t j = 0; j < r.output.size(); ++j) r.output.data[j] = static_cast<double>(y[j]);
    loss_bytes_ = 0;
    for (const auto& v : out) loss_bytes_ += static_cast<int64_t>(v.size() * sizeof(T));
    return a;
  }

  // a <- the adjoint before the step from x; adds the step's param terms. Returns the
  // kernel outputs' bytes.
  // res: the residuals the forward step from x wrote (empty without).
  int64_t backward_step(const Xs& x, const Res& res, Xs& a, int64_t step, const PreparedGraphs& prep) {
    std::map<int, const T*> in;
    for (size_t i = 0; i < n_; ++i) {
      in[static_cast<int>(i)] = x[i].empty() && v_.held[i] ? x0_[i].data() : x[i].data();
      in[static_cast<int>(n_ + i)] = a[i].data();
    }
    for (size_t k = 0; k < res.size(); ++k) in[autodiff::residual_input(n_, k)] = res[k].data();
    std::vector<std::vector<T>>& out = out_;
    run_graphs(v_.step_vjp, in, out, prep);
    for (size_t i = 0; i < n_; ++i) {
      const int k = v_.adjoint_output[i];
      if (k < 0) continue;  // a held neuron's adjoint feeds nothing (its rate is 0)
      if (!all_finite(out[k]))
        for (int64_t j = 0; j < static_cast<int64_t>(out[k].size()); ++j)
          if (!std::isfinite(out[k][j]))
            throw Error("neuron '" + m_.neurons[i].name + "'", "sample " + std::to_string(j / elems_[i]) +
                                                               ": adjoint is " + fmt(out[k][j]) + " at step " +
                                                               std::to_string(step));
      a[i].swap(out[k]);  // out[k] keeps a buffer of the same size for the next step
    }
    accumulate(out, rest_outputs_, step, false);
    add_outer_terms(out, step);
    int64_t bytes = 0;
    for (const auto& v : out) bytes += static_cast<int64_t>(v.capacity() * sizeof(T));
    for (const auto& p : sums_)
      for (const OuterSums& o : p) bytes += static_cast<int64_t>(o.changing.capacity() * sizeof(double));
    for (const std::vector<T>& f : fixed_) bytes += static_cast<int64_t>(f.capacity() * sizeof(T));
    for (const std::vector<double>& a : symmetric_acc_) bytes += static_cast<int64_t>(a.capacity() * sizeof(double));
    for (const StepSums& s : step_sums_)
      bytes += static_cast<int64_t>((s.plain.capacity() + s.symmetric.capacity()) * sizeof(T));
    return bytes + state_bytes();  // plus the adjoints moved out of `out`
  }

  // The outer-product terms of one backward step: contracted now, or their changing operand
  // added to its per-sample sum over the steps (contracted once, by flush_outer_terms).
  void add_outer_terms(const std::vector<std::vector<T>>& out, int64_t step) {
    using D = ParamPlan::Outer::Deferred;
    compute_fixed();
    for (size_t p = 0; p < m_.params.size(); ++p) {
      const ParamPlan& plan = v_.params[p];
      bool suspect = false, stepped = false;
      for (size_t t = 0; t < plan.outer.size(); ++t) {
        const ParamPlan::Outer& o = plan.outer[t];
        const std::vector<T>& u = operand_u(o, out);
        const std::vector<T>& v = operand_v(o, out);
        // A fixed operand was looked at once, by compute_fixed.
        const bool u_ok = o.deferred == D::SumV ? fixed_finite_[o.u] : all_finite(u);
        const bool v_ok = o.deferred == D::SumU ? fixed_finite_[o.v] : all_finite(v);
        suspect = suspect || !u_ok || !v_ok;
        if (o.deferred == D::No) {
          add_step_product(p, o, u.data(), v.data());
          stepped = true;
          continue;
        }
        OuterSums& sum = sums_[p][t];
        const std::vector<T>& changing = o.deferred == D::SumV ? v : u;
        if (sum.changing.empty()) sum.changing.assign(changing.size(), 0.0);
        add_into(sum.changing, changing);
      }
      if (suspect) name_bad_gradient(p, out, step);
      if (stepped && ++step_sums_[p].steps == kStepsPerFlush) flush_step_sums(p);
    }
  }

  // The outer terms are summed in the model's dtype, by the GEMM itself (C += scale U^T V
  // over the batch; fixed bands of 64 rows, each the same GEMM call whichever thread runs it,
  // so the bits do not depend on the thread count), and added into the float64 sums every
  // kStepsPerFlush steps and at the end: a pass over a float64 array of the param's size
  // after every term and step (dense_am: 784 x 900 doubles read and written twice a step, a
  // tenth of its gradient's time) becomes one every 8 steps.
  static constexpr int kStepsPerFlush = 8;
  struct StepSums {
    std::vector<T> plain, symmetric;  // [rows, cols]; symmetric: u (x) v of the symmetric terms
    int steps = 0;                    // steps summed since the last flush
  };

  void add_step_product(size_t p, const ParamPlan::Outer& o, const T* u, const T* v) {
    StepSums& sums = step_sums_[p];
    std::vector<T>& dst = o.symmetric ? sums.symmetric : sums.plain;
    if (dst.empty()) dst.assign(acc_[p].size(), T(0));
    const T scale = static_cast<T>(o.scale);
    // V packed once for all the bands.
    packed_v_.resize(static_cast<size_t>(codegen::gemm_pack_blocking(batch_, o.cols, sizeof(T) == 8).bytes));
    codegen::gemm_pack_b(batch_, o.cols, v, packed_v_.data());
    constexpr int64_t kBand = 64;
    pool_->run(static_cast<int>((o.rows + kBand - 1) / kBand), [&](int band) {
      const int64_t r0 = band * kBand, rc = std::min(kBand, o.rows - r0);
      // C[r0 : r0 + rc] += scale U[:, r0 : r0 + rc]^T V: U^T's element (i, b) is u[b * rows + r0 + i].
      codegen::gemm_strided(rc, o.cols, batch_, u + r0, 1, o.rows, packed_v_.data(), scale, dst.data() + r0 * o.cols,
                            o.cols, true);
    });
  }

  void flush_step_sums(size_t p) {
    StepSums& sums = step_sums_[p];
    sums.steps = 0;
    for (std::vector<T>* from : {&sums.plain, &sums.symmetric}) {
      if (from->empty()) continue;
      add_into(from == &sums.plain ? acc_[p] : symmetric_acc(p), *from);
      std::fill(from->begin(), from->end(), T(0));
    }
  }
  // to += from, in ranges over the threads (each element by one task).
  void add_into(std::vector<double>& to, const std::vector<T>& from) {
    const int64_t e = static_cast<int64_t>(from.size());
    constexpr int64_t kRange = 1 << 14;
    pool_->run(static_cast<int>((e + kRange - 1) / kRange), [&](int r) {
      const int64_t lo = r * kRange, hi = std::min(e, lo + kRange);
      for (int64_t j = lo; j < hi; ++j) to[j] += static_cast<double>(from[j]);
    });
  }

  // The operands of an outer term: a deferred term's fixed one is an output of `fixed`.
  const std::vector<T>& operand_u(const ParamPlan::Outer& o, const std::vector<std::vector<T>>& out) const {
    return o.deferred == ParamPlan::Outer::Deferred::SumV ? fixed_[o.u] : out[o.u];
  }
  const std::vector<T>& operand_v(const ParamPlan::Outer& o, const std::vector<std::vector<T>>& out) const {
    return o.deferred == ParamPlan::Outer::Deferred::SumU ? fixed_[o.v] : out[o.v];
  }

  // The fixed operands, once per call (they read only params, rates and held states, which
  // are x0); each is looked at for nan and inf here once rather than at every step.
  void compute_fixed() {
    if (!v_.fixed.kernel || !fixed_.empty()) return;
    std::map<int, const T*> in;
    for (auto& [index, slot] : v_.fixed.input_slot) in[index] = x0_[index].data();
    run_graphs(v_.fixed, in, fixed_, prepare(v_.fixed));
    for (const std::vector<T>& f : fixed_) fixed_finite_.push_back(all_finite(f));
  }

  // The deferred outer-product terms: the fixed operand against the changing one summed over
  // the steps.
  // The float64 sum over the batch and the steps of param p's symmetric terms (u (x) v only;
  // flush_outer_terms adds it and its transpose to acc_).
  std::vector<double>& symmetric_acc(size_t p) {
    if (symmetric_acc_.empty()) symmetric_acc_.resize(m_.params.size());
    if (symmetric_acc_[p].empty()) symmetric_acc_[p].assign(acc_[p].size(), 0.0);
    return symmetric_acc_[p];
  }

  // acc_[p] += S + S^T, S the symmetric sum (square n x n). Tiles of 64 x 64 so that the
  // transposed reads stay in the cache; each tile row is one task, whose every element is
  // written by that task alone (the bits do not depend on the thread count).
  void add_symmetric_sums() {
    for (size_t p = 0; p < symmetric_acc_.size(); ++p) {
      const std::vector<double>& sym = symmetric_acc_[p];
      if (sym.empty()) continue;
      const int64_t n = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(sym.size()))));
      double* acc = acc_[p].data();
      constexpr int64_t kTile = 64;
      pool_->run(static_cast<int>((n + kTile - 1) / kTile), [&](int band) {
        const int64_t i0 = band * kTile, i1 = std::min(n, i0 + kTile);
        for (int64_t j0 = 0; j0 < n; j0 += kTile) {
          const int64_t j1 = std::min(n, j0 + kTile);
          for (int64_t i = i0; i < i1; ++i)
            for (int64_t j = j0; j < j1; ++j) acc[i * n + j] += sym[i * n + j] + sym[j * n + i];
        }
      });
    }
    symmetric_acc_.clear();
  }

  void flush_outer_terms() {
    using D = ParamPlan::Outer::Deferred;
    for (size_t p = 0; p < m_.params.size(); ++p) {
      for (size_t t = 0; t < v_.params[p].outer.size(); ++t) {
        const ParamPlan::Outer& o = v_.params[p].outer[t];
        OuterSums& sum = sums_[p][t];
        if (o.deferred == D::No || sum.changing.empty()) continue;
        const std::vector<T> changing(sum.changing.begin(), sum.changing.end());
        if (o.deferred == D::SumV) add_step_product(p, o, fixed_[o.u].data(), changing.data());
        else add_step_product(p, o, changing.data(), fixed_[o.v].data());
        sum = OuterSums{};
        ++step_sums_[p].steps;
      }
      if (step_sums_[p].steps > 0) flush_step_sums(p);
    }
    add_symmetric_sums();
    for (size_t p = 0; p < m_.params.size(); ++p)
      if (!v_.params[p].outer.empty() && !all_finite(acc_[p]))
        throw Error("param '" + m_.params[p].name + "'",
                    "the gradient summed over the batch is not finite (every per-sample term is: the sum "
                    "overflows " + std::string(sizeof(T) == 4 ? "float32" : "float64") + ")");
  }

  // A kernel output of this step holds a nan or inf: names the first non-finite element of
  // the per-sample gradient of param p (the rest plus its outer products) in sample order,
  // as the per-sample sum did. Returns when there is none (0 * inf does not occur).
  void name_bad_gradient(size_t p, const std::vector<std::vector<T>>& out, int64_t step) const {
    const ParamPlan& plan = v_.params[p];
    const int64_t e = static_cast<int64_t>(acc_[p].size());
    std::vector<T> row(e);
    for (int64_t s = 0; s < batch_; ++s) {
      std::fill(row.begin(), row.end(), T(0));
      if (plan.rest >= 0) std::copy_n(out[plan.rest].data() + s * e, e, row.begin());
      for (const ParamPlan::Outer& o : plan.outer) {
        const T* u = operand_u(o, out).data() + s * o.rows;
        const T* v = operand_v(o, out).data() + s * o.cols;
        for (int64_t i = 0; i < o.rows; ++i)
          for (int64_t j = 0; j < o.cols; ++j) {
            row[i * o.cols + j] += static_cast<T>(o.scale) * u[i] * v[j];
            if (o.symmetric) row[j * o.cols + i] += static_cast<T>(o.scale) * u[i] * v[j];
          }
      }
      for (int64_t j = 0; j < e; ++j)
        if (!std::isfinite(row[j]))
          throw Error("param '" + m_.params[p].name + "'", "gradient is " + fmt(row[j]) + " at sample " +
                                                            std::to_string(s) + ", element " + std::to_string(j) +
                                                            ", step " + std::to_string(step));
    }
  }

  void bptt(GradientResult& r) {
    const int64_t T_ = o_.steps;
    const int64_t every = o_.checkpoint_every > 0 ? std::min(o_.checkpoint_every, std::max<int64_t>(T_, 1)) : 1;
    // Checkpoints: x_t for t = 0, every, 2 every, ... (every = 1: all states, and the
    // residuals of every step).
    std::vector<Xs> checkpoints;
    std::vector<Res> residuals;
    Xs x = x0_, xhat = fresh();
    check_states(x, 0);
    codegen::StepKernel::Bound bound = bind_step(x, xhat);
    for (int64_t t = 0; t < T_; ++t) {
      if (t % every == 0) checkpoints.push_back(stored_states(x));
      if (every == 1 && has_residuals()) {
        residuals.push_back(fresh_residuals());
        bind_residuals(bound, residuals.back());
      }
      forward_step(bound);
      check_states(x, t + 1);
    }
    const int64_t stored = static_cast<int64_t>(checkpoints.size()) + (every > 1 ? every : 0);
    const int64_t stored_residuals = has_residuals() ? std::min(every == 1 ? T_ : every, T_) + 1 : 0;
    Xs a = loss_at(x, r);
    const PreparedGraphs prep = prepare(v_.step_vjp);
    int64_t work = 0;
    for (int64_t c = static_cast<int64_t>(checkpoints.size()) - 1; c >= 0; --c) {
      const int64_t begin = c * every, end = std::min(T_, begin + every);
      // States x_begin .. x_{end-1}: the checkpoint and those recomputed from it (with the
      // residuals of the steps from them: then also the step from x_{end-1}).
      std::vector<Xs> segment;
      std::vector<Res> segment_residuals;
      if (every == 1) {
        segment.push_back(std::move(checkpoints[c]));  // not needed again
        if (has_residuals()) segment_residuals.push_back(std::move(residuals[c]));
      } else {
        segment.push_back(checkpoints[c]);
        Xs y = with_held(checkpoints[c]), yhat = fresh();
        codegen::StepKernel::Bound seg = bind_step(y, yhat);
        for (int64_t t = begin; t < end; ++t) {
          if (has_residuals()) {
            segment_residuals.push_back(fresh_residuals());
            bind_residuals(seg, segment_residuals.back());
          } else if (t + 1 == end) {
            break;
          }
          forward_step(seg);
          if (t + 1 < end) segment.push_back(stored_states(y));
        }
      }
      for (int64_t t = end - 1; t >= begin; --t) {
        const Res& res = has_residuals() ? segment_residuals[t - begin] : scratch_;
        work = std::max(work, backward_step(segment[t - begin], res, a, t + 1, prep));
      }
      if (every == 1) {
        checkpoints.pop_back();
        if (has_residuals()) residuals.pop_back();
      }
    }
    note_bytes(stored * state_bytes(true) + 2 * state_bytes() + stored_residuals * residual_bytes() + work +
               loss_bytes_);
    if (o_.state_gradients) {
      const double scale = lk_->spec.mean && batch_ > 0 ? 1.0 / static_cast<double>(batch_) : 1.0;
      for (size_t i = 0; i < n_; ++i) {
        Shape s{batch_};
        s.insert(s.end(), m_.neurons[i].shape.begin(), m_.neurons[i].shape.end());
        Tensor<double> g(s);
        for (int64_t j = 0; j < g.size(); ++j) g.data[j] = static_cast<double>(a[i][j]) * scale;
        r.states.emplace(m_.neurons[i].name, std::move(g));
      }
    }
  }

  // The T-step run (or until tol) and the loss at its end; nothing is stored.
  void forward_only(GradientResult& r) {
    Xs x = x0_, xhat = fresh(), prev;
    check_states(x, 0);
    codegen::StepKernel::Bound bound = bind_step(x, xhat);
    int64_t t = 0;
    while (t < o_.steps) {
      if (o_.tol > 0) prev = x;
      forward_step(bound);
      ++t;
      check_states(x, t);
      if (o_.tol > 0 && max_change(x, prev) < o_.tol) {
        r.converged = true;
        break;
      }
    }
    r.steps = t;
    loss_at(x, r);
    note_bytes(3 * state_bytes() + loss_bytes_);
  }

  double max_change(const Xs& x, const Xs& prev) const {
    double dx = 0;
    for (size_t i = 0; i < n_; ++i)
      for (size_t j = 0; j < x[i].size(); ++j)
        dx = std::max(dx, std::abs(static_cast<double>(x[i][j]) - static_cast<double>(prev[i][j])));
    return dx;
  }

  void implicit(GradientResult& r) {
    Xs x = x0_, xhat = fresh(), prev;
    check_states(x, 0);
    codegen::StepKernel::Bound bound = bind_step(x, xhat);
    double dx = 0;
    int64_t t = 0;
    while (t < o_.steps) {
      prev = x;
      forward_step(bound);
      ++t;
      check_states(x, t);
      dx = max_change(x, prev);
      if (dx < o_.tol) break;
    }
    r.steps = t;
    if (!(dx < o_.tol))
      throw Error(m_.file, "implicit gradients: the forward run did not converge in " + std::to_string(t) +
                               " steps (max |dx| = " + fmt(dx) + ", tol " + fmt(o_.tol) +
                               "); take more steps, a larger tol or method bptt");
    r.converged = true;
    // lambda = g + J^T lambda at the fixed point, iterated with the backward kernel; the
    // clamped elements of lambda never feed back (their rate is 0), so they are held at 0.
    const Xs g = loss_at(x, r);
    const PreparedGraphs prep = prepare(v_.step_vjp);
    // The residuals at the fixed point: one more step from (a copy of) it writes them.
    Res res;
    if (has_residuals()) {
      Xs y = x, yhat = fresh();
      codegen::StepKernel::Bound at = bind_step(y, yhat);
      res = fresh_residuals();
      bind_residuals(at, res);
      forward_step(at);
    }
    Xs lambda = g;
    std::vector<std::vector<double>> saved = acc_;  // the loss's own param terms
    int64_t it = 0;
    double change = 0, size = 0;
    int64_t worst = 0;
    for (;;) {
      if (it >= o_.adjoint_max_iterations)
        throw Error(m_.file, "implicit gradients: the adjoint iteration did not converge in " + std::to_string(it) +
                                 " iterations (sample " + std::to_string(worst) + ": max change " + fmt(change) +
                                 " > adjoint_tol " + fmt(o_.adjoint_tol) + " * " + fmt(std::max(1.0, size)) +
                                 "); the step's Jacobian at the fixed point may have spectral radius >= 1 "
                                 "(a smaller dt helps), or use method bptt");
      Xs next = lambda;
      run_adjoint(x, res, next, prep);
      change = 0;
      size = 0;
      for (size_t i = 0; i < n_; ++i)
        for (size_t j = 0; j < next[i].size(); ++j) {
          const bool moves = mask_[i].empty() || mask_[i][j % elems_[i]] != T(0);
          next[i][j] = moves ? next[i][j] + g[i][j] : T(0);
          const double c = std::abs(static_cast<double>(next[i][j]) - static_cast<double>(lambda[i][j]));
          if (c > change) {
            change = c;
            worst = static_cast<int64_t>(j) / elems_[i];
          }
          size = std::max(size, std::abs(static_cast<double>(next[i][j])));
        }
      lambda = std::move(next);
      ++it;
      if (change <= o_.adjoint_tol * std::max(1.0, size)) break;
    }
    r.adjoint_iterations = it;
    acc_ = saved;
    Xs a = lambda;
    const int64_t work = backward_step(x, res, a, t, prep);
    note_bytes(5 * state_bytes() + 2 * residual_bytes() + work + loss_bytes_);
  }

  // lambda <- J^T lambda (state part of the backward step only; param terms discarded).
  void run_adjoint(const Xs& x, const Res& res, Xs& lambda, const PreparedGraphs& prep) {
    std::map<int, const T*> in;
    for (size_t i = 0; i < n_; ++i) {
      in[static_cast<int>(i)] = x[i].data();
      in[static_cast<int>(n_ + i)] = lambda[i].data();
    }
    for (size_t k = 0; k < res.size(); ++k) in[autodiff::residual_input(n_, k)] = res[k].data();
    std::vector<std::vector<T>>& out = out_;
    run_graphs(v_.step_vjp, in, out, prep);
    for (size_t i = 0; i < n_; ++i)
      if (v_.adjoint_output[i] >= 0) lambda[i].swap(out[v_.adjoint_output[i]]);
  }

  Ham::Impl& ham_;
  const Model& m_;
  const GradientOptions& o_;
  size_t n_;
  int64_t batch_;
  Kernels& k_;
  std::shared_ptr<const LossKernel> lk_;
  LossData<T> data_;
  Variant& v_;
  const codegen::StepKernel* step_;  // the forward step (held updates dropped)
  Xs x0_, mask_, rate_;
  std::vector<int64_t> elems_;
  int64_t block_ = 1, blocks_ = 0;
  std::shared_ptr<ThreadPool> pool_;
  std::vector<std::vector<double>> acc_;
  std::vector<std::vector<T>> out_;  // the backward kernel's outputs, reused by every step
  Res scratch_;  // where the forward step writes residuals no backward step reads
  std::vector<std::vector<T>> terms_;  // the held terms, [batch, ...] each (compute_terms)
  int64_t terms_bytes_ = 0;
  // Per param, per outer term: the per-sample sum over the steps of the changing operand
  // (float64, [batch, rows or cols]); empty unless deferred (and until its first step).
  struct OuterSums {
    std::vector<double> changing;
  };
  Xs fixed_;  // the outputs of the variant's `fixed` kernel (compute_fixed), [batch, ...] each
  std::vector<bool> fixed_finite_;
  std::vector<std::vector<OuterSums>> sums_;
  std::vector<std::vector<double>> symmetric_acc_;  // per param, empty without symmetric terms
  std::vector<StepSums> step_sums_;                 // per param
  std::vector<char> packed_v_;                      // add_step_product's V, packed for the GEMM
  std::vector<int> rest_outputs_;  // per param: the output of the per-sample rest, or -1
  int64_t peak_bytes_ = 0, loss_bytes_ = 0;
};

}  // namespace

GradientResult gradients(const Ham& ham, const States& initial, const Loss& loss, const GradientOptions& options) {

  Ham::Impl& h = RunAccess::ham(ham);
  const States::Impl& s = RunAccess::states(initial);
  if (s.ham.get() != &h) throw Error(h.model.file, "gradients: the states belong to another Ham");
  check_options(h.model, options);
  if (h.f64()) return GradientRun<double>(h, s, loss, options).run();
  return GradientRun<float>(h, s, loss, options).run();
}

}  // namespace hamux
