// python/src/states.cpp - hamuxc.States: a batch of states as NumPy arrays; the energy tree.
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cstring>

#include "binding.h"
#include "ham_impl.h"  // the state buffers, for copies and views in the model's dtype

namespace hamuxpy {

namespace {

using hamux::Error;

hamux::Shape batched(int64_t batch, const hamux::Shape& shape) {
  hamux::Shape s{batch};
  s.insert(s.end(), shape.begin(), shape.end());
  return s;
}

template <class T>
const std::vector<T>& buffer(const PyStates& s, int neuron) {
  return hamux::RunAccess::states(s.states).ham->f64() ? reinterpret_cast<const std::vector<T>&>(
                                                             hamux::RunAccess::states(s.states).f64.x[neuron])
                                                       : reinterpret_cast<const std::vector<T>&>(
                                                             hamux::RunAccess::states(s.states).f32.x[neuron]);
}

// A neuron's states as a new array in the model's dtype: one copy of the state buffer.
nb::object get_state(PyStates& s, const std::string& name) {
  auto guard = take(s);
  const int i = s.model->ham.neuron_index(name);
  const hamux::Shape shape = batched(s.states.batch(), s.model->ham.neurons()[i].shape);
  if (s.model->ham.is_float64()) return owned_array(std::vector<double>(buffer<double>(s, i)), shape);
  return owned_array(std::vector<float>(buffer<float>(s, i)), shape);
}

// A read-only array over the state buffer itself (no copy); it keeps the States alive.
nb::object view_state(nb::handle self, const std::string& name) {
  PyStates& s = nb::cast<PyStates&>(self);
  const int i = s.model->ham.neuron_index(name);
  const hamux::Shape shape = batched(s.states.batch(), s.model->ham.neurons()[i].shape);
  std::vector<size_t> dims(shape.begin(), shape.end());
  nb::object a;
  if (s.model->ham.is_float64()) {
    a = nb::ndarray<nb::numpy, const double>(buffer<double>(s, i).data(), dims.size(), dims.data(), self).cast();
  } else {
    a = nb::ndarray<nb::numpy, const float>(buffer<float>(s, i).data(), dims.size(), dims.data(), self).cast();
  }
  return a;
}

void set_state(PyStates& s, const std::string& name, nb::handle value, nb::handle sample) {
  const hamux::Tensor<double> t = to_tensor(value);
  auto guard = take(s);
  if (sample.is_none()) {
    s.states.set(name, t);
  } else {
    s.states.set_sample(name, nb::cast<int64_t>(sample), t);
  }
}

void clamp(PyStates& s, const std::string& name, nb::handle mask) {
  auto guard = take(s);
  const int i = s.model->ham.neuron_index(name);
  if (mask.is_none()) {
    s.states.clamp(name);
    s.clamps[i] = {true, std::nullopt};
  } else {
    hamux::Tensor<double> m = to_tensor(mask);
    s.states.clamp(name, m);
    s.clamps[i] = {true, std::move(m)};
  }
}

nb::dict clamps_dict(const PyStates& s) {
  nb::dict d;
  for (size_t i = 0; i < s.clamps.size(); ++i) {
    const Clamp& c = s.clamps[i];
    if (!c.clamped) continue;
    const char* name = s.model->ham.neurons()[i].name.c_str();
    if (c.mask) {
      d[name] = owned_array(std::vector<double>(c.mask->data), c.mask->shape);
    } else {
      d[name] = nb::none();
    }
  }
  return d;
}

}  // namespace

nb::object make_states(nb::handle model_obj, hamux::States st) {
  PyModel& m = nb::cast<PyModel&>(model_obj);
  return nb::cast(new PyStates(nb::borrow(model_obj), &m, std::move(st)), nb::rv_policy::take_ownership);
}

nb::object model_zeros(nb::handle model_obj, int64_t batch) {
  PyModel& m = nb::cast<PyModel&>(model_obj);
  return make_states(model_obj, m.ham.zeros(batch));
}

nb::object model_normal(nb::handle model_obj, int64_t batch, uint64_t seed, double std) {
  PyModel& m = nb::cast<PyModel&>(model_obj);
  return make_states(model_obj, m.ham.normal(batch, seed, std));
}

nb::object model_load_states(nb::handle model_obj, const std::string& path) {
  PyModel& m = nb::cast<PyModel&>(model_obj);
  hamux::States st = [&] {
    nb::gil_scoped_release nogil;
    return hamux::States::load(m.ham, path);
  }();
  return make_states(model_obj, std::move(st));
}

nb::dict model_energy_tree(PyModel& m, PyStates& s) {
  if (s.model != &m) throw Error(m.ham.model().file, "the states were made by another model");
  hamux::EnergyBreakdown tree;
  {
    auto guard = take(s);
    nb::gil_scoped_release nogil;
    std::shared_lock lock(m.params_lock);
    tree = m.ham.energy_tree(s.states);
  }
  nb::dict d;
  const bool f64 = m.ham.is_float64();
  for (size_t t = 0; t < tree.terms.size(); ++t) d[tree.terms[t].c_str()] = to_array(tree.values[t], f64);
  d["total"] = to_array(tree.total, f64);
  return d;
}

namespace {

// Runs `f` on the states with the GIL released, holding the model's params shared.
template <class F>
auto with_states(PyStates& s, F&& f) {
  auto guard = take(s);
  nb::gil_scoped_release nogil;
  std::shared_lock lock(s.model->params_lock);
  return f(s.states);
}

}  // namespace

std::unique_lock<std::mutex> take(PyStates& s) {
  std::unique_lock<std::mutex> lock(s.busy, std::try_to_lock);
  if (!lock.owns_lock()) {
    throw Error("states", "in use by another thread (one States serves one call at a time; use clone())");
  }
  return lock;
}

void bind_states(nb::module_& m) {
  nb::class_<PyStates>(m, "States",
                       "A batch of states of one Model, with its clamp masks (hamux::States).\n\n"
                       "Arrays are [batch, ...shape] in the model's dtype. Make one with Model.zeros,\n"
                       "Model.normal or Model.load_states. One States serves one call at a time (a\n"
                       "second thread gets hamuxc.Error); clone() makes an independent copy.")
      .def_prop_ro("batch", [](const PyStates& s) { return s.states.batch(); }, "The number of samples.")
      .def_prop_ro("model", [](const PyStates& s) { return s.model_obj; }, nb::sig("def model(self) -> Model"), "The Model these states belong to.")
      .def("get", &get_state, nb::arg("neuron"), nb::sig("def get(self, neuron: str) -> numpy.ndarray"),
           "A neuron's states, [batch, ...shape], as a new array in the model's dtype.")
      .def("view", &view_state, nb::arg("neuron"), nb::sig("def view(self, neuron: str) -> numpy.ndarray"),
           "A read-only array over the neuron's state buffer itself (no copy): it shows the\n"
           "states as they are now, and later runs change it.")
      .def("set", &set_state, nb::arg("neuron"), nb::arg("value"), nb::arg("sample") = nb::none(),
           "Sets a neuron's states: `value` is [...shape] (every sample) or [batch, ...shape]; with\n"
           "`sample`, that one sample's [...shape]. Any array-like; converted to the model's dtype.")
      .def("__getitem__", &get_state, nb::arg("neuron"), nb::sig("def __getitem__(self, neuron: str) -> numpy.ndarray"), "states[neuron] is states.get(neuron).")
      .def("__setitem__", [](PyStates& s, const std::string& n, nb::handle v) { set_state(s, n, v, nb::none()); },
           nb::arg("neuron"), nb::arg("value"), "states[neuron] = value is states.set(neuron, value).")
      .def("to_dict", [](PyStates& s) {
             nb::dict d;
             for (const auto& n : s.model->ham.neurons()) d[n.name.c_str()] = get_state(s, n.name);
             return d;
           }, "Every neuron's states as {name: array}.")
      .def("activation", [](PyStates& s, const std::string& name) {
             const bool f64 = s.model->ham.is_float64();
             return to_array(with_states(s, [&](hamux::States& st) { return st.activation(name); }), f64);
           }, nb::arg("neuron"), nb::sig("def activation(self, neuron: str) -> numpy.ndarray"), "The activations xhat of a neuron's current states, [batch, ...shape].")
      .def("activations", [](PyStates& s) {
             nb::dict d;
             const bool f64 = s.model->ham.is_float64();
             for (const auto& n : s.model->ham.neurons()) {
               d[n.name.c_str()] = to_array(with_states(s, [&](hamux::States& st) { return st.activation(n.name); }), f64);
             }
             return d;
           }, "Every neuron's activations as {name: array}.")
      .def("updates", [](PyStates& s, const std::string& name) {
             const bool f64 = s.model->ham.is_float64();
             return to_array(with_states(s, [&](hamux::States& st) { return st.updates(name); }), f64);
           }, nb::arg("neuron"), nb::sig("def updates(self, neuron: str) -> numpy.ndarray"),
           "The update direction dE/dxhat of a neuron at the current states, [batch, ...shape]: a\n"
           "step moves the state by -(dt / tau) * updates (clamped elements excepted). Computed by\n"
           "the reference interpreter (for analysis, not inner loops).")
      .def("energy", [](PyStates& s) {
             const bool f64 = s.model->ham.is_float64();
             return to_array(with_states(s, [](hamux::States& st) { return st.energy(); }), f64);
           }, nb::sig("def energy(self) -> numpy.ndarray"), "The total energy of each sample, [batch] (the compiled kernel).")
      .def("clamp", &clamp, nb::arg("neuron"), nb::arg("mask") = nb::none(),
           "Holds a neuron fixed during runs: all of it, or the elements where `mask` is nonzero.\n"
           "A mask of shape [...shape] applies to every sample; [batch, ...shape] is per sample.\n"
           "Clamped elements stay bit-identical.")
      .def("unclamp", [](PyStates& s, const std::string& name) {
             auto guard = take(s);
             s.states.unclamp(name);
             s.clamps[s.model->ham.neuron_index(name)] = {};
           }, nb::arg("neuron"), "Lets the neuron move freely again.")
      .def_prop_ro("clamps", &clamps_dict,
                   "The clamped neurons: {name: mask (float64 array, nonzero = held) or None (all)}.")
      .def("clone", [](PyStates& s) {
             auto guard = take(s);
             nb::object c = make_states(s.model_obj, s.states.clone());
             nb::cast<PyStates&>(c).clamps = s.clamps;
             return c;
           }, nb::sig("def clone(self) -> States"), "An independent copy (states and clamps).")
      .def("save", [](PyStates& s, const std::string& path) {
             auto guard = take(s);
             nb::gil_scoped_release nogil;
             s.states.save(path);
           }, nb::arg("path"),
           "Writes every neuron's states to an .npz ([batch, ...shape] per neuron, model dtype):\n"
           "the file `hamux run --out` writes. Masks are not saved.")
      .def("__getstate__", [](PyStates& s) {
             nb::dict values;
             for (const auto& n : s.model->ham.neurons()) values[n.name.c_str()] = get_state(s, n.name);
             return nb::make_tuple(1, s.model_obj, s.states.batch(), values, clamps_dict(s));
           })
      .def("__setstate__", [](PyStates& self, nb::tuple state) {
             if (nb::len(state) != 5 || nb::cast<int>(state[0]) != 1)
               throw Error("pickle", "not a pickled hamuxc.States of this version");
             nb::object model_obj = state[1];
             PyModel& m = nb::cast<PyModel&>(model_obj);
             new (&self) PyStates(model_obj, &m, m.ham.zeros(nb::cast<int64_t>(state[2])));
             for (auto [k, v] : nb::cast<nb::dict>(state[3])) self.states.set(nb::cast<std::string>(k), to_tensor(v));
             for (auto [k, v] : nb::cast<nb::dict>(state[4])) clamp(self, nb::cast<std::string>(k), v);
           })
      .def("__repr__", [](const PyStates& s) {
        return "<hamuxc.States of '" + s.model->ham.name() + "': batch " + std::to_string(s.states.batch()) + ">";
      });

}

}  // namespace hamuxpy
