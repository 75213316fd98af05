// tests/aot/aot_checked_test.cpp - m_run_checked, the AOT artefact's checked run, called from a
// plain C99 program (tests/aot/checked_driver.c, `cc -std=c99 -pedantic -Wall -Wextra -Werror`):
// its stops, messages and energy guard are those of hamux::run on the same model and states.
//  - a NaN in the initial state and one in a param: HAMUX_AOT_STATE_NOT_FINITE (or, with the
//    energies, HAMUX_AOT_ENERGY_NOT_FINITE), the runtime's text;
//  - classical_hopfield at dt 1000, bound off: overflows at the JIT's step, with its message;
//  - linear_bias.json exceeds the state bound: HAMUX_AOT_STATE_BOUND with the JIT's message;
//  - the guard on classical_hopfield at dt 3: the JIT's guard events, final dt and step count,
//    and no sample ends above its starting energy;
//  - invalid arguments: HAMUX_AOT_INVALID_ARGUMENT with the runtime's message, nothing moved.
#include <cstring>

#include "aot_support.h"
#include "hamux/hamux.h"
#include "step/aot_header.h"

namespace hamux::aot_test {
namespace {

// The codes of hamux_aot.h (the test checks the header says the same).
constexpr int kOk = 0, kNotFinite = 1, kBound = 2, kEnergyNotFinite = 3, kInvalid = 5;

struct Checked {
  int rc = -1;
  int64_t steps = -1;
  double dt = 0;
  std::vector<GuardEvent> guard;
  std::string message;
  std::vector<std::vector<double>> x;  // per neuron, [batch * size]
  std::vector<double> energy;          // per sample (when the energies were given)
};

struct RunArgs {
  int64_t steps = 100;
  double dt = 0.1;
  double state_bound = RunOptions().state_bound;
  bool guard = false, energy = true;
  int nan_param = -1;  // >= 0: this param's first element is NaN
};

// A model compiled with prefix "m" and the driver built against it, in a scratch folder.
class CheckedDriver {
 public:
  explicit CheckedDriver(const Model& m) : m_(m) {
    codegen::AotOptions o;
    o.prefix = "m";
    codegen::write_aot(codegen::compile_aot(m, o), m, dir_.path);
    auto [status, log] = shell("cc -std=c99 -pedantic -O2 -Wall -Wextra -Werror -I'" + dir_.path + "' '" +
                               std::string(HAMUX_SOURCE_DIR) + "/tests/aot/checked_driver.c' '" + dir_.path +
                               "/m.o' -lm -o '" + dir_.path + "/driver'");
    EXPECT_EQ(status, 0) << log;
  }

  const std::string& dir() const { return dir_.path; }

  // Runs the driver from the states `s` (States of a Ham of the same model).
  Checked run(const States& s, const RunArgs& r) const {
    return m_.dtype == ir::DType::F32 ? run_as<float>(s, r) : run_as<double>(s, r);
  }

