// compiler/codegen/step.cpp - lowering and running the fused Euler step kernel.
#include "step/step.h"

#include <map>
#include <set>
#include <string>
#include <unordered_set>

#include "codegen/loops/lower.h"
#include "graph/builder.h"
#include "graph/internal_error.h"
#include "step/held_terms.h"

namespace hamux::codegen {

namespace {

std::string rate_name(const NeuronDef& n) { return "$rate[" + n.name + "]"; }
std::string mask_name(const NeuronDef& n) { return "$mask[" + n.name + "]"; }

bool is_zero(const ir::NodePtr& g) { return g->op == ir::Op::Const && g->attrs.value == 0.0; }

bool is_layout(ir::Op op) { return op == ir::Op::Broadcast || op == ir::Op::Reshape || op == ir::Op::Transpose; }

// Would the loop writing x_i (in place, after the loops of neurons 0..i-1 wrote theirs)
// read a state that is already overwritten? It does if its fused region reads some x_j
// with j < i, or reads x_i anywhere but at the element being written.
bool reads_overwritten_state(const Program& p, const ir::NodePtr& root, int i, int n) {
  std::vector<std::pair<const ir::Node*, bool>> stack{{root.get(), false}};
  std::unordered_set<const ir::Node*> seen;
  while (!stack.empty()) {
    auto [m, via_layout] = stack.back();
    stack.pop_back();
    for (const ir::NodePtr& c : m->inputs) {
      bool moved = via_layout || is_layout(m->op);
      if (c->op == ir::Op::Input && c->attrs.index < n) {
        int j = c->attrs.index;
        if (j < i || (j == i && moved)) return true;
        continue;
      }
      if (p.buffer_of(c.get()) >= 0 || !seen.insert(c.get()).second) continue;
      stack.push_back({c.get(), moved});
    }
  }
  return false;
}

}  // namespace

StepProgram lower_step_program(const Model& model, const Derivation& d, bool energy, int64_t small_einsum_work,
                               const std::vector<ir::NodePtr>& residuals) {
  const ir::DType dt = model.dtype;
  const int n = static_cast<int>(model.neurons.size());
  if (static_cast<int>(d.activation.size()) != n || static_cast<int>(d.update.size()) != n)
    HAMUX_INTERNAL("the derivation of " + model.file + " does not match the model's neurons");
  if (energy && !d.total_energy) HAMUX_INTERNAL("the derivation of " + model.file + " has no total energy");

  std::vector<ir::NodePtr> roots, finals, updates;
  for (int i = 0; i < n; ++i) roots.push_back(d.activation[i]);
  for (int i = 0; i < n; ++i) {
    const NeuronDef& nd = model.neurons[i];
    ir::NodePtr x = ir::input(i, "x[" + nd.name + "]", nd.shape, dt);
    ir::NodePtr rate = ir::param(rate_name(nd), {}, dt);
    ir::NodePtr mask = ir::param(mask_name(nd), nd.shape, dt);
    finals.push_back(ir::sub(x, ir::mul(ir::mul(rate, mask), d.update[i])));
    roots.push_back(finals.back());
  }
  if (energy) roots.push_back(d.total_energy);
  roots.insert(roots.end(), residuals.begin(), residuals.end());

  StepProgram sp;
  Program& p = sp.program;
  StepLayout& layout = sp.layout;
  p.dtype = dt;
  Lowerer low(p, roots, small_einsum_work);
  auto slot = [&](int buffer) { return p.buffers[buffer].external; };
  // dt and the masks are kernel arguments, not parameters of the prologue: the prologue
  // (W + W^T, packed weights ...) depends on the model's params only, so a new dt (the
  // energy guard halving it) or a new mask re-runs nothing (StepKernel::set_dt).
  std::set<std::string> per_call;
  for (const NeuronDef& nd : model.neurons) per_call.insert({rate_name(nd), mask_name(nd)});
  low.set_per_call_params(per_call);
  std::vector<int> x_buf, xhat_buf;
  for (int i = 0; i < n; ++i)
    x_buf.push_back(low.add_input(i, "x[" + model.neurons[i].name + "]", model.neurons[i].shape));
  for (int i = 0; i < n; ++i) {
    xhat_buf.push_back(low.add_output("xhat[" + model.neurons[i].name + "]", model.neurons[i].shape, true));
    p.inputs[n + i] = xhat_buf.back();  // the update graphs read activations as input n+i
  }
  for (const ParamDef& pd : model.params) layout.param.push_back(slot(low.add_param(pd.name, pd.shape)));
  // The held terms the updates read (inputs 2n + k, held_terms.h): batched inputs, in order.
  std::map<int, const ir::Node*> terms;
  for (const ir::Node* node : ir::topological_order(d.update))
    if (node->op == ir::Op::Input && node->attrs.index >= 2 * n) terms[node->attrs.index] = node;
  for (auto& [index, node] : terms) {
    if (index != held_term_input(n, static_cast<int>(layout.term.size())))
      HAMUX_INTERNAL("the update graphs of " + model.file + " read input " + std::to_string(index) +
                     " but not every term before it");
    layout.term.push_back(slot(low.add_input(index, node->attrs.name, node->shape)));
  }
  for (const NeuronDef& nd : model.neurons) {
    layout.rate.push_back(slot(low.add_param(rate_name(nd), {})));
    layout.mask.push_back(slot(low.add_param(mask_name(nd), nd.shape)));
  }
  int energy_buf = energy ? low.add_output("energy", {}, true) : -1;
  std::vector<int> residual_buf;
  for (size_t k = 0; k < residuals.size(); ++k) {
    residual_buf.push_back(low.add_output("residual[" + std::to_string(k) + "]", residuals[k]->shape, true));
    layout.residual.push_back(slot(residual_buf.back()));
  }
  for (int i = 0; i < n; ++i) {
    layout.x.push_back(slot(x_buf[i]));
    layout.xhat.push_back(slot(xhat_buf[i]));
  }
  layout.energy = energy_buf >= 0 ? slot(energy_buf) : -1;

  // Body: activations, everything the updates need, then the in-place state updates.
  std::vector<ir::NodePtr> body_roots, epilogue_roots;
  for (int i = 0; i < n; ++i) {
    body_roots.push_back(low.rewritten(d.activation[i]));
    epilogue_roots.push_back(body_roots.back());
  }
  for (int i = 0; i < n; ++i) body_roots.push_back(low.rewritten(finals[i]));
  for (const ir::NodePtr& r : residuals) body_roots.push_back(low.rewritten(r));
  if (energy) {
    epilogue_roots.push_back(low.rewritten(d.total_energy));
    low.count_uses(body_roots);
  }
  // A held neuron's activations are not written when no update reads them: its state never
  // moves, and the callers of such variants (hamux::gradients) read x alone. For a classifier
  // whose image is held, copying it into xhat twice a step was most of the step's traffic.
  std::vector<bool> write_xhat(n, true);
  if (!energy) {
    std::set<int64_t> read;
    for (const ir::Node* node : ir::topological_order(d.update))
      if (node->op == ir::Op::Input) read.insert(node->attrs.index);
    for (int i = 0; i < n; ++i) write_xhat[i] = !is_zero(d.update[i]) || read.count(n + i);
  }
  for (int i = 0; i < n; ++i)
    if (write_xhat[i]) low.emit(p.body, low.rewritten(d.activation[i]), xhat_buf[i]);
  const size_t activation_stages = p.body.size();
  // The residuals, from the activations and before any state is overwritten; a node emitted
  // into its output is read from there by the updates and by the residuals emitted after it
  // (not computed twice), so they go in topological order (inner ones first).
  std::map<const ir::Node*, size_t> residual_index;
  for (size_t k = 0; k < residuals.size(); ++k) residual_index.emplace(residuals[k].get(), k);
  for (const ir::Node* node : ir::topological_order(residuals)) {
    auto it = residual_index.find(node);
    if (it != residual_index.end())
      low.emit(p.body, low.rewritten(residuals[it->second]), residual_buf[it->second]);
  }
  std::vector<ir::NodePtr> fin;
  for (int i = 0; i < n; ++i) {
    fin.push_back(low.rewritten(finals[i]));
    low.prepare(p.body, fin[i]);
  }
  for (int i = 0; i < n; ++i)
    if (reads_overwritten_state(p, fin[i], i, n)) low.materialise(p.body, low.rewritten(d.update[i]));
  // A held neuron's update is Const 0 (the variants of hamux::gradients): its state stays as
  // it is, so nothing is written (x - rate * mask * 0 would read and write it every step).
  for (int i = 0; i < n; ++i)
    if (!is_zero(d.update[i])) low.emit(p.body, fin[i], x_buf[i]);

  // Epilogue: activations (and energy) of the final state. (Without the energy the body's
  // counts stay: the epilogue is then the body's activation stages, see below.)
  low.begin_phase();
  if (energy) low.count_uses(epilogue_roots);
  for (int i = 0; i < n; ++i)
    if (write_xhat[i]) low.emit(p.epilogue, low.rewritten(d.activation[i]), xhat_buf[i]);
  if (energy) {
    p.optional_from = static_cast<int64_t>(p.epilogue.size());
    p.optional_output = energy_buf;
    low.emit(p.epilogue, low.rewritten(d.total_energy), energy_buf);
  }
  // Without the energy the epilogue is the body's activation stages lowered once more (same
  // graphs, same prologue values; begin_phase dropped only per-sample buffers). Emitting
  // them twice doubles the machine code of activation-heavy models for nothing: the kernel
  // runs them instead at the top of one extra loop iteration. (With the energy, its stages
  // may read temporaries of the epilogue's own activation stages, so it keeps them.)
  if (!energy && p.epilogue.size() == activation_stages) {
    p.epilogue.clear();
    p.epilogue_is_body_prefix = activation_stages;
  }
  low.finish();
  layout.slots = p.num_external;
  return sp;
}

Program lower_step(const Model& model, const Derivation& d, bool energy, int64_t small_einsum_work) {
  return lower_step_program(model, d, energy, small_einsum_work).program;
}

StepKernel::StepKernel(const Model& model, const Derivation& derivation, const StepOptions& options)
    : dtype_(model.dtype) {
  StepProgram sp =
      lower_step_program(model, derivation, options.energy, options.compile.small_einsum_work, options.residuals);
  layout_ = std::move(sp.layout);
  // (Packing adds temporaries only: the external slots of the layout stay.)
  kernel_ = compile(std::move(sp.program), options.compile);
  for (const NeuronDef& nd : model.neurons) {
    tau_.push_back(nd.tau);
    ones64_.emplace_back(num_elements(nd.shape), 1.0);
    ones32_.emplace_back(num_elements(nd.shape), 1.0f);
  }
}

namespace {

void check_bindings(const StepKernel::Bindings& b, size_t neurons, size_t params, size_t terms, size_t residuals) {
  if (b.x.size() != neurons || b.xhat.size() != neurons || (!b.mask.empty() && b.mask.size() != neurons) ||
      b.params.size() != params || b.terms.size() != terms || b.residual.size() != residuals)
    HAMUX_INTERNAL("step bindings do not match the model (" + std::to_string(neurons) + " neurons, " +
                   std::to_string(params) + " params, " + std::to_string(terms) + " held terms, " +
                   std::to_string(residuals) + " residuals)");
}

}  // namespace

// The slots without the prepared values (for a single call, which computes them itself).
StepKernel::Bound StepKernel::bind_slots(const Bindings& b, double dt) const {
  const size_t n = tau_.size();
  check_bindings(b, n, layout_.param.size(), layout_.term.size(), layout_.residual.size());
  Bound bound;
  bound.slots.assign(layout_.slots, nullptr);
  bound.rate64.resize(n);
  bound.rate32.resize(n);
  std::vector<void*>& slots = bound.slots;
  for (size_t i = 0; i < n; ++i) {
    slots[layout_.x[i]] = b.x[i];
    slots[layout_.xhat[i]] = b.xhat[i];
    const void* mask = b.mask.empty() ? nullptr : b.mask[i];
    bound.rate64[i] = dt / tau_[i];
    bound.rate32[i] = static_cast<float>(bound.rate64[i]);
    if (dtype_ == ir::DType::F64) {
      slots[layout_.rate[i]] = &bound.rate64[i];
      slots[layout_.mask[i]] = const_cast<void*>(mask ? mask : ones64_[i].data());
    } else {
      slots[layout_.rate[i]] = &bound.rate32[i];
      slots[layout_.mask[i]] = const_cast<void*>(mask ? mask : ones32_[i].data());
    }
  }
  for (size_t k = 0; k < layout_.param.size(); ++k) slots[layout_.param[k]] = const_cast<void*>(b.params[k]);
  for (size_t k = 0; k < layout_.term.size(); ++k) slots[layout_.term[k]] = const_cast<void*>(b.terms[k]);
  if (layout_.energy >= 0) slots[layout_.energy] = b.energy;
  for (size_t k = 0; k < layout_.residual.size(); ++k) slots[layout_.residual[k]] = b.residual[k];
  return bound;
}

StepKernel::Bound StepKernel::bind(const Bindings& b, double dt) const {
  Bound bound = bind_slots(b, dt);
  bound.prepared = kernel_->prepare(bound.slots.data());
  return bound;
}

void StepKernel::set_dt(Bound& bound, double dt) const {
  for (size_t i = 0; i < tau_.size(); ++i) {
    bound.rate64[i] = dt / tau_[i];
    bound.rate32[i] = static_cast<float>(bound.rate64[i]);
  }
}

void StepKernel::set_residuals(Bound& bound, const std::vector<void*>& residual) const {
  if (residual.size() != layout_.residual.size())
    HAMUX_INTERNAL("step bindings: " + std::to_string(residual.size()) + " residual buffers for " +
                   std::to_string(layout_.residual.size()) + " residuals");
  for (size_t k = 0; k < residual.size(); ++k) bound.slots[layout_.residual[k]] = residual[k];
}

void StepKernel::run(const Bound& bound, int64_t begin, int64_t end, int64_t k_steps) const {
  kernel_->run(bound.slots.data(), begin, end, k_steps, bound.prepared.data() ? &bound.prepared : nullptr);
}

void StepKernel::run(const Bindings& b, int64_t begin, int64_t end, double dt, int64_t k_steps) const {
  const Bound bound = bind_slots(b, dt);
  kernel_->run(bound.slots.data(), begin, end, k_steps);
}

}  // namespace hamux::codegen
