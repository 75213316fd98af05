// tests/step/many_layers.h - a model of many small layers, for the tests of kernels in parts
// and of linear growth (issue 19).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "frontend/model.h"

namespace hamux::codegen::testing {

// Layers of 3 and 5 elements with tanh, softmax, sigmoid and identity, linked in a chain
// and every fourth also to the first layer.
inline Model many_layers(int n, const char* dtype) {
  const char* const lagrangians[] = {"{\"tanh\": {\"beta\": 1.0}}", "\"softmax\"",
                                     "{\"sigmoid\": {\"beta\": 2.0}}", "\"identity\""};
  nlohmann::json j = nlohmann::json::parse(R"({"hamux": "1", "name": "many_layers", "seed": 3})");
  j["dtype"] = dtype;
  auto size = [](int i) { return i % 2 ? 5 : 3; };
  auto link = [&](int a, int b) {
    const std::string w = "W" + std::to_string(a) + "_" + std::to_string(b);
    j["params"][w] = {{"shape", {size(a), size(b)}}, {"init", {{"normal", {{"std", 0.3}}}}}};
    j["synapses"]["s" + w] = {{"linear", {{"W", w}}}};
    j["connections"].push_back({{"neurons", {"n" + std::to_string(a), "n" + std::to_string(b)}}, {"synapse", "s" + w}});
  };
  for (int i = 0; i < n; ++i) {
    const std::string k = std::to_string(i);
    j["neurons"]["n" + k] = {{"shape", {size(i)}}, {"lagrangian", nlohmann::json::parse(lagrangians[i % 4])}};
    j["params"]["b" + k] = {{"shape", {size(i)}}, {"init", {{"normal", {{"std", 0.5}}}}}};
    j["synapses"]["sb" + k] = {{"bias", {{"b", "b" + k}}}};
    j["connections"].push_back({{"neurons", {"n" + k}}, {"synapse", "sb" + k}});
    if (i > 0) link(i - 1, i);
    if (i > 1 && i % 4 == 0) link(0, i);
  }
  return parse_model(j.dump(), "many_layers.json", ".");
}

}  // namespace hamux::codegen::testing
