// compiler/analysis/curvature.h - disciplined-convex curvature analysis of a scalar graph.
//
// Every node gets a sign (zero, nonnegative, nonpositive, unknown) and a curvature
// (constant, affine, convex, concave, unknown) in its Input leaves, from the op's known
// curvature and monotonicity and the composition rule of disciplined convex programming:
// f(g1..gk) is convex when f is convex and, for every argument, f is nondecreasing in it and
// g_i is convex, or f is nonincreasing in it and g_i is concave, or g_i is affine (concave:
// the mirror image). Params and Consts are constants. Curvature is elementwise: a tensor
// node is convex when every element is. The rules are sufficient, not necessary: a graph
// they cannot certify may still be convex (docs/certification.md lists the rules, the
// table of ops, and the atoms beyond plain composition, e.g. sqrt of a sum of squares).
#pragma once

#include <string>

#include "graph/ir.h"

namespace hamux::analysis {

enum class Sign : uint8_t { Zero, Nonneg, Nonpos, Unknown };
enum class Curvature : uint8_t { Constant, Affine, Convex, Concave, Unknown };
const char* sign_name(Sign s);            // "zero", "nonnegative", "nonpositive", "unknown sign"
const char* curvature_name(Curvature c);  // "constant", "affine", "convex", "concave", "unknown"

// Constant and affine graphs are convex (and concave) too.
bool is_convex(Curvature c);
bool is_concave(Curvature c);

struct CurvatureReport {
  Curvature curvature = Curvature::Unknown;  // of the root
  Sign sign = Sign::Unknown;                 // of the root
  // Where the rules failed (curvature Unknown): the lowest node whose inputs all had a known
  // curvature but whose own could not be derived, printed with the graph printer, and why.
  std::string culprit;
  std::string reason;
  // "convex", "concave", ..., or "not DCP: <reason> in <culprit>".
  std::string message() const;
};

CurvatureReport analyze_curvature(const ir::NodePtr& root);

}  // namespace hamux::analysis
