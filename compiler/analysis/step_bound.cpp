// compiler/analysis/step_bound.cpp - power iteration on VJPs of the update (see step_bound.h).
#include "analysis/step_bound.h"

#include <cmath>
#include <limits>

#include "autodiff/grad.h"
#include "frontend/random.h"
#include "graph/builder.h"
#include "interp/interpreter.h"
#include "passes/simplify.h"

namespace hamux::analysis {

StepBound step_size_bound(const Model& model, const Derivation& derivation, const std::vector<Tensor<double>>& states,
                          int iterations) {
  const int n = static_cast<int>(model.neurons.size());
  if (static_cast<int>(states.size()) != n) throw Error(model.file, "step_size_bound: one state per neuron expected");
  const int64_t batch = states.empty() ? 0 : states[0].shape.at(0);
  std::vector<ir::NodePtr> x(n), by_index(2 * n), w(n);
  for (int i = 0; i < n; ++i) {
    const NeuronDef& nd = model.neurons[i];
    x[i] = ir::input(i, "x[" + nd.name + "]", nd.shape, model.dtype);
    by_index[n + i] = derivation.activation[i];  // xhat as a function of x
    w[i] = ir::input(n + i, "w[" + nd.name + "]", nd.shape, model.dtype);
  }
  // s = sum_i <F_i(x), w_i>; grad_x s = J' w.
  std::vector<ir::NodePtr> f = autodiff::substitute_inputs(derivation.update, by_index);
  ir::NodePtr s;
  for (int i = 0; i < n; ++i) {
    ir::NodePtr t = ir::sum_all(ir::mul(ir::scale(1.0 / model.neurons[i].tau, f[i]), w[i]));
    s = s ? ir::add(s, t) : t;
  }
  const std::vector<ir::NodePtr> jtw = passes::simplify(autodiff::grad(s, x));
  const interp::ParamValues<double> params = interp::param_values<double>(model);

  std::vector<Tensor<double>> inputs = states;
  frontend::Rng rng(1, "step_bound");
  for (int i = 0; i < n; ++i) {
    inputs.push_back(Tensor<double>(states[i].shape));
    for (double& v : inputs.back().data) v = rng.normal();
  }
  auto normalise = [&](std::vector<Tensor<double>>& v, std::vector<double>& norms) {
    norms.assign(batch, 0.0);
    for (int i = 0; i < n; ++i) {
      const int64_t size = v[i].size() / std::max<int64_t>(batch, 1);
      for (int64_t b = 0; b < batch; ++b)
        for (int64_t e = 0; e < size; ++e) norms[b] += v[i][b * size + e] * v[i][b * size + e];
    }
    for (double& m : norms) m = std::sqrt(m);
    for (int i = 0; i < n; ++i) {
      const int64_t size = v[i].size() / std::max<int64_t>(batch, 1);
      for (int64_t b = 0; b < batch; ++b)
        for (int64_t e = 0; e < size; ++e)
          if (norms[b] > 0) v[i][b * size + e] /= norms[b];
    }
  };
  std::vector<Tensor<double>> dir(inputs.begin() + n, inputs.end());
  std::vector<double> norms, rayleigh(batch, 0.0);
  normalise(dir, norms);
  StepBound r;
  for (int it = 0; it < iterations; ++it) {
    for (int i = 0; i < n; ++i) inputs[n + i] = dir[i];
    std::vector<Tensor<double>> next = interp::evaluate<double>(jtw, inputs, params, batch);
    // The Rayleigh quotient w' J' w with |w| = 1 (real spectrum: it converges to the
    // dominant eigenvalue with its sign).
    rayleigh.assign(batch, 0.0);
    for (int i = 0; i < n; ++i) {
      const int64_t size = next[i].size() / std::max<int64_t>(batch, 1);
      for (int64_t b = 0; b < batch; ++b)
        for (int64_t e = 0; e < size; ++e) rayleigh[b] += next[i][b * size + e] * dir[i][b * size + e];
    }
    normalise(next, norms);
    dir = std::move(next);
    r.iterations = it + 1;
  }
  r.lambda_max = -std::numeric_limits<double>::infinity();
  for (double l : rayleigh) r.lambda_max = std::max(r.lambda_max, l);
  r.dt = r.lambda_max > 0 ? 2.0 / r.lambda_max : std::numeric_limits<double>::infinity();
  return r;
}

}  // namespace hamux::analysis
