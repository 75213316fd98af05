// compiler/step/run_messages.h - why a run stops: the one source of the integration loop's
// messages and limits, shared by the JIT runtime (runtime/run.cpp) and the C run loop that
// the AOT header carries (aot_header.cpp emits these printf formats verbatim as C string
// literals, so a deployed kernel says exactly what hamux::run says).
#pragma once

#include <cstdint>
#include <string>

#include "frontend/model.h"

namespace hamux::run_messages {

// printf formats (C99 conversions only: the generated C passes the same arguments).
// "neuron 'v', sample 2: state is nan at step 17 (try a smaller dt)"; the suffix only after step 0.
inline constexpr const char* kStateNotFinite = "neuron '%s', sample %lld: state is %s at step %lld%s";
inline constexpr const char* kTrySmallerDt = " (try a smaller dt)";
// The last %s is synapse_hint().
inline constexpr const char* kStateBound =
    "neuron '%s', sample %lld: state grows without limit (|x| = %.3g > state_bound %.3g) at step %lld; either dt "
    "is too large (try a smaller dt; hamux check estimates the largest stable one) or the energy is not bounded "
    "below: %s";
// "sample 0: energy is inf at step 3 (neuron h is not finite; try a smaller dt)"; the last %s
// is kEnergyEndFirst at step 0, kEnergyEndLater after.
inline constexpr const char* kEnergyNotFinite = "sample %lld: energy is %s at step %lld (%s is not finite%s";
inline constexpr const char* kEnergyEndFirst = ")";
inline constexpr const char* kEnergyEndLater = "; try a smaller dt)";
inline constexpr const char* kEnergyTotal = "the total";  // the term named when no single term is at fault
inline constexpr const char* kGuardFailed = "energy guard: the energy of sample %lld still increases at step %lld with dt %f";
inline constexpr const char* kBadSteps = "steps must be >= 0, got %lld";
inline constexpr const char* kBadDt = "dt must be a positive number, got %f";
inline constexpr const char* kBadStateBound = "state_bound must be >= 0 (0: no check), got %f";

inline constexpr int64_t kMaxChunk = 64;  // steps per kernel call when nothing is checked per step
inline constexpr int kMaxHalvings = 40;   // energy guard: give up below dt * 2^-40
// The energy guard's "rose" test: after > before + rel * (1 + |before|), rel by the dtype's
// rounding (float32, float64).
inline constexpr double kGuardRelF32 = 1e-5;
inline constexpr double kGuardRelF64 = 1e-11;

std::string state_not_finite(const std::string& neuron, int64_t sample, bool nan, int64_t step);
std::string state_bound(const std::string& neuron, int64_t sample, double magnitude, double bound, int64_t step,
                        const std::string& hint);
std::string energy_not_finite(int64_t sample, bool nan, int64_t step, const std::string& term);
std::string guard_failed(int64_t sample, int64_t step, double dt);
std::string bad_steps(int64_t steps);
std::string bad_dt(double dt);
std::string bad_state_bound(double bound);

// The end of the state-bound message for `neuron`: "check synapse 'wb' (linear_bias(W=W, b=b)):
// its couplings may be too strong for the Lagrangians' curvature (see hamux check)".
std::string synapse_hint(const Model& model, int neuron);

}  // namespace hamux::run_messages
