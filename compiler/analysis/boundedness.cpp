// compiler/analysis/boundedness.cpp - the static bounded-below check (see boundedness.h).
#include "analysis/boundedness.h"

#include <cmath>
#include <set>
#include <unordered_map>

#include "analysis/hessian.h"
#include "frontend/stdlib.h"
#include "graph/printer.h"

namespace hamux::analysis {

namespace {

using ir::Op;

enum class Kind { Bounded, Quadratic, Other };

Kind neuron_kind(const NeuronDef& n) {
  const std::string b = builtin_lagrangian(n);
  static const std::set<std::string> bounded = {"sigmoid", "tanh", "softmax", "spherical_norm", "layernorm", "ghostmax"};
  if (bounded.count(b)) return Kind::Bounded;
  if (b == "identity" || b == "relu" || n.lagrangian_desc == "repu(n=2)") return Kind::Quadratic;
  return Kind::Other;
}

// Polynomial degree of a connection graph in the quadratic activations (-1: not a
// polynomial in them), whether other activations appear, and whether an op that is not
// bounded on bounded sets (log, division by a variable, negative powers) appears.
struct Degree {
  int deg = 0;
  bool other = false;
  bool unbounded_op = false;
};

class DegreeOf {
 public:
  explicit DegreeOf(std::set<int> quadratic) : quad_(std::move(quadratic)) {}
  Degree visit(const ir::NodePtr& n) {
    auto it = memo_.find(n.get());
    if (it != memo_.end()) return it->second;
    std::vector<Degree> in;
    Degree d;
    for (const ir::NodePtr& i : n->inputs) {
      in.push_back(visit(i));
      d.other = d.other || in.back().other;
      d.unbounded_op = d.unbounded_op || in.back().unbounded_op;
    }
    auto worst = [&] {
      int m = 0;
      for (const Degree& x : in) m = (m < 0 || x.deg < 0) ? -1 : std::max(m, x.deg);
      return m;
    };
    auto total = [&] {
      int m = 0;
      for (const Degree& x : in) m = (m < 0 || x.deg < 0) ? -1 : m + x.deg;
      return m;
    };
    switch (n->op) {
      case Op::Const: case Op::Param: d.deg = 0; break;
      case Op::Input:
        if (quad_.count(n->attrs.index)) d.deg = 1;
        else d.other = true;
        break;
      case Op::Neg: case Op::Sum: case Op::Broadcast: case Op::Reshape: case Op::Transpose:
      case Op::Add: case Op::Sub: d.deg = worst(); break;
      case Op::Mul: case Op::Einsum: case Op::Conv2d: case Op::Conv2dInputGrad: case Op::Conv2dKernelGrad:
        d.deg = total(); break;
      case Op::Div:
        if (in[1].deg != 0 || in[1].other) d.unbounded_op = true;
        d.deg = in[1].deg == 0 ? in[0].deg : -1;
        break;
      case Op::Pow: {
        const ir::NodePtr& e = n->inputs[1];
        double p = e->op == Op::Const ? e->attrs.value : e->op == Op::Broadcast && e->inputs[0]->op == Op::Const
                                                             ? e->inputs[0]->attrs.value : -1;
        if (p < 0) d.unbounded_op = true;
        d.deg = in[0].deg == 0 ? 0 : (p >= 0 && std::floor(p) == p ? in[0].deg * static_cast<int>(p) : -1);
        break;
      }
      case Op::Log: d.unbounded_op = true; d.deg = in[0].deg == 0 ? 0 : -1; break;
      default:  // any other op of a quadratic activation is not a polynomial in it
        d.deg = worst() == 0 ? 0 : -1;
        break;
    }
    memo_[n.get()] = d;
    return d;
  }

