// tests/package/jit_consumer/main.cpp - loads readme.json (from a file and from text) with
// the installed hamux, checks the closed-form energy of the zero state and that the
// dynamics lower the energy. Exit status 0 when every check holds.
//   usage: jit_consumer MODELS_DIR
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "hamux/hamux.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const std::string dir = argv[1];
  int failures = 0;
  auto check = [&](bool ok, const char* what) {
    std::printf("%s: %s\n", ok ? "ok" : "FAILED", what);
    failures += !ok;
  };
  try {
    hamux::LoadOptions options;
    options.disk_cache = false;  // a test writes nothing outside its folder
    const hamux::Ham ham = hamux::Ham::load(dir + "/readme.json", options);
    // At the zero state the softmax layers (8 labels, 9 hidden) are uniform: -log 8, -log 9;
    // the identity input has xhat = 0, so only labels-hidden is nonzero: -sum W2 / 72.
    double w2 = 0;
    for (double w : ham.param("W2").data) w2 += w;
    const double closed = -std::log(8.0) - std::log(9.0) - w2 / 72.0;
    const std::vector<double> e0 = ham.zeros(2).energy();
    check(std::abs(e0[0] - closed) < 1e-5 && std::abs(e0[1] - closed) < 1e-5, "zero-state energy in closed form");
    hamux::States s = ham.normal(2, 1);
    const std::vector<double> before = s.energy();
    hamux::RunOptions o;
    o.steps = 50;
    hamux::run(ham, s, o);
    const std::vector<double> after = s.energy();
    check(after[0] < before[0] && after[1] < before[1], "50 steps lower the energy");
    std::ifstream f(dir + "/readme.json");
    std::stringstream text;
    text << f.rdbuf();
    const hamux::Ham same = hamux::Ham::from_json(text.str(), dir, options);
    check(same.normal(2, 1).energy() == before, "Ham::from_json gives the same model");
    try {
      hamux::Ham::from_json("{\"hamux\": \"1\", \"neurons\": 3}", ".", options);
      check(false, "a bad model is rejected");
    } catch (const hamux::Error& e) {
      check(std::string(e.what()) == "<json>: /neurons: expected an object, got integer", e.what());
    }
  } catch (const hamux::Error& e) {
    std::printf("FAILED: %s\n", e.what());
    return 1;
  }
  return failures == 0 ? 0 : 1;
}
