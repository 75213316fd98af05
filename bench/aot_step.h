// bench/aot_step.h - the ahead-of-time kernel of a workload, as a benchmark engine.
//
// `hamux compile` builds an object for this CPU (step/aot_step.h: contractions as emitted
// loops, libm only; or, with --kernels library, calls into the kernels library); for timing, the object is linked into this process with LLJIT (its
// machine code unchanged) and called the way the generated header's <prefix>_run_slice
// calls it: the prologue once per call, then blocks of <PREFIX>_SAMPLES_PER_CALL samples
// through all the steps, each slice with its own workspace.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "workloads.h"

namespace hamux::bench {

class AotStep {
 public:
  virtual ~AotStep() = default;
  // As EigenStep::run: samples [begin, end) of the whole-batch arrays, k_steps steps.
  virtual void run(const std::vector<float*>& x, const std::vector<float*>& xhat, int64_t begin, int64_t end,
                   float dt, int64_t k_steps) const = 0;
};

// kernels_library: the object of `hamux compile --kernels library` (contractions through the
// kernels library, as the JIT's), resolved against this process's copy of that library.
std::unique_ptr<AotStep> make_aot_step(const Workload& w, bool kernels_library);

}  // namespace hamux::bench
