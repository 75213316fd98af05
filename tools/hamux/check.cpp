// tools/hamux/check.cpp - `hamux check model.json [--seed N]`.
//
// Loads and validates a model, derives its graphs and prints what it is made of, with
// the energy tree at two states: all zeros (where many terms have closed forms, e.g. a
// softmax layer of n units has energy -log n) and a seeded standard normal state.
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "analysis/certificate.h"
#include "support/printable.h"
#include "args.h"
#include "autodiff/derive.h"
#include "command.h"
#include "energy_tree.h"
#include "frontend/model.h"
#include "state_args.h"
#include "states.h"
#include "table.h"

namespace hamux::cli {
namespace {

const char* const kUsage =
    "usage: hamux check <model.json> [--seed N] [--strict]\n"
    "\n"
    "Loads and validates a model, then prints a summary: neurons, params, synapses,\n"
    "connections, the parameter count, and the energy tree (per neuron, per connection,\n"
    "total) at the zero state and at a random standard normal state, and a certificate:\n"
    "per neuron whether its Lagrangian is convex (proved by rules, by a stdlib proof, or\n"
    "refuted by a counterexample), whether the energy is bounded below, and the largest\n"
    "Euler step dt that descends near the random state (docs/certification.md).\n"
    "\n"
    "options:\n"
    "  --seed N    seed of the random state (default 0)\n"
    "  --strict    exit with status 1 when anything in the certificate is not proved\n"
    "  -h, --help  show this help\n";

// "input, hidden -> dense1"
std::string connection_label(const Model& model, const ConnectionDef& c) {
  std::string label;
  for (size_t i = 0; i < c.neurons.size(); ++i) {
    if (i) label += ", ";
    label += model.neurons[c.neurons[i]].name;
  }
  return label + " -> " + model.synapses[c.synapse].name;
}

// Right-aligns numbers so that their decimal points line up.
std::vector<std::string> right_aligned(const std::vector<std::string>& cells) {
  size_t width = 0;
  for (const std::string& s : cells) width = std::max(width, s.size());
  std::vector<std::string> out;
  for (const std::string& s : cells) out.push_back(std::string(width - s.size(), ' ') + s);
  return out;
}

std::string energy_section(const Model& model, const EnergyTree& tree) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> values;
  for (size_t i = 0; i < model.neurons.size(); ++i) {
    rows.push_back({"neuron", model.neurons[i].name});
    values.push_back(fixed6(tree.neuron[i][0]));
  }
  for (size_t c = 0; c < model.connections.size(); ++c) {
    rows.push_back({"connection", connection_label(model, model.connections[c])});
    values.push_back(fixed6(tree.connection[c][0]));
  }
  rows.push_back({"total", ""});
  values.push_back(fixed6(tree.total[0]));
  values = right_aligned(values);
  for (size_t r = 0; r < rows.size(); ++r) rows[r].push_back(values[r]);
  return render_table(rows);
}

std::string summary(const Model& model, const Derivation& derivation, uint64_t seed) {
  std::string out;
  out += "model: " + printable(model.name) + "\n";
  out += "file: " + model.file + "\n";
  out += std::string("dtype: ") + ir::dtype_name(model.dtype) + "\n";
  out += "seed: " + std::to_string(model.seed) + " (random param inits)\n";

  std::vector<std::vector<std::string>> rows = {{"name", "shape", "lagrangian", "tau", "bias"}};
  for (const NeuronDef& n : model.neurons) {
    rows.push_back({n.name, shape_str(n.shape), n.lagrangian_desc, general(n.tau),
                    n.bias.empty() ? "-" : n.bias});
  }
  out += "\nneurons (" + std::to_string(model.neurons.size()) + "):\n" + render_table(rows);

  rows = {{"name", "shape", "size", "init"}};
  for (const ParamDef& p : model.params) {
    rows.push_back({p.name, shape_str(p.shape), std::to_string(num_elements(p.shape)), p.init});
  }
  out += "\nparams (" + std::to_string(model.params.size()) + "):\n" + render_table(rows);

  rows.clear();
  for (const SynapseDef& s : model.synapses) rows.push_back({s.name, s.desc});
  out += "\nsynapses (" + std::to_string(model.synapses.size()) + "):\n" + render_table(rows);

  rows.clear();
  for (const ConnectionDef& c : model.connections) rows.push_back({connection_label(model, c)});
  out += "\nconnections (" + std::to_string(model.connections.size()) + "):\n" + render_table(rows);

  out += "\ntotal parameters: " + std::to_string(model.param_count()) + "\n";

  out += "\nenergy tree at the zero state:\n";
  out += energy_section(model, energy_tree(model, derivation, zero_states(model, 1)));
  out += "\nenergy tree at a random state (standard normal, seed " + std::to_string(seed) + "):\n";
  out += energy_section(model, energy_tree(model, derivation, normal_states(model, 1, seed)));
  return out;
}

// The certificate section (analysis/certificate.h).
std::string certificate_section(const Model& model, const analysis::Certificate& c) {
  std::string out = "\ncertificate:\n";
  std::vector<std::vector<std::string>> rows;
  for (const analysis::NeuronCertificate& n : c.neurons) rows.push_back({"neuron", n.neuron, n.text()});
  out += render_table(rows);
  out += "energy: " + c.bounded.message() + "\n";
  if (c.step) {
    out += "dt bound: " + general(c.step->dt) + " (largest eigenvalue of the update's Jacobian " +
           general(c.step->lambda_max) + " near the random state; --dt auto runs at half of it)\n";
  }
  (void)model;
  out += c.proved() ? "verdict: proved (convex Lagrangians, energy bounded below)\n" : "verdict: not proved\n";
  return out;
}

int run_check(const std::vector<std::string>& raw_args) {
  std::vector<std::string> args = raw_args;
  const bool strict = take_flag(args, "--strict");
  const ParsedArgs parsed = parse_args(args, {"--seed"}, kUsage);
  if (parsed.help) {
    std::cout << kUsage;
    return 0;
  }
  if (parsed.positional.empty()) throw UsageError("missing model file", kUsage);
  if (parsed.positional.size() > 1) throw UsageError("too many arguments", kUsage);
  uint64_t seed = 0;
  if (auto it = parsed.options.find("--seed"); it != parsed.options.end()) {
    seed = parse_uint("--seed", it->second, kUsage);
  }
  const Model model = load_model(parsed.positional[0]);
  const Derivation derivation = derive(model);
  // Build the whole text first so that a failure prints an error, not half a summary.
  std::string text = summary(model, derivation, seed);
  const analysis::Certificate cert = analysis::certify(model, derivation, normal_states(model, 1, seed));
  text += certificate_section(model, cert);
  std::cout << text;
  return strict && !cert.proved() ? 1 : 0;
}

}  // namespace

const Command kCheckCommand = {"check", "load and validate a model, print its summary and energies",
                               kUsage, run_check};

}  // namespace hamux::cli
