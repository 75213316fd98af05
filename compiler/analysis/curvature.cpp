// compiler/analysis/curvature.cpp - the DCP rules (see curvature.h, docs/certification.md).
#include "analysis/curvature.h"

#include <cmath>
#include <optional>
#include <unordered_map>
#include <vector>

#include "graph/printer.h"

namespace hamux::analysis {

namespace {

using ir::Node;
using ir::NodePtr;
using ir::Op;

enum class Mono : uint8_t { Inc, Dec, None };  // monotonicity of an op in one argument

struct Facts {
  Sign sign = Sign::Unknown;
  Curvature curv = Curvature::Unknown;
};

bool nonneg(Sign s) { return s == Sign::Zero || s == Sign::Nonneg; }
bool nonpos(Sign s) { return s == Sign::Zero || s == Sign::Nonpos; }

Sign sign_of_value(double v) {
  if (v == 0) return Sign::Zero;
  if (v > 0) return Sign::Nonneg;
  if (v < 0) return Sign::Nonpos;
  return Sign::Unknown;  // NaN
}

Sign negate(Sign s) {
  if (s == Sign::Nonneg) return Sign::Nonpos;
  if (s == Sign::Nonpos) return Sign::Nonneg;
  return s;
}

Sign sign_of_sum(Sign a, Sign b) {
  if (a == Sign::Zero) return b;
  if (b == Sign::Zero) return a;
  if (nonneg(a) && nonneg(b)) return Sign::Nonneg;
  if (nonpos(a) && nonpos(b)) return Sign::Nonpos;
  return Sign::Unknown;
}

Sign sign_of_product(Sign a, Sign b) {
  if (a == Sign::Zero || b == Sign::Zero) return Sign::Zero;
  if (a == Sign::Unknown || b == Sign::Unknown) return Sign::Unknown;
  return a == b ? Sign::Nonneg : Sign::Nonpos;
}

// The value of a node that is a constant fill (Const, or a layout op of one).
std::optional<double> const_value(const NodePtr& n) {
  if (n->op == Op::Const) return n->attrs.value;
  if ((n->op == Op::Broadcast || n->op == Op::Reshape || n->op == Op::Transpose) && n->inputs[0])
    return const_value(n->inputs[0]);
  return std::nullopt;
}

const char* mono_word(Mono m) {
  return m == Mono::Inc ? "nondecreasing" : m == Mono::Dec ? "nonincreasing" : "not monotone";
}

class Analyzer {
 public:
  CurvatureReport report;

  Facts visit(const NodePtr& n) {
    auto it = memo_.find(n.get());
    if (it != memo_.end()) return it->second;
    std::vector<Facts> in;
    for (const NodePtr& i : n->inputs) in.push_back(visit(i));
    Facts f = rule(n, in);
    memo_[n.get()] = f;
    return f;
  }

 private:
  std::unordered_map<const Node*, Facts> memo_;

  // Records the first (lowest) place the rules fail; nodes above it inherit Unknown.
  Facts fail(const NodePtr& n, Sign sign, const std::string& why) {
    if (report.culprit.empty()) {
      report.culprit = ir::to_string(n);
      report.reason = why;
    }
    return {sign, Curvature::Unknown};
  }

  static bool any_unknown(const std::vector<Facts>& in) {
    for (const Facts& f : in)
      if (f.curv == Curvature::Unknown) return true;
    return false;
  }

  // The DCP composition rule for an op of curvature `f` with the given monotonicity in
  // each argument. `what` names the op for the message.
  Facts compose(const NodePtr& n, Curvature f, const std::vector<Mono>& mono, const std::vector<Facts>& in,
                Sign sign, const std::string& what) {
    bool all_const = true, all_affine = true;
    for (const Facts& a : in) {
      if (a.curv != Curvature::Constant) all_const = false;
      if (a.curv != Curvature::Constant && a.curv != Curvature::Affine) all_affine = false;
    }
    if (all_const) return {sign, Curvature::Constant};
    if (any_unknown(in)) return {sign, Curvature::Unknown};
    if (f == Curvature::Affine && all_affine) return {sign, Curvature::Affine};
    bool convex = f == Curvature::Affine || f == Curvature::Convex;
    bool concave = f == Curvature::Affine || f == Curvature::Concave;
    for (size_t i = 0; i < in.size(); ++i) {
      const Curvature a = in[i].curv;
      if (a == Curvature::Constant || a == Curvature::Affine) continue;
      if (a == Curvature::Convex) {
        convex = convex && mono[i] == Mono::Inc;
        concave = concave && mono[i] == Mono::Dec;
      } else {  // concave argument
        convex = convex && mono[i] == Mono::Dec;
        concave = concave && mono[i] == Mono::Inc;
      }
    }
    if (convex) return {sign, Curvature::Convex};
    if (concave) return {sign, Curvature::Concave};
    return fail(n, sign, why_not(f, mono, in, what));
  }

