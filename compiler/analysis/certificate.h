// compiler/analysis/certificate.h - what `hamux check` proves about a model.
//
// Per neuron: is its Lagrangian convex - proved by the curvature rules, by a proof that
// its stdlib definition carries, refuted by a counterexample, or not proved; is the energy
// bounded below (boundedness.h); the step-size bound near a few states (step_bound.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "analysis/boundedness.h"
#include "analysis/counterexample.h"
#include "analysis/curvature.h"
#include "analysis/step_bound.h"

namespace hamux::analysis {

enum class Convexity { ProvedByRules, StdlibProof, NotProved, NotConvex };

struct NeuronCertificate {
  std::string neuron;
  Convexity verdict = Convexity::NotProved;
  CurvatureReport rules;
  std::string proof;                          // StdlibProof: the proof text from stdlib.json
  std::optional<CounterexampleSearch> search; // run when the rules do not certify
  // "convex (proved by rules)", "convex (stdlib proof)", "not proved: <why>; no
  // counterexample in 24 samples", "not convex: counterexample at x = ...".
  std::string text() const;
};

// The convexity verdict of one neuron's Lagrangian (NeuronDef::lagrangian).
NeuronCertificate certify_neuron(const Model& model, int neuron, const SearchOptions& search = {});

struct Certificate {
  std::vector<NeuronCertificate> neurons;
  BoundednessReport bounded;
  std::optional<StepBound> step;  // when states were given
  // Everything proved: every Lagrangian convex and the energy bounded below.
  bool proved() const;
};

// `states` (one tensor per neuron, [batch, ...shape]) are where the dt bound is estimated;
// empty: no dt bound.
Certificate certify(const Model& model, const Derivation& derivation, const std::vector<Tensor<double>>& states,
                    const SearchOptions& search = {});

}  // namespace hamux::analysis
