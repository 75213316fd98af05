// compiler/passes/passes.h - the individual simplifier passes (one per file).
//
// Each pass maps a list of roots to an equivalent list of roots. A pass that finds nothing
// to do returns the very same node pointers, so `simplify` (simplify.h) can run them to a
// fixpoint. All passes are memoised bottom-up rewrites (rewrite.h): their output is never
// larger than linear in their input.
#pragma once

#include <string>
#include <vector>

#include "graph/ir.h"

namespace hamux::passes {

// fold.cpp - constant folding. A Const is a tensor whose elements all equal attrs.value, so
// any op on Consts whose result is again uniform (elementwise ops, reductions, layout ops,
// einsums without repeated output letters) becomes one Const. Values are computed in
// double and rounded to float for float32 graphs.
std::vector<ir::NodePtr> fold(const std::vector<ir::NodePtr>& roots);
// The rule `fold` applies at each node, for one node whose inputs are folded already.
ir::NodePtr fold_rule(const ir::NodePtr& node);

// cse.cpp - common-subexpression elimination: structurally equal nodes (same op, attributes
// and inputs, found through the structural hash) are merged into one; Add, Mul, Max, Min
// and Equal also match with their operands swapped.
std::vector<ir::NodePtr> cse(const std::vector<ir::NodePtr>& roots);

// algebraic.cpp - algebraic identities that never change a finite result: x*1, x+0, 0*x,
// x-0, x/1, --x, constant-factor chains, transpose/reshape/broadcast chains, sums of
// broadcasts, sums over unit axes, log(exp x) ... (the file lists every rule).
std::vector<ir::NodePtr> algebraic(const std::vector<ir::NodePtr>& roots);
// The rule `algebraic` applies at each node, for one node whose inputs are simplified.
ir::NodePtr algebraic_rule(const ir::NodePtr& node);

// dce.cpp - dead-code elimination for a list of outputs (a program's result list).
// Inside one expression DAG nothing is ever dead - a node exists only because a root
// reaches it - so DCE works at the level a compiled program sees: it drops outputs that
// the caller does not want and reports which inputs and params the remaining outputs still
// read, so that no buffer is bound and no code is generated for the rest.
struct Pruned {
  std::vector<ir::NodePtr> outputs;      // the kept outputs, in their original order
  std::vector<size_t> kept;              // index of each kept output in the original list
  std::vector<int> live_inputs;          // Input indices still read, ascending
  std::vector<std::string> live_params;  // Param names still read, ascending
  size_t node_count = 0;                 // nodes reachable from the kept outputs
};
// `keep[i]` says whether output i is wanted; an empty `keep` keeps every output.
// Throws ir::ShapeError when keep has the wrong length.
Pruned dce(const std::vector<ir::NodePtr>& outputs, const std::vector<bool>& keep = {});

}  // namespace hamux::passes
