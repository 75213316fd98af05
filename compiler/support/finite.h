// compiler/support/finite.h - whether a buffer holds only finite numbers, fast enough to ask at every step.
//
// The runtime checks every state after every step (a NaN or inf must stop a run with a
// message, never pass silently). A plain loop of std::isfinite is scalar (compilers keep
// its early exit), and so is Eigen's allFinite: on a classifier's states that check cost
// more than the step. Here the test is on the bits (a number is not finite exactly when
// its exponent bits are all ones), ORed over a chunk: integer work the compiler vectorises.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

namespace hamux {

template <class T>
bool all_finite(const T* v, size_t n) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>);
  using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  constexpr Bits kExponent = sizeof(T) == 4 ? Bits(0x7f800000u) : Bits(0x7ff0000000000000ull);
  constexpr size_t kChunk = 4096;  // a bad value stops the scan within a chunk of it
  for (size_t lo = 0; lo < n; lo += kChunk) {
    const size_t hi = std::min(n, lo + kChunk);
    Bits bad = 0;
    for (size_t i = lo; i < hi; ++i) {
      Bits b;
      std::memcpy(&b, v + i, sizeof b);
      bad |= static_cast<Bits>((b & kExponent) == kExponent);
    }
    if (bad) return false;
  }
  return true;
}

template <class T>
bool all_finite(const std::vector<T>& v) {
  return all_finite(v.data(), v.size());
}

}  // namespace hamux
