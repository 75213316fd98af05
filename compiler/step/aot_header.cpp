// compiler/codegen/aot_header.cpp - writes <prefix>.h for an AOT kernel.
#include "step/aot_header.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <limits>
#include <set>
#include <sstream>

#include "graph/internal_error.h"
#include "hamux/error.h"
#include "hamux/hamux.h"
#include "step/run_messages.h"

namespace hamux::codegen {

namespace {

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// A C string literal of `s` (names may hold quotes or backslashes).
std::string literal(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out += c;
  }
  return out + "\"";
}

// Text for a comment: no "*/" can close it early.
std::string comment_safe(std::string s) {
  for (size_t p; (p = s.find("*/")) != std::string::npos;) s.replace(p, 2, "* /");
  return s;
}

template <class T, class F>
std::string list(const std::vector<T>& v, F f) {
  std::string s = "{";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + f(v[i]);
  return (v.empty() ? s + "0" : s) + "}";
}

// samples_per_call for an AOT kernel, whose target's caches are unknown: a 512 KiB budget
// (half of a common 1 MiB L2); 0 when the kernel wants the whole slice per call.
int64_t samples_per_call_or_0(const Program& p) {
  constexpr int64_t kWhole = std::numeric_limits<int64_t>::max();
  const int64_t n = samples_per_call(p, kWhole, int64_t{512} << 10);
  return n == kWhole ? 0 : n;
}

// The shortest text that reads back as exactly `v` (1e-05, not 1.0000000000000001e-05).
std::string num(double v) {
  std::string s;
  for (int digits = 1; digits <= 17; ++digits) {
    std::ostringstream os;
    os.precision(digits);
    os << v;
    s = os.str();
    if (std::strtod(s.c_str(), nullptr) == v) break;
  }
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}


// Replaces every "$p" by the prefix and "$P" by its upper case: the checked run below reads
// as the C it becomes.
std::string with_prefix(std::string text, const std::string& p, const std::string& u) {
  for (size_t at; (at = text.find("$p")) != std::string::npos;) text.replace(at, 2, p);
  for (size_t at; (at = text.find("$P")) != std::string::npos;) text.replace(at, 2, u);
  return text;
}

// <prefix>_run_checked: hamux::run's loop (runtime/run.cpp) in C - the same checks in the same
// order, chunks of the same length, the same guard - with its messages (run_messages.h) written
// into the caller's buffer instead of thrown.
std::string checked_run(const Model& model, const std::string& P, const std::string& U) {
  std::vector<std::string> hints;
  int64_t state_size = 0;
  for (size_t i = 0; i < model.neurons.size(); ++i) {
    hints.push_back(literal(run_messages::synapse_hint(model, static_cast<int>(i))));
    state_size += num_elements(model.neurons[i].shape);
  }
  const double rel = model.dtype == ir::DType::F32 ? run_messages::kGuardRelF32 : run_messages::kGuardRelF64;
  std::ostringstream h;
  h << "/* ---- The checked run: hamux::run's stops and energy guard (docs/aot.md) ---- */\n\n"
    << "/* The end of the state-bound message for each neuron: the synapses that drive it. */\n"
    << "static const char* const " << P << "_neuron_hint[" << model.neurons.size() << "] = "
    << list(hints, [](const std::string& x) { return x; }) << ";\n"
    << "#define " << U << "_STATE_SIZE " << state_size << "LL /* reals of all neurons' states per sample */\n"
    << "#define " << U << "_GUARD_REL " << num(rel) << " /* the guard's rounding allowance for " << ir::dtype_name(model.dtype) << " */\n\n";
  h << with_prefix(R"HAMUXC(/* Workspace for $p_run_checked on `batch` samples: $p_workspace_bytes(batch), then room for
 * the states and energies before a step (to undo it, or to replay a chunk step by step). */
static inline size_t $p_checked_workspace_bytes(int64_t batch) {
  return (size_t)(HAMUX_AOT_ROUND64((int64_t)$p_workspace_bytes(batch)) +
                  HAMUX_AOT_ROUND64(batch * $P_STATE_SIZE * (int64_t)sizeof($p_real)) + batch * (int64_t)sizeof($p_real));
}

/* The first (sample, neuron) whose state is nan or inf: HAMUX_AOT_STATE_NOT_FINITE. */
static inline int $p_check_finite_(const $p_args* a, int64_t batch, int64_t step, char* msg, size_t size) {
  for (int64_t b = 0; b < batch; ++b)
    for (int i = 0; i < $P_NUM_NEURONS; ++i)
      for (int64_t e = b * $p_neuron_size[i]; e < (b + 1) * $p_neuron_size[i]; ++e) {
        const double v = (double)a->x[i][e];
        if (isfinite(v)) continue;
        snprintf(msg, size, HAMUX_AOT_MSG_STATE_NOT_FINITE, $p_neuron_name[i], (long long)b, isnan(v) ? "nan" : "inf",
                 (long long)step, step > 0 ? HAMUX_AOT_MSG_TRY_SMALLER_DT : "");
        return HAMUX_AOT_STATE_NOT_FINITE;
      }
  return HAMUX_AOT_OK;
}

/* The first (sample, neuron) with |x| > bound (bound 0: no check): HAMUX_AOT_STATE_BOUND. */
static inline int $p_check_bound_(const $p_args* a, int64_t batch, int64_t step, double bound, char* msg, size_t size) {
  if (!(bound > 0)) return HAMUX_AOT_OK;
  for (int64_t b = 0; b < batch; ++b)
    for (int i = 0; i < $P_NUM_NEURONS; ++i)
      for (int64_t e = b * $p_neuron_size[i]; e < (b + 1) * $p_neuron_size[i]; ++e) {
        const double v = fabs((double)a->x[i][e]);
        if (v <= bound) continue;
        snprintf(msg, size, HAMUX_AOT_MSG_STATE_BOUND, $p_neuron_name[i], (long long)b, v, bound, (long long)step,
                 $p_neuron_hint[i]);
        return HAMUX_AOT_STATE_BOUND;
      }
  return HAMUX_AOT_OK;
}

/* The first sample whose energy is nan or inf: HAMUX_AOT_ENERGY_NOT_FINITE. (The JIT names the
 * energy term at fault; a kernel only has the total.) */
static inline int $p_check_energy_(const $p_args* a, int64_t batch, int64_t step, char* msg, size_t size) {
  for (int64_t b = 0; b < batch; ++b) {
    const double e = (double)a->energy[b];
    if (isfinite(e)) continue;
    snprintf(msg, size, HAMUX_AOT_MSG_ENERGY_NOT_FINITE, (long long)b, isnan(e) ? "nan" : "inf", (long long)step,
             HAMUX_AOT_MSG_ENERGY_TOTAL, step > 0 ? HAMUX_AOT_MSG_ENERGY_END_LATER : HAMUX_AOT_MSG_ENERGY_END_FIRST);
    return HAMUX_AOT_ENERGY_NOT_FINITE;
  }
  return HAMUX_AOT_OK;
}

/* Whether every state is finite and within the bound (a chunk that is not is replayed). */
static inline int $p_states_ok_(const $p_args* a, int64_t batch, double bound) {
  for (int i = 0; i < $P_NUM_NEURONS; ++i)
    for (int64_t e = 0; e < batch * $p_neuron_size[i]; ++e) {
      const double v = (double)a->x[i][e];
      if (!isfinite(v) || (bound > 0 && fabs(v) > bound)) return 0;
    }
  return 1;
}

/* Copies the states into `saved` (to_saved) or back. */
static inline void $p_copy_states_(const $p_args* a, int64_t batch, $p_real* saved, int to_saved) {
  for (int i = 0; i < $P_NUM_NEURONS; ++i) {
    const size_t n = (size_t)(batch * $p_neuron_size[i]);
    if (to_saved) memcpy(saved, a->x[i], n * sizeof($p_real));
    else memcpy(a->x[i], saved, n * sizeof($p_real));
    saved += n;
  }
}

/* The first sample whose energy rose above `before` beyond rounding (or is not finite), or -1. */
static inline int64_t $p_rising_sample_(const $p_args* a, int64_t batch, const $p_real* before) {
  for (int64_t b = 0; b < batch; ++b) {
    const double e0 = (double)before[b], e1 = (double)a->energy[b];
    if (!isfinite(e1) || e1 > e0 + $P_GUARD_REL * (1.0 + fabs(e0))) return b;
  }
  return -1;
}

static inline int $p_check_args_(const $p_args* a, int64_t batch, double dt, int64_t steps,
    const hamux_aot_check_options* o, char* msg, size_t size) {
  if (!a) return snprintf(msg, size, "the args are NULL"), HAMUX_AOT_INVALID_ARGUMENT;
  if (steps < 0) return snprintf(msg, size, HAMUX_AOT_MSG_BAD_STEPS, (long long)steps), HAMUX_AOT_INVALID_ARGUMENT;
  if (!(dt > 0) || !isfinite(dt)) return snprintf(msg, size, HAMUX_AOT_MSG_BAD_DT, dt), HAMUX_AOT_INVALID_ARGUMENT;
  if (!(o->state_bound >= 0))
    return snprintf(msg, size, HAMUX_AOT_MSG_BAD_STATE_BOUND, o->state_bound), HAMUX_AOT_INVALID_ARGUMENT;
  if (batch < 0) return snprintf(msg, size, "batch must be >= 0, got %lld", (long long)batch), HAMUX_AOT_INVALID_ARGUMENT;
  for (int i = 0; i < $P_NUM_NEURONS; ++i) {
    if (!a->x[i]) return snprintf(msg, size, "x[%d] (neuron '%s') is NULL", i, $p_neuron_name[i]), HAMUX_AOT_INVALID_ARGUMENT;
    if (!a->xhat[i])
      return snprintf(msg, size, "xhat[%d] (neuron '%s') is NULL", i, $p_neuron_name[i]), HAMUX_AOT_INVALID_ARGUMENT;
  }
  if (!$P_PARAMS_EMBEDDED)
    for (int k = 0; k < $P_NUM_PARAMS; ++k)
      if (!a->params[k])
        return snprintf(msg, size, "params[%d] (param '%s') is NULL; $p_load_params reads them", k, $p_param_name[k]),
               HAMUX_AOT_INVALID_ARGUMENT;
  if (!a->workspace)
    return snprintf(msg, size, "workspace is NULL; it needs $p_checked_workspace_bytes(batch) bytes"), HAMUX_AOT_INVALID_ARGUMENT;
  if (o->energy_guard && !a->energy)
    return snprintf(msg, size, "energy is NULL; the energy guard needs the energies"), HAMUX_AOT_INVALID_ARGUMENT;
  return HAMUX_AOT_OK;
}

/* hamux::run in C: `steps` Euler steps of size dt with the JIT runtime's checks, in its order.
 *  - Before the first step and after every step: a nan or inf state stops the run
 *    (HAMUX_AOT_STATE_NOT_FINITE); after every step a state element with |x| > state_bound
 *    (options->state_bound > 0) stops it (HAMUX_AOT_STATE_BOUND). Steps run in chunks of
 *    HAMUX_AOT_MAX_CHUNK; a chunk that fails is replayed one step at a time, so the step named
 *    is the first that failed and the buffers hold that step's states.
 *  - With a->energy: the energies are computed and a nan or inf one stops the run
 *    (HAMUX_AOT_ENERGY_NOT_FINITE; at step 0 and after every chunk).
 *  - options->energy_guard (needs a->energy): one step at a time; when a sample's energy rises
 *    (or is not finite) the step is undone, dt is halved for the rest of the run and the step
 *    retried, recorded in result->guard; after HAMUX_AOT_MAX_HALVINGS halvings the run stops
 *    (HAMUX_AOT_GUARD_FAILED, or HAMUX_AOT_ENERGY_NOT_FINITE when the energy is not finite).
 * Returns HAMUX_AOT_OK, or a code above with the runtime's hamux::Error::cause() text in
 * `message` (truncated to message_size; NULL/0: none). options NULL: hamux_aot_check_defaults().
 * result (may be NULL): the steps taken (after a stop: the step whose states the buffers hold)
 * and the final dt. Invalid arguments (steps < 0, dt <= 0, state_bound < 0, a NULL buffer)
 * return HAMUX_AOT_INVALID_ARGUMENT before anything moves. a->workspace must hold
 * $p_checked_workspace_bytes(batch) bytes, 64-byte aligned. */
static inline int $p_run_checked(const $p_args* a, int64_t batch, double dt, int64_t steps,
    const hamux_aot_check_options* options, hamux_aot_run_result* result, char* message, size_t message_size) {
  const hamux_aot_check_options o = options ? *options : hamux_aot_check_defaults();
  hamux_aot_run_result unused;
  hamux_aot_run_result* r = result ? result : &unused;
  $p_real *saved_x, *saved_e;
  int64_t step = 0, at = 0;
  int rc;
  if (!message) message_size = 0;
  if (message_size > 0) message[0] = 0;
  memset(r, 0, sizeof *r);
  r->dt = dt;
  if ((rc = $p_check_args_(a, batch, dt, steps, &o, message, message_size)) != HAMUX_AOT_OK) return rc;
  saved_x = ($p_real*)((char*)a->workspace + HAMUX_AOT_ROUND64((int64_t)$p_workspace_bytes(batch)));
  saved_e = ($p_real*)((char*)saved_x + HAMUX_AOT_ROUND64(batch * $P_STATE_SIZE * (int64_t)sizeof($p_real)));
  if ((rc = $p_check_finite_(a, batch, 0, message, message_size)) != HAMUX_AOT_OK) goto stop;
  if (a->energy) {
    $p_activations(a, batch);
    if ((rc = $p_check_energy_(a, batch, 0, message, message_size)) != HAMUX_AOT_OK) goto stop;
  } else if (steps == 0) {
    $p_activations(a, batch);
  }
  while (step < steps) {
    const int64_t k = o.energy_guard ? 1 : steps - step < HAMUX_AOT_MAX_CHUNK ? steps - step : HAMUX_AOT_MAX_CHUNK;
    int64_t b;
    $p_copy_states_(a, batch, saved_x, 1);
    if (a->energy) memcpy(saved_e, a->energy, (size_t)batch * sizeof($p_real));
    $p_steps(a, batch, dt, k);
    if (k > 1 && !$p_states_ok_(a, batch, o.state_bound)) {
      $p_copy_states_(a, batch, saved_x, 0);
      for (int64_t j = 1; j <= k; ++j) {
        $p_step(a, batch, dt);
        at = step + j;
        if ((rc = $p_check_finite_(a, batch, at, message, message_size)) != HAMUX_AOT_OK) goto stop;
        if ((rc = $p_check_bound_(a, batch, at, o.state_bound, message, message_size)) != HAMUX_AOT_OK) goto stop;
      }
    }
    at = step + k;
    if ((rc = $p_check_finite_(a, batch, at, message, message_size)) != HAMUX_AOT_OK) goto stop;
    if ((rc = $p_check_bound_(a, batch, at, o.state_bound, message, message_size)) != HAMUX_AOT_OK) goto stop;
    if (a->energy && !o.energy_guard && (rc = $p_check_energy_(a, batch, at, message, message_size)) != HAMUX_AOT_OK)
      goto stop;
    if (o.energy_guard && (b = $p_rising_sample_(a, batch, saved_e)) >= 0) {
      hamux_aot_guard_event* ev;
      if (r->num_guard >= HAMUX_AOT_MAX_HALVINGS) {
        at = step + 1;
        if ((rc = $p_check_energy_(a, batch, at, message, message_size)) != HAMUX_AOT_OK) goto stop;
        snprintf(message, message_size, HAMUX_AOT_MSG_GUARD_FAILED, (long long)b, (long long)at, dt);
        rc = HAMUX_AOT_GUARD_FAILED;
        goto stop;
      }
      ev = &r->guard[r->num_guard++];
      ev->step = step + 1;
      ev->sample = b;
      ev->energy_before = (double)saved_e[b];
      ev->energy_after = (double)a->energy[b];
      ev->new_dt = dt / 2;
      /* Undo the step and retry it with half the step size (xhat is recomputed by the retry). */
      $p_copy_states_(a, batch, saved_x, 0);
      memcpy(a->energy, saved_e, (size_t)batch * sizeof($p_real));
      dt /= 2;
      continue;
    }
    step += k;
  }
  r->steps = step;
  r->dt = dt;
  return HAMUX_AOT_OK;
stop:
  r->steps = at;
  r->dt = dt;
  return rc;
}

)HAMUXC", P, U);
  return h.str();
}
}  // namespace

