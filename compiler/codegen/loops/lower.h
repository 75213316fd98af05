// compiler/codegen/loops/lower.h - IR graphs -> loop program (program.h).
//
// What gets its own buffer (is "materialised") and what is fused:
//  - contractions (einsum, conv) and reductions always get a stage and a buffer; their
//    operands must be buffers too;
//  - a node with several consumers is materialised unless it is cheap (a leaf, or layout
//    ops over a leaf), so expensive work is never recomputed;
//  - a node feeding a broadcast is materialised unless cheap (a broadcast repeats it);
//  - a value that depends on parameters only is computed once per call, in the prologue;
//  - everything else (elementwise ops, layout ops) is inlined into its consumer's loop.
// LogSumExp is rewritten first into reduce_max, a fused sum of exp and log, so the
// emitter only knows Sum and ReduceMax; sums of two contractions of one activation with
// parameters become one contraction (merge_einsums.h); tiny einsums become fused sums of
// products (small_einsums.h).
#pragma once

#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "codegen/loops/program.h"
#include "codegen/loops/small_einsums.h"

namespace hamux::codegen {

class Lowerer {
 public:
  // `roots` are all graphs this program will compute (they decide consumer counts).
  // Einsums of at most `small_einsum_work` multiply-adds per sample become fused sums
  // (small_einsums.h); 0: none.
  Lowerer(Program& program, const std::vector<ir::NodePtr>& roots, int64_t small_einsum_work = kSmallEinsumWork);

  // The root after rewriting (LogSumExp expansion); `n` must be reachable from the roots.
  ir::NodePtr rewritten(const ir::NodePtr& n) const;
  // Whether `n` is computed per sample (it depends on an input, or on a per-call param:
  // then it is not hoisted into the prologue either).
  bool batched(const ir::Node* n) const;

  int add_input(int index, const std::string& name, const Shape& shape);
  int add_param(const std::string& name, const Shape& shape);
  int add_output(const std::string& name, const Shape& shape, bool batched);
  int add_temp(const std::string& name, const Shape& shape, bool batched);

  // Appends the stages computing the (rewritten) `node` into buffer `out` to `phase`.
  void emit(std::vector<Stage>& phase, const ir::NodePtr& node, int out);
  // Gives `node` its own buffer (computing it in `phase`, or in the prologue when it
  // depends on parameters only) and returns that buffer.
  int materialise(std::vector<Stage>& phase, const ir::NodePtr& node);
  // Materialises everything the fused region of `root` needs (not `root` itself).
  void prepare(std::vector<Stage>& phase, const ir::NodePtr& root);

  // Params whose values may change between calls that share one prepared block (a step's
  // rates dt / tau_i and masks): nothing that depends on them is hoisted into the prologue,
  // so the prologue depends on the other params only and a new dt re-runs nothing. They are
  // read where they are used (typically fused into the loop that writes the state). Call
  // before the first emit.
  void set_per_call_params(const std::set<std::string>& names);

  // Starts a new phase: batched values materialised so far are stale from now on.
  void begin_phase();
  // Consumer counts from the (rewritten) graphs of the phase about to be emitted, instead
  // of all roots: a value the body's updates and the epilogue's energy both read has one
  // consumer in each phase and needs no buffer in either.
  void count_uses(const std::vector<ir::NodePtr>& phase_roots);
  // Lays out the workspace; call once, after the last emit.
  void finish();

 private:
  bool cheap(const ir::Node* n) const;
  bool recompute_is_cheaper(const ir::Node* n) const;
  bool must_materialise(const ir::Node* n, bool region_batched) const;
  int operand(std::vector<Stage>& phase, const ir::NodePtr& n);
  int add_buffer(Buffer b);
  void capture(Stage& s) const;  // records the buffers the stage's fused region reads

  Program& p_;
  std::unordered_map<const ir::Node*, ir::NodePtr> rewritten_;
  std::unordered_map<const ir::Node*, int> uses_;
  std::unordered_set<const ir::Node*> feeds_broadcast_;
  std::unordered_map<const ir::Node*, bool> batched_;
  std::vector<ir::NodePtr> keep_alive_;
};

// The generic program for testing arbitrary graphs: external slots are the inputs (by
// increasing index, batched), then the params (by name, shared), then one output per
// graph ("out<k>", batched when it depends on an input). Throws hamux::Error when the
// graphs disagree on an input's shape or on the dtype.
Program lower_graphs(const std::vector<ir::NodePtr>& outputs, ir::DType dtype,
                     int64_t small_einsum_work = kSmallEinsumWork);

}  // namespace hamux::codegen
