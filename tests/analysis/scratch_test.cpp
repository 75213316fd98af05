#include <gtest/gtest.h>
#include <iostream>
#include "analysis/certificate.h"
#include "autodiff/derive.h"
#include "frontend/model.h"
using namespace hamux;
TEST(Scratch, Print) {
  for (const char* f : {"readme", "dense_am", "classical_hopfield", "custom_energies", "energy_transformer", "conv"}) {
    Model m = load_model(std::string(HAMUX_MODELS_DIR) + "/" + f + ".json");
    Derivation d = derive(m);
    analysis::Certificate c = analysis::certify(m, d, {});
    std::cout << f << "\n";
    for (auto& n : c.neurons) std::cout << "  " << n.neuron << ": " << n.text() << "\n";
    std::cout << "  " << c.bounded.message() << "\n";
  }
}
