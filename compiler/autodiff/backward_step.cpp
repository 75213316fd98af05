// compiler/autodiff/backward_step.cpp - the VJP of one Euler step (see backward_step.h).
#include "autodiff/backward_step.h"

#include <unordered_map>
#include <unordered_set>

#include "autodiff/grad.h"
#include "graph/builder.h"
#include "passes/rewrite.h"
#include "passes/simplify.h"

namespace hamux::autodiff {

using ir::NodePtr;

std::string rate_param(const std::string& neuron) { return "rate[" + neuron + "]"; }

std::vector<NodePtr> updates_of_states(const Model& model, const Derivation& d) {
  const size_t n = model.neurons.size();
  // Update graphs read x_i (input i) and xhat_i (input n + i); bind the xhat inputs to the
  // activation graphs, which read x_i only.
  std::vector<NodePtr> by_index(2 * n);
  for (size_t i = 0; i < n; ++i) by_index[n + i] = d.activation[i];
  return substitute_inputs(d.update, by_index);
}

namespace {

// While differentiating, the cotangents a_i sit at inputs kCotangent + i (the update graphs
// use n + i for the activations); they move to n + i once the activations are substituted.
constexpr int kCotangent = 1 << 24;

// Per node of the update graphs: whether it reads the state of a moving neuron (it changes
// from step to step), of a held one, and whether its graph computes a contraction that
// changes from step to step (the work a stored value saves).
struct Reads {
  bool moving = false, held = false, moving_contraction = false;
};

std::unordered_map<const ir::Node*, Reads> reads_of(const std::vector<NodePtr>& update, const std::vector<bool>& held,
                                                    size_t n) {
  std::unordered_map<const ir::Node*, Reads> r;
  for (const ir::Node* node : ir::topological_order(update)) {
    Reads& me = r[node];
    if (node->op == ir::Op::Input) {
      const size_t i = static_cast<size_t>(node->attrs.index) % n;  // x_i or xhat_i
      (i < held.size() && held[i] ? me.held : me.moving) = true;
    }
    for (const NodePtr& in : node->inputs) {
      const Reads& c = r.at(in.get());
      me.moving |= c.moving;
      me.held |= c.held;
      me.moving_contraction |= c.moving_contraction;
    }
    me.moving_contraction |= me.moving && ir::is_contraction(node->op);
  }
  return r;
}

// Per node of the derivative graphs: the node of the update graphs it equals, or null. The
// rules of vjp.h rebuild some forward values rather than reading them (the softmax inside
// the gradient of a logsumexp); matching those to the forward node makes them stored values
// too. A node equals a forward node when op, attributes and (matched) inputs are the same, so
// one look-up per node suffices.
std::unordered_map<const ir::Node*, const ir::Node*> forward_twins(
    const std::vector<NodePtr>& derivatives, const std::unordered_map<const ir::Node*, Reads>& reads) {
  std::unordered_multimap<uint64_t, const ir::Node*> by_hash;
  for (const auto& [node, r] : reads) by_hash.emplace(node->hash, node);
  std::unordered_map<const ir::Node*, const ir::Node*> twin;
  for (const ir::Node* node : ir::topological_order(derivatives)) {
    if (reads.count(node)) {
      twin[node] = node;
      continue;
    }
    const ir::Node* found = nullptr;
    auto [lo, hi] = by_hash.equal_range(node->hash);
    for (auto it = lo; it != hi && !found; ++it) {
      const ir::Node* f = it->second;
      bool same = f->op == node->op && f->dtype == node->dtype && f->shape == node->shape &&
                  f->inputs.size() == node->inputs.size() && ir::attrs_equal(f->attrs, node->attrs);
      for (size_t k = 0; same && k < node->inputs.size(); ++k) same = twin.at(node->inputs[k].get()) == f->inputs[k].get();
      if (same) found = f;
    }
    twin[node] = found;
  }
  return twin;
}

// The forward values worth storing: the nodes of the update graphs that a derivative node
// reads directly and whose graph holds a contraction that changes every step. Values that
// read a held neuron are left out: the forward step of a run with held neurons computes
// their contractions once, as held terms (step/held_terms.h), under other nodes. Fills
// `replace` with the input that stands for each, for the node and its twins.
std::vector<NodePtr> find_residuals(const std::vector<NodePtr>& derivatives, const std::vector<NodePtr>& update,
                                    const std::vector<bool>& held, size_t n, ir::DType dt,
                                    std::unordered_map<const ir::Node*, NodePtr>& replace) {
  const auto reads = reads_of(update, held, n);
  const auto twin = forward_twins(derivatives, reads);
  std::unordered_map<const ir::Node*, NodePtr> owner;
  for (const ir::Node* node : ir::topological_order(update))
    for (const NodePtr& in : node->inputs) owner.emplace(in.get(), in);
  for (const NodePtr& u : update) owner.emplace(u.get(), u);
  std::vector<NodePtr> found;
  std::unordered_map<const ir::Node*, size_t> index;
  for (const ir::Node* node : ir::topological_order(derivatives)) {
    if (twin.at(node)) continue;  // a forward value: not a reader of one
    for (const NodePtr& in : node->inputs) {
      const ir::Node* f = twin.at(in.get());
      if (!f || !reads.at(f).moving_contraction || reads.at(f).held) continue;
      // A broadcast repeats its operand: store the operand (smaller), broadcast it again.
      while (f->op == ir::Op::Broadcast && reads.at(f->inputs[0].get()).moving_contraction) f = f->inputs[0].get();
      if (index.emplace(f, found.size()).second) found.push_back(owner.at(f));
    }
  }
  for (size_t k = 0; k < found.size(); ++k)
    replace[found[k].get()] =
        ir::input(residual_input(n, k), "res[" + std::to_string(k) + "]", found[k]->shape, dt);
  for (const auto& [node, f] : twin)
    if (f && node != f && replace.count(f)) replace[node] = replace.at(f);
  return found;
}

// The graphs with each node of `replace` (by identity) swapped for its replacement.
std::vector<NodePtr> replace_nodes(const std::vector<NodePtr>& roots,
                                   const std::unordered_map<const ir::Node*, NodePtr>& replace) {
  const std::vector<const ir::Node*> order = ir::topological_order(roots);
  std::unordered_map<const ir::Node*, NodePtr> owner, done;
  for (const NodePtr& r : roots) owner.emplace(r.get(), r);
  for (const ir::Node* node : order)
    for (const NodePtr& in : node->inputs) owner.emplace(in.get(), in);
  for (const ir::Node* node : order) {
    auto it = replace.find(node);
    if (it != replace.end()) {
      done[node] = it->second;
      continue;
    }
    std::vector<NodePtr> inputs;
    for (const NodePtr& in : node->inputs) inputs.push_back(done.at(in.get()));
    done[node] = passes::with_inputs(owner.at(node), std::move(inputs));
  }
  std::vector<NodePtr> out;
  for (const NodePtr& r : roots) out.push_back(done.at(r.get()));
  return out;
}

}  // namespace

BackwardStep derive_backward_step(const Model& model, const Derivation& d, const std::vector<bool>& held,
                                  bool store_residuals) {
  const size_t n = model.neurons.size();
  const ir::DType dt = model.dtype;
  // s = sum_i sum(u_i * r_i * a_i) over the update graphs as they are, with the activations
  // their own leaves: the derivative graphs then read the nodes of d.update themselves (the
  // values the forward step computes), and the chain through the activations comes after.
  std::vector<NodePtr> x(n), xhat(n), cot(n), cot_tmp(n);
  NodePtr s;
  for (size_t i = 0; i < n; ++i) {
    const NeuronDef& nd = model.neurons[i];
    const int k = static_cast<int>(i);
    x[i] = ir::input(k, "x[" + nd.name + "]", nd.shape, dt);
    xhat[i] = ir::input(static_cast<int>(n) + k, "xhat[" + nd.name + "]", nd.shape, dt);
    cot[i] = ir::input(static_cast<int>(n) + k, "a[" + nd.name + "]", nd.shape, dt);
    cot_tmp[i] = ir::input(kCotangent + k, "a[" + nd.name + "]", nd.shape, dt);
    if (i < held.size() && held[i]) continue;  // r_i = 0
    NodePtr r = ir::param(rate_param(nd.name), nd.shape, dt);
    NodePtr term = ir::sum_all(ir::mul(d.update[i], ir::mul(r, cot_tmp[i])));
    s = s ? ir::add(s, term) : term;
  }
  std::vector<NodePtr> params;
  for (const ParamDef& p : model.params) params.push_back(ir::param(p.name, p.shape, dt));
  std::vector<NodePtr> wrt = x;
  wrt.insert(wrt.end(), xhat.begin(), xhat.end());
  wrt.insert(wrt.end(), params.begin(), params.end());
  if (!s) s = ir::constant(0.0, dt);
  const std::vector<NodePtr> g = grad(s, wrt);

  // Through the activations: d s / d x_i += J_act_i^T (d s / d xhat_i), and the same for
  // params an activation reads.
  std::vector<NodePtr> all;
  std::vector<NodePtr> param_grad(g.begin() + 2 * static_cast<std::ptrdiff_t>(n), g.end());
  for (size_t i = 0; i < n; ++i) {
    NodePtr gx = g[i];
    const NodePtr& gxhat = g[n + i];
    if (!(gxhat->op == ir::Op::Const && gxhat->attrs.value == 0.0)) {
      std::vector<NodePtr> w{x[i]};
      w.insert(w.end(), params.begin(), params.end());
      const std::vector<NodePtr> j = vjp(d.activation[i], gxhat, w);
      gx = ir::add(gx, j[0]);
      for (size_t p = 0; p < params.size(); ++p) param_grad[p] = ir::add(param_grad[p], j[1 + p]);
    }
    all.push_back(ir::sub(cot_tmp[i], gx));
  }
  for (const NodePtr& pg : param_grad) all.push_back(ir::neg(pg));

  BackwardStep b;
  if (store_residuals) {
    std::unordered_map<const ir::Node*, NodePtr> replace;
    b.residuals = find_residuals(all, d.update, held, n, dt, replace);
    all = replace_nodes(all, replace);
  }
  // The activation leaves become the activation graphs, then the cotangents move to n + i.
  std::vector<NodePtr> by_index(2 * n);
  for (size_t i = 0; i < n; ++i) by_index[n + i] = d.activation[i];
  all = substitute_inputs(all, by_index);
  all = passes::rewrite(all, [&](const NodePtr& node) {
    return node->op == ir::Op::Input && node->attrs.index >= kCotangent ? cot[node->attrs.index - kCotangent] : node;
  });
  all = passes::simplify(all);
  b.state_adjoint.assign(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n));
  b.param_grad.assign(all.begin() + static_cast<std::ptrdiff_t>(n), all.end());
  return b;
}

}  // namespace hamux::autodiff
