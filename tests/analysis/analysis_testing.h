// tests/analysis/analysis_testing.h - models for the certification tests, from JSON text.
#pragma once

#include <string>

#include "frontend/model.h"

namespace hamux::testing_util {

// A model with one neuron "n" of shape [5] and the given Lagrangian spec (JSON text).
inline Model one_neuron(const std::string& lagrangian, const std::string& shape = "[5]") {
  const std::string text = R"({"hamux": "1", "dtype": "float64", "neurons": {"n": {"shape": )" + shape +
                           R"(, "lagrangian": )" + lagrangian + "}}}";
  return parse_model(text, "test.json", ".");
}

}  // namespace hamux::testing_util
