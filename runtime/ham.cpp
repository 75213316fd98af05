// runtime/ham.cpp - loading and compiling a model; its params; making batches of states.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <new>

#include "energy_tree.h"
#include "frontend/npy.h"
#include "frontend/random.h"
#include "ham_impl.h"

namespace hamux {

namespace {

std::string names_of(const std::vector<std::string>& names) {
  std::string s;
  for (const std::string& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

}  // namespace

int Ham::Impl::neuron_index(const std::string& name) const {
  const int i = model.neuron_index(name);
  if (i >= 0) return i;
  std::vector<std::string> names;
  for (const NeuronInfo& n : neurons) names.push_back(n.name);
  throw Error("neuron '" + name + "'", "unknown neuron (" + model.file + " has: " + names_of(names) + ")");
}

int Ham::Impl::param_index(const std::string& name) const {
  const int i = model.param_index(name);
  if (i >= 0) return i;
  std::vector<std::string> names;
  for (const ParamDef& p : model.params) names.push_back(p.name);
  throw Error("param '" + name + "'", "unknown param (" + model.file + " has: " +
                                          (names.empty() ? "none" : names_of(names)) + ")");
}

void Ham::Impl::refresh_params() {
  params32.assign(f64() ? 0 : model.params.size(), {});
  params64.assign(f64() ? model.params.size() : 0, {});
  for (size_t k = 0; k < model.params.size(); ++k) refresh_param(k);
}

void Ham::Impl::refresh_param(size_t k) {
  const std::vector<double>& v = model.params[k].value.data;
  if (f64()) params64[k].assign(v.begin(), v.end());
  else params32[k].assign(v.begin(), v.end());  // in place: a training step sets every param
}

namespace {

// Derives and compiles a loaded model (what load() and from_json() share).
std::shared_ptr<Ham::Impl> compile_model(Model model, const LoadOptions& options) {
  auto impl = std::make_shared<Ham::Impl>();
  impl->model = std::move(model);
  impl->derivation = derive(impl->model);
  codegen::StepOptions step;
  step.energy = true;  // one kernel serves plain runs, traces and the energy guard
  step.compile.disk_cache = options.disk_cache;
  impl->kernel = std::make_unique<codegen::StepKernel>(impl->model, impl->derivation, step);
  for (const NeuronDef& n : impl->model.neurons) impl->neurons.push_back({n.name, n.shape, n.tau});
  impl->refresh_params();
  return impl;
}

}  // namespace

Ham Ham::load(const std::string& model_path, const LoadOptions& options) {
  return Ham(compile_model(load_model(model_path), options));
}

Ham Ham::from_json(const std::string& json_text, const std::string& base_dir, const LoadOptions& options) {
  return Ham(compile_model(parse_model(json_text, "<json>", base_dir), options));
}

const std::string& Ham::name() const { return impl_->model.name; }
bool Ham::is_float64() const { return impl_->f64(); }
const std::vector<NeuronInfo>& Ham::neurons() const { return impl_->neurons; }
int Ham::neuron_index(const std::string& name) const { return impl_->neuron_index(name); }
const Model& Ham::model() const { return impl_->model; }

std::vector<std::string> Ham::param_names() const {
  std::vector<std::string> names;
  for (const ParamDef& p : impl_->model.params) names.push_back(p.name);
  return names;
}

Tensor<double> Ham::param(const std::string& name) const {
  return impl_->model.params[impl_->param_index(name)].value;
}

void Ham::set_param(const std::string& name, Tensor<double> value) {
  ParamDef& p = impl_->model.params[impl_->param_index(name)];
  if (value.shape != p.shape || value.size() != num_elements(p.shape)) {
    throw Error("param '" + name + "'",
                "shape " + shape_str(value.shape) + " does not match the model's " + shape_str(p.shape));
  }
  if (const std::string bad = non_finite_element(value); !bad.empty())
    throw Error("param '" + name + "'", bad + " (param values must be finite)");
  p.value = std::move(value);
  impl_->refresh_param(static_cast<size_t>(impl_->param_index(name)));
}

namespace {

std::string gigabytes(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g GB", bytes / 1e9);
  return buf;
}

// Refuses a batch whose states (x and xhat of every neuron, the energies) cannot fit into
// this machine's memory, before anything is allocated: a huge --batch is a clear message,
// not std::bad_alloc or "cannot create std::vector larger than max_size()".
void check_batch_fits(const Ham::Impl& ham, int64_t batch) {
  double per_sample = 1;  // the energy
  for (const auto& n : ham.neurons) per_sample += 2.0 * static_cast<double>(num_elements(n.shape));
  const double bytes = static_cast<double>(batch) * per_sample * (ham.f64() ? 8 : 4);
  const double memory = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGE_SIZE));
  if (memory > 0 && bytes > memory) {
    throw Error("batch", "a batch of " + std::to_string(batch) + " needs " + gigabytes(bytes) +
                             " for its states, more than this machine's " + gigabytes(memory) + " of memory");
  }
}

}  // namespace

States Ham::zeros(int64_t batch) const {
  if (batch < 1) throw Error("batch", "must be at least 1, got " + std::to_string(batch));
  check_batch_fits(*impl_, batch);
  auto s = std::make_shared<States::Impl>();
  s->ham = impl_;
  s->batch = batch;
  try {
    for (size_t i = 0; i < impl_->neurons.size(); ++i) {
      const size_t n = static_cast<size_t>(batch * num_elements(impl_->neurons[i].shape));
      if (impl_->f64()) {
        s->f64.x.emplace_back(n, 0.0);
        s->f64.xhat.emplace_back(n, 0.0);
        s->f64.mask.emplace_back();
      } else {
        s->f32.x.emplace_back(n, 0.0f);
        s->f32.xhat.emplace_back(n, 0.0f);
        s->f32.mask.emplace_back();
      }
    }
    s->f64.energy.assign(impl_->f64() ? batch : 0, 0.0);
    s->f32.energy.assign(impl_->f64() ? 0 : batch, 0.0f);
  } catch (const std::bad_alloc&) {
    throw Error("batch", "out of memory allocating the states of a batch of " + std::to_string(batch));
  }
  return States(std::move(s));
}

States Ham::normal(int64_t batch, uint64_t seed, double std) const {
  States s = zeros(batch);
  for (const NeuronInfo& n : impl_->neurons) s.set(n.name, frontend::normal_state(seed, n.name, n.shape, batch, std));
  return s;
}

EnergyBreakdown Ham::energy_tree(const States& states) const {
  return energy_breakdown(*impl_, *states.impl_);
}

EnergyBreakdown energy_breakdown(const Ham::Impl& ham, const States::Impl& s) {
  const Model& m = ham.model;
  const EnergyTree tree = hamux::energy_tree(m, ham.derivation, s.states64());
  EnergyBreakdown out;
  for (size_t i = 0; i < m.neurons.size(); ++i) {
    out.terms.push_back("neuron " + m.neurons[i].name);
    out.values.push_back(tree.neuron[i]);
  }
  for (size_t c = 0; c < m.connections.size(); ++c) {
    std::string label = "connection ";
    for (size_t k = 0; k < m.connections[c].neurons.size(); ++k) {
      label += (k ? "," : "") + m.neurons[m.connections[c].neurons[k]].name;
    }
    out.terms.push_back(label + " -> " + m.synapses[m.connections[c].synapse].name);
    out.values.push_back(tree.connection[c]);
  }
  out.total = tree.total;
  return out;
}

}  // namespace hamux