 private:
  std::set<int> quad_;
  std::unordered_map<const ir::Node*, Degree> memo_;
};

std::string join_names(const Model& m, const std::vector<int>& idx) {
  std::string s;
  for (int i : idx) s += (s.empty() ? "" : ", ") + m.neurons[i].name;
  return s;
}

}  // namespace

std::string builtin_lagrangian(const NeuronDef& neuron) {
  const std::string& d = neuron.lagrangian_desc;
  const std::string name = d.substr(0, d.find('('));
  return frontend::find_lagrangian(name) ? name : "";
}

std::string BoundednessReport::message() const {
  switch (verdict) {
    case Boundedness::Proved: return "bounded below: " + reason;
    case Boundedness::Unbounded: return "not bounded below: " + reason;
    case Boundedness::NotProved: break;
  }
  return "not proved bounded below: " + reason;
}

BoundednessReport check_bounded_below(const Model& model, const Derivation& derivation) {
  BoundednessReport r;
  const int n = static_cast<int>(model.neurons.size());
  std::vector<int> quad, other;
  std::set<int> quad_inputs;
  for (int i = 0; i < n; ++i) {
    const Kind k = neuron_kind(model.neurons[i]);
    if (k == Kind::Quadratic) {
      quad.push_back(i);
      quad_inputs.insert(n + i);
    }
    if (k == Kind::Other) other.push_back(i);
  }
  if (!other.empty()) {
    r.reason = "the activation of " + join_names(model, other) +
               " is unbounded and its energy is not a quadratic form (checked at run time instead)";
    return r;
  }
  DegreeOf degree(quad_inputs);
  ir::NodePtr quadratic_part;
  for (size_t c = 0; c < model.connections.size(); ++c) {
    const Degree d = degree.visit(derivation.connection_energy[c]);
    const std::string label = "connection " + std::to_string(c) + " (" + model.synapses[model.connections[c].synapse].name + ")";
    if (d.unbounded_op) {
      r.reason = label + " has an op that is unbounded on bounded sets (log, division by a variable, negative power)";
      return r;
    }
    if (d.deg < 0 || d.deg > 2 || (d.deg == 2 && d.other)) {
      r.reason = label + " is not a polynomial of degree <= 2 in the activations of " + join_names(model, quad) +
                 " alone";
      return r;
    }
    if (d.deg == 2) {
      const ir::NodePtr& e = derivation.connection_energy[c];
      quadratic_part = quadratic_part ? ir::make(Op::Add, {quadratic_part, e}) : e;
    }
  }
  if (!quadratic_part) {
    r.verdict = Boundedness::Proved;
    r.reason = quad.empty() ? "every activation is bounded and every connection term is bounded on bounded sets"
                            : "the energy grows like 1/2 |xhat|^2 in the activations of " + join_names(model, quad) +
                                  " and every connection term is at most linear in them";
    return r;
  }
  // The quadratic form: 1/2 |xhat|^2 of every quadratic neuron plus the quadratic connections.
  std::vector<ir::NodePtr> wrt;
  ir::NodePtr f = quadratic_part;
  for (int i : quad) {
    ir::NodePtr g = ir::input(n + i, "xhat[" + model.neurons[i].name + "]", model.neurons[i].shape, model.dtype);
    wrt.push_back(g);
    ir::Attrs half;
    half.value = 0.5;
    std::string letters;
    for (size_t k = 0; k < g->shape.size(); ++k) letters += static_cast<char>('a' + k);
    ir::Attrs spec;
    spec.spec = letters + "," + letters + "->";
    ir::NodePtr sq = ir::make(Op::Einsum, {g, g}, spec);
    f = ir::make(Op::Add, {f, ir::make(Op::Mul, {ir::constant(0.5, model.dtype), sq})});
  }
  HessianProduct h(f, wrt, interp::param_values<double>(model));
  const std::vector<double> origin(h.dimension(), 0.0);
  const Extremes ex = lanczos_extremes(h, {origin}, static_cast<int>(std::min<int64_t>(h.dimension(), 400)), 1)[0];
  const std::string eig = ir::to_string(ir::constant(ex.smallest, ir::DType::F64));
  const double tol = 1e-9 * (1 + std::abs(ex.largest));
  const std::string form = "the energy is a quadratic form in the activations of " + join_names(model, quad);
  if (ex.smallest > tol) {
    r.verdict = Boundedness::Proved;
    r.reason = form + ", positive definite (smallest eigenvalue " + eig + ")";
    return r;
  }
  // A reachable direction: relu-like activations are >= 0, so their negative parts are cut.
  for (double sgn : {1.0, -1.0}) {
    std::vector<double> u = ex.smallest_direction;
    int64_t at = 0;
    for (int i : quad) {
      const int64_t size = num_elements(model.neurons[i].shape);
      const bool nonneg = builtin_lagrangian(model.neurons[i]) != "identity";
      for (int64_t e = at; e < at + size; ++e) {
        u[e] *= sgn;
        if (nonneg && u[e] < 0) u[e] = 0;
      }
      at += size;
    }
    const std::vector<double> hu = h.apply({origin}, {u})[0];
    double q = 0, norm = 0;
    for (size_t e = 0; e < u.size(); ++e) {
      q += hu[e] * u[e];
      norm += u[e] * u[e];
    }
    if (norm > 0 && q < -tol * norm) {
      r.verdict = Boundedness::Unbounded;
      r.reason = form + ", which is negative (" + ir::to_string(ir::constant(q / norm, ir::DType::F64)) +
                 ") along a direction the activations can take; the couplings are too strong for the Lagrangians";
      r.direction = u;
      return r;
    }
  }
  r.reason = form + ", which is not positive definite (smallest eigenvalue " + eig + ")";
  return r;
}

}  // namespace hamux::analysis
