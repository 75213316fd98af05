// tools/hamux/run.cpp - `hamux run model.json`: integrate the dynamics, write what was asked.
//
// Everything that can fail (reading inputs, compiling, running) happens before any output
// file is touched, and every output is written atomically, so a failed run leaves no
// half-written file behind.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "analysis/step_bound.h"
#include "frontend/npy.h"
#include "support/printable.h"
#include "args.h"
#include "autodiff/derive.h"
#include "command.h"
#include "hamux/hamux.h"
#include "hamux/io.h"
#include "state_args.h"
#include "table.h"

namespace hamux::cli {
namespace {

const char* const kUsage =
    "usage: hamux run <model.json> [options]\n"
    "\n"
    "Runs the model's dynamics tau dx/dt = -dE/dxhat (explicit Euler) on a batch of states\n"
    "and prints each sample's energy before and after.\n"
    "\n"
    "options:\n"
    "  --steps N            most steps to take (default 100)\n"
    "  --dt X               step size (default 0.1), or auto: half the dt bound that\n"
    "                       hamux check reports, estimated at the initial states\n"
    "  --tol X              stop once a step moves no state by more than X (max |dx| < X)\n"
    "  --batch B            number of samples (default 1)\n"
    "  --init I             zeros (default) or normal:SEED (standard normal states)\n"
    "  --states FILE.npz    start from these states (every neuron; e.g. an earlier --out)\n"
    "  --set N=FILE.npy     state of neuron N: shape [...shape] or [batch, ...shape] (repeatable)\n"
    "  --clamp N[=MASK.npy] hold neuron N fixed, or the elements where MASK is nonzero; MASK is\n"
    "                       [...shape] (every sample) or [batch, ...shape] (repeatable)\n"
    "  --params FILE        load params from an .npz or a directory of .npy files\n"
    "  --threads T          split the batch over T threads (default 1; 0 = all cores)\n"
    "  --guard              halve dt whenever a step would raise a sample's energy\n"
    "  --state-bound X      stop when a state's magnitude exceeds X: the energy is not\n"
    "                       bounded below (default 1e8; 0 = no check)\n"
    "  --every K            record the energy every K steps (default 1; with --trace/--plot)\n"
    "  --trace FILE.csv     energy trace: header step,sample_0,...; one row per recorded step\n"
    "  --plot FILE.svg      the energy trace as an SVG line plot\n"
    "  --out FILE           final states: .npz (one array per neuron, [batch, ...shape]; what\n"
    "                       --states reads back), or .npy for a model with one neuron\n"
    "  -h, --help           show this help\n";

double parse_double(const std::string& option, const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !std::isfinite(v)) {
    throw UsageError("option '" + option + "' expects a number, got '" + text + "'", kUsage);
  }
  return v;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// "\r[#########           ]  45%  450/1000 steps" on stderr.
void draw_progress(int64_t done, int64_t total) {
  const int width = 30;
  const int filled = total > 0 ? static_cast<int>(width * done / total) : width;
  std::string bar(filled, '#');
  bar.resize(width, ' ');
  std::fprintf(stderr, "\r[%s] %3d%%  %lld/%lld steps", bar.c_str(), total > 0 ? static_cast<int>(100 * done / total) : 100,
               static_cast<long long>(done), static_cast<long long>(total));
  std::fflush(stderr);
}

// --dt auto: half the step-size bound (analysis/step_bound.h) at the initial states.
double auto_dt(const Ham& ham, const States& states) {
  std::vector<Tensor<double>> x;
  for (const NeuronInfo& n : ham.neurons()) x.push_back(states.get(n.name));
  const analysis::StepBound b = analysis::step_size_bound(ham.model(), derive(ham.model()), x);
  if (!std::isfinite(b.dt) || !(b.dt > 0)) {
    throw Error(ham.model().file, "--dt auto: no step-size bound (the update's Jacobian has no positive eigenvalue, "
                                  "largest " + general(b.lambda_max) + "); give --dt");
  }
  return b.dt / 2;
}

int run_run(const std::vector<std::string>& raw_args) {
  std::vector<std::string> args = raw_args;
  const std::vector<std::string> sets = take_repeated(args, "--set", kUsage);
  const std::vector<std::string> clamps = take_repeated(args, "--clamp", kUsage);
  const bool guard = take_flag(args, "--guard");
  std::vector<std::string> value_options = {"--steps", "--dt", "--tol", "--threads", "--every",
                                            "--trace", "--plot", "--out", "--state-bound"};
  value_options.insert(value_options.end(), kStateOptions.begin(), kStateOptions.end());
  const ParsedArgs parsed = parse_args(args, value_options, kUsage);
  if (parsed.help) {
    std::cout << kUsage;
    return 0;
  }
  if (parsed.positional.empty()) throw UsageError("missing model file", kUsage);
  if (parsed.positional.size() > 1) throw UsageError("too many arguments", kUsage);
  auto option = [&](const std::string& name) {
    auto it = parsed.options.find(name);
    return it == parsed.options.end() ? std::string() : it->second;
  };

  RunOptions o;
  if (!option("--steps").empty()) o.steps = static_cast<int64_t>(parse_uint("--steps", option("--steps"), kUsage));
  const bool dt_auto = option("--dt") == "auto";
  if (!option("--dt").empty() && !dt_auto) o.dt = parse_double("--dt", option("--dt"));
  if (!option("--state-bound").empty()) o.state_bound = parse_double("--state-bound", option("--state-bound"));
  if (o.state_bound < 0) throw UsageError("option '--state-bound' must not be negative", kUsage);
  if (!(o.dt > 0)) throw UsageError("option '--dt' must be positive", kUsage);
  if (!option("--tol").empty()) o.tol = parse_double("--tol", option("--tol"));
  if (o.tol < 0) throw UsageError("option '--tol' must not be negative", kUsage);
  if (!option("--threads").empty()) o.threads = static_cast<int>(parse_uint("--threads", option("--threads"), kUsage));
  o.energy_guard = guard;
  const std::string trace_path = option("--trace"), plot_path = option("--plot"), out_path = option("--out");
  if (!trace_path.empty() || !plot_path.empty()) {
    o.record_every = 1;
    if (!option("--every").empty()) o.record_every = static_cast<int64_t>(parse_uint("--every", option("--every"), kUsage));
    if (o.record_every < 1) throw UsageError("option '--every' must be at least 1", kUsage);
  }
  if (!out_path.empty() && !ends_with(out_path, ".npz") && !ends_with(out_path, ".npy")) {
    throw UsageError("option '--out' expects a .npz or .npy file, got '" + out_path + "'", kUsage);
  }

  Ham ham = Ham::load(parsed.positional[0]);
  if (ends_with(out_path, ".npy") && ham.neurons().size() != 1) {
    throw Error(out_path, "a .npy file holds one neuron's states and the model has " +
                              std::to_string(ham.neurons().size()) + "; use .npz");
  }
  States states = make_states(ham, parsed, sets, clamps, kUsage);
  if (dt_auto) o.dt = auto_dt(ham, states);
  const std::vector<double> before = states.energy();
  const bool bar = isatty(STDERR_FILENO) && o.steps >= 100;
  if (bar) o.progress = draw_progress;
  RunReport r;
  try {
    r = run(ham, states, o);
  } catch (...) {
    if (bar) std::fprintf(stderr, "\n");
    throw;
  }
  if (bar) std::fprintf(stderr, "\r%60s\r", "");
  const std::vector<double> after = states.energy();

  // Outputs: all built in memory first, then written as a set (all written, then all
  // renamed), so a full disk leaves every old output as it was.
  std::vector<std::pair<std::string, std::string>> files;
  if (!trace_path.empty()) files.emplace_back(trace_path, trace_csv(r.trace));
  if (!plot_path.empty()) files.emplace_back(plot_path, trace_svg(r.trace, "energy of " + printable(ham.name())));
  if (!out_path.empty()) {
    std::map<std::string, Tensor<double>> arrays;
    for (const NeuronInfo& n : ham.neurons()) arrays[n.name] = states.get(n.name);
    if (ends_with(out_path, ".npy")) {
      files.emplace_back(out_path, npy_bytes(arrays.begin()->second, ham.is_float64()));
    } else {
      files.push_back(npz_file(out_path, arrays, ham.is_float64()));
    }
  }
  write_files_atomic(files);

  std::string out = "model: " + printable(ham.name()) + "\n";
  out += "steps: " + std::to_string(r.steps) + ", dt " + general(o.dt) + ", batch " +
         std::to_string(states.batch()) + "\n";
  if (o.tol > 0) {
    out += r.converged ? "converged: max |dx| " + general(r.max_dx) + " < " + general(o.tol) + "\n"
                       : "not converged: max |dx| " + general(r.max_dx) + " >= " + general(o.tol) + "\n";
  }
  for (const GuardEvent& g : r.guard) {
    out += "energy guard: step " + std::to_string(g.step) + ", sample " + std::to_string(g.sample) + ": energy " +
           fixed6(g.energy_before) + " -> " + fixed6(g.energy_after) + ", dt halved to " + general(g.new_dt) + "\n";
  }
  if (r.dt != o.dt) out += "dt at the end: " + general(r.dt) + " (the energy guard halved it)\n";
  std::vector<std::vector<std::string>> rows = {{"sample", "energy before", "energy after"}};
  for (size_t b = 0; b < before.size(); ++b) rows.push_back({std::to_string(b), fixed6(before[b]), fixed6(after[b])});
  out += render_table(rows, 0);
  std::cout << out;
  return 0;
}

}  // namespace

extern const Command kRunCommand;  // external linkage: commands.cpp lists it
const Command kRunCommand = {"run", "run the dynamics on a batch of states; energy trace, final states",
                             kUsage, run_run};

}  // namespace hamux::cli
