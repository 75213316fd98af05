// compiler/support/flush_subnormals.h - subnormal floats flushed to zero in a scope.
//
// While an object lives, the calling thread's SSE control word has flush-to-zero (results)
// and denormals-are-zero (inputs) set, as XLA's CPU backend keeps them everywhere; the old
// word comes back when it goes. Why: a state or an optimiser moment that decays
// geometrically towards 0 (a relu unit switched off, the Adam moments of a weight whose
// gradient is always 0) enters the subnormal range after a few hundred steps, and there
// every multiply costs ~100 cycles: the conv workload's step became 5-10x slower once its
// states had decayed that far, the Adam step 9x slower after ~1000 steps. The only values
// changed are those below 1.2e-38 (float32) or 2.2e-308 (float64), which become 0.
#pragma once

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#endif

namespace hamux {

class FlushSubnormals {
 public:
#if defined(__SSE__) || defined(__x86_64__)
  FlushSubnormals() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | kFtz | kDaz); }
  ~FlushSubnormals() { _mm_setcsr(saved_); }

 private:
  static constexpr unsigned kFtz = 0x8000, kDaz = 0x0040;
  unsigned saved_;
#else
  FlushSubnormals() {}  // other CPUs: IEEE subnormals, as before
#endif

 public:
  FlushSubnormals(const FlushSubnormals&) = delete;
  FlushSubnormals& operator=(const FlushSubnormals&) = delete;
};

}  // namespace hamux
