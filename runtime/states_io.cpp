// runtime/states_io.cpp - States::save and States::load: a batch of states as an .npz file.
//
// The format is the one `hamux run --out` writes: one array [batch, ...shape] per neuron,
// named after the neuron, in the model's dtype. Reading it back gives the same states (bit
// for bit: the file holds the model's dtype), so runs can be chained and resumed.
#include <string>

#include "frontend/npy.h"
#include "ham_impl.h"
#include "hamux/io.h"

namespace hamux {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string neuron_list(const Ham& ham) {
  std::string s;
  for (const NeuronInfo& n : ham.neurons()) s += (s.empty() ? "" : ", ") + n.name;
  return s;
}

}  // namespace

void States::save(const std::string& path) const {
  const Ham::Impl& ham = *impl_->ham;
  std::map<std::string, Tensor<double>> arrays;
  for (const NeuronInfo& n : ham.neurons) arrays[n.name] = get(n.name);
  write_npz(path, arrays, ham.f64());
}

States States::load(const Ham& ham, const std::string& path) {
  std::map<std::string, Tensor<double>> arrays;
  if (ends_with(path, ".npy")) {
    if (ham.neurons().size() != 1) {
      throw Error(path, "a .npy file holds one neuron's states and the model has " +
                            std::to_string(ham.neurons().size()) + " (" + neuron_list(ham) + "); use .npz");
    }
    arrays[ham.neurons()[0].name] = read_npy(path);
  } else {
    arrays = read_npz(path);
  }
  for (const auto& [name, array] : arrays) {
    if (ham.model().neuron_index(name) < 0) {
      throw Error(path, "array '" + name + "' is not a neuron of the model (it has: " + neuron_list(ham) + ")");
    }
  }
  int64_t batch = -1;
  std::string first;
  for (const NeuronInfo& n : ham.neurons()) {
    auto it = arrays.find(n.name);
    if (it == arrays.end()) {
      throw Error(path, "neuron '" + n.name + "' is missing (a states file holds every neuron: " +
                            neuron_list(ham) + ")");
    }
    const Shape& got = it->second.shape;
    const bool fits = got.size() == n.shape.size() + 1 && Shape(got.begin() + 1, got.end()) == n.shape && got[0] >= 1;
    if (!fits) {
      throw Error(path, "neuron '" + n.name + "': array of shape " + shape_str(got) +
                            " does not fit: expected [batch]+" + shape_str(n.shape));
    }
    if (batch >= 0 && got[0] != batch) {
      throw Error(path, "neuron '" + n.name + "': batch " + std::to_string(got[0]) + ", but neuron '" + first +
                            "' has " + std::to_string(batch));
    }
    if (batch < 0) first = n.name;
    batch = got[0];
  }
  States states = ham.zeros(batch);
  for (const NeuronInfo& n : ham.neurons()) states.set(n.name, arrays.at(n.name));
  return states;
}

}  // namespace hamux
