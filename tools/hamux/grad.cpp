// tools/hamux/grad.cpp - `hamux grad model.json`: the derived graphs, readably.
//
// Shows what the derivation made of each neuron: its activation xhat = grad L(x) and its
// update direction dE/dxhat (the Legendre shortcut x - b plus the synapse gradients),
// with node counts, so that a user can see what the compiler will have to evaluate.
#include <iostream>
#include <string>
#include <vector>

#include "support/printable.h"
#include "args.h"
#include "autodiff/backward_step.h"
#include "autodiff/derive.h"
#include "command.h"
#include "frontend/model.h"
#include "graph/printer.h"

namespace hamux::cli {
namespace {

const char* const kUsage =
    "usage: hamux grad <model.json> [--show step|backward|all]\n"
    "\n"
    "Loads a model, derives it and prints every neuron's activation xhat = grad L(x)\n"
    "and update direction dE/dxhat, with the number of nodes of each graph.\n"
    "\n"
    "options:\n"
    "  --show WHAT  step (default): activations and update directions; backward: the\n"
    "               VJP of one Euler step (adjoints of the states, per-sample param\n"
    "               gradients; docs/gradients.md); all: both\n"
    "  -h, --help   show this help\n";

size_t node_count(const std::vector<ir::NodePtr>& roots) { return ir::topological_order(roots).size(); }

std::string nodes(const ir::NodePtr& root) {
  const size_t n = node_count({root});
  return "  (" + std::to_string(n) + (n == 1 ? " node)" : " nodes)");
}

std::string step_text(const Model& model, const Derivation& d);
std::string backward_text(const Model& model, const Derivation& d);

int run_grad(const std::vector<std::string>& args) {
  const ParsedArgs parsed = parse_args(args, {"--show"}, kUsage);
  if (parsed.help) {
    std::cout << kUsage;
    return 0;
  }
  if (parsed.positional.empty()) throw UsageError("missing model file", kUsage);
  if (parsed.positional.size() > 1) throw UsageError("too many arguments", kUsage);
  const auto show_it = parsed.options.find("--show");
  const std::string show = show_it == parsed.options.end() ? "step" : show_it->second;
  if (show != "step" && show != "backward" && show != "all")
    throw UsageError("--show must be step, backward or all, got '" + show + "'", kUsage);
  const Model model = load_model(parsed.positional[0]);
  const Derivation d = derive(model);

  std::string out = "model: " + printable(model.name) + "\n";
  if (show != "backward") out += step_text(model, d);
  if (show != "step") out += backward_text(model, d);
  std::cout << out;
  return 0;
}

std::string step_text(const Model& model, const Derivation& d) {
  std::string out = "\nactivations:\n";
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
  return out;
}

// The backward Euler step (autodiff/backward_step.h) as hamux::gradients compiles it: a[i]
// is the adjoint of the state after the step, rate[i] = dt / tau_i * mask_i, res[k] a value
// the forward step stored.
std::string backward_text(const Model& model, const Derivation& d) {
  const autodiff::BackwardStep b = autodiff::derive_backward_step(model, d, {}, /*store_residuals=*/true);
  std::string out;
  if (!b.residuals.empty()) {
    out += "\nforward residuals (written by each forward step, read by its backward step; xhat = activations):\n";
    for (size_t k = 0; k < b.residuals.size(); ++k)
      out += "  res[" + std::to_string(k) + "] = " + ir::to_string(b.residuals[k]) + nodes(b.residuals[k]) + "\n";
  }
  out += "\nbackward step (x' = x - rate * dE/dxhat(x); a = adjoint of x', rate = dt / tau * mask):\n";
  for (size_t i = 0; i < model.neurons.size(); ++i)
    out += "  adjoint x[" + model.neurons[i].name + "] = " + ir::to_string(b.state_adjoint[i]) +
           nodes(b.state_adjoint[i]) + "\n";
  for (size_t p = 0; p < model.params.size(); ++p)
    out += "  d/d " + model.params[p].name + " (per sample) = " + ir::to_string(b.param_grad[p]) +
           nodes(b.param_grad[p]) + "\n";
  std::vector<ir::NodePtr> all = b.state_adjoint;
  all.insert(all.end(), b.param_grad.begin(), b.param_grad.end());
  out += "\nnodes: backward step (shared nodes once) " + std::to_string(node_count(all)) + "\n";
  return out;
}

}  // namespace

const Command kGradCommand = {"grad", "print each neuron's activation and update direction dE/dxhat",
                              kUsage, run_grad};

}  // namespace hamux::cli
