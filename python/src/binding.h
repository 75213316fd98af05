// python/src/binding.h - what the extension module hamuxc._core wraps, shared by its files.
//
// A Python Model owns one hamux::Ham, a Python States one hamux::States (both handles of the
// C++ API in include/hamux/hamux.h; nothing here computes anything the library computes).
// What the wrappers add is what Python needs beyond the C++ API:
//  - the model's JSON text and base directory, so that a Model pickles (as JSON + params);
//  - the clamp masks as they were given, so that a States pickles with them;
//  - locks, because Python threads run models concurrently with the GIL released: runs of
//    one Model share its params (a shared lock) while set_param / load_params replace them
//    (an exclusive lock), and one States is used by one call at a time.
#pragma once

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "hamux/hamux.h"

namespace hamuxpy {

namespace nb = nanobind;

struct PyModel {
  hamux::Ham ham;
  std::string json_text;  // the model as loaded (file contents or the dict's JSON)
  std::string base_dir;   // where relative {"file": ...} param paths were resolved
  std::string source;     // the path it was loaded from; empty for JSON text
  bool disk_cache = true;
  // Held shared by everything that reads the params (runs, energies, activations),
  // exclusively by what replaces them.
  mutable std::shared_mutex params_lock;

  PyModel(hamux::Ham h, std::string text, std::string dir, std::string src, bool cache)
      : ham(std::move(h)), json_text(std::move(text)), base_dir(std::move(dir)), source(std::move(src)),
        disk_cache(cache) {}
};

// A clamp as it was asked for: the whole neuron, or the elements of a mask.
struct Clamp {
  bool clamped = false;
  std::optional<hamux::Tensor<double>> mask;  // none: every element
};

struct PyStates {
  nb::object model_obj;  // the Python Model (keeps it alive; States.model returns it)
  PyModel* model;        // the same, unwrapped
  hamux::States states;
  std::vector<Clamp> clamps;  // per neuron
  std::mutex busy;            // one call at a time on these states

  PyStates(nb::object m, PyModel* pm, hamux::States s)
      : model_obj(std::move(m)), model(pm), states(std::move(s)), clamps(pm->ham.neurons().size()) {}
};

// The models whose runs this thread is inside (a progress callback runs Python there). Replacing
// their params from such a callback would wait for the run that called it: refused instead.
inline thread_local std::vector<const PyModel*> models_running_here;
void refuse_inside_own_run(const PyModel& m);

// Takes the States for one call; raises hamux.Error when another thread is using them.
std::unique_lock<std::mutex> take(PyStates& s);

// ---- arrays (arrays.cpp) ----
// Any array-like (NumPy array, list, scalar) as a float64 tensor (a copy).
hamux::Tensor<double> to_tensor(nb::handle value);
// A new NumPy array of the model's dtype holding `t` (values exactly representable: they
// come from buffers of that dtype).
nb::object to_array(const hamux::Tensor<double>& t, bool float64);
nb::object to_array(const std::vector<double>& v, bool float64);  // 1-d
// A new NumPy array of dtype T with the given shape, taking ownership of `data`.
template <class T>
nb::object owned_array(std::vector<T>&& data, const hamux::Shape& shape);
nb::tuple shape_tuple(const hamux::Shape& shape);

// ---- Model methods that make or read States (states.cpp, run.cpp) ----
nb::object make_states(nb::handle model_obj, hamux::States st);
nb::object model_zeros(nb::handle model_obj, int64_t batch);
nb::object model_normal(nb::handle model_obj, int64_t batch, uint64_t seed, double std);
nb::object model_load_states(nb::handle model_obj, const std::string& path);
nb::dict model_energy_tree(PyModel& m, PyStates& s);

// ---- the parts of the module ----
void bind_errors(nb::module_& m);
void bind_model(nb::module_& m);
void bind_states(nb::module_& m);
void bind_run(nb::module_& m);
void bind_gradients(nb::module_& m);
void bind_training(nb::module_& m);

}  // namespace hamuxpy