std::vector<std::string> aot_param_ids(const Model& model) {
  std::vector<std::string> ids;
  std::set<std::string> used;
  for (size_t k = 0; k < model.params.size(); ++k) {
    // "p" before a leading '_' keeps <prefix>_param_<id> free of double underscores.
    const std::string base = c_identifier(model.params[k].name);
    std::string id = base[0] == '_' ? std::string(1, 'p') : std::string();
    id += base;
    if (used.count(id)) {
      id += '_';
      id += std::to_string(k);
    }
    used.insert(id);
    ids.push_back(id);
  }
  return ids;
}

std::string aot_c_header(const Model& model, const AotResult& r) {
  const Program& p = r.program;
  const std::string P = r.prefix, U = upper(r.prefix);
  const std::string real = model.dtype == ir::DType::F32 ? "float" : "double";
  const size_t n = model.neurons.size(), np = model.params.size();
  const std::vector<std::string> ids = aot_param_ids(model);
  // The slots come from the step's layout (step.h), the one the JIT's binding uses.
  const StepLayout& L = r.layout;
  auto slots = [](const std::vector<int>& v) {
    std::vector<std::string> s;
    for (int x : v) s.push_back(std::to_string(x));
    return s;
  };
  const std::vector<std::string> x_slot = slots(L.x), xhat_slot = slots(L.xhat), rate_slot = slots(L.rate),
                                 mask_slot = slots(L.mask), param_slot = slots(L.param);
  int64_t max_neuron = 1;
  for (const NeuronDef& nd : model.neurons) max_neuron = std::max(max_neuron, num_elements(nd.shape));
  if (L.energy < 0) HAMUX_INTERNAL("the AOT step program has no energy output");
  const std::string energy_slot = std::to_string(L.energy);
  const size_t np1 = std::max<size_t>(np, 1);  // C has no zero-length arrays

  std::ostringstream h;
  h << "/* " << P << ".h - ahead-of-time kernel of the HAM " << literal(comment_safe(model.name)) << ".\n"
    << " * Generated by `hamux compile` from " << comment_safe(model.file) << "; do not edit.\n"
    << " * Target " << r.triple << ", CPU " << r.cpu << "; reals are " << real << " ("
    << ir::dtype_name(model.dtype) << ").\n"
    << " * Params: " << (r.embed_params ? "embedded in " + P + ".o" : "files " + P + "_<name>.npy beside " + P + ".o")
    << ".\n"
    << " *\n"
    << (r.kernels_library
            ? " * Link " + P + ".o (or lib" + P + ".a) into a program with -lhamux_kernels -lstdc++ -lmvec\n"
              " * -lm (CMake: hamux::kernels): its contractions call the kernels library of the\n"
              " * hamux build it was compiled with (`hamux compile --kernels library`, docs/aot.md).\n"
            : " * Link " + P + ".o (or lib" + P + ".a) into a C program with -lm; it needs no LLVM,\n"
              " * no Eigen and no hamux library.\n")
    << " *\n"
    << " * Dynamics: one explicit Euler step updates all neurons from the same state,\n"
    << " *   xhat_i = dL_i/dx_i (x_i),   x_i <- x_i - (dt / tau_i) * mask_i * dE/dxhat_i,\n"
    << " * and E is the total energy of the state. After any call, xhat and energy describe\n"
    << " * the returned x.\n"
    << " *\n"
    << " * " << P << "_run_checked (at the end) runs steps with the JIT runtime's checks: nan/inf states,\n"
    << " * the state bound, the energy guard; it returns a HAMUX_AOT_* code (hamux_aot.h) and writes\n"
    << " * hamux::run's message for the same stop into a caller's buffer.\n"
    << " *\n"
    << " * Buffer layouts (row-major, C order). For a batch of B samples:\n"
    << " *   x[i], xhat[i]  B * " << U << "_NEURON_SIZE(i) reals; sample b starts at b * size\n"
    << " *   energy         B reals\n"
    << " *   mask[i]        size reals shared by all samples, 1 = moves, 0 = clamped\n"
    << " *   params[k]      " << U << "_PARAM_SIZE(k) reals shared by all samples\n"
    << " *\n"
    << " * Neurons:\n";
  for (size_t i = 0; i < n; ++i) {
    const NeuronDef& nd = model.neurons[i];
    h << " *   " << i << " " << comment_safe(nd.name) << ": shape " << shape_str(nd.shape) << " ("
      << num_elements(nd.shape) << " per sample), tau " << nd.tau << ", lagrangian "
      << comment_safe(nd.lagrangian_desc) << "\n";
  }
  h << " * Params:\n";
  for (size_t k = 0; k < np; ++k) {
    const ParamDef& pd = model.params[k];
    h << " *   " << k << " " << comment_safe(pd.name) << ": shape " << shape_str(pd.shape) << " ("
      << num_elements(pd.shape) << " reals), " << comment_safe(pd.init) << "\n";
  }
  h << " */\n"
    << "#ifndef " << U << "_AOT_H_\n#define " << U << "_AOT_H_\n\n"
    << "#include <math.h>\n#include <stddef.h>\n#include <stdint.h>\n#include <string.h>\n\n#include \"hamux_aot.h\"\n\n"
    << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
    << "typedef " << real << " " << P << "_real;\n\n"
    << "#define " << U << "_NUM_NEURONS " << n << "\n"
    << "#define " << U << "_NUM_PARAMS " << np << "\n"
    << "#define " << U << "_PARAMS_EMBEDDED " << (r.embed_params ? 1 : 0) << "\n";
  for (size_t i = 0; i < n; ++i)
    h << "#define " << U << "_NEURON_" << c_identifier(model.neurons[i].name) << " " << i << "\n";
  for (size_t k = 0; k < np; ++k) h << "#define " << U << "_PARAM_" << ids[k] << " " << k << "\n";
  h << "#define " << U << "_NEURON_SIZE(i) (" << P << "_neuron_size[i])\n"
    << "#define " << U << "_PARAM_SIZE(k) (" << P << "_param_size[k])\n\n";

  auto int_list = [](const std::vector<int64_t>& v) {
    return list(v, [](int64_t x) { return std::to_string(x) + "LL"; });
  };
  std::vector<int64_t> nsize, psize;
  std::vector<double> tau;
  std::vector<std::string> nname, pname, pfile;
  for (const NeuronDef& nd : model.neurons) {
    nsize.push_back(num_elements(nd.shape));
    tau.push_back(nd.tau);
    nname.push_back(literal(nd.name));
  }
  for (size_t k = 0; k < np; ++k) {
    psize.push_back(num_elements(model.params[k].shape));
    pname.push_back(literal(model.params[k].name));
    pfile.push_back(literal(P + "_" + ids[k] + ".npy"));
  }
  auto id = [](const std::string& s) { return s; };
  h << "static const int64_t " << P << "_neuron_size[" << n << "] = " << int_list(nsize) << ";\n"
    << "static const double " << P << "_neuron_tau[" << n << "] = " << list(tau, num) << ";\n"
    << "static const char* const " << P << "_neuron_name[" << n << "] = " << list(nname, id) << ";\n"
    << "static const int64_t " << P << "_param_size[" << np1 << "] = " << int_list(psize) << ";\n"
    << "static const char* const " << P << "_param_name[" << np1 << "] = " << list(pname, id) << ";\n\n";

  h << "/* The raw kernel (the ABI of the JIT kernels): buffers[slot] are the external buffers\n"
    << " * below, batched ones holding the WHOLE batch; rate[i] points at one real dt / tau_i.\n"
    << " * " << P << "_kernel_prepare computes the values that depend on the params only (not on dt or the masks)\n"
    << " * into `shared` (" << U << "_SHARED_BYTES bytes, 64-byte aligned). " << P << "_kernel then runs\n"
    << " * k_steps Euler steps on samples [batch_begin, batch_end) and writes xhat and energy of the\n"
    << " * final state (k_steps = 0 only evaluates); it only reads `shared`, so disjoint slices may\n"
    << " * run on several threads with one prepared block, each with its own workspace of\n"
    << " * " << U << "_KERNEL_WORKSPACE(batch_end - batch_begin) bytes, 64-byte aligned. */\n"
    << "void " << P << "_kernel_prepare(void* const* buffers, char* shared);\n"
    << "void " << P << "_kernel(void* const* buffers, int64_t batch_begin, int64_t batch_end, const char* shared,\n"
    << "    char* workspace, int64_t k_steps);\n\n"
    << "#define " << U << "_NUM_SLOTS " << p.num_external << "\n"
    << "#define " << U << "_SLOT_ENERGY " << energy_slot << "\n"
    << "static const int " << P << "_slot_x[" << n << "] = " << list(x_slot, id) << ";\n"
    << "static const int " << P << "_slot_xhat[" << n << "] = " << list(xhat_slot, id) << ";\n"
    << "static const int " << P << "_slot_rate[" << n << "] = " << list(rate_slot, id) << ";\n"
    << "static const int " << P << "_slot_mask[" << n << "] = " << list(mask_slot, id) << ";\n"
    << "static const int " << P << "_slot_param[" << np1 << "] = " << list(param_slot, id) << ";\n"
    << "#define " << U << "_SHARED_BYTES HAMUX_AOT_ROUND64(" << p.shared_bytes << "LL)\n"
    << "#define " << U << "_KERNEL_WORKSPACE(batch) HAMUX_AOT_ROUND64((int64_t)(batch) * " << p.sample_bytes << "LL)\n"
    << "#define " << U << "_MAX_NEURON_SIZE " << max_neuron << "\n"
    << "/* Samples per kernel call in " << P << "_run_slice (0: the whole slice): a few samples at a\n"
    << " * time go through all the steps while their buffers stay in a 512 KiB cache budget\n"
    << " * (samples_per_call, codegen/program.h). */\n"
    << "#define " << U << "_SAMPLES_PER_CALL " << samples_per_call_or_0(p) << "LL\n\n";

  if (r.embed_params) {
    h << "/* The params, embedded in " << P << ".o. */\n";
    for (size_t k = 0; k < np; ++k)
      h << "extern const " << P << "_real " << P << "_param_" << ids[k] << "[" << psize[k] << "];\n";
    h << "static const " << P << "_real* const " << P << "_embedded_param[" << np1 << "] = "
      << list(ids, [&](const std::string& s) { return P + "_param_" + s; }) << ";\n\n";
  } else {
    h << "/* The params are files beside " << P << ".o (.npy, " << ir::dtype_name(model.dtype) << ", C order). */\n"
      << "static const char* const " << P << "_param_file[" << np1 << "] = " << list(pfile, id) << ";\n\n"
      << "/* Reads every param from `dir` into malloc'd arrays (release with " << P << "_free_params).\n"
      << " * Returns 0, or -1 (and prints why to stderr) when a file is missing or wrong. */\n"
      << "static inline int " << P << "_load_params(const char* dir, const " << P << "_real* params["
      << np1 << "]) {\n"
      << "  for (int k = 0; k < " << U << "_NUM_PARAMS; ++k) {\n"
      << "    params[k] = (const " << P << "_real*)hamux_aot_read_npy(dir, " << P << "_param_file[k], "
      << literal(model.dtype == ir::DType::F32 ? "<f4" : "<f8") << ", " << P << "_param_size[k]);\n"
      << "    if (!params[k]) return -1;\n"
      << "  }\n  return 0;\n}\n"
      << "static inline void " << P << "_free_params(const " << P << "_real* params[" << np1 << "]) {\n"
      << "  for (int k = 0; k < " << U << "_NUM_PARAMS; ++k) hamux_aot_free((void*)params[k]);\n}\n\n";
  }

  h << "/* Everything one call needs. */\n"
    << "typedef struct " << P << "_args {\n"
    << "  " << P << "_real* x[" << n << "];             /* in/out: states, [B, ...shape_i] */\n"
    << "  " << P << "_real* xhat[" << n << "];          /* out: activations of the returned x */\n"
    << "  " << P << "_real* energy;           /* out: energy per sample, [B]; NULL: not computed (" << P << "_relax needs it) */\n"
    << "  const " << P << "_real* mask[" << n << "];    /* NULL: the whole neuron moves */\n"
    << "  const " << P << "_real* params[" << np1 << "]; /* "
    << (r.embed_params ? "NULL: the embedded values" : "required (" + P + "_load_params)") << " */\n"
    << "  void* workspace;              /* " << P << "_workspace_bytes(B) bytes, 64-byte aligned */\n"
    << "} " << P << "_args;\n\n"
    << "/* Workspace for a call on `batch` samples: the prepared values and the kernel's own\n"
    << " * workspace, ones for unmasked neurons, the rates, and a copy of the energies (for\n"
    << " * " << P << "_relax). */\n"
    << "static inline size_t " << P << "_workspace_bytes(int64_t batch) {\n"
    << "  return (size_t)(" << U << "_SHARED_BYTES + " << U << "_KERNEL_WORKSPACE(batch) + HAMUX_AOT_ROUND64(" << U << "_MAX_NEURON_SIZE * (int64_t)sizeof("
    << P << "_real))\n"
    << "      + HAMUX_AOT_ROUND64(" << n << " * (int64_t)sizeof(" << P << "_real)) + batch * (int64_t)sizeof(" << P << "_real));\n"
    << "}\n\n"
    << "/* Advances samples [begin, end) by k_steps steps of size dt (k_steps = 0: only xhat and\n"
    << " * energy); `a->workspace` must hold " << P << "_workspace_bytes(end - begin) bytes. Subnormals\n"
    << " * are flushed to zero meanwhile (hamux_aot_flush_subnormals, hamux_aot.h). */\n"
    << "static inline void " << P << "_run_slice(const " << P << "_args* a, int64_t begin, int64_t end, double dt,\n"
    << "    int64_t k_steps) {\n"
    << "  void* slots[" << U << "_NUM_SLOTS];\n"
    << "  unsigned fp;\n"
    << "  char* shared = (char*)a->workspace;\n"
    << "  char* ws = shared + " << U << "_SHARED_BYTES;\n"
    << "  " << P << "_real* ones = (" << P << "_real*)(ws + " << U << "_KERNEL_WORKSPACE(end - begin));\n"
    << "  " << P << "_real* rates = (" << P << "_real*)((char*)ones + HAMUX_AOT_ROUND64(" << U
    << "_MAX_NEURON_SIZE * (int64_t)sizeof(" << P << "_real)));\n"
    << "  for (int64_t e = 0; e < " << U << "_MAX_NEURON_SIZE; ++e) ones[e] = 1;\n"
    << "  for (int i = 0; i < " << U << "_NUM_NEURONS; ++i) {\n"
    << "    rates[i] = (" << P << "_real)(dt / " << P << "_neuron_tau[i]);\n"
    << "    slots[" << P << "_slot_x[i]] = a->x[i];\n"
    << "    slots[" << P << "_slot_xhat[i]] = a->xhat[i];\n"
    << "    slots[" << P << "_slot_rate[i]] = &rates[i];\n"
    << "    slots[" << P << "_slot_mask[i]] = (void*)(a->mask[i] ? a->mask[i] : ones);\n"
    << "  }\n"
    << "  for (int k = 0; k < " << U << "_NUM_PARAMS; ++k)\n"
    << "    slots[" << P << "_slot_param[k]] = (void*)"
    << (r.embed_params ? "(a->params[k] ? a->params[k] : " + P + "_embedded_param[k])" : "a->params[k]") << ";\n"
    << "  slots[" << U << "_SLOT_ENERGY] = a->energy;\n"
    << "  fp = hamux_aot_flush_subnormals();\n"
    << "  " << P << "_kernel_prepare(slots, shared);\n"
    << "  for (int64_t b0 = begin; b0 < end;) {\n"
    << "    const int64_t b1 = " << U << "_SAMPLES_PER_CALL > 0 && end - b0 > " << U << "_SAMPLES_PER_CALL ? b0 + "
    << U << "_SAMPLES_PER_CALL : end;\n"
    << "    " << P << "_kernel(slots, b0, b1, shared, ws, k_steps);\n"
    << "    b0 = b1;\n"
    << "  }\n"
    << "  hamux_aot_restore_fp(fp);\n"
    << "}\n\n"
    << "/* xhat and energy of the current state (no step). */\n"
    << "static inline void " << P << "_activations(const " << P << "_args* a, int64_t batch) {\n"
    << "  " << P << "_run_slice(a, 0, batch, 0.0, 0);\n}\n"
    << "static inline void " << P << "_energy(const " << P << "_args* a, int64_t batch) {\n"
    << "  " << P << "_run_slice(a, 0, batch, 0.0, 0);\n}\n"
    << "/* One Euler step, then xhat and energy of the new state. */\n"
    << "static inline void " << P << "_step(const " << P << "_args* a, int64_t batch, double dt) {\n"
    << "  " << P << "_run_slice(a, 0, batch, dt, 1);\n}\n"
    << "/* k_steps Euler steps in one call. */\n"
    << "static inline void " << P << "_steps(const " << P << "_args* a, int64_t batch, double dt, int64_t k_steps) {\n"
    << "  " << P << "_run_slice(a, 0, batch, dt, k_steps);\n}\n"
    << "/* Steps until no sample's energy changes by more than `tol` in one step, or max_steps;\n"
    << " * returns the number of steps taken. */\n"
    << "static inline int64_t " << P << "_relax(const " << P << "_args* a, int64_t batch, double dt, int64_t max_steps,\n"
    << "    double tol) {\n"
    << "  " << P << "_real* before = (" << P << "_real*)((char*)a->workspace + " << P
    << "_workspace_bytes(batch) - (size_t)batch * sizeof(" << P << "_real));\n"
    << "  " << P << "_activations(a, batch);\n"
    << "  for (int64_t k = 0; k < max_steps;) {\n"
    << "    for (int64_t b = 0; b < batch; ++b) before[b] = a->energy[b];\n"
    << "    " << P << "_step(a, batch, dt);\n"
    << "    ++k;\n"
    << "    int settled = 1;\n"
    << "    for (int64_t b = 0; b < batch; ++b)\n"
    << "      if (!(a->energy[b] - before[b] <= tol && before[b] - a->energy[b] <= tol)) settled = 0;\n"
    << "    if (settled) return k;\n"
    << "  }\n"
    << "  return max_steps;\n"
    << "}\n\n"
    << checked_run(model, P, U)
    << "#ifdef __cplusplus\n}\n#endif\n\n#endif\n";
  return h.str();
}

