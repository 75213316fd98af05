// compiler/autodiff/backward_step.cpp - the VJP of one Euler step (see backward_step.h).
#include "autodiff/backward_step.h"

#include "autodiff/grad.h"
#include "graph/builder.h"
#include "passes/simplify.h"

namespace hamux::autodiff {

std::string rate_param(const std::string& neuron) { return "rate[" + neuron + "]"; }

std::vector<ir::NodePtr> updates_of_states(const Model& model, const Derivation& d) {
  const size_t n = model.neurons.size();
  // Update graphs read x_i (input i) and xhat_i (input n + i); bind the xhat inputs to the
  // activation graphs, which read x_i only.
  std::vector<ir::NodePtr> by_index(2 * n);
  for (size_t i = 0; i < n; ++i) by_index[n + i] = d.activation[i];
  return substitute_inputs(d.update, by_index);
}

BackwardStep derive_backward_step(const Model& model, const Derivation& d, const std::vector<bool>& held) {
  const size_t n = model.neurons.size();
  const ir::DType dt = model.dtype;
  std::vector<ir::NodePtr> u = updates_of_states(model, d);

  std::vector<ir::NodePtr> x(n), cot(n);
  ir::NodePtr s;
  for (size_t i = 0; i < n; ++i) {
    const NeuronDef& nd = model.neurons[i];
    x[i] = ir::input(static_cast<int>(i), "x[" + nd.name + "]", nd.shape, dt);
    cot[i] = ir::input(static_cast<int>(n + i), "a[" + nd.name + "]", nd.shape, dt);
    if (i < held.size() && held[i]) continue;  // r_i = 0
    ir::NodePtr r = ir::param(rate_param(nd.name), nd.shape, dt);
    ir::NodePtr term = ir::sum_all(ir::mul(u[i], ir::mul(r, cot[i])));
    s = s ? ir::add(s, term) : term;
  }
  std::vector<ir::NodePtr> wrt = x;
  for (const ParamDef& p : model.params) wrt.push_back(ir::param(p.name, p.shape, dt));
  if (!s) s = ir::constant(0.0, dt);
  std::vector<ir::NodePtr> g = grad(s, wrt);

  std::vector<ir::NodePtr> all;
  for (size_t i = 0; i < n; ++i) all.push_back(ir::sub(cot[i], g[i]));
  for (size_t p = 0; p < model.params.size(); ++p) all.push_back(ir::neg(g[n + p]));
  all = passes::simplify(all);

  BackwardStep b;
  b.state_adjoint.assign(all.begin(), all.begin() + n);
  b.param_grad.assign(all.begin() + n, all.end());
  return b;
}

}  // namespace hamux::autodiff
