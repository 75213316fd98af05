// tests/fuzz/npy_fuzz.cpp - libFuzzer target for the .npy parser (frontend/npy.h).
//
// Contract under test: parse_npy either returns a tensor or throws hamux::Error, and never
// allocates more than its element limit allows. A parsed tensor must survive the writer:
// npy_bytes then parse_npy gives the same shape and the same bits. Any other exception, a
// crash, a sanitizer report, a hang or runaway memory is a bug. Run with scripts/fuzz.sh npy.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "frontend/npy.h"
#include "hamux/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  constexpr int64_t kLimit = 1 << 20;  // elements; a header may claim any shape
  hamux::Tensor<double> t;
  try {
    t = hamux::parse_npy(bytes, "fuzz.npy", kLimit);
  } catch (const hamux::Error&) {
    return 0;  // a rejected file: the expected outcome for most inputs
  }
  if (t.size() > kLimit || static_cast<int64_t>(t.data.size()) != hamux::num_elements(t.shape)) std::abort();
  const hamux::Tensor<double> back = hamux::parse_npy(hamux::npy_bytes(t, true), "written.npy", kLimit);
  if (back.shape != t.shape || back.data.size() != t.data.size()) std::abort();
  if (!t.data.empty() && std::memcmp(back.data.data(), t.data.data(), t.data.size() * sizeof(double)) != 0)
    std::abort();
  return 0;
}
