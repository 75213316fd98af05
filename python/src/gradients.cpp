// python/src/gradients.cpp - Model.gradients: hamux::gradients (include/hamux/gradients.h),
// the loss and d loss / d params as a dict of arrays, so that any Python optimiser can use them.
#include <nanobind/stl/string.h>

#include "binding.h"
#include "frontend/model.h"
#include "hamux/gradients.h"

namespace hamuxpy {

namespace {

nb::dict arrays(const std::map<std::string, hamux::Tensor<double>>& ts, bool f64) {
  nb::dict d;
  for (const auto& [name, t] : ts) d[name.c_str()] = to_array(t, f64);
  return d;
}

nb::dict gradients(PyModel& m, PyStates& s, nb::handle loss, nb::handle target, nb::handle mask, int64_t steps,
                   double dt, double tol, int threads, const std::string& method, int64_t checkpoint_every,
                   bool store_residuals, double adjoint_tol, int64_t adjoint_max_iterations, bool state_gradients) {
  if (s.model != &m) throw hamux::Error(m.ham.model().file, "the states were made by another model");
  hamux::Loss l;
  // The loss spec: JSON text, or the same as a dict.
  l.spec = nb::isinstance<nb::str>(loss) ? nb::cast<std::string>(loss)
                                         : nb::cast<std::string>(nb::module_::import_("json").attr("dumps")(loss));
  l.target = to_tensor(target);
  if (!mask.is_none()) l.mask = to_tensor(mask);
  hamux::GradientOptions o;
  o.steps = steps;
  o.dt = dt;
  o.tol = tol;
  o.threads = threads;
  if (method == "bptt") {
    o.method = hamux::GradientMethod::Bptt;
  } else if (method == "implicit") {
    o.method = hamux::GradientMethod::Implicit;
  } else {
    throw hamux::Error(m.ham.model().file, "method must be 'bptt' or 'implicit', got '" + method + "'");
  }
  o.checkpoint_every = checkpoint_every;
  o.store_residuals = store_residuals;
  o.adjoint_tol = adjoint_tol;
  o.adjoint_max_iterations = adjoint_max_iterations;
  o.state_gradients = state_gradients;
  hamux::GradientResult r;
  {
    auto guard = take(s);
    nb::gil_scoped_release nogil;
    std::shared_lock lock(m.params_lock);
    r = hamux::gradients(m.ham, s.states, l, o);
  }
  const bool f64 = m.ham.is_float64();
  nb::dict out;
  out["loss"] = r.loss;
  out["loss_per_sample"] = to_array(r.loss_per_sample, f64);
  out["params"] = arrays(r.params, f64);
  out["states"] = arrays(r.states, f64);
  out["steps"] = r.steps;
  out["converged"] = r.converged;
  out["adjoint_iterations"] = r.adjoint_iterations;
  out["memory_bytes"] = r.memory_bytes;
  return out;
}

}  // namespace

void bind_gradients(nb::module_& m) {
  nb::handle model = m.attr("Model");
  nb::setattr(
      model, "gradients",
      nb::cpp_function(
          &gradients, nb::is_method(), nb::scope(model), nb::name("gradients"), nb::arg("states"), nb::arg("loss"),
          nb::arg("target"), nb::kw_only(), nb::arg("mask") = nb::none(), nb::arg("steps") = 100,
          nb::arg("dt") = 0.1, nb::arg("tol") = 0.0, nb::arg("threads") = 1, nb::arg("method") = "bptt",
          nb::arg("checkpoint_every") = 0, nb::arg("store_residuals") = true, nb::arg("adjoint_tol") = 1e-10, nb::arg("adjoint_max_iterations") = 100000,
          nb::arg("state_gradients") = false,
          "The loss after a run from `states` (not changed; its clamps apply) and its gradients\n"
          "(hamux::gradients, include/hamux/gradients.h).\n\n"
          "loss: the loss spec, JSON text or a dict, e.g. {'neuron': 'labels', 'loss': 'cross_entropy'}.\n"
          "target: [batch, ...shape], [...shape], or [batch] class indices for the cross entropies.\n"
          "mask: optional weights of the loss's elements. steps, dt, tol, threads: the run's.\n"
          "method: 'bptt' (the exact gradient of the steps-step run; checkpoint_every k > 0 keeps\n"
          "every k-th state) or 'implicit' (the fixed point; needs tol > 0; adjoint_tol,\n"
          "adjoint_max_iterations). store_residuals: keep the forward values the backward step\n"
          "reads (False recomputes them: less memory, more time; the same gradient). state_gradients: also d loss / d initial states (bptt).\n\n"
          "Returns {'loss': float, 'loss_per_sample': [batch], 'params': {name: array},\n"
          "'states': {neuron: array}, 'steps', 'converged', 'adjoint_iterations', 'memory_bytes'}:\n"
          "arrays in the model's dtype, params' gradients with the params' shapes (optax-ready)."));
}

}  // namespace hamuxpy
