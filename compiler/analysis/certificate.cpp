// compiler/analysis/certificate.cpp - combines the analyses (see certificate.h).
#include "analysis/certificate.h"

#include "frontend/stdlib.h"
#include "interp/interpreter.h"

namespace hamux::analysis {

std::string NeuronCertificate::text() const {
  switch (verdict) {
    case Convexity::ProvedByRules: return "convex (proved by rules)";
    case Convexity::StdlibProof: return "convex (stdlib proof)";
    case Convexity::NotConvex: return "not convex: " + search->message();
    case Convexity::NotProved: break;
  }
  std::string why = rules.curvature == Curvature::Unknown ? rules.reason + " in " + rules.culprit
                                                          : std::string("the Lagrangian is ") + curvature_name(rules.curvature);
  return "not proved: " + why + (search ? "; " + search->message() : "");
}

NeuronCertificate certify_neuron(const Model& model, int neuron, const SearchOptions& search) {
  const NeuronDef& nd = model.neurons.at(neuron);
  NeuronCertificate c;
  c.neuron = nd.name;
  c.rules = analyze_curvature(nd.lagrangian);
  if (is_convex(c.rules.curvature)) {
    c.verdict = Convexity::ProvedByRules;
    return c;
  }
  const std::string builtin = builtin_lagrangian(nd);
  if (!builtin.empty()) {
    const frontend::Definition* def = frontend::find_lagrangian(builtin);
    if (def && !def->convexity_proof.empty()) {
      c.verdict = Convexity::StdlibProof;
      c.proof = def->convexity_proof;
      return c;
    }
  }
  c.search = find_nonconvexity(nd.lagrangian, interp::param_values<double>(model), search);
  c.verdict = c.search->found ? Convexity::NotConvex : Convexity::NotProved;
  return c;
}

bool Certificate::proved() const {
  for (const NeuronCertificate& n : neurons)
    if (n.verdict != Convexity::ProvedByRules && n.verdict != Convexity::StdlibProof) return false;
  return bounded.verdict == Boundedness::Proved;
}

Certificate certify(const Model& model, const Derivation& derivation, const std::vector<Tensor<double>>& states,
                    const SearchOptions& search) {
  Certificate c;
  for (size_t i = 0; i < model.neurons.size(); ++i) c.neurons.push_back(certify_neuron(model, static_cast<int>(i), search));
  c.bounded = check_bounded_below(model, derivation);
  if (!states.empty()) c.step = step_size_bound(model, derivation, states);
  return c;
}

}  // namespace hamux::analysis
