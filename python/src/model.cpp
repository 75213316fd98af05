// python/src/model.cpp - hamuxc.Model: a compiled model (hamux::Ham), its params, AOT, pickling.
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "binding.h"
#include "step/aot_step.h"
#include "frontend/model.h"

namespace hamuxpy {

namespace {

using hamux::Error;

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path, "cannot open file");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string dir_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

PyModel* load_path(const std::string& path, bool disk_cache) {
  hamux::LoadOptions o;
  o.disk_cache = disk_cache;
  hamux::Ham ham = [&] {
    nb::gil_scoped_release nogil;  // compiling takes a while: other threads go on
    return hamux::Ham::load(path, o);
  }();
  // Read after the load succeeded, so that a missing file is reported the library's way.
  return new PyModel(std::move(ham), read_text(path), dir_of(path), path, disk_cache);
}

PyModel* load_json(const std::string& text, const std::string& base_dir, bool disk_cache) {
  hamux::LoadOptions o;
  o.disk_cache = disk_cache;
  hamux::Ham ham = [&] {
    nb::gil_scoped_release nogil;
    return hamux::Ham::from_json(text, base_dir, o);
  }();
  return new PyModel(std::move(ham), text, base_dir, "", disk_cache);
}

// The model's JSON with every param's init replaced by zeros, its name made explicit and
// (optionally) its dtype replaced: with the param values set afterwards, this loads the same
// model without the files or random draws the inits name (pickling, AOT in another dtype).
std::string self_contained_json(const PyModel& m, const std::string& dtype) {
  nlohmann::json j = nlohmann::json::parse(m.json_text);
  if (j.contains("params") && j["params"].is_object()) {
    for (auto& [name, p] : j["params"].items()) {
      if (p.is_object()) p["init"] = {{"zeros", nlohmann::json::object()}};
    }
  }
  j["name"] = m.ham.name();
  if (!dtype.empty()) j["dtype"] = dtype;
  return j.dump();
}

nb::dict params_dict(const PyModel& m) {
  nb::dict d;
  for (const std::string& name : m.ham.param_names()) d[name.c_str()] = to_array(m.ham.param(name), m.ham.is_float64());
  return d;
}

void set_param(PyModel& m, const std::string& name, nb::handle value) {
  refuse_inside_own_run(m);
  const hamux::Tensor<double> t = to_tensor(value);
  nb::gil_scoped_release nogil;  // waiting for runs of other threads to finish
  std::unique_lock lock(m.params_lock);
  m.ham.set_param(name, t);
}

void set_params(PyModel& m, nb::dict values) {
  refuse_inside_own_run(m);
  std::vector<std::pair<std::string, hamux::Tensor<double>>> ts;
  for (auto [k, v] : values) ts.emplace_back(nb::cast<std::string>(k), to_tensor(v));
  nb::gil_scoped_release nogil;
  std::unique_lock lock(m.params_lock);
  for (const auto& [name, t] : ts) m.ham.set_param(name, t);
}

nb::object dtype_of(const PyModel& m) {
  return nb::module_::import_("numpy").attr("dtype")(m.ham.is_float64() ? "float64" : "float32");
}

std::vector<std::string> compile_aot(const PyModel& m, const std::string& dir, const std::string& target,
                                     const std::string& cpu, const std::string& params, const std::string& prefix,
                                     const std::string& dtype) {
  if (params != "embed" && params != "files")
    throw Error("compile", "params must be 'embed' or 'files', got '" + params + "'");
  if (!dtype.empty() && dtype != "float32" && dtype != "float64")
    throw Error("compile", "dtype must be 'float32' or 'float64', got '" + dtype + "'");
  hamux::codegen::AotOptions o;
  o.triple = target;
  o.cpu = cpu;
  o.prefix = prefix;
  o.embed_params = params == "embed";
  std::shared_lock lock(m.params_lock);
  const hamux::Model& model = m.ham.model();
  const bool same_dtype = dtype.empty() || (dtype == "float64") == m.ham.is_float64();
  nb::gil_scoped_release nogil;
  if (same_dtype) return hamux::codegen::write_aot(hamux::codegen::compile_aot(model, o), model, dir);
  // Another dtype: the same model re-read with that dtype and today's param values (as
  // `hamux compile --dtype` does from the file).
  hamux::Model other = hamux::parse_model(self_contained_json(m, dtype), model.file, m.base_dir);
  for (size_t p = 0; p < other.params.size(); ++p) {
    other.params[p].value = model.params[p].value;
    other.params[p].init = model.params[p].init;  // the header describes the init
  }
  return hamux::codegen::write_aot(hamux::codegen::compile_aot(other, o), other, dir);
}

}  // namespace

