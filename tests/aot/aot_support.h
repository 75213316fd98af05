// tests/aot/aot_support.h - shared pieces of the AOT tests: scratch folders and shell commands,
// contract models, JIT reference runs, loading an AOT object into this process, comparisons.
#pragma once

#include <gtest/gtest.h>


#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "autodiff/derive.h"
#include "codegen/jit/jit.h"
#include "step/aot_step.h"
#include "step/step.h"
#include "frontend/model.h"
#include "interp/interpreter.h"

namespace hamux::aot_test {

struct Scratch {
  std::string path;
  Scratch() {
    std::string tmpl = std::filesystem::temp_directory_path().string() + "/hamux_aot_XXXXXX";
    path = mkdtemp(tmpl.data()) ? tmpl : throw std::runtime_error("mkdtemp failed");
  }
  ~Scratch() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

// Runs a shell command; returns its exit status and what it printed (stdout + stderr).
inline std::pair<int, std::string> shell(const std::string& command) {
  std::string out;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (!p) return {-1, ""};
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  const int raw = pclose(p);
  return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, out};
}

inline const std::vector<std::string>& contract_models() {
  static const std::vector<std::string> m = {"readme.json",       "classical_hopfield.json",
                                             "dense_am.json",     "energy_transformer.json",
                                             "conv.json",         "custom_energies.json"};
  return m;
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The contract model, re-typed to `dtype` (empty: as written).
inline Model model_as(const std::string& file, const std::string& dtype) {
  nlohmann::json j = nlohmann::json::parse(read_text(std::string(HAMUX_MODELS_DIR) + "/" + file));
  if (!dtype.empty()) j["dtype"] = dtype;
  return parse_model(j.dump(), file, HAMUX_MODELS_DIR);
}

// States x[i] ([batch, ...shape_i]), uniform in [-1, 1], and masks (neuron 0 half clamped).
template <class T>
struct Case {
  int64_t batch = 1;
  std::vector<std::vector<T>> x, mask;
};

template <class T>
Case<T> make_case(const Model& m, int64_t batch, unsigned seed) {
  Case<T> c;
  c.batch = batch;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for (const NeuronDef& nd : m.neurons) {
    const int64_t n = num_elements(nd.shape);
    std::vector<T> x(batch * n);
    for (T& v : x) v = static_cast<T>(u(rng));
    c.x.push_back(x);
    c.mask.emplace_back(n, T(1));
  }
  for (size_t e = 0; e < c.mask[0].size(); e += 2) c.mask[0][e] = 0;
  return c;
}

// What a run leaves behind: final states, activations, energies.
template <class T>
struct Outcome {
  std::vector<std::vector<T>> x, xhat;
  std::vector<T> energy;
};

// Runs `steps` steps of a kernel with the StepKernel slot conventions on a copy of `c`.
// `run(slots)` calls the kernel; the slots are laid out by `program`.
template <class T, class Run>
Outcome<T> run_program(const Model& m, const codegen::Program& p, const Case<T>& c, double dt,
                       const std::vector<const T*>& params, Run run) {
  Outcome<T> o;
  o.x = c.x;
  const size_t n = m.neurons.size();
  for (size_t i = 0; i < n; ++i) o.xhat.emplace_back(o.x[i].size());
  o.energy.resize(c.batch);
  std::vector<void*> slots(p.num_external, nullptr);
  std::vector<T> rate(n);
  auto slot = [&](int buffer) { return p.buffers.at(buffer).external; };
  for (size_t i = 0; i < n; ++i) {
    const NeuronDef& nd = m.neurons[i];
    rate[i] = static_cast<T>(dt / nd.tau);
    slots[slot(p.inputs.at(static_cast<int>(i)))] = o.x[i].data();
    slots[slot(p.inputs.at(static_cast<int>(n + i)))] = o.xhat[i].data();
    slots[slot(p.params.at("$rate[" + nd.name + "]"))] = &rate[i];
    slots[slot(p.params.at("$mask[" + nd.name + "]"))] = const_cast<T*>(c.mask[i].data());
  }
  for (size_t k = 0; k < m.params.size(); ++k)
    slots[slot(p.params.at(m.params[k].name))] = const_cast<T*>(params[k]);
  for (const codegen::Buffer& b : p.buffers)
    if (b.kind == codegen::BufferKind::Output && b.name == "energy") slots[b.external] = o.energy.data();
  run(slots.data());
  return o;
}

// The JIT reference: StepKernel on the same model, params and case.
template <class T>
Outcome<T> run_jit(const Model& m, const Case<T>& c, double dt, int64_t steps) {
  const auto params = interp::param_values<T>(m);
  codegen::StepOptions opt;
  opt.energy = true;
  codegen::StepKernel k(m, derive(m), opt);
  Outcome<T> o;
  o.x = c.x;
  o.energy.resize(c.batch);
  codegen::StepKernel::Bindings b;
  for (size_t i = 0; i < m.neurons.size(); ++i) {
    o.xhat.emplace_back(o.x[i].size());
    b.x.push_back(o.x[i].data());
    b.mask.push_back(c.mask[i].data());
  }
  for (auto& xh : o.xhat) b.xhat.push_back(xh.data());
  for (const ParamDef& pd : m.params) b.params.push_back(params.at(pd.name).data.data());
  b.energy = o.energy.data();
  k.run(b, 0, c.batch, dt, steps);
  return o;
}

// An AOT object loaded into this process (only for testing: a C program links it), with
// only what a C program linked with -lm has: the process's libc/libm (the test binary
// exports no hamux or Eigen symbols dynamically, so a call into them would fail to link
// here), or with `kernels_library` what one linked with hamux::kernels has.
class LoadedObject {
 public:
  explicit LoadedObject(const std::string& object, bool kernels_library = false) : linked_(object, kernels_library) {}
  template <class P>
  P lookup(const std::string& name) {
    return reinterpret_cast<P>(linked_.lookup(name));
  }

 private:
  codegen::LinkedObject linked_;
};

// The raw kernel of an object (the ABI of llvm_emit.h): `name`_prepare and `name`.
class RawKernel {
 public:
  using PrepareFn = void (*)(void* const*, char*);
  using KernelFn = void (*)(void* const*, int64_t, int64_t, const char*, char*, int64_t);

  RawKernel(LoadedObject& obj, const std::string& name, const codegen::Program& p)
      : prepare_(obj.lookup<PrepareFn>(name + "_prepare")), fn_(obj.lookup<KernelFn>(name)), p_(p) {}

  // The parameter-only values for `slots`, in a 64-byte aligned block.
  const char* prepare(void* const* slots) {
    char* shared = aligned(shared_, p_.shared_bytes);
    prepare_(slots, shared);
    return shared;
  }
  // Samples [b0, b1), k steps, with its own workspace, on `shared` from prepare().
  void run(void* const* slots, int64_t b0, int64_t b1, const char* shared, int64_t steps) {
    fn_(slots, b0, b1, shared, aligned(ws_, p_.workspace_bytes(b1 - b0)), steps);
  }
  // Both, for the whole of [b0, b1).
  void operator()(void* const* slots, int64_t b0, int64_t b1, int64_t steps) { run(slots, b0, b1, prepare(slots), steps); }

 private:
  static char* aligned(std::vector<char>& v, int64_t bytes) {
    v.assign(static_cast<size_t>(bytes) + 64, 0);
    return v.data() + (64 - reinterpret_cast<uintptr_t>(v.data()) % 64) % 64;
  }
  PrepareFn prepare_;
  KernelFn fn_;
  const codegen::Program& p_;
  std::vector<char> shared_, ws_;
};

// Runs the AOT kernel of `r` (loaded in-process) on a copy of `c`.
template <class T>
Outcome<T> run_aot(LoadedObject& obj, const codegen::AotResult& r, const Model& m, const Case<T>& c, double dt,
                   int64_t steps, const std::vector<const T*>& params) {
  RawKernel k(obj, r.prefix + "_kernel", r.program);
  return run_program<T>(m, r.program, c, dt, params, [&](void* const* slots) { k(slots, 0, c.batch, steps); });
}

// max |a - b| / (1 + max |b|) over one vector: the error relative to the values' scale.
template <class T>
double scaled_error(const std::vector<T>& a, const std::vector<T>& b) {
  double scale = 0, err = 0;
  for (size_t i = 0; i < b.size(); ++i) scale = std::max(scale, std::abs(static_cast<double>(b[i])));
  for (size_t i = 0; i < b.size(); ++i) {
    double d = std::abs(static_cast<double>(a[i]) - static_cast<double>(b[i]));
    err = std::max(err, std::isnan(d) ? INFINITY : d);
  }
  return err / (1 + scale);
}

template <class T>
double outcome_error(const Outcome<T>& a, const Outcome<T>& b) {
  double e = scaled_error(a.energy, b.energy);
  for (size_t i = 0; i < a.x.size(); ++i)
    e = std::max({e, scaled_error(a.x[i], b.x[i]), scaled_error(a.xhat[i], b.xhat[i])});
  return e;
}

}  // namespace hamux::aot_test