  static std::string why_not(Curvature f, const std::vector<Mono>& mono, const std::vector<Facts>& in,
                             const std::string& what) {
    if (in.size() == 2 && f == Curvature::Affine) {
      // add / sub / max-like wording: name both operands.
      return what + " of a " + std::string(curvature_name(in[0].curv)) + " and a " + curvature_name(in[1].curv) +
             " operand";
    }
    for (size_t i = 0; i < in.size(); ++i) {
      if (in[i].curv == Curvature::Constant || in[i].curv == Curvature::Affine) continue;
      std::string s = what + " (" + curvature_name(f) + ", " + mono_word(mono[i]) + ") of a " +
                      curvature_name(in[i].curv) + " argument";
      return in.size() == 1 ? s : s + " (operand " + std::to_string(i + 1) + ")";
    }
    return what;
  }

  // x^p for a constant p, given the facts of x.
  Facts power(const NodePtr& n, const Facts& x, double p, const std::string& what) {
    if (p == 0) return {Sign::Nonneg, Curvature::Constant};
    if (p == 1) return x;
    const bool integer = std::floor(p) == p;
    const bool even = integer && std::fmod(p, 2.0) == 0;
    Sign sign = even || nonneg(x.sign) ? Sign::Nonneg : (integer ? x.sign : Sign::Unknown);
    if (x.curv == Curvature::Constant) return {sign, Curvature::Constant};
    if (even) {  // convex everywhere; nondecreasing for x >= 0, nonincreasing for x <= 0
      Mono m = nonneg(x.sign) ? Mono::Inc : nonpos(x.sign) ? Mono::Dec : Mono::None;
      return compose(n, Curvature::Convex, {m}, {x}, sign, what);
    }
    if (!nonneg(x.sign)) {
      std::string e = ir::to_string(ir::constant(p, n->dtype));
      return fail(n, sign, what + " with exponent " + e + " of an argument that may be negative");
    }
    if (p > 1) return compose(n, Curvature::Convex, {Mono::Inc}, {x}, sign, what);
    if (p > 0) return compose(n, Curvature::Concave, {Mono::Inc}, {x}, sign, what);
    return compose(n, Curvature::Convex, {Mono::Dec}, {x}, sign, what);
  }

  // A nonnegatively weighted sum of squares of affine expressions plus a nonnegative
  // constant: its elementwise sqrt is a Euclidean norm of an affine map, hence convex.
  bool sum_of_squares(const NodePtr& n) {
    if (auto v = const_value(n)) return *v >= 0;
    const Facts f = visit(n);
    auto affine = [&](const NodePtr& a) {
      Curvature c = visit(a).curv;
      return c == Curvature::Affine || c == Curvature::Constant;
    };
    switch (n->op) {
      case Op::Mul:
        if (ir::structurally_equal(n->inputs[0], n->inputs[1])) return affine(n->inputs[0]);
        for (int i = 0; i < 2; ++i) {
          auto c = const_value(n->inputs[i]);
          if (c && *c >= 0) return sum_of_squares(n->inputs[1 - i]);
        }
        return false;
      case Op::Div: {
        auto c = const_value(n->inputs[1]);
        return c && *c > 0 && sum_of_squares(n->inputs[0]);
      }
      case Op::Pow: {
        auto c = const_value(n->inputs[1]);
        return c && *c == 2 && affine(n->inputs[0]);
      }
      case Op::Add: return sum_of_squares(n->inputs[0]) && sum_of_squares(n->inputs[1]);
      case Op::Sum: case Op::Broadcast: case Op::Reshape: case Op::Transpose:
        return sum_of_squares(n->inputs[0]);
      case Op::Einsum: return self_contraction(n) && affine(n->inputs[0]);
      default: return f.curv == Curvature::Constant && nonneg(f.sign);
    }
  }

  // einsum("ab,ab->", a, a): the sum of the squares of a's elements.
  static bool self_contraction(const NodePtr& n) {
    if (n->inputs.size() != 2 || !ir::structurally_equal(n->inputs[0], n->inputs[1])) return false;
    ir::EinsumSpec s = ir::parse_einsum(n->attrs.spec);
    return s.operands[0] == s.operands[1] && s.output.empty();
  }

