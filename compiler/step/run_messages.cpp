// compiler/step/run_messages.cpp - the run loop's messages from the formats of run_messages.h.
#include "step/run_messages.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>

namespace hamux::run_messages {

namespace {

// vsnprintf into a string: the same conversions as the generated C's snprintf.
std::string format(const char* fmt, ...) {
  va_list args, again;
  va_start(args, fmt);
  va_copy(again, args);
  const int n = std::vsnprintf(nullptr, 0, fmt, args);
  va_end(args);
  std::string s(n > 0 ? static_cast<size_t>(n) : 0, '\0');
  std::vsnprintf(s.data(), s.size() + 1, fmt, again);
  va_end(again);
  return s;
}

}  // namespace

std::string state_not_finite(const std::string& neuron, int64_t sample, bool nan, int64_t step) {
  return format(kStateNotFinite, neuron.c_str(), static_cast<long long>(sample), nan ? "nan" : "inf",
                static_cast<long long>(step), step > 0 ? kTrySmallerDt : "");
}

std::string state_bound(const std::string& neuron, int64_t sample, double magnitude, double bound, int64_t step,
                        const std::string& hint) {
  return format(kStateBound, neuron.c_str(), static_cast<long long>(sample), magnitude, bound,
                static_cast<long long>(step), hint.c_str());
}

std::string energy_not_finite(int64_t sample, bool nan, int64_t step, const std::string& term) {
  return format(kEnergyNotFinite, static_cast<long long>(sample), nan ? "nan" : "inf", static_cast<long long>(step),
                term.c_str(), step > 0 ? kEnergyEndLater : kEnergyEndFirst);
}

std::string guard_failed(int64_t sample, int64_t step, double dt) {
  return format(kGuardFailed, static_cast<long long>(sample), static_cast<long long>(step), dt);
}

std::string bad_steps(int64_t steps) { return format(kBadSteps, static_cast<long long>(steps)); }
std::string bad_dt(double dt) { return format(kBadDt, dt); }
std::string bad_state_bound(double bound) { return format(kBadStateBound, bound); }

std::string synapse_hint(const Model& m, int neuron) {
  std::string names;
  for (const ConnectionDef& c : m.connections) {
    if (std::find(c.neurons.begin(), c.neurons.end(), neuron) == c.neurons.end()) continue;
    const SynapseDef& sd = m.synapses[c.synapse];
    const std::string item = "'" + sd.name + "' (" + sd.desc + ")";
    if (names.find(item) == std::string::npos) names += (names.empty() ? "" : ", ") + item;
  }
  if (names.empty()) return "the neuron has no synapse; check its Lagrangian and bias";
  return "check synapse " + names + ": its couplings may be too strong for the Lagrangians' curvature (see hamux check)";
}

}  // namespace hamux::run_messages
