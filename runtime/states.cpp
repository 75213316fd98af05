// runtime/states.cpp - a batch of states: setting, reading and clamping by neuron name.
#include <algorithm>
#include <cmath>

#include "energy_tree.h"
#include "ham_impl.h"

namespace hamux {

namespace {

Shape batched(int64_t batch, const Shape& shape) {
  Shape s{batch};
  s.insert(s.end(), shape.begin(), shape.end());
  return s;
}

// Copies the n values at `src` into elements [offset, offset + n) of `dst` in dtype T.
template <class T>
void put(std::vector<T>& dst, int64_t offset, const double* src, int64_t n) {
  for (int64_t e = 0; e < n; ++e) dst[offset + e] = static_cast<T>(src[e]);
}
template <class T>
void put(std::vector<T>& dst, int64_t offset, const std::vector<double>& src) {
  put(dst, offset, src.data(), static_cast<int64_t>(src.size()));
}

}  // namespace

int64_t States::batch() const { return impl_->batch; }

void States::set(const std::string& neuron, const Tensor<double>& value) {
  Impl& s = *impl_;
  const int i = s.ham->neuron_index(neuron);
  const Shape& shape = s.ham->neurons[i].shape;
  const int64_t n = s.elements(i);
  const bool per_neuron = value.shape == shape;
  if (!per_neuron && value.shape != batched(s.batch, shape)) {
    throw Error("neuron '" + neuron + "'", "state of shape " + shape_str(value.shape) +
                                               " does not fit: expected " + shape_str(shape) + " or " +
                                               shape_str(batched(s.batch, shape)));
  }
  for (int64_t b = 0; b < s.batch; ++b) {
    const double* sample = value.data.data() + (per_neuron ? 0 : b * n);
    if (s.ham->f64()) {
      put(s.f64.x[i], b * n, sample, n);
    } else {
      put(s.f32.x[i], b * n, sample, n);
    }
  }
  s.xhat_fresh = false;
}

void States::set_sample(const std::string& neuron, int64_t sample, const Tensor<double>& value) {
  Impl& s = *impl_;
  const int i = s.ham->neuron_index(neuron);
  const Shape& shape = s.ham->neurons[i].shape;
  if (sample < 0 || sample >= s.batch) {
    throw Error("neuron '" + neuron + "'", "sample " + std::to_string(sample) + " is outside the batch of " +
                                               std::to_string(s.batch));
  }
  if (value.shape != shape) {
    throw Error("neuron '" + neuron + "'", "state of shape " + shape_str(value.shape) +
                                               " does not fit: expected " + shape_str(shape));
  }
  if (s.ham->f64()) {
    put(s.f64.x[i], sample * s.elements(i), value.data);
  } else {
    put(s.f32.x[i], sample * s.elements(i), value.data);
  }
  s.xhat_fresh = false;
}

Tensor<double> States::get(const std::string& neuron) const {
  const Impl& s = *impl_;
  const int i = s.ham->neuron_index(neuron);
  Tensor<double> t(batched(s.batch, s.ham->neurons[i].shape));
  if (s.ham->f64()) {
    t.data = s.f64.x[i];
  } else {
    t.data.assign(s.f32.x[i].begin(), s.f32.x[i].end());
  }
  return t;
}

Tensor<double> States::activation(const std::string& neuron) const {
  Impl& s = *impl_;
  const int i = s.ham->neuron_index(neuron);
  s.refresh_activations();  // cheap (no steps), and right even after a set_param
  Tensor<double> t(batched(s.batch, s.ham->neurons[i].shape));
  if (s.ham->f64()) {
    t.data = s.f64.xhat[i];
  } else {
    t.data.assign(s.f32.xhat[i].begin(), s.f32.xhat[i].end());
  }
  return t;
}

std::vector<double> States::energy() const {
  Impl& s = *impl_;
  s.refresh_activations();  // cheap (no steps), and right even after a set_param
  if (s.ham->f64()) return s.f64.energy;
  return std::vector<double>(s.f32.energy.begin(), s.f32.energy.end());
}

States States::clone() const { return States(std::make_shared<Impl>(*impl_)); }

void States::clamp(const std::string& neuron) {
  const int i = impl_->ham->neuron_index(neuron);
  clamp(neuron, Tensor<double>(impl_->ham->neurons[i].shape, 1.0));
}

void States::clamp(const std::string& neuron, const Tensor<double>& mask) {
  Impl& s = *impl_;
  const int i = s.ham->neuron_index(neuron);
  const Shape& shape = s.ham->neurons[i].shape;
  const int64_t n = s.elements(i);
  const bool per_sample = mask.shape == batched(s.batch, shape);
  if (mask.shape != shape && !per_sample) {
    throw Error("neuron '" + neuron + "'", "clamp mask of shape " + shape_str(mask.shape) +
                                               " does not fit: expected " + shape_str(shape) + " or " +
                                               shape_str(batched(s.batch, shape)));
  }
  // A [batch, ...shape] mask whose samples are all alike is the per-neuron mask: the kernel's.
  bool alike = true;
  for (int64_t e = n; per_sample && alike && e < mask.size(); ++e) {
    alike = (mask.data[e] != 0.0) == (mask.data[e % n] != 0.0);
  }
  unclamp(neuron);
  if (per_sample && !alike) {
    s.held.resize(s.ham->neurons.size());
    s.held[i].resize(mask.data.size());
    for (size_t e = 0; e < mask.data.size(); ++e) s.held[i][e] = mask.data[e] != 0.0;
    return;
  }
  // The kernel multiplies the step by the mask: 1 moves, 0 holds (x - 0 is x, bit for bit).
  std::vector<double> moves(n);
  for (int64_t e = 0; e < n; ++e) moves[e] = mask.data[e] != 0.0 ? 0.0 : 1.0;
  if (s.ham->f64()) {
    s.f64.mask[i] = moves;
  } else {
    s.f32.mask[i].assign(moves.begin(), moves.end());
  }
}

void States::unclamp(const std::string& neuron) {
  const int i = impl_->ham->neuron_index(neuron);
  if (impl_->ham->f64()) {
    impl_->f64.mask[i].clear();
  } else {
    impl_->f32.mask[i].clear();
  }
  if (static_cast<size_t>(i) < impl_->held.size()) impl_->held[i].clear();
}

Tensor<double> States::updates(const std::string& neuron) const {
  const Impl& s = *impl_;
  const int i = s.ham->neuron_index(neuron);
  return update_directions(s.ham->model, s.ham->derivation, s.states64())[i];
}

template <class T>
static void refresh(States::Impl& s) {
  StateData<T>& d = s.data<T>();
  // The same blocks as run() uses, so the activations are bit for bit the ones a run leaves.
  const codegen::StepKernel::Bound b = s.ham->kernel->bind(bindings(*s.ham, d), 0.0);
  const int64_t size = block_size(*s.ham, s.batch);
  for (int64_t begin = 0; begin < s.batch; begin += size) {
    s.ham->kernel->run(b, begin, std::min(s.batch, begin + size), 0);
  }
}

void States::Impl::refresh_activations() {
  if (ham->f64()) {
    refresh<double>(*this);
  } else {
    refresh<float>(*this);
  }
  xhat_fresh = true;
}

std::vector<Tensor<double>> States::Impl::states64() const {
  std::vector<Tensor<double>> out;
  for (size_t i = 0; i < ham->neurons.size(); ++i) {
    Tensor<double> t(batched(batch, ham->neurons[i].shape));
    if (ham->f64()) {
      t.data = f64.x[i];
    } else {
      t.data.assign(f32.x[i].begin(), f32.x[i].end());
    }
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace hamux