  Facts rule(const NodePtr& n, const std::vector<Facts>& in) {
    const std::string name = ir::op_name(n->op);
    auto unary = [&](Curvature f, Mono m, Sign s) { return compose(n, f, {m}, in, s, name); };
    auto by_sign = [&](Sign s) {  // nondecreasing on x >= 0, nonincreasing on x <= 0
      return nonneg(s) ? Mono::Inc : nonpos(s) ? Mono::Dec : Mono::None;
    };
    switch (n->op) {
      case Op::Const: return {sign_of_value(n->attrs.value), Curvature::Constant};
      case Op::Param: return {Sign::Unknown, Curvature::Constant};
      case Op::Input: return {Sign::Unknown, Curvature::Affine};
      case Op::Neg: return unary(Curvature::Affine, Mono::Dec, negate(in[0].sign));
      case Op::Exp: return unary(Curvature::Convex, Mono::Inc, Sign::Nonneg);
      case Op::Softplus: return unary(Curvature::Convex, Mono::Inc, Sign::Nonneg);
      case Op::Relu: return unary(Curvature::Convex, Mono::Inc, Sign::Nonneg);
      case Op::Log: return unary(Curvature::Concave, Mono::Inc, Sign::Unknown);
      case Op::Log1p: return unary(Curvature::Concave, Mono::Inc, in[0].sign);
      case Op::Sqrt:
        if (in[0].curv != Curvature::Unknown && in[0].curv != Curvature::Constant && sum_of_squares(n->inputs[0]))
          return {Sign::Nonneg, Curvature::Convex};  // the norm atom
        return unary(Curvature::Concave, Mono::Inc, Sign::Nonneg);
      case Op::Abs: return unary(Curvature::Convex, by_sign(in[0].sign), Sign::Nonneg);
      case Op::LogCosh: return unary(Curvature::Convex, by_sign(in[0].sign), Sign::Nonneg);
      case Op::Sigmoid:
      case Op::Tanh: {
        // Both are convex for x <= 0 and concave for x >= 0.
        const Sign s = n->op == Op::Sigmoid ? Sign::Nonneg : in[0].sign;
        if (in[0].curv == Curvature::Constant) return {s, Curvature::Constant};
        if (nonpos(in[0].sign)) return unary(Curvature::Convex, Mono::Inc, s);
        if (nonneg(in[0].sign)) return unary(Curvature::Concave, Mono::Inc, s);
        if (in[0].curv == Curvature::Unknown) return {s, Curvature::Unknown};
        return fail(n, s, name + " of an argument of unknown sign (convex only for x <= 0, concave only for x >= 0)");
      }
      case Op::Sign:
      case Op::Step:
      case Op::Greater:
      case Op::Equal: {
        const Sign s = n->op == Op::Sign ? Sign::Unknown : Sign::Nonneg;
        bool all_const = true;
        for (const Facts& a : in) all_const = all_const && a.curv == Curvature::Constant;
        if (all_const) return {s, Curvature::Constant};
        if (any_unknown(in)) return {s, Curvature::Unknown};
        return fail(n, s, name + " is piecewise constant (neither convex nor concave)");
      }
      case Op::Add: return compose(n, Curvature::Affine, {Mono::Inc, Mono::Inc}, in, sign_of_sum(in[0].sign, in[1].sign), name);
      case Op::Sub:
        return compose(n, Curvature::Affine, {Mono::Inc, Mono::Dec}, in, sign_of_sum(in[0].sign, negate(in[1].sign)), name);
      case Op::Max: {
        Sign s = nonneg(in[0].sign) || nonneg(in[1].sign) ? Sign::Nonneg
                 : nonpos(in[0].sign) && nonpos(in[1].sign) ? Sign::Nonpos : Sign::Unknown;
        return compose(n, Curvature::Convex, {Mono::Inc, Mono::Inc}, in, s, name);
      }
      case Op::Min: {
        Sign s = nonpos(in[0].sign) || nonpos(in[1].sign) ? Sign::Nonpos
                 : nonneg(in[0].sign) && nonneg(in[1].sign) ? Sign::Nonneg : Sign::Unknown;
        return compose(n, Curvature::Concave, {Mono::Inc, Mono::Inc}, in, s, name);
      }
      case Op::Mul: {
        const Sign s = sign_of_product(in[0].sign, in[1].sign);
        if (ir::structurally_equal(n->inputs[0], n->inputs[1])) return power(n, in[0], 2, "square");
        for (int i = 0; i < 2; ++i) {
          if (in[i].curv != Curvature::Constant) continue;
          Facts other = in[1 - i];
          std::vector<Facts> one = {other};
          if (in[i].sign == Sign::Zero) return {Sign::Zero, Curvature::Constant};
          Mono m = in[i].sign == Sign::Nonneg ? Mono::Inc : in[i].sign == Sign::Nonpos ? Mono::Dec : Mono::None;
          return compose(n, Curvature::Affine, {m}, one, s,
                         m == Mono::None ? "scaling by a constant of unknown sign" : "mul");
        }
        if (any_unknown(in)) return {s, Curvature::Unknown};
        return fail(n, s, "the product of two non-constant expressions");
      }
      case Op::Div: {
        const Sign s = sign_of_product(in[0].sign, in[1].sign);
        if (in[1].curv == Curvature::Constant) {
          Mono m = in[1].sign == Sign::Nonneg ? Mono::Inc : in[1].sign == Sign::Nonpos ? Mono::Dec : Mono::None;
          return compose(n, Curvature::Affine, {m}, {in[0]}, s,
                         m == Mono::None ? "division by a constant of unknown sign" : "div");
        }
        if (any_unknown(in)) return {s, Curvature::Unknown};
        return fail(n, s, "division by a non-constant expression");
      }
      case Op::Pow: {
        auto p = const_value(n->inputs[1]);
        if (!p) {
          if (in[0].curv == Curvature::Constant && in[1].curv == Curvature::Constant) return {Sign::Unknown, Curvature::Constant};
          if (any_unknown(in)) return {Sign::Unknown, Curvature::Unknown};
          return fail(n, Sign::Unknown, "pow with a non-constant exponent");
        }
        return power(n, in[0], *p, "pow");
      }
      case Op::Sum: return unary(Curvature::Affine, Mono::Inc, in[0].sign);
      case Op::ReduceMax: return unary(Curvature::Convex, Mono::Inc, in[0].sign);
      case Op::LogSumExp: return unary(Curvature::Convex, Mono::Inc, Sign::Unknown);
      case Op::Broadcast:
      case Op::Reshape:
      case Op::Transpose: return unary(Curvature::Affine, Mono::Inc, in[0].sign);
      case Op::Einsum: return einsum(n, in);
      case Op::Conv2d:
      case Op::Conv2dInputGrad:
      case Op::Conv2dKernelGrad: return einsum(n, in);  // bilinear like a contraction
    }
    return fail(n, Sign::Unknown, "unknown op " + name);
  }

