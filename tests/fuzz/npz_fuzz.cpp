// tests/fuzz/npz_fuzz.cpp - libFuzzer target for the .npz archive reader (runtime/zip.h,
// runtime/inflate.h) and the .npy parser behind it.
//
// Contract under test: zip::read either returns members or throws hamux::Error; every
// member it returns is within its size limit, and writing them back and reading that gives
// the same members; the declared sizes
// of a hostile archive (zip64 fields, 4 GiB claims, zip bombs) never make it allocate more
// than the limits. Any other exception, a crash, a sanitizer report (the zip64 offset
// overflow of issue 19 was a heap-buffer-overflow), a hang or runaway memory is a bug.
// Run with scripts/fuzz.sh npz.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "frontend/npy.h"
#include "hamux/error.h"
#include "zip.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  constexpr uint64_t kMemberLimit = 1 << 20, kTotalLimit = 4 << 20;
  try {
    const auto members = hamux::zip::read(
        bytes, "fuzz.npz", [](const std::string&) { return kMemberLimit; }, kTotalLimit);
    uint64_t total = 0;
    for (const auto& [name, contents] : members) {
      if (contents.size() > kMemberLimit) std::abort();
      total += contents.size();
      try {
        (void)hamux::parse_npy(contents, "fuzz.npz: " + name, kMemberLimit / 8);
      } catch (const hamux::Error&) {
      }
    }
    if (total > kTotalLimit) std::abort();
    // What was read survives the writer: write_stored then read gives the same members.
    if (hamux::zip::read(hamux::zip::write_stored(members), "written.npz") != members) std::abort();
  } catch (const hamux::Error&) {
    // a rejected archive: the expected outcome for most inputs
  }
  return 0;
}
