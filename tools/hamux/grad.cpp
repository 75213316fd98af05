// tools/hamux/grad.cpp - `hamux grad model.json`: the derived graphs, readably.
//
// Shows what the derivation made of each neuron: its activation xhat = grad L(x) and its
// update direction dE/dxhat (the Legendre shortcut x - b plus the synapse gradients),
// with node counts, so that a user can see what the compiler will have to evaluate.
#include <iostream>
#include <string>
#include <vector>

#include "frontend/printable.h"
#include "args.h"
#include "autodiff/derive.h"
#include "command.h"
#include "frontend/model.h"
#include "graph/printer.h"

namespace hamux::cli {
namespace {

const char* const kUsage =
    "usage: hamux grad <model.json>\n"
    "\n"
    "Loads a model, derives it and prints every neuron's activation xhat = grad L(x)\n"
    "and update direction dE/dxhat, with the number of nodes of each graph.\n"
    "\n"
    "options:\n"
    "  -h, --help  show this help\n";

size_t node_count(const std::vector<ir::NodePtr>& roots) { return ir::topological_order(roots).size(); }

std::string nodes(const ir::NodePtr& root) {
  const size_t n = node_count({root});
  return "  (" + std::to_string(n) + (n == 1 ? " node)" : " nodes)");
}

int run_grad(const std::vector<std::string>& args) {
  const ParsedArgs parsed = parse_args(args, {}, kUsage);
  if (parsed.help) {
    std::cout << kUsage;
    return 0;
  }
  if (parsed.positional.empty()) throw UsageError("missing model file", kUsage);
  if (parsed.positional.size() > 1) throw UsageError("too many arguments", kUsage);
  const Model model = load_model(parsed.positional[0]);
  const Derivation d = derive(model);

  std::string out = "model: " + printable(model.name) + "\n\nactivations:\n";
  for (size_t i = 0; i < model.neurons.size(); ++i) {
    out += "  " + model.neurons[i].name + ": xhat = " + ir::to_string(d.activation[i]) +
           nodes(d.activation[i]) + "\n";
  }
  out += "\nupdate directions:\n";
  for (size_t i = 0; i < model.neurons.size(); ++i) {
    out += "  dE/dxhat[" + model.neurons[i].name + "] = " + ir::to_string(d.update[i]) +
           nodes(d.update[i]) + "\n";
  }
  // Shared subexpressions are counted once: this is the size of one fused step.
  std::vector<ir::NodePtr> step = d.activation;
  step.insert(step.end(), d.update.begin(), d.update.end());
  out += "\nnodes: activations " + std::to_string(node_count(d.activation)) + ", updates " +
         std::to_string(node_count(d.update)) + ", step (shared nodes once) " +
         std::to_string(node_count(step)) + ", total energy " +
         std::to_string(node_count({d.total_energy})) + "\n";
  std::cout << out;
  return 0;
}

}  // namespace

const Command kGradCommand = {"grad", "print each neuron's activation and update direction dE/dxhat",
                              kUsage, run_grad};

}  // namespace hamux::cli