void refuse_inside_own_run(const PyModel& m) {
  for (const PyModel* r : models_running_here) {
    if (r == &m) throw Error(m.ham.model().file, "params cannot change during a run of the model (called from its progress callback)");
  }
}

void bind_model(nb::module_& m) {
  nb::class_<hamux::NeuronInfo>(m, "Neuron", "A neuron layer of a model: its name, per-sample shape and tau.")
      .def_ro("name", &hamux::NeuronInfo::name, "The neuron's name in the model.")
      .def_prop_ro("shape", [](const hamux::NeuronInfo& n) { return shape_tuple(n.shape); },
                   "The shape of one sample's state (a tuple).")
      .def_ro("tau", &hamux::NeuronInfo::tau, "The time constant: the state moves by (dt / tau) * -dE/dxhat.")
      .def("__repr__", [](const hamux::NeuronInfo& n) {
        return "Neuron(name='" + n.name + "', shape=" + nb::cast<std::string>(nb::repr(shape_tuple(n.shape))) +
               ", tau=" + nb::cast<std::string>(nb::repr(nb::float_(n.tau))) + ")";
      });

  nb::class_<PyModel>(m, "Model",
                      "A compiled model (hamux::Ham): load it with hamuxc.load(path or dict).\n\n"
                      "The compiled kernel does not depend on the batch size or the param values, so one\n"
                      "Model serves any number of States, runs and param sets. A Model pickles as its JSON\n"
                      "and its param values; unpickling compiles it again (or takes the kernel from the\n"
                      "disk cache), so multiprocessing, Dask and Ray can ship it.")
      .def_static("_load", &load_path, nb::arg("path"), nb::arg("disk_cache") = true,
                  nb::rv_policy::take_ownership, "Loads, derives and compiles the model file `path`.")
      .def_static("_from_json", &load_json, nb::arg("json_text"), nb::arg("base_dir") = ".",
                  nb::arg("disk_cache") = true, nb::rv_policy::take_ownership,
                  "Loads a model from JSON text; relative param files are read from `base_dir`.")
      .def_prop_ro("name", [](const PyModel& p) { return p.ham.name(); }, "The model's name.")
      .def_prop_ro("dtype", &dtype_of, nb::sig("def dtype(self) -> numpy.dtype"), "numpy.float32 or numpy.float64: the dtype of states, params and energies.")
      .def_prop_ro("neurons", [](const PyModel& p) { return p.ham.neurons(); },
                   "The neuron layers, in model order (list of Neuron).")
      .def_prop_ro("neuron_names", [](const PyModel& p) {
        std::vector<std::string> names;
        for (const auto& n : p.ham.neurons()) names.push_back(n.name);
        return names;
      }, "The neurons' names, in model order.")
      .def_prop_ro("param_names", [](const PyModel& p) { return p.ham.param_names(); },
                   "The params' names, in model order.")
      .def_prop_ro("source", [](const PyModel& p) { return p.source.empty() ? nb::object(nb::none()) : nb::str(p.source.c_str()); },
                   "The path the model was loaded from, or None for a model from a dict or JSON text.")
      .def_prop_ro("base_dir", [](const PyModel& p) { return p.base_dir; },
                   "The directory relative param files are read from.")
      .def_prop_ro("json", [](const PyModel& p) { return p.json_text; }, "The model's JSON text as loaded.")
      .def_prop_ro("disk_cache", [](const PyModel& p) { return p.disk_cache; },
                   "Whether compiled kernels are reused from (and stored in) the disk cache.")
      .def("neuron", [](const PyModel& p, const std::string& name) { return p.ham.neurons()[p.ham.neuron_index(name)]; },
           nb::arg("name"), "The Neuron called `name`; raises hamuxc.Error for an unknown name.")
      .def("param", [](const PyModel& p, const std::string& name) {
             std::shared_lock lock(p.params_lock);
             return to_array(p.ham.param(name), p.ham.is_float64());
           }, nb::arg("name"), nb::sig("def param(self, name: str) -> numpy.ndarray"),
           "A param's values as a new array in the model's dtype.")
      .def("params", [](const PyModel& p) {
             std::shared_lock lock(p.params_lock);
             return params_dict(p);
           }, "Every param as {name: array} (new arrays, model dtype).")
      .def("set_param", &set_param, nb::arg("name"), nb::arg("value"),
           "Replaces a param's values; `value` (any array-like) must have the param's exact shape.")
      .def("set_params", &set_params, nb::arg("values"),
           "Replaces several params, {name: array}; params not named keep their values.")
      .def("load_params", [](PyModel& p, const std::string& path) {
             refuse_inside_own_run(p);
             nb::gil_scoped_release nogil;
             std::unique_lock lock(p.params_lock);
             p.ham.load_params(path);
           }, nb::arg("path"),
           "Reads params from an .npz (numpy.savez or savez_compressed) or a directory of <param>.npy\n"
           "files. Every array must name a param with its exact shape; params not in the file keep\n"
           "their values.")
      .def("save_params", [](const PyModel& p, const std::string& path) {
             nb::gil_scoped_release nogil;
             std::shared_lock lock(p.params_lock);
             p.ham.save_params(path);
           }, nb::arg("path"),
           "Writes every param to an .npz (when `path` ends in .npz) or to a directory of\n"
           "<param>.npy files, in the model's dtype, atomically.")
      .def("compile", &compile_aot, nb::arg("output_dir"), nb::kw_only(), nb::arg("target") = "",
           nb::arg("cpu") = "", nb::arg("params") = "embed", nb::arg("prefix") = "", nb::arg("dtype") = "",
           "Compiles the dynamics ahead of time into `output_dir` (what `hamux compile` does): an\n"
           "object file <prefix>.o, lib<prefix>.a, a C header <prefix>.h, hamux_aot.h and, with\n"
           "params='files', <prefix>_<param>.npy. The params are today's values. `target` is a\n"
           "target triple (default: this machine), `cpu` a CPU name, `dtype` 'float32' or\n"
           "'float64' to compile in another dtype. Returns the paths written.")
      .def("zeros", [](nb::handle self, int64_t batch) { return model_zeros(self, batch); }, nb::arg("batch"),
           nb::sig("def zeros(self, batch: int) -> States"),
           "A batch of states, all zero, no clamps.")
      .def("normal", [](nb::handle self, int64_t batch, uint64_t seed, double std) {
             return model_normal(self, batch, seed, std);
           }, nb::arg("batch"), nb::arg("seed"), nb::arg("std") = 1.0,
           nb::sig("def normal(self, batch: int, seed: int, std: float = 1.0) -> States"),
           "States with independent N(0, std^2) elements from hamux's seeded generator: the same bits\n"
           "on every platform, and the states of `hamux run --init normal:SEED`.")
      .def("load_states", [](nb::handle self, const std::string& path) { return model_load_states(self, path); },
           nb::arg("path"), nb::sig("def load_states(self, path: str) -> States"),
           "States read from an .npz written by States.save or `hamux run --out` (or an .npy for a\n"
           "model with one neuron); the batch is the file's.")
      .def("energy_tree", &model_energy_tree, nb::arg("states"),
           "The energy of the states split into its terms: {'neuron <name>': [batch],\n"
           "'connection <a>,<b> -> <synapse>': [batch], ..., 'total': [batch]} in the model's dtype\n"
           "(reference interpreter; for reports, not inner loops).")
      .def("__getstate__", [](const PyModel& p) {
             std::shared_lock lock(p.params_lock);
             return nb::make_tuple(1, self_contained_json(p, ""), p.base_dir, params_dict(p), p.disk_cache,
                                   p.source);
           })
      .def("__setstate__", [](PyModel& self, nb::tuple state) {
             if (nb::len(state) != 6 || nb::cast<int>(state[0]) != 1)
               throw Error("pickle", "not a pickled hamuxc.Model of this version");
             const std::string text = nb::cast<std::string>(state[1]);
             const std::string base = nb::cast<std::string>(state[2]);
             const bool cache = nb::cast<bool>(state[4]);
             std::unique_ptr<PyModel> loaded(load_json(text, base, cache));
             loaded->source = nb::cast<std::string>(state[5]);
             new (&self) PyModel(loaded->ham, loaded->json_text, base, loaded->source, cache);
             set_params(self, nb::cast<nb::dict>(state[3]));
           })
      .def("__repr__", [](const PyModel& p) {
        return "<hamuxc.Model '" + p.ham.name() + "': " + std::to_string(p.ham.neurons().size()) + " neurons, " +
               (p.ham.is_float64() ? "float64" : "float32") + ">";
      });
}

}  // namespace hamuxpy
