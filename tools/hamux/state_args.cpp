// tools/hamux/state_args.cpp - see state_args.h.
#include "state_args.h"

#include <cstdint>

#include "command.h"
#include "frontend/npy.h"

namespace hamux::cli {

std::vector<std::string> take_repeated(std::vector<std::string>& args, const std::string& option,
                                       const std::string& usage) {
  std::vector<std::string> values, rest;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == option) {
      if (i + 1 >= args.size()) throw UsageError("option '" + option + "' needs a value", usage);
      values.push_back(args[++i]);
    } else if (args[i].rfind(option + "=", 0) == 0) {
      values.push_back(args[i].substr(option.size() + 1));
    } else {
      rest.push_back(args[i]);
    }
  }
  args = rest;
  return values;
}

bool take_flag(std::vector<std::string>& args, const std::string& flag) {
  bool found = false;
  std::vector<std::string> rest;
  for (const std::string& a : args) {
    if (a == flag) {
      found = true;
    } else {
      rest.push_back(a);
    }
  }
  args = rest;
  return found;
}

namespace {

// The most values a --set or --clamp file for `neuron` may hold: one per state element of
// the whole batch (a file of shape [batch, ...shape]); larger files are refused unread.
int64_t state_elements(const Ham& ham, const std::string& neuron, int64_t batch) {
  const NeuronInfo& n = ham.neurons()[static_cast<size_t>(ham.neuron_index(neuron))];
  const int64_t each = num_elements(n.shape);
  return each > 0 && batch > INT64_MAX / each ? INT64_MAX : batch * each;
}

}  // namespace

States make_states(Ham& ham, const ParsedArgs& parsed, const std::vector<std::string>& sets,
                   const std::vector<std::string>& clamps, const std::string& usage) {
  auto option = [&](const std::string& name, const std::string& fallback) {
    auto it = parsed.options.find(name);
    return it == parsed.options.end() ? fallback : it->second;
  };
  const std::string states_file = option("--states", "");
  if (!states_file.empty() && (parsed.options.count("--batch") || parsed.options.count("--init"))) {
    throw UsageError("option '--states' gives the batch and the states: it does not go with '" +
                         std::string(parsed.options.count("--batch") ? "--batch" : "--init") + "'",
                     usage);
  }
  const int64_t batch = static_cast<int64_t>(parse_uint("--batch", option("--batch", "1"), usage));
  if (batch < 1) throw UsageError("option '--batch' must be at least 1", usage);
  const std::string init = option("--init", "zeros");
  uint64_t seed = 0;
  if (init != "zeros") {
    if (init.rfind("normal:", 0) != 0) {
      throw UsageError("option '--init' expects zeros or normal:SEED, got '" + init + "'", usage);
    }
    seed = parse_uint("--init", init.substr(7), usage);
  }
  if (const std::string p = option("--params", ""); !p.empty()) ham.load_params(p);
  States states = !states_file.empty() ? States::load(ham, states_file)
                  : init == "zeros"      ? ham.zeros(batch)
                                         : ham.normal(batch, seed);
  for (const std::string& s : sets) {
    const size_t eq = s.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == s.size()) {
      throw UsageError("option '--set' expects NEURON=file.npy, got '" + s + "'", usage);
    }
    const std::string neuron = s.substr(0, eq);
    ham.neuron_index(neuron);  // an unknown neuron is reported before the file is read
    states.set(neuron, read_npy(s.substr(eq + 1), state_elements(ham, neuron, batch)));
  }
  for (const std::string& c : clamps) {
    const size_t eq = c.find('=');
    const std::string neuron = c.substr(0, eq);
    if (neuron.empty() || (eq != std::string::npos && eq + 1 == c.size())) {
      throw UsageError("option '--clamp' expects NEURON or NEURON=mask.npy, got '" + c + "'", usage);
    }
    ham.neuron_index(neuron);
    if (eq == std::string::npos) {
      states.clamp(neuron);
    } else {
      states.clamp(neuron, read_npy(c.substr(eq + 1), state_elements(ham, neuron, batch)));
    }
  }
  return states;
}

}  // namespace hamux::cli
