// compiler/frontend/ops.cpp - the ops of the model format and their lowering to IR primitives.
//
// The format offers NumPy-like ops (mean, square, matmul, dot, einsum in implicit mode,
// reshape with -1, ...); the IR has a small primitive set. Each op here checks its arity
// and attributes, then builds primitives through graph/builder.h. Shape errors name the op
// and both shapes; ir::ShapeError from the builder is turned into a located hamux::Error
// by the caller (Compiler::node).
#include <algorithm>
#include <functional>
#include <set>

#include "frontend/expr.h"
#include "graph/builder.h"

namespace hamux::frontend {

using ir::NodePtr;

namespace {

// Everything an op lowering needs: operands, attributes and a way to report.
struct Call {
  const std::string& op;
  const std::vector<NodePtr>& args;
  const AttrMap& attrs;
  const std::string& ptr;
  const Env& env;
  Compiler& c;
  int depth;

  [[noreturn]] void fail(const std::string& cause) const { c.fail(env, ptr, op + ": " + cause); }
  [[noreturn]] void fail_attr(const std::string& name, const std::string& cause) const {
    c.fail(env, attrs.at(name).ptr, op + ": " + cause);
  }
  const Json* attr(const std::string& name) const {
    auto it = attrs.find(name);
    return it == attrs.end() ? nullptr : &it->second.value;
  }
  ir::DType dtype() const { return c.dtype(); }
};

struct OpInfo {
  int min_args, max_args;  // max -1: unbounded
  std::vector<std::string> attrs;
  std::function<NodePtr(const Call&)> lower;
};

bool is_int(const Json& j) {
  return j.is_number_integer() && !(j.is_number_unsigned() && j.get<uint64_t>() > uint64_t{INT64_MAX});
}

// Reads an integer list attribute, or fails with `expected` in the message.
std::vector<int64_t> int_list(const Call& c, const std::string& name, const std::string& expected) {
  const Json& v = *c.attr(name);
  bool ok = v.is_array() && v.size() <= static_cast<size_t>(kMaxRank);
  for (size_t i = 0; ok && i < v.size(); ++i) ok = is_int(v[i]);
  if (!ok) c.fail_attr(name, "attribute \"" + name + "\" must be " + expected + ", got " + v.dump());
  return v.get<std::vector<int64_t>>();
}

int64_t normalise_axis(const Call& c, int64_t axis, const Shape& shape) {
  int64_t r = static_cast<int64_t>(shape.size());
  if (axis < -r || axis >= r)
    c.fail("axis " + std::to_string(axis) + " is out of range for shape " + shape_str(shape));
  return axis < 0 ? axis + r : axis;
}

// The "axis" attribute of a reduction: absent = all axes; an integer or a list.
std::vector<int64_t> reduction_axes(const Call& c, const Shape& shape) {
  std::vector<int64_t> axes;
  const Json* a = c.attr("axis");
  if (!a) {
    for (size_t i = 0; i < shape.size(); ++i) axes.push_back(static_cast<int64_t>(i));
    return axes;
  }
  std::vector<int64_t> raw;
  if (is_int(*a)) raw = {a->get<int64_t>()};
  else raw = int_list(c, "axis", "an integer or a list of integers");
  std::set<int64_t> seen;
  for (int64_t x : raw) {
    int64_t n = normalise_axis(c, x, shape);
    if (!seen.insert(n).second) c.fail("axis " + std::to_string(x) + " is repeated");
    axes.push_back(n);
  }
  std::sort(axes.begin(), axes.end());
  return axes;
}

bool keepdims(const Call& c) {
  const Json* k = c.attr("keepdims");
  if (!k) return false;
  if (!k->is_boolean()) c.fail_attr("keepdims", "attribute \"keepdims\" must be a boolean, got " + json_type(*k));
  return k->get<bool>();
}

int64_t single_axis(const Call& c, int64_t fallback) {
  const Json* a = c.attr("axis");
  if (!a) return fallback;
  if (!is_int(*a)) c.fail_attr("axis", "attribute \"axis\" must be an integer, got " + json_type(*a));
  return a->get<int64_t>();
}

NodePtr reduce(const Call& c, ir::Op op) {
  const NodePtr& x = c.args[0];
  std::vector<int64_t> axes = reduction_axes(c, x->shape);
  bool keep = keepdims(c);
  if (axes.empty()) return x;  // nothing to reduce (a scalar, or "axis": [])
  return ir::reduce(op, x, axes, keep);
}

NodePtr mean(const Call& c) {
  const NodePtr& x = c.args[0];
  std::vector<int64_t> axes = reduction_axes(c, x->shape);
  bool keep = keepdims(c);
  if (axes.empty()) return x;
  int64_t count = 1;
  for (int64_t a : axes) count *= x->shape[a];
  return ir::scale(1.0 / static_cast<double>(count), ir::reduce(ir::Op::Sum, x, axes, keep));
}

// "ab,bc" -> "ab,bc->ac": the output is every index that appears exactly once, sorted
// (NumPy's implicit mode). Explicit specs are checked for a repeated output index.
std::string explicit_spec(const Call& c, std::string spec) {
  spec.erase(std::remove(spec.begin(), spec.end(), ' '), spec.end());
  if (spec.find('.') != std::string::npos)
    c.fail("ellipsis ('...') is not supported in spec '" + spec + "'; name every axis");
  size_t arrow = spec.find("->");
  if (arrow == std::string::npos) {
    std::map<char, int> count;
    for (char ch : spec)
      if (ch != ',') ++count[ch];
    std::string out;
    for (auto [ch, n] : count)
      if (n == 1) out += ch;
    return spec + "->" + out;
  }
  std::string out = spec.substr(arrow + 2);
  for (size_t i = 0; i < out.size(); ++i)
    if (out.find(out[i], i + 1) != std::string::npos)
      c.fail("output index '" + std::string(1, out[i]) + "' is repeated in spec '" + spec + "'");
  return spec;
}

NodePtr einsum(const Call& c) {
  const Json* s = c.attr("spec");
  if (!s) c.fail("missing attribute \"spec\"");
  if (!s->is_string()) c.fail_attr("spec", "attribute \"spec\" must be a string, got " + json_type(*s));
  return ir::einsum(explicit_spec(c, s->get<std::string>()), c.args);
}

// NumPy matmul: 1-D operands are vectors, N-D operands stacks of matrices whose batch
// dimensions broadcast. Lowered to one einsum.
NodePtr matmul(const Call& c) {
  NodePtr a = c.args[0], b = c.args[1];
  const Shape sa = a->shape, sb = b->shape;
  const std::string both = "shapes " + shape_str(sa) + " and " + shape_str(sb);
  if (sa.empty() || sb.empty()) c.fail("operands must have at least one dimension, got " + both);
  const size_t ra = sa.size(), rb = sb.size();
  int64_t ka = sa[ra - 1], kb = rb == 1 ? sb[0] : sb[rb - 2];
  if (ka != kb) c.fail(both + " do not match");
  Shape ba(sa.begin(), sa.end() - std::min<size_t>(ra, 2)), bb(sb.begin(), sb.end() - std::min<size_t>(rb, 2));
  Shape batch;
  try {
    batch = ir::broadcast_shapes(ba, bb);
  } catch (const ir::ShapeError&) {
    c.fail("batch dimensions of " + both + " do not broadcast");
  }
  const std::string letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";  // batch axes; m, k, n are the matrix axes
  if (batch.size() > letters.size()) c.fail("too many batch dimensions in " + both);
  // An operand whose batch has a 1 where the batch is wider is broadcast explicitly;
  // missing leading batch axes need nothing (their letters come from the other operand).
  auto term = [&](NodePtr& x, const Shape& own, const std::string& mat) {
    std::string t;
    size_t off = batch.size() - own.size();
    bool needs_broadcast = false;
    for (size_t i = 0; i < own.size(); ++i) needs_broadcast |= own[i] != batch[off + i];
    if (needs_broadcast) {
      Shape target(batch.begin() + off, batch.end());
      target.insert(target.end(), x->shape.end() - 2, x->shape.end());
      x = ir::broadcast_to(x, target);
    }
    for (size_t i = 0; i < own.size(); ++i) t += letters[off + i];
    return t + mat;
  };
  std::string ta = term(a, ba, ra == 1 ? "k" : "mk");
  std::string tb = term(b, bb, rb == 1 ? "k" : "kn");
  std::string out = letters.substr(0, batch.size()) + (ra >= 2 ? "m" : "") + (rb >= 2 ? "n" : "");
  return ir::einsum(ta + "," + tb + "->" + out, {a, b});
}

// dot: operands of equal shape, contracted completely (1-D: the inner product).
NodePtr dot(const Call& c) {
  const NodePtr& a = c.args[0];
  const NodePtr& b = c.args[1];
  if (a->shape != b->shape)
    c.fail("shapes " + shape_str(a->shape) + " and " + shape_str(b->shape) + " do not match");
  if (a->shape.size() == 1) return ir::einsum("i,i->", {a, b});
  return ir::sum_all(ir::mul(a, b));
}

// contract: W [n1, ..., nk] with k operands; operand i is flattened and must have n_i
// elements. sum W_ij..l x1_i x2_j ... xk_l.
NodePtr contract(const Call& c) {
  const NodePtr& w = c.args[0];
  size_t k = c.args.size() - 1;
  if (w->shape.size() != k)
    c.fail("weight of shape " + shape_str(w->shape) + " has rank " + std::to_string(w->shape.size()) + " but " +
           std::to_string(k) + (k == 1 ? " tensor was" : " tensors were") + " given");
  if (k > 26) c.fail("at most 26 tensors can be contracted, got " + std::to_string(k));
  std::string spec(k, ' '), rest;
  std::vector<NodePtr> ops = {w};
  for (size_t i = 0; i < k; ++i) {
    const NodePtr& x = c.args[i + 1];
    int64_t n = num_elements(x->shape);
    if (n != w->shape[i])
      c.fail("operand " + std::to_string(i + 1) + " has shape " + shape_str(x->shape) + " (" + std::to_string(n) +
             " elements) but axis " + std::to_string(i) + " of the weight " + shape_str(w->shape) + " has size " +
             std::to_string(w->shape[i]));
    spec[i] = static_cast<char>('a' + i);
    rest += ',';
    rest += spec[i];
    ops.push_back(ir::reshape(x, {n}));
  }
  return ir::einsum(spec + rest + "->", ops);
}

NodePtr transpose(const Call& c) {
  const NodePtr& x = c.args[0];
  const int64_t r = static_cast<int64_t>(x->shape.size());
  std::vector<int64_t> perm;
  if (c.attr("perm")) {
    perm = int_list(c, "perm", "a list of integers");
    std::vector<bool> used(r, false);
    bool ok = static_cast<int64_t>(perm.size()) == r;
    for (int64_t& p : perm) {
      if (!ok) break;
      if (p < 0) p += r;
      ok = p >= 0 && p < r && !used[p];
      if (ok) used[p] = true;
    }
    if (!ok)
      c.fail("perm " + c.attr("perm")->dump() + " is not a permutation of the axes of shape " + shape_str(x->shape));
  } else {
    for (int64_t i = r - 1; i >= 0; --i) perm.push_back(i);
  }
  if (r == 0) return x;
  return ir::transpose(x, perm);
}

NodePtr reshape(const Call& c) {
  const NodePtr& x = c.args[0];
  if (!c.attr("shape")) c.fail("missing attribute \"shape\"");
  const std::string expected = "a list of positive integers with at most one -1";
  Shape shape = int_list(c, "shape", expected);
  int free_dims = 0;
  Shape known;
  for (int64_t d : shape) {
    if (d == -1) ++free_dims;
    else if (d < 1) free_dims = 2;
    else known.push_back(d);
  }
  if (free_dims > 1) c.fail_attr("shape", "attribute \"shape\" must be " + expected + ", got " + c.attr("shape")->dump());
  int64_t have = num_elements(x->shape);
  int64_t want = checked_elements(known);
  std::string target = c.attr("shape")->dump();
  auto mismatch = [&]() {
    c.fail("cannot reshape " + shape_str(x->shape) + " (" + std::to_string(have) + " elements) to " + target);
  };
  if (want < 0) mismatch();
  if (free_dims == 1) {
    if (have % want != 0) mismatch();
    for (int64_t& d : shape)
      if (d == -1) d = have / want;
  } else if (want != have) {
    mismatch();
  }
  return ir::reshape(x, shape);
}

NodePtr conv2d(const Call& c) {
  ir::Attrs a;
  a.strides = {1, 1};
  a.padding = "VALID";
  if (c.attr("strides")) {
    a.strides = int_list(c, "strides", "a list of 2 positive integers");
    if (a.strides.size() != 2 || a.strides[0] < 1 || a.strides[1] < 1)
      c.fail_attr("strides", "attribute \"strides\" must be a list of 2 positive integers, got " +
                                 c.attr("strides")->dump());
  }
  if (const Json* p = c.attr("padding")) {
    if (!p->is_string() || (p->get<std::string>() != "SAME" && p->get<std::string>() != "VALID"))
      c.fail_attr("padding", "attribute \"padding\" must be \"SAME\" or \"VALID\", got " + p->dump());
    a.padding = p->get<std::string>();
  }
  return ir::make(ir::Op::Conv2d, {c.args[0], c.args[1]}, a);
}

// avg_pool2d / max_pool2d: non-overlapping pooling windows (stride = window size) over
// the two spatial axes of an HWC tensor. Written with what the IR already has: split each
// spatial axis into (blocks, window) with a reshape, then reduce the two window axes.
NodePtr pool2d(const Call& c, ir::Op reduce_op) {
  const NodePtr& x = c.args[0];
  if (x->shape.size() != 3) c.fail("expected an [H,W,C] tensor, got shape " + shape_str(x->shape));
  if (!c.attr("size")) c.fail("missing attribute \"size\"");
  const std::string expected = "a list of 2 positive integers";
  std::vector<int64_t> size = int_list(c, "size", expected);
  if (size.size() != 2 || size[0] < 1 || size[1] < 1)
    c.fail_attr("size", "attribute \"size\" must be " + expected + ", got " + c.attr("size")->dump());
  const int64_t h = x->shape[0], w = x->shape[1], ch = x->shape[2];
  if (h % size[0] != 0 || w % size[1] != 0)
    c.fail("the spatial shape [" + std::to_string(h) + "," + std::to_string(w) +
           "] is not a multiple of the pool size [" + std::to_string(size[0]) + "," + std::to_string(size[1]) + "]");
  NodePtr blocks = ir::reshape(x, {h / size[0], size[0], w / size[1], size[1], ch});
  NodePtr r = ir::reduce(reduce_op, blocks, {1, 3}, false);
  if (reduce_op == ir::Op::Sum) r = ir::scale(1.0 / static_cast<double>(size[0] * size[1]), r);
  return r;
}

// eye: the identity matrix whose size is that of one axis of x (all of x without "axis").
// x only supplies the size, like `size`. The IR has no identity node; an einsum that
// repeats its output letter ("i->ii") puts a vector of ones on the diagonal.
NodePtr eye(const Call& c) {
  const NodePtr& x = c.args[0];
  int64_t n = num_elements(x->shape);
  if (c.attr("axis")) n = x->shape[normalise_axis(c, single_axis(c, 0), x->shape)];
  return ir::einsum("i->ii", {ir::constant(1.0, c.dtype(), {n})});
}

NodePtr size(const Call& c) {
  const NodePtr& x = c.args[0];
  if (!c.attr("axis")) return ir::constant(static_cast<double>(num_elements(x->shape)), c.dtype());
  int64_t axis = normalise_axis(c, single_axis(c, 0), x->shape);
  return ir::constant(static_cast<double>(x->shape[axis]), c.dtype());
}

NodePtr apply(const Call& c) {
  auto it = c.attrs.find("lagrangian");
  if (it == c.attrs.end()) c.fail("missing attribute \"lagrangian\"");
  return c.c.lagrangian(it->second.value, it->second.ptr, c.args[0], c.depth + 1);
}

std::function<NodePtr(const Call&)> unary(ir::Op op) {
  return [op](const Call& c) { return ir::unary(op, c.args[0]); };
}
std::function<NodePtr(const Call&)> binary(ir::Op op) {
  return [op](const Call& c) { return ir::binary(op, c.args[0], c.args[1]); };
}

const std::map<std::string, OpInfo>& op_table() {
  using ir::Op;
  static const std::map<std::string, OpInfo> table = {
      {"neg", {1, 1, {}, unary(Op::Neg)}},
      {"exp", {1, 1, {}, unary(Op::Exp)}},
      {"log", {1, 1, {}, unary(Op::Log)}},
      {"log1p", {1, 1, {}, unary(Op::Log1p)}},
      {"sqrt", {1, 1, {}, unary(Op::Sqrt)}},
      {"abs", {1, 1, {}, unary(Op::Abs)}},
      {"relu", {1, 1, {}, unary(Op::Relu)}},
      {"sigmoid", {1, 1, {}, unary(Op::Sigmoid)}},
      {"tanh", {1, 1, {}, unary(Op::Tanh)}},
      {"softplus", {1, 1, {}, unary(Op::Softplus)}},
      {"logcosh", {1, 1, {}, unary(Op::LogCosh)}},
      {"square", {1, 1, {}, [](const Call& c) { return ir::mul(c.args[0], c.args[0]); }}},
      {"add", {2, 2, {}, binary(Op::Add)}},
      {"sub", {2, 2, {}, binary(Op::Sub)}},
      {"mul", {2, 2, {}, binary(Op::Mul)}},
      {"div", {2, 2, {}, binary(Op::Div)}},
      {"pow", {2, 2, {}, binary(Op::Pow)}},
      {"min", {2, 2, {}, binary(Op::Min)}},
      // max: two operands elementwise, one operand a reduction.
      {"max", {1, 2, {"axis", "keepdims"}, [](const Call& c) {
         if (c.args.size() == 2) {
           if (!c.attrs.empty()) c.fail_attr(c.attrs.begin()->first, "attribute \"" + c.attrs.begin()->first +
                                                                          "\" applies only to the one-operand (reduction) form");
           return ir::binary(Op::Max, c.args[0], c.args[1]);
         }
         return reduce(c, Op::ReduceMax);
       }}},
      {"sum", {1, 1, {"axis", "keepdims"}, [](const Call& c) { return reduce(c, Op::Sum); }}},
      {"mean", {1, 1, {"axis", "keepdims"}, mean}},
      {"logsumexp", {1, 1, {"axis", "keepdims"}, [](const Call& c) { return reduce(c, Op::LogSumExp); }}},
      {"softmax", {1, 1, {"axis"}, [](const Call& c) {
         return ir::softmax(c.args[0], normalise_axis(c, single_axis(c, -1), c.args[0]->shape));
       }}},
      {"matmul", {2, 2, {}, matmul}},
      {"dot", {2, 2, {}, dot}},
      {"einsum", {1, -1, {"spec"}, einsum}},
      {"contract", {2, -1, {}, contract}},
      {"transpose", {1, 1, {"perm"}, transpose}},
      {"reshape", {1, 1, {"shape"}, reshape}},
      {"conv2d", {2, 2, {"strides", "padding"}, conv2d}},
      {"avg_pool2d", {1, 1, {"size"}, [](const Call& c) { return pool2d(c, Op::Sum); }}},
      {"max_pool2d", {1, 1, {"size"}, [](const Call& c) { return pool2d(c, Op::ReduceMax); }}},
      {"size", {1, 1, {"axis"}, size}},
      {"eye", {1, 1, {"axis"}, eye}},
      {"apply", {1, 1, {"lagrangian"}, apply}},
  };
  return table;
}

std::string arity_str(const OpInfo& info) {
  if (info.max_args < 0) return "at least " + std::to_string(info.min_args) + " operand" + (info.min_args == 1 ? "" : "s");
  if (info.min_args == info.max_args)
    return std::to_string(info.min_args) + " operand" + (info.min_args == 1 ? "" : "s");
  return std::to_string(info.min_args) + " or " + std::to_string(info.max_args) + " operands";
}

}  // namespace

bool is_format_op(const std::string& name) { return op_table().count(name) > 0; }

NodePtr Compiler::lower(const std::string& op, const std::vector<NodePtr>& args, const AttrMap& attrs,
                        const std::string& ptr, const Env& env, int depth) {
  const OpInfo& info = op_table().at(op);
  int n = static_cast<int>(args.size());
  if (n < info.min_args || (info.max_args >= 0 && n > info.max_args))
    fail(env, ptr, op + ": expects " + arity_str(info) + ", got " + std::to_string(n));
  for (const auto& [name, val] : attrs) {
    if (std::find(info.attrs.begin(), info.attrs.end(), name) != info.attrs.end()) continue;
    std::string list;
    for (const std::string& a : info.attrs) list += (list.empty() ? "" : ", ") + a;
    fail(env, val.ptr, op + ": unknown attribute \"" + name + "\"" +
                           (list.empty() ? " (it takes none)" : " (expected " + list + ")"));
  }
  Call call{op, args, attrs, ptr, env, *this, depth};
  return info.lower(call);
}

}  // namespace hamux::frontend
