// tools/hamux/energy.cpp - `hamux energy model.json`: the energy tree of given states.
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "support/printable.h"
#include "args.h"
#include "command.h"
#include "hamux/hamux.h"
#include "hamux/io.h"
#include "state_args.h"
#include "table.h"

namespace hamux::cli {
namespace {

const char* const kUsage =
    "usage: hamux energy <model.json> [options]\n"
    "\n"
    "Prints the energy tree - each neuron's and each connection's energy, and the total -\n"
    "of a batch of states, one column per sample; --updates writes their dE/dxhat.\n"
    "\n"
    "options:\n"
    "  --batch B            number of samples (default 1)\n"
    "  --init I             zeros (default) or normal:SEED (standard normal states)\n"
    "  --states FILE.npz    the states of every neuron, as `hamux run --out` writes them\n"
    "  --set N=FILE.npy     state of neuron N: shape [...shape] or [batch, ...shape] (repeatable)\n"
    "  --params FILE        load params from an .npz or a directory of .npy files\n"
    "  --updates FILE.npz   write the update directions dE/dxhat of the states: one array\n"
    "                       [batch, ...shape] per neuron (the model's dtype)\n"
    "  -h, --help           show this help\n";

int run_energy(const std::vector<std::string>& raw_args) {
  std::vector<std::string> args = raw_args;
  const std::vector<std::string> sets = take_repeated(args, "--set", kUsage);
  std::vector<std::string> value_options = kStateOptions;
  value_options.push_back("--updates");
  const ParsedArgs parsed = parse_args(args, value_options, kUsage);
  if (parsed.help) {
    std::cout << kUsage;
    return 0;
  }
  if (parsed.positional.empty()) throw UsageError("missing model file", kUsage);
  if (parsed.positional.size() > 1) throw UsageError("too many arguments", kUsage);
  const auto updates = parsed.options.find("--updates");
  const std::string updates_path = updates == parsed.options.end() ? "" : updates->second;
  if (updates != parsed.options.end() &&
      (updates_path.size() < 4 || updates_path.compare(updates_path.size() - 4, 4, ".npz") != 0)) {
    throw UsageError("option '--updates' expects a .npz file, got '" + updates_path + "'", kUsage);
  }
  Ham ham = Ham::load(parsed.positional[0]);
  const States states = make_states(ham, parsed, sets, {}, kUsage);
  const EnergyBreakdown tree = ham.energy_tree(states);
  if (!updates_path.empty()) {
    std::map<std::string, Tensor<double>> arrays;
    for (const NeuronInfo& n : ham.neurons()) arrays[n.name] = states.updates(n.name);
    write_npz(updates_path, arrays, ham.is_float64());
  }

  std::vector<std::string> header = {"term"};
  for (int64_t b = 0; b < states.batch(); ++b) header.push_back("sample " + std::to_string(b));
  std::vector<std::vector<std::string>> rows = {header};
  auto row = [&](const std::string& term, const std::vector<double>& values) {
    std::vector<std::string> r = {term};
    for (double v : values) r.push_back(fixed6(v));
    rows.push_back(r);
  };
  for (size_t t = 0; t < tree.terms.size(); ++t) row(tree.terms[t], tree.values[t]);
  row("total", tree.total);
  std::cout << "model: " << printable(ham.name()) << "\nenergy tree:\n" << render_table(rows);
  return 0;
}

}  // namespace

extern const Command kEnergyCommand;  // external linkage: commands.cpp lists it
const Command kEnergyCommand = {"energy", "print the energy tree of given states", kUsage, run_energy};

}  // namespace hamux::cli