  // A contraction is linear in each operand: affine when at most one operand varies
  // (nondecreasing in it when every constant operand is nonnegative), a sum of squares
  // when it contracts an affine operand with itself.
  Facts einsum(const NodePtr& n, const std::vector<Facts>& in) {
    const std::string name = ir::op_name(n->op);
    int varying = -1, count = 0;
    bool consts_nonneg = true;
    Sign s = Sign::Nonneg;
    for (size_t i = 0; i < in.size(); ++i) {
      s = i == 0 ? in[0].sign : sign_of_product(s, in[i].sign);
      if (in[i].curv != Curvature::Constant) {
        varying = static_cast<int>(i);
        ++count;
      } else {
        consts_nonneg = consts_nonneg && nonneg(in[i].sign);
      }
    }
    if (count == 0) return {s, Curvature::Constant};
    if (n->op == Op::Einsum && self_contraction(n)) return power(n, in[0], 2, "self-contraction " + n->attrs.spec);
    if (any_unknown(in)) return {s, Curvature::Unknown};
    if (count > 1) {
      const std::string what = n->op == Op::Einsum ? "einsum " + n->attrs.spec : name;
      return fail(n, s, "the product of non-constant operands in " + what);
    }
    Mono m = consts_nonneg ? Mono::Inc : Mono::None;
    const std::string what = m == Mono::None ? "a contraction with constants of unknown sign" : name;
    return compose(n, Curvature::Affine, {m}, {in[varying]}, s, what);
  }
};

}  // namespace

const char* sign_name(Sign s) {
  switch (s) {
    case Sign::Zero: return "zero";
    case Sign::Nonneg: return "nonnegative";
    case Sign::Nonpos: return "nonpositive";
    case Sign::Unknown: break;
  }
  return "unknown sign";
}

const char* curvature_name(Curvature c) {
  switch (c) {
    case Curvature::Constant: return "constant";
    case Curvature::Affine: return "affine";
    case Curvature::Convex: return "convex";
    case Curvature::Concave: return "concave";
    case Curvature::Unknown: break;
  }
  return "unknown";
}

bool is_convex(Curvature c) { return c == Curvature::Constant || c == Curvature::Affine || c == Curvature::Convex; }
bool is_concave(Curvature c) { return c == Curvature::Constant || c == Curvature::Affine || c == Curvature::Concave; }

std::string CurvatureReport::message() const {
  if (curvature != Curvature::Unknown) return curvature_name(curvature);
  return "not DCP: " + reason + " in " + culprit;
}

CurvatureReport analyze_curvature(const NodePtr& root) {
  Analyzer a;
  Facts f = a.visit(root);
  a.report.curvature = f.curv;
  a.report.sign = f.sign;
  if (f.curv != Curvature::Unknown) {
    a.report.culprit.clear();
    a.report.reason.clear();
  }
  return a.report;
}

}  // namespace hamux::analysis