 private:
  template <class T>
  Checked run_as(const States& s, const RunArgs& r) const {
    std::FILE* in = std::fopen((dir_.path + "/in.bin").c_str(), "wb");
    for (const NeuronDef& nd : m_.neurons) {
      const Tensor<double> x = s.get(nd.name);
      const std::vector<T> v(x.data.begin(), x.data.end());
      std::fwrite(v.data(), sizeof(T), v.size(), in);
    }
    std::fclose(in);
    char dt[64], bound[64];
    std::snprintf(dt, sizeof dt, "%.17g", r.dt);
    std::snprintf(bound, sizeof bound, "%.17g", r.state_bound);
    auto [status, out] = shell("'" + dir_.path + "/driver' '" + dir_.path + "/in.bin' '" + dir_.path + "/out.bin' " +
                               std::to_string(s.batch()) + " " + std::to_string(r.steps) + " " + dt + " " + bound +
                               " " + (r.guard ? "1" : "0") + " " + (r.energy ? "1" : "0") + " " +
                               std::to_string(r.nan_param));
    EXPECT_EQ(status, 0) << out;
    Checked c;
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
      std::istringstream w(line);
      std::string key;
      w >> key;
      if (key == "rc") w >> c.rc;
      if (key == "steps") w >> c.steps;
      if (key == "dt") w >> c.dt;
      if (key == "event") {
        GuardEvent e;
        w >> e.step >> e.sample >> e.energy_before >> e.energy_after >> e.new_dt;
        c.guard.push_back(e);
      }
      if (key == "message") c.message = line.size() > 8 ? line.substr(8) : "";
    }
    const std::string bytes = read_text(dir_.path + "/out.bin");
    size_t pos = 0;
    auto take = [&](size_t n) {
      std::vector<T> v(n);
      if (pos + n * sizeof(T) <= bytes.size()) std::memcpy(v.data(), bytes.data() + pos, n * sizeof(T));
      pos += n * sizeof(T);
      return std::vector<double>(v.begin(), v.end());
    };
    for (const NeuronDef& nd : m_.neurons) c.x.push_back(take(static_cast<size_t>(s.batch() * num_elements(nd.shape))));
    if (r.energy) c.energy = take(static_cast<size_t>(s.batch()));
    EXPECT_EQ(pos, bytes.size()) << "driver output size";
    return c;
  }