namespace {

// The model-independent half of the checked run: return codes, limits, messages (the formats
// of run_messages.h as C string literals), the options and the result.
std::string checked_run_helpers() {
  namespace rm = run_messages;
  const RunOptions defaults;
  std::ostringstream h;
  h << "/* ---- The checked run (<prefix>_run_checked, docs/aot.md): the JIT runtime's stops ---- */\n"
    << "#define HAMUX_AOT_OK 0\n"
    << "#define HAMUX_AOT_STATE_NOT_FINITE 1  /* a state is nan or inf */\n"
    << "#define HAMUX_AOT_STATE_BOUND 2       /* |x| > state_bound: dt too large, or the energy not bounded below */\n"
    << "#define HAMUX_AOT_ENERGY_NOT_FINITE 3 /* an energy is nan or inf */\n"
    << "#define HAMUX_AOT_GUARD_FAILED 4      /* the energy guard halved dt HAMUX_AOT_MAX_HALVINGS times in vain */\n"
    << "#define HAMUX_AOT_INVALID_ARGUMENT 5  /* steps < 0, dt <= 0, state_bound < 0, a NULL buffer; nothing ran */\n\n"
    << "#define HAMUX_AOT_MAX_CHUNK " << rm::kMaxChunk << " /* steps per kernel call when nothing is checked per step */\n"
    << "#define HAMUX_AOT_MAX_HALVINGS " << rm::kMaxHalvings << "\n"
    << "#define HAMUX_AOT_DEFAULT_STATE_BOUND " << num(defaults.state_bound) << " /* hamux::RunOptions::state_bound */\n\n"
    << "/* The messages: printf formats of hamux's run loop (hamux::Error::cause() of hamux::run). */\n"
    << "#define HAMUX_AOT_MSG_STATE_NOT_FINITE " << literal(rm::kStateNotFinite) << "\n"
    << "#define HAMUX_AOT_MSG_TRY_SMALLER_DT " << literal(rm::kTrySmallerDt) << "\n"
    << "#define HAMUX_AOT_MSG_STATE_BOUND " << literal(rm::kStateBound) << "\n"
    << "#define HAMUX_AOT_MSG_ENERGY_NOT_FINITE " << literal(rm::kEnergyNotFinite) << "\n"
    << "#define HAMUX_AOT_MSG_ENERGY_END_FIRST " << literal(rm::kEnergyEndFirst) << "\n"
    << "#define HAMUX_AOT_MSG_ENERGY_END_LATER " << literal(rm::kEnergyEndLater) << "\n"
    << "#define HAMUX_AOT_MSG_ENERGY_TOTAL " << literal(rm::kEnergyTotal) << "\n"
    << "#define HAMUX_AOT_MSG_GUARD_FAILED " << literal(rm::kGuardFailed) << "\n"
    << "#define HAMUX_AOT_MSG_BAD_STEPS " << literal(rm::kBadSteps) << "\n"
    << "#define HAMUX_AOT_MSG_BAD_DT " << literal(rm::kBadDt) << "\n"
    << "#define HAMUX_AOT_MSG_BAD_STATE_BOUND " << literal(rm::kBadStateBound) << "\n\n"
    << R"HAMUXAOT(typedef struct hamux_aot_check_options {
  double state_bound; /* > 0: a state element with |x| above it stops the run; 0: no check */
  int energy_guard;   /* nonzero: undo a step that raises an energy, halve dt, retry */
} hamux_aot_check_options;

/* The defaults of hamux::RunOptions. */
static inline hamux_aot_check_options hamux_aot_check_defaults(void) {
  hamux_aot_check_options o;
  o.state_bound = HAMUX_AOT_DEFAULT_STATE_BOUND;
  o.energy_guard = )HAMUXAOT" << (defaults.energy_guard ? 1 : 0) << R"HAMUXAOT(;
  return o;
}

/* A step the energy guard undid (hamux::GuardEvent). */
typedef struct hamux_aot_guard_event {
  int64_t step;   /* the step that was undone (1-based) */
  int64_t sample; /* the first sample whose energy rose */
  double energy_before, energy_after;
  double new_dt;
} hamux_aot_guard_event;

typedef struct hamux_aot_run_result {
  int64_t steps; /* steps taken; after a stop, the step whose states the buffers hold */
  double dt;     /* dt at the end (smaller than asked when the guard halved it) */
  int num_guard; /* guard events, in guard[0 .. num_guard) */
  hamux_aot_guard_event guard[HAMUX_AOT_MAX_HALVINGS];
} hamux_aot_run_result;

)HAMUXAOT";
  return h.str();
}

// compiler/step/hamux_aot_io.h, the C helpers, as text (CMakeLists.txt embeds it).
const char* const kAotIoHeader =
#include "aot_io_h.inc"
    ;

}  // namespace

const std::string& aot_helper_header() {
  static const std::string text = std::string(R"HAMUXAOT(/* hamux_aot.h - model-independent helpers for hamux ahead-of-time kernels (C99/C11).
 * Generated by `hamux compile`; the same for every model. Header-only. */
#ifndef HAMUX_AOT_HELPER_H_
#define HAMUX_AOT_HELPER_H_

)HAMUXAOT") + kAotIoHeader + R"HAMUXAOT(
#ifdef __cplusplus
extern "C" {
#endif

)HAMUXAOT" + checked_run_helpers() + R"HAMUXAOT(#ifdef __cplusplus
}
#endif

#endif
)HAMUXAOT";
  return text;
}

}  // namespace hamux::codegen
