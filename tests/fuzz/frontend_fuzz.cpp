// tests/fuzz/frontend_fuzz.cpp - libFuzzer target for the model frontend.
//
// Contract under test: parse_model either returns a Model or throws hamux::Error. Any
// other exception, a crash, a sanitizer report, a hang or runaway memory is a bug.
// Built by -DHAMUX_FUZZ=ON with clang; run with scripts/fuzz.sh.
#include <cstddef>
#include <cstdint>
#include <string>

#include "frontend/model.h"
#include "hamux/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    // Param files resolve against a directory that does not exist, so {"file": ...}
    // inits exercise the error path instead of reading whatever the input names.
    hamux::Model model = hamux::parse_model(text, "fuzz.json", "/nonexistent/hamux-fuzz");
    (void)model;
  } catch (const hamux::Error&) {
    // A rejected model: the expected outcome for most inputs.
  }
  return 0;
}