  const Model& m_;
  Scratch dir_;
};

// hamux::run with the same arguments: its report, or the cause of its Error.
struct Jit {
  RunReport report;
  std::string cause;  // empty: no error
};

Jit run_jit(const Ham& ham, States& s, const RunArgs& r) {
  RunOptions o;
  o.steps = r.steps;
  o.dt = r.dt;
  o.state_bound = r.state_bound;
  o.energy_guard = r.guard;
  Jit j;
  try {
    j.report = run(ham, s, o);
  } catch (const Error& e) {
    j.cause = e.cause();
  }
  return j;
}

// The states of `s` as the driver writes them, per neuron [batch * size].
std::vector<std::vector<double>> states_of(const Ham& ham, const States& s) {
  std::vector<std::vector<double>> x;
  for (const NeuronInfo& n : ham.neurons()) x.push_back(s.get(n.name).data);
  return x;
}

std::string models(const std::string& file) { return std::string(HAMUX_MODELS_DIR) + "/" + file; }

TEST(AotChecked, HeaderCodesAndMessagesAreTheRuntimes) {
  const std::string& h = codegen::aot_helper_header();
  for (const char* line : {"#define HAMUX_AOT_OK 0", "#define HAMUX_AOT_STATE_NOT_FINITE 1", "#define HAMUX_AOT_STATE_BOUND 2",
                           "#define HAMUX_AOT_ENERGY_NOT_FINITE 3", "#define HAMUX_AOT_GUARD_FAILED 4",
                           "#define HAMUX_AOT_INVALID_ARGUMENT 5", "#define HAMUX_AOT_MAX_HALVINGS 40",
                           "#define HAMUX_AOT_DEFAULT_STATE_BOUND 1e+08",
                           "#define HAMUX_AOT_MSG_STATE_NOT_FINITE \"neuron '%s', sample %lld: state is %s at step %lld%s\""})
    EXPECT_NE(h.find(line), std::string::npos) << line;
}

TEST(AotChecked, NanInTheInitialState) {
  const Ham ham = Ham::load(models("readme.json"));
  CheckedDriver d(ham.model());
  States s = ham.normal(3, 1);
  Tensor<double> hidden = s.get("hidden");
  hidden.data[1 * 9 + 2] = NAN;  // sample 1, element 2
  s.set("hidden", hidden);
  const auto before = states_of(ham, s);
  const Checked c = d.run(s, {});
  EXPECT_EQ(c.rc, kNotFinite);
  EXPECT_EQ(c.message, "neuron 'hidden', sample 1: state is nan at step 0");
  EXPECT_EQ(c.steps, 0);
  EXPECT_EQ(run_jit(ham, s, {}).cause, c.message);
  // Nothing moved (the NaN itself compares unequal to everything: skipped).
  for (size_t i = 0; i < before.size(); ++i)
    for (size_t e = 0; e < before[i].size(); ++e) {
      if (std::isfinite(before[i][e])) {
        EXPECT_EQ(c.x[i][e], static_cast<float>(before[i][e]));
      }
    }
}

TEST(AotChecked, NanInAParam) {
  // The runtime refuses a NaN param (set_param), so only C can run one. With the energies the
  // energy of the initial state is NaN already; without them W1's NaN reaches every neuron in
  // the first step, and the first (sample, neuron) in order is named.
  const Ham ham = Ham::load(models("readme.json"));
  CheckedDriver d(ham.model());
  RunArgs a;
  a.nan_param = 0;
  const Checked with = d.run(ham.normal(2, 1), a);
  EXPECT_EQ(with.rc, kEnergyNotFinite);
  EXPECT_EQ(with.message, "sample 0: energy is nan at step 0 (the total is not finite)");
  EXPECT_EQ(with.steps, 0);
  a.energy = false;
  const Checked without = d.run(ham.normal(2, 1), a);
  EXPECT_EQ(without.rc, kNotFinite);
  EXPECT_EQ(without.message, "neuron 'input', sample 0: state is nan at step 1 (try a smaller dt)");
  EXPECT_EQ(without.steps, 1);
}

TEST(AotChecked, OverflowStopsAtTheJitsStep) {
  // classical_hopfield at dt 1000 grows ~1000x per step and overflows float32 within a dozen
  // steps, inside the first chunk of 64: the chunk is replayed to name the step.
  const Ham ham = Ham::load(models("classical_hopfield.json"));
  CheckedDriver d(ham.model());
  RunArgs a;
  a.dt = 1000;
  a.state_bound = 0;
  for (bool energy : {true, false}) {
    a.energy = energy;
    States s = ham.normal(2, 1);
    const Checked c = d.run(s, a);
    const Jit j = run_jit(ham, s, a);
    ASSERT_FALSE(j.cause.empty());
    EXPECT_EQ(c.rc, kNotFinite);
    EXPECT_EQ(c.message, j.cause);
    EXPECT_NE(c.message.find(" (try a smaller dt)"), std::string::npos) << c.message;
    EXPECT_EQ(c.message.find("at step " + std::to_string(c.steps) + " "), c.message.find("at step ")) << c.message;
  }
}

TEST(AotChecked, StateBoundOnLinearBias) {
  const Ham ham = Ham::load(std::string(HAMUX_SOURCE_DIR) + "/examples/synapses/linear_bias.json");
  CheckedDriver d(ham.model());
  RunArgs a;
  a.steps = 400;
  a.dt = 0.1;
  States s = ham.zeros(1);
  const Checked c = d.run(s, a);
  const Jit j = run_jit(ham, s, a);
  EXPECT_EQ(c.rc, kBound);
  EXPECT_EQ(c.message, j.cause);
  EXPECT_EQ(c.steps, 212);
  const std::string tail =
      ") at step 212; either dt is too large (try a smaller dt; hamux check estimates the largest stable one) or "
      "the energy is not bounded below: check synapse 'wb' (linear_bias(W=W, b=b)): its couplings may be too "
      "strong for the Lagrangians' curvature (see hamux check)";
  ASSERT_GE(c.message.size(), tail.size()) << c.message;
  EXPECT_EQ(c.message.substr(c.message.size() - tail.size()), tail);
  EXPECT_EQ(c.message.rfind("neuron 'feature', sample 0: state grows without limit (|x| = ", 0), 0u) << c.message;
  // The buffers hold the states of that step: past the bound, finite (the JIT's, to rounding).
  const auto jx = states_of(ham, s);
  double m = 0;
  for (size_t e = 0; e < c.x[1].size(); ++e) {
    m = std::max(m, std::abs(c.x[1][e]));
    EXPECT_NEAR(c.x[1][e], jx[1][e], 1e-4 * (1 + std::abs(jx[1][e])));
  }
  EXPECT_GT(m, 1e8);
  EXPECT_TRUE(std::isfinite(m));
  // A bound of 0 turns the check off, as in the runtime: 400 steps, a huge negative energy.
  a.state_bound = 0;
  const Checked off = d.run(ham.zeros(1), a);
  EXPECT_EQ(off.rc, kOk) << off.message;
  EXPECT_EQ(off.steps, 400);
  EXPECT_EQ(off.message, "");
  ASSERT_EQ(off.energy.size(), 1u);
  EXPECT_LT(off.energy[0], -1e20);
}

TEST(AotChecked, EnergyGuardIsTheJits) {
  const Ham ham = Ham::load(models("classical_hopfield.json"));
  CheckedDriver d(ham.model());
  RunArgs a;
  a.steps = 30;
  a.dt = 3.0;
  a.guard = true;
  States s = ham.normal(2, 4, 0.1);
  const std::vector<double> start = s.energy();
  const Checked c = d.run(s, a);
  const Jit j = run_jit(ham, s, a);
  ASSERT_EQ(j.cause, "");
  ASSERT_EQ(c.rc, kOk) << c.message;
  EXPECT_EQ(c.message, "");
  ASSERT_FALSE(c.guard.empty());
  EXPECT_EQ(c.steps, j.report.steps);
  EXPECT_EQ(c.steps, 30);
  EXPECT_EQ(c.dt, j.report.dt);
  EXPECT_EQ(c.dt, 3.0 / (1 << c.guard.size()));
  ASSERT_EQ(c.guard.size(), j.report.guard.size());
  for (size_t k = 0; k < c.guard.size(); ++k) {
    EXPECT_EQ(c.guard[k].step, j.report.guard[k].step) << k;
    EXPECT_EQ(c.guard[k].sample, j.report.guard[k].sample) << k;
    EXPECT_EQ(c.guard[k].new_dt, j.report.guard[k].new_dt) << k;
    EXPECT_NEAR(c.guard[k].energy_before, j.report.guard[k].energy_before, 1e-4 * (1 + std::abs(j.report.guard[k].energy_before)));
    EXPECT_GT(c.guard[k].energy_after, c.guard[k].energy_before) << k;
  }
  const std::vector<double> end = s.energy();
  ASSERT_EQ(c.energy.size(), 2u);
  for (size_t b = 0; b < 2; ++b) {
    EXPECT_LE(c.energy[b], start[b]) << "sample " << b;
    EXPECT_NEAR(c.energy[b], end[b], 1e-4 * (1 + std::abs(end[b]))) << "sample " << b;
  }
}

TEST(AotChecked, InvalidArgumentsAreTheRuntimes) {
  const Ham ham = Ham::load(models("readme.json"));
  CheckedDriver d(ham.model());
  const States s = ham.normal(2, 1);
  const auto before = states_of(ham, s);
  RunArgs zero_dt, negative_steps, negative_bound;
  zero_dt.dt = 0;
  negative_steps.steps = -1;
  negative_bound.state_bound = -1;
  for (const RunArgs& a : {zero_dt, negative_steps, negative_bound}) {
    States t = s.clone();
    const Checked c = d.run(t, a);
    EXPECT_EQ(c.rc, kInvalid);
    EXPECT_EQ(c.message, run_jit(ham, t, a).cause);
    for (size_t i = 0; i < before.size(); ++i)
      for (size_t e = 0; e < before[i].size(); ++e) EXPECT_EQ(c.x[i][e], static_cast<float>(before[i][e]));
  }
  zero_dt.guard = true;
  EXPECT_EQ(d.run(s, zero_dt).message, "dt must be a positive number, got 0.000000");
  RunArgs no_energy;
  no_energy.guard = true;
  no_energy.energy = false;
  const Checked c = d.run(s, no_energy);
  EXPECT_EQ(c.rc, kInvalid);
  EXPECT_EQ(c.message, "energy is NULL; the energy guard needs the energies");
}

}  // namespace
}  // namespace hamux::aot_test
