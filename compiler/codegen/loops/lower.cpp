// compiler/codegen/loops/lower.cpp - deciding what is materialised and in which phase.
#include "codegen/loops/lower.h"

#include <limits>
#include <string>

#include "codegen/loops/merge_einsums.h"
#include "graph/builder.h"
#include "graph/internal_error.h"
#include "hamux/error.h"

namespace hamux::codegen {

namespace {

// logsumexp(x) = ms + log(s), s = sum(e), e = exp(x - ms), with ms the slice max clamped to
// the finite range: for a finite max this is the usual shift; for a max of -inf the sum is 0
// and the result -inf, for +inf it is +inf, and a NaN max propagates - the interpreter's
// answers. `e` and `s` (keepdims) are kept for the softmax of the same x (below).
struct ExpandedLogSumExp {
  ir::NodePtr value, e, s;
};
ExpandedLogSumExp expand_logsumexp(const ir::NodePtr& x, const ir::Node& lse) {
  using namespace ir;
  const bool f32 = x->dtype == DType::F32;
  const double lo = f32 ? std::numeric_limits<float>::lowest() : std::numeric_limits<double>::lowest();
  const double hi = f32 ? std::numeric_limits<float>::max() : std::numeric_limits<double>::max();
  NodePtr m = reduce(Op::ReduceMax, x, lse.attrs.axes, true);
  NodePtr ms = binary(Op::Min, binary(Op::Max, m, constant(lo, x->dtype)), constant(hi, x->dtype));
  NodePtr e = unary(Op::Exp, sub(x, ms));
  NodePtr s = reduce(Op::Sum, e, lse.attrs.axes, true);
  NodePtr r = add(unary(Op::Log, s), ms);
  return {r->shape == lse.shape ? r : reshape(r, lse.shape), e, s};
}

// The logsumexp L when `n` is exp(x - L) with L = logsumexp(x) broadcast back along the
// axes it reduced (the softmax, which is what the gradient of a logsumexp is: every softmax
// layer's activation), else null. L may be reshaped to its keepdims shape first; a reshape
// to any other shape would line the values up with other elements of x, which is not it.
const ir::Node* softmax_of(const ir::Node& n) {
  using ir::Op;
  if (n.op != Op::Exp || n.inputs[0]->op != Op::Sub) return nullptr;
  const ir::Node& diff = *n.inputs[0];
  const ir::Node* kept = diff.inputs[1].get();  // L in its keepdims shape
  if (kept->op == Op::Broadcast) kept = kept->inputs[0].get();
  const ir::Node* l = kept->op == Op::Reshape ? kept->inputs[0].get() : kept;
  if (l->op != Op::LogSumExp || l->inputs[0] != diff.inputs[0]) return nullptr;
  return kept->shape == ir::keepdims_shape(*l) ? l : nullptr;
}

}  // namespace

Lowerer::Lowerer(Program& program, const std::vector<ir::NodePtr>& roots, int64_t small_einsum_work)
    : p_(program) {
  // The owning pointer of every node, so that unchanged nodes can be reused as they are.
  std::unordered_map<const ir::Node*, ir::NodePtr> owner;
  std::vector<const ir::Node*> order = ir::topological_order(roots);
  for (const ir::NodePtr& r : roots) owner[r.get()] = r;
  for (const ir::Node* n : order)
    for (const ir::NodePtr& in : n->inputs) owner[in.get()] = in;
  // Rewrite bottom-up, keeping sharing: a node is rebuilt only when an input changed.
  std::unordered_map<const ir::Node*, std::pair<ir::NodePtr, ir::NodePtr>> expanded_lse;  // e, s
  for (const ir::Node* n : order) {
    std::vector<ir::NodePtr> ins;
    bool changed = false;
    for (const ir::NodePtr& in : n->inputs) {
      ins.push_back(rewritten_.at(in.get()));
      changed = changed || ins.back() != in;
    }
    ir::NodePtr out;
    const ir::Node* softmax_lse = softmax_of(*n);
    if (n->op == ir::Op::LogSumExp) {
      ExpandedLogSumExp x = expand_logsumexp(ins[0], *n);
      expanded_lse[n] = {x.e, x.s};
      out = x.value;
    } else if (softmax_lse && expanded_lse.count(softmax_lse)) {
      // exp(x - logsumexp(x)) = e / s with the logsumexp's own e = exp(x - ms) and s = sum(e):
      // one exponential per element instead of two (the logsumexp's sum and the softmax).
      const auto& [e, s] = expanded_lse.at(softmax_lse);
      out = ir::div(e, s);
    } else if (n->op == ir::Op::Add) out = merge_einsum_sum(ins[0], ins[1]);  // null: no merge
    else if (n->op == ir::Op::Einsum) out = small_einsum_as_sum(*n, ins, small_einsum_work);  // null: a call
    if (!out) out = changed ? ir::make(n->op, ins, n->attrs) : owner.at(n);
    rewritten_[n] = out;
  }
  std::vector<ir::NodePtr> new_roots;
  for (const ir::NodePtr& r : roots) new_roots.push_back(rewritten_.at(r.get()));
  keep_alive_ = new_roots;
  set_per_call_params({});
  count_uses(new_roots);
}

void Lowerer::set_per_call_params(const std::set<std::string>& names) {
  batched_.clear();
  for (const ir::Node* n : ir::topological_order(keep_alive_)) {
    bool b = n->op == ir::Op::Input || (n->op == ir::Op::Param && names.count(n->attrs.name));
    for (const ir::NodePtr& in : n->inputs) b = b || batched_.at(in.get());
    batched_[n] = b;
  }
}

void Lowerer::count_uses(const std::vector<ir::NodePtr>& roots) {
  uses_.clear();
  feeds_broadcast_.clear();
  for (const ir::Node* n : ir::topological_order(roots))
    for (const ir::NodePtr& in : n->inputs) {
      ++uses_[in.get()];
      if (n->op == ir::Op::Broadcast) feeds_broadcast_.insert(in.get());
    }
}

ir::NodePtr Lowerer::rewritten(const ir::NodePtr& n) const {
  auto it = rewritten_.find(n.get());
  if (it == rewritten_.end()) HAMUX_INTERNAL("node not among the roots");
  return it->second;
}

bool Lowerer::batched(const ir::Node* n) const {
  auto it = batched_.find(n);
  return it == batched_.end() ? n->op == ir::Op::Input : it->second;
}

int Lowerer::add_buffer(Buffer b) {
  if (b.kind != BufferKind::Temp) b.external = p_.num_external++;
  p_.buffers.push_back(std::move(b));
  return static_cast<int>(p_.buffers.size()) - 1;
}

int Lowerer::add_input(int index, const std::string& name, const Shape& shape) {
  int b = add_buffer({name, BufferKind::Input, shape, true});
  p_.inputs[index] = b;
  return b;
}

int Lowerer::add_param(const std::string& name, const Shape& shape) {
  int b = add_buffer({name, BufferKind::Param, shape, false});
  p_.params[name] = b;
  return b;
}

int Lowerer::add_output(const std::string& name, const Shape& shape, bool batched) {
  return add_buffer({name, BufferKind::Output, shape, batched});
}

int Lowerer::add_temp(const std::string& name, const Shape& shape, bool batched) {
  return add_buffer({name, BufferKind::Temp, shape, batched});
}

bool Lowerer::cheap(const ir::Node* n) const {
  if (ir::is_leaf(n->op)) return true;
  if (n->op == ir::Op::Broadcast || n->op == ir::Op::Reshape || n->op == ir::Op::Transpose)
    return p_.buffer_of(n->inputs[0].get()) >= 0 || cheap(n->inputs[0].get());
  return false;
}

// One add, subtract, multiply or negation of leaves or buffers (W1's 4 * x, shared by the
// activation and the energy): recomputing it in each consumer's loop costs an instruction per
// element, materialising it a store, a load and a pass of its own.
bool Lowerer::recompute_is_cheaper(const ir::Node* n) const {
  if (n->op != ir::Op::Add && n->op != ir::Op::Sub && n->op != ir::Op::Mul && n->op != ir::Op::Neg) return false;
  for (const ir::NodePtr& in : n->inputs)
    if (!cheap(in.get()) && p_.buffer_of(in.get()) < 0) return false;
  return true;
}

bool Lowerer::must_materialise(const ir::Node* n, bool region_batched) const {
  if (ir::is_leaf(n->op)) return false;
  if (ir::is_contraction(n->op) || ir::is_reduction(n->op)) return true;
  if (cheap(n)) return false;
  auto u = uses_.find(n);
  if (u != uses_.end() && u->second > 1 && !recompute_is_cheaper(n)) return true;
  if (feeds_broadcast_.count(n)) return true;
  return region_batched && !batched(n);  // hoist parameter-only work out of the sample loop
}

// A fused region takes at most this many nodes and buffer reads; the node that would
// exceed it becomes a buffer and a region of its own. No expression of the contract models
// comes near it, but the total energy of thousands of layers is a chain of thousands of
// terms (and a layer joined to thousands of others sums thousands of inputs): one loop over
// all of them would be a function of thousands of arguments, which LLVM optimises in more
// than linear time.
constexpr size_t kMaxFusedNodes = 256;

void Lowerer::prepare(std::vector<Stage>& phase, const ir::NodePtr& root) {
  const bool region_batched = batched(root.get());
  std::unordered_set<const ir::Node*> seen;
  std::vector<const ir::Node*> stack{root.get()};
  size_t fused = 1;
  while (!stack.empty()) {
    const ir::Node* n = stack.back();
    stack.pop_back();
    for (const ir::NodePtr& c : n->inputs) {
      if (!seen.insert(c.get()).second) continue;
      if (p_.buffer_of(c.get()) >= 0) {  // a load: it counts, as it is a kernel argument
        ++fused;
        continue;
      }
      if (c->op == ir::Op::Input)
        HAMUX_INTERNAL("input " + std::to_string(c->attrs.index) + " (" + c->attrs.name + ") has no buffer");
      if (c->op == ir::Op::Param) HAMUX_INTERNAL("param " + c->attrs.name + " has no buffer");
      const bool full = fused >= kMaxFusedNodes && !ir::is_leaf(c->op);
      if (full || must_materialise(c.get(), region_batched)) {
        materialise(phase, c);
      } else {
        stack.push_back(c.get());
        ++fused;
      }
    }
  }
}

int Lowerer::operand(std::vector<Stage>& phase, const ir::NodePtr& n) {
  int b = p_.buffer_of(n.get());
  if (b >= 0) return b;
  prepare(phase, n);  // (an Input/Param without a buffer throws here)
  return materialise(phase, n);
}

int Lowerer::materialise(std::vector<Stage>& phase, const ir::NodePtr& node) {
  int b = p_.buffer_of(node.get());
  if (b >= 0) return b;
  const bool bat = batched(node.get());
  // (Built with append: GCC 12 warns falsely (-Wrestrict) on "t" + std::to_string(...).)
  std::string name = "t";
  name.append(std::to_string(p_.buffers.size())).append("_").append(ir::op_name(node->op));
  b = add_temp(name, node->shape, bat);
  emit(phase, node, b);
  p_.materialised[node.get()] = b;
  return b;
}

void Lowerer::emit(std::vector<Stage>& requested, const ir::NodePtr& node, int out) {
  // Parameter-only values are loop-invariant: computed once, before anything reads them.
  std::vector<Stage>& phase = batched(node.get()) ? requested : p_.prologue;
  Stage s;
  s.out = out;
  if (ir::is_contraction(node->op)) {
    s.kind = node->op == ir::Op::Einsum ? StageKind::Einsum : StageKind::Conv;
    s.expr = node;
    for (const ir::NodePtr& in : node->inputs) s.args.push_back(operand(phase, in));
    std::vector<bool> operand_batched;
    for (int a : s.args) operand_batched.push_back(p_.is_batched(a));
    if (s.kind == StageKind::Einsum) s.einsum = plan_einsum(*node, operand_batched, p_.is_batched(out));
    else s.conv = plan_conv(*node, operand_batched[0], operand_batched[1], p_.is_batched(out));
  } else if (node->op == ir::Op::Sum || node->op == ir::Op::ReduceMax) {
    s.kind = StageKind::Reduce;
    s.reduce_op = node->op;
    s.axes = node->attrs.axes;
    s.expr = node->inputs[0];
    // The reduced operand is fused into the reduction loop unless it must be a buffer.
    if (p_.buffer_of(s.expr.get()) < 0 && must_materialise(s.expr.get(), batched(node.get())))
      materialise(phase, s.expr);
    if (p_.buffer_of(s.expr.get()) < 0) prepare(phase, s.expr);
  } else if (node->op == ir::Op::LogSumExp) {
    HAMUX_INTERNAL("logsumexp must be rewritten before emission");
  } else {
    s.kind = StageKind::Elementwise;
    s.expr = node;
    prepare(phase, node);
  }
  if (s.kind == StageKind::Elementwise || s.kind == StageKind::Reduce) capture(s);
  phase.push_back(std::move(s));
  if (p_.buffers[out].kind != BufferKind::Temp && !ir::is_leaf(node->op))
    p_.materialised[node.get()] = out;
}

void Lowerer::capture(Stage& s) const {
  // The root of an elementwise stage is computed, never loaded; a reduced operand may be
  // a buffer itself.
  const bool root_inline = s.kind == StageKind::Elementwise;
  std::vector<const ir::Node*> stack{s.expr.get()};
  std::unordered_set<const ir::Node*> seen;
  while (!stack.empty()) {
    const ir::Node* n = stack.back();
    stack.pop_back();
    if (!seen.insert(n).second) continue;
    int b = p_.buffer_of(n);
    if (b >= 0 && (n != s.expr.get() || !root_inline) && !ir::is_leaf(n->op)) {
      s.bound[n] = b;
      continue;
    }
    if (b >= 0 && (n->op == ir::Op::Input || n->op == ir::Op::Param)) continue;
    for (const ir::NodePtr& c : n->inputs) stack.push_back(c.get());
  }
}

void Lowerer::begin_phase() {
  for (auto it = p_.materialised.begin(); it != p_.materialised.end();)
    it = p_.buffers[it->second].batched ? p_.materialised.erase(it) : std::next(it);
}

void Lowerer::finish() {
  const int64_t align = 64;
  auto round = [&](int64_t bytes) { return (bytes + align - 1) / align * align; };
  p_.shared_bytes = p_.sample_bytes = 0;
  for (Buffer& b : p_.buffers) {
    if (b.kind != BufferKind::Temp) continue;
    int64_t bytes = round(b.elements() * p_.element_bytes());
    int64_t& total = b.batched ? p_.sample_bytes : p_.shared_bytes;
    b.ws_offset = total;
    total += bytes;
  }
}

Program lower_graphs(const std::vector<ir::NodePtr>& outputs, ir::DType dtype, int64_t small_einsum_work) {
  Program p;
  p.dtype = dtype;
  std::map<int, const ir::Node*> inputs;
  std::map<std::string, const ir::Node*> params;
  for (const ir::Node* n : ir::topological_order(outputs)) {
    if (n->dtype != dtype)
      throw Error("", std::string("codegen: graph node ") + ir::op_name(n->op) + " is " +
                          ir::dtype_name(n->dtype) + ", expected " + ir::dtype_name(dtype));
    if (n->op == ir::Op::Input) {
      auto [it, fresh] = inputs.emplace(n->attrs.index, n);
      if (!fresh && it->second->shape != n->shape)
        throw Error("", "codegen: input " + std::to_string(n->attrs.index) + " has shapes " +
                            shape_str(it->second->shape) + " and " + shape_str(n->shape));
    } else if (n->op == ir::Op::Param) {
      auto [it, fresh] = params.emplace(n->attrs.name, n);
      if (!fresh && it->second->shape != n->shape)
        throw Error("", "codegen: param " + n->attrs.name + " has shapes " +
                            shape_str(it->second->shape) + " and " + shape_str(n->shape));
    }
  }
  Lowerer low(p, outputs, small_einsum_work);
  for (auto& [index, n] : inputs) low.add_input(index, n->attrs.name, n->shape);
  for (auto& [name, n] : params) low.add_param(name, n->shape);
  std::vector<int> outs;
  for (size_t k = 0; k < outputs.size(); ++k)
    outs.push_back(low.add_output("out" + std::to_string(k), outputs[k]->shape,
                                  low.batched(low.rewritten(outputs[k]).get())));
  for (size_t k = 0; k < outputs.size(); ++k) low.emit(p.body, low.rewritten(outputs[k]), outs[k]);
  low.finish();
  return p;
}

}  // namespace hamux::codegen
