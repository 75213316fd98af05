// python/src/training.cpp - Model.train and Model.evaluate: hamux::train / hamux::evaluate
// (include/hamux/training.h) on data given as a dict of arrays, so that a training loop,
// checkpoints and resume need no files of their own.
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "binding.h"
#include "frontend/model.h"
#include "hamux/training.h"

namespace hamuxpy {

namespace {

hamux::Dataset dataset(nb::handle data, const std::string& name) {
  hamux::Dataset d;
  d.name = name;
  for (auto [k, v] : nb::cast<nb::dict>(data)) d.arrays.emplace(nb::cast<std::string>(k), to_tensor(v));
  return d;
}

std::string json_text(nb::handle spec) {
  return nb::isinstance<nb::str>(spec) ? nb::cast<std::string>(spec)
                                       : nb::cast<std::string>(nb::module_::import_("json").attr("dumps")(spec));
}

// The options every call shares: the feeds, the loss and the dynamics.
hamux::TrainOptions options(const PyModel& m, nb::handle feeds, nb::handle loss, const std::string& target,
                            const std::string& mask, int64_t steps, double dt, double tol, const std::string& method,
                            int64_t checkpoint_every, int64_t batch, int threads) {
  hamux::TrainOptions o;
  for (auto [array, neuron] : nb::cast<nb::dict>(feeds)) {
    hamux::Feed f;
    f.array = nb::cast<std::string>(array);
    // "input" or ("input", False): the neuron, and whether it is clamped (default yes).
    if (nb::isinstance<nb::tuple>(neuron)) {
      nb::tuple t = nb::cast<nb::tuple>(neuron);
      if (t.size() != 2) throw hamux::Error("feeds", "'" + f.array + "': expected a neuron name or (neuron, clamp)");
      f.neuron = nb::cast<std::string>(t[0]);
      f.clamp = nb::cast<bool>(t[1]);
    } else {
      f.neuron = nb::cast<std::string>(neuron);
    }
    o.feeds.push_back(f);
  }
  o.loss = json_text(loss);
  o.target = target;
  o.mask = mask;
  o.dynamics.steps = steps;
  o.dynamics.dt = dt;
  o.dynamics.tol = tol;
  o.dynamics.threads = threads;
  o.dynamics.checkpoint_every = checkpoint_every;
  if (method == "bptt") o.dynamics.method = hamux::GradientMethod::Bptt;
  else if (method == "implicit") o.dynamics.method = hamux::GradientMethod::Implicit;
  else throw hamux::Error(m.ham.model().file, "method must be 'bptt' or 'implicit', got '" + method + "'");
  o.batch = batch;
  return o;
}

hamux::Optimizer optimizer(nb::handle spec) {
  hamux::Optimizer o;
  if (spec.is_none()) return o;
  for (auto [k, v] : nb::cast<nb::dict>(spec)) {
    const std::string key = nb::cast<std::string>(k);
    if (key == "name") o.name = nb::cast<std::string>(v);
    else if (key == "schedule") o.schedule = nb::cast<std::string>(v);
    else if (key == "nesterov") o.nesterov = nb::cast<bool>(v);
    else if (key == "warmup_steps") o.warmup_steps = nb::cast<int64_t>(v);
    else if (key == "lr") o.lr = nb::cast<double>(v);
    else if (key == "momentum") o.momentum = nb::cast<double>(v);
    else if (key == "beta1") o.beta1 = nb::cast<double>(v);
    else if (key == "beta2") o.beta2 = nb::cast<double>(v);
    else if (key == "eps") o.eps = nb::cast<double>(v);
    else if (key == "weight_decay") o.weight_decay = nb::cast<double>(v);
    else if (key == "min_lr") o.min_lr = nb::cast<double>(v);
    else if (key == "clip_norm") o.clip_norm = nb::cast<double>(v);
    else
      throw hamux::Error("optimizer", "unknown key '" + key + "' (expected name, lr, momentum, nesterov, beta1, beta2, "
                                      "eps, weight_decay, schedule, warmup_steps, min_lr, clip_norm)");
  }
  return o;
}

nb::dict epoch_dict(const hamux::EpochStats& e) {
  auto opt = [](double v) -> nb::object { return v >= 0 ? nb::object(nb::float_(v)) : nb::none(); };
  nb::dict d;
  d["epoch"] = e.epoch;
  d["train_loss"] = e.train_loss;
  d["train_accuracy"] = opt(e.train_accuracy);
  d["validation_loss"] = opt(e.validation_loss);
  d["validation_accuracy"] = opt(e.validation_accuracy);
  d["lr"] = e.lr;
  d["grad_norm"] = e.grad_norm;
  d["seconds"] = e.seconds;
  return d;
}

nb::dict train(PyModel& m, nb::handle data, nb::handle feeds, nb::handle loss, const std::string& target,
               const std::string& mask, nb::handle validation, int64_t steps, double dt, double tol,
               const std::string& method, int64_t checkpoint_every, nb::handle optimizer_spec, int64_t batch,
               int64_t epochs, uint64_t seed, bool shuffle, const std::string& out, bool resume, int threads) {
  refuse_inside_own_run(m);
  hamux::TrainOptions o = options(m, feeds, loss, target, mask, steps, dt, tol, method, checkpoint_every, batch, threads);
  o.optimizer = optimizer(optimizer_spec);
  o.epochs = epochs;
  o.seed = seed;
  o.shuffle = shuffle;
  o.out_dir = out;
  o.resume = resume;
  const hamux::Dataset train_data = dataset(data, "train data");
  const bool has_val = !validation.is_none();
  const hamux::Dataset val = has_val ? dataset(validation, "validation data") : hamux::Dataset{};
  hamux::TrainReport r;
  {
    nb::gil_scoped_release nogil;
    std::unique_lock lock(m.params_lock);  // training replaces the params after every step
    r = hamux::train(m.ham, train_data, has_val ? &val : nullptr, o);
  }
  nb::list epochs_out;
  for (const hamux::EpochStats& e : r.epochs) epochs_out.append(epoch_dict(e));
  nb::dict d;
  d["epochs"] = epochs_out;
  d["steps"] = r.steps;
  d["interrupted"] = r.interrupted;
  return d;
}

nb::dict evaluate(PyModel& m, nb::handle data, nb::handle feeds, nb::handle loss, const std::string& target,
                  const std::string& mask, int64_t steps, double dt, double tol, const std::string& method,
                  int64_t batch, int threads) {
  const hamux::TrainOptions o = options(m, feeds, loss, target, mask, steps, dt, tol, method, 0, batch, threads);
  const hamux::Dataset d = dataset(data, "data");
  hamux::EvalResult r;
  {
    nb::gil_scoped_release nogil;
    std::shared_lock lock(m.params_lock);
    r = hamux::evaluate(m.ham, d, o);
  }
  nb::dict out;
  out["samples"] = r.samples;
  out["loss"] = r.loss;
  out["accuracy"] = r.accuracy >= 0 ? nb::object(nb::float_(r.accuracy)) : nb::none();
  return out;
}

}  // namespace

void bind_training(nb::module_& m) {
  nb::handle model = m.attr("Model");
  nb::setattr(
      model, "train",
      nb::cpp_function(
          &train, nb::is_method(), nb::scope(model), nb::name("train"), nb::arg("data"), nb::kw_only(),
          nb::arg("feeds"), nb::arg("loss"), nb::arg("target"), nb::arg("mask") = "",
          nb::arg("validation") = nb::none(), nb::arg("steps") = 100, nb::arg("dt") = 0.1, nb::arg("tol") = 0.0,
          nb::arg("method") = "bptt", nb::arg("checkpoint_every") = 0, nb::arg("optimizer") = nb::none(),
          nb::arg("batch") = 32, nb::arg("epochs") = 1, nb::arg("seed") = 0, nb::arg("shuffle") = true,
          nb::arg("out") = "", nb::arg("resume") = false, nb::arg("threads") = 1,
          "Trains the model's params in place (hamux::train, docs/training.md).\n\n"
          "data, validation: {array name: array [N, ...]}. feeds: {array: neuron} or {array: (neuron,\n"
          "clamp)}: the array gives the neuron its initial state (clamped by default); the other\n"
          "neurons start at zero. loss: a loss spec (dict or JSON). target, mask: array names.\n"
          "steps, dt, tol, method, checkpoint_every: the dynamics the gradient goes through.\n"
          "optimizer: {'name': 'adam'|'adamw'|'sgd', 'lr', 'momentum', 'nesterov', 'beta1', 'beta2',\n"
          "'eps', 'weight_decay', 'schedule': 'constant'|'cosine', 'warmup_steps', 'min_lr',\n"
          "'clip_norm'}. out: a folder for checkpoint.npz, params.npz, log.csv and curves after every\n"
          "epoch; resume: continue from out/checkpoint.npz (bit-identical). The result does not\n"
          "depend on threads.\n\n"
          "Returns {'epochs': [{'epoch', 'train_loss', 'train_accuracy', 'validation_loss',\n"
          "'validation_accuracy', 'lr', 'grad_norm', 'seconds'}], 'steps', 'interrupted'}; the\n"
          "accuracies are None without class targets, the validation entries without validation."));
  nb::setattr(model, "evaluate",
              nb::cpp_function(
                  &evaluate, nb::is_method(), nb::scope(model), nb::name("evaluate"), nb::arg("data"), nb::kw_only(),
                  nb::arg("feeds"), nb::arg("loss"), nb::arg("target"), nb::arg("mask") = "", nb::arg("steps") = 100,
                  nb::arg("dt") = 0.1, nb::arg("tol") = 0.0, nb::arg("method") = "bptt", nb::arg("batch") = 32,
                  nb::arg("threads") = 1,
                  "The mean loss and (for class targets) the accuracy of the current params on `data`\n"
                  "(forward runs only; the arguments as for train). Returns {'samples', 'loss', 'accuracy'}."));
}

}  // namespace hamuxpy
