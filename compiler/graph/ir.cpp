// compiler/graph/ir.cpp - node construction, shape inference and structural hashing.
#include "graph/ir.h"

#include "graph/node_map.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <set>

namespace hamux::ir {

const char* dtype_name(DType t) { return t == DType::F32 ? "float32" : "float64"; }

const char* op_name(Op op) {
  switch (op) {
    case Op::Const: return "const";
    case Op::Input: return "input";
    case Op::Param: return "param";
    case Op::Neg: return "neg";
    case Op::Exp: return "exp";
    case Op::Log: return "log";
    case Op::Log1p: return "log1p";
    case Op::Sqrt: return "sqrt";
    case Op::Abs: return "abs";
    case Op::Sign: return "sign";
    case Op::Step: return "step";
    case Op::Relu: return "relu";
    case Op::Sigmoid: return "sigmoid";
    case Op::Tanh: return "tanh";
    case Op::Softplus: return "softplus";
    case Op::LogCosh: return "logcosh";
    case Op::Add: return "add";
    case Op::Sub: return "sub";
    case Op::Mul: return "mul";
    case Op::Div: return "div";
    case Op::Pow: return "pow";
    case Op::Max: return "max";
    case Op::Min: return "min";
    case Op::Greater: return "greater";
    case Op::Equal: return "equal";
    case Op::Sum: return "sum";
    case Op::ReduceMax: return "reduce_max";
    case Op::LogSumExp: return "logsumexp";
    case Op::Broadcast: return "broadcast";
    case Op::Reshape: return "reshape";
    case Op::Transpose: return "transpose";
    case Op::Einsum: return "einsum";
    case Op::Conv2d: return "conv2d";
    case Op::Conv2dInputGrad: return "conv2d_input_grad";
    case Op::Conv2dKernelGrad: return "conv2d_kernel_grad";
  }
  return "?";
}

// The first destructor on a thread collects the inputs to release and releases them in a
// loop; the destructors that loop runs (while `pending` is set) only hand their inputs on.
Node::~Node() {
  thread_local std::vector<NodePtr>* pending = nullptr;
  if (pending) {
    for (NodePtr& in : inputs) pending->push_back(std::move(in));
    return;
  }
  std::vector<NodePtr> work(std::make_move_iterator(inputs.begin()), std::make_move_iterator(inputs.end()));
  pending = &work;
  while (!work.empty()) {
    NodePtr n = std::move(work.back());
    work.pop_back();
    n.reset();
  }
  pending = nullptr;
}

bool is_leaf(Op op) { return op == Op::Const || op == Op::Input || op == Op::Param; }
bool is_unary(Op op) { return op >= Op::Neg && op <= Op::LogCosh; }
bool is_binary(Op op) { return op >= Op::Add && op <= Op::Equal; }
bool is_reduction(Op op) { return op == Op::Sum || op == Op::ReduceMax || op == Op::LogSumExp; }

bool is_contraction(Op op) {
  return op == Op::Einsum || op == Op::Conv2d || op == Op::Conv2dInputGrad || op == Op::Conv2dKernelGrad;
}

int op_arity(Op op) {
  if (is_leaf(op)) return 0;
  if (is_unary(op) || is_reduction(op)) return 1;
  if (is_binary(op)) return 2;
  switch (op) {
    case Op::Broadcast:
    case Op::Reshape:
    case Op::Transpose: return 1;
    case Op::Einsum: return -1;
    default: return 2;  // conv ops
  }
}

namespace {

uint64_t mix(uint64_t h, uint64_t v) {
  // boost::hash_combine-style mixing on 64 bits.
  return h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 12) + (h >> 4));
}
uint64_t hash_str(const std::string& s) { return std::hash<std::string>{}(s); }
uint64_t hash_double(double d) {
  if (d == 0.0) d = 0.0;  // +0 and -0 hash alike; equality below still tells them apart
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  return bits;
}

uint64_t compute_hash(const Node& n, const std::vector<NodePtr>& inputs) {
  uint64_t h = mix(static_cast<uint64_t>(n.op), static_cast<uint64_t>(n.dtype));
  for (int64_t d : n.shape) h = mix(h, static_cast<uint64_t>(d));
  const Attrs& a = n.attrs;
  h = mix(h, hash_double(a.value));
  h = mix(h, static_cast<uint64_t>(a.index + 1));
  h = mix(h, hash_str(a.name));
  for (int64_t x : a.axes) h = mix(h, static_cast<uint64_t>(x) + 101);
  h = mix(h, a.keepdims);
  for (int64_t x : a.shape) h = mix(h, static_cast<uint64_t>(x) + 211);
  h = mix(h, hash_str(a.spec));
  for (int64_t x : a.strides) h = mix(h, static_cast<uint64_t>(x) + 307);
  h = mix(h, hash_str(a.padding));
  for (const NodePtr& in : inputs) h = mix(h, in->hash);
  return h;
}
uint64_t compute_hash(const Node& n) { return compute_hash(n, n.inputs); }

bool same_attrs(const Attrs& a, const Attrs& b) {
  // Compare constants bitwise so that 0.0 and -0.0 (and NaNs) are distinguished exactly.
  return std::memcmp(&a.value, &b.value, sizeof(double)) == 0 && a.index == b.index &&
         a.name == b.name && a.axes == b.axes && a.keepdims == b.keepdims &&
         a.shape == b.shape && a.spec == b.spec && a.strides == b.strides &&
         a.padding == b.padding;
}

[[noreturn]] void fail(const std::string& msg) { throw ShapeError(msg); }

std::string axes_str(const std::vector<int64_t>& axes) { return shape_str(axes); }

// Normalise reduction axes against `rank`: negative -> positive, sorted, unique.
std::vector<int64_t> normalise_axes(const std::vector<int64_t>& axes, size_t rank,
                                    const char* what) {
  std::set<int64_t> out;
  for (int64_t a : axes) {
    int64_t r = static_cast<int64_t>(rank);
    if (a < -r || a >= r)
      fail(std::string(what) + ": axis " + std::to_string(a) + " is out of range for rank " +
           std::to_string(rank));
    if (!out.insert(a < 0 ? a + r : a).second)
      fail(std::string(what) + ": axis " + std::to_string(a) + " is repeated");
  }
  return {out.begin(), out.end()};
}

Shape infer_einsum(const std::string& spec, const std::vector<NodePtr>& in) {
  EinsumSpec s = parse_einsum(spec);
  if (s.operands.size() != in.size())
    fail("einsum: spec '" + spec + "' has " + std::to_string(s.operands.size()) +
         " operands but " + std::to_string(in.size()) + " were given");
  std::map<char, int64_t> size;
  for (size_t k = 0; k < in.size(); ++k) {
    const std::string& term = s.operands[k];
    if (term.size() != in[k]->shape.size())
      fail("einsum: operand " + std::to_string(k) + " has shape " + shape_str(in[k]->shape) +
           " but '" + term + "' names " + std::to_string(term.size()) + " axes");
    for (size_t i = 0; i < term.size(); ++i) {
      auto [it, fresh] = size.emplace(term[i], in[k]->shape[i]);
      if (!fresh && it->second != in[k]->shape[i])
        fail("einsum: index '" + std::string(1, term[i]) + "' has size " +
             std::to_string(it->second) + " and " + std::to_string(in[k]->shape[i]) +
             " in '" + spec + "'");
    }
  }
  Shape out;
  for (char c : s.output) {
    auto it = size.find(c);
    if (it == size.end())
      fail("einsum: output index '" + std::string(1, c) + "' does not appear in any operand of '" +
           spec + "'");
    out.push_back(it->second);
  }
  return out;
}

void check_conv_attrs(const Attrs& a, const char* what) {
  if (a.strides.size() != 2 || a.strides[0] < 1 || a.strides[1] < 1)
    fail(std::string(what) + ": strides must be two positive integers, got " +
         shape_str(a.strides));
  if (a.padding != "SAME" && a.padding != "VALID")
    fail(std::string(what) + ": padding must be \"SAME\" or \"VALID\", got \"" + a.padding + "\"");
}

Shape infer_conv2d(const Shape& x, const Shape& k, const Attrs& a, const char* what) {
  check_conv_attrs(a, what);
  if (x.size() != 3)
    fail(std::string(what) + ": input must have shape [H,W,C], got " + shape_str(x));
  if (k.size() != 4)
    fail(std::string(what) + ": kernel must have shape [KH,KW,C,O], got " + shape_str(k));
  if (x[2] != k[2])
    fail(std::string(what) + ": input has " + std::to_string(x[2]) + " channels but kernel " +
         shape_str(k) + " expects " + std::to_string(k[2]));
  ConvGeometry g = conv_geometry(x[0], x[1], k[0], k[1], a.strides[0], a.strides[1], a.padding);
  if (g.out_h < 1 || g.out_w < 1)
    fail(std::string(what) + ": kernel " + shape_str(k) + " is larger than input " +
         shape_str(x) + " with VALID padding");
  return {g.out_h, g.out_w, k[3]};
}

Shape infer_shape(Op op, const std::vector<NodePtr>& in, Attrs& a) {
  const char* name = op_name(op);
  if (is_leaf(op)) return a.shape;
  if (is_unary(op)) return in[0]->shape;
  if (is_binary(op)) {
    if (in[0]->shape != in[1]->shape)
      fail(std::string(name) + ": shapes " + shape_str(in[0]->shape) + " and " +
           shape_str(in[1]->shape) + " differ (broadcast explicitly)");
    return in[0]->shape;
  }
  if (is_reduction(op)) {
    const Shape& s = in[0]->shape;
    if (a.axes.empty())
      fail(std::string(name) + ": no axes given");
    a.axes = normalise_axes(a.axes, s.size(), name);
    Shape out;
    for (size_t i = 0; i < s.size(); ++i) {
      bool reduced = std::binary_search(a.axes.begin(), a.axes.end(), static_cast<int64_t>(i));
      if (!reduced) out.push_back(s[i]);
      else if (a.keepdims) out.push_back(1);
    }
    return out;
  }
  switch (op) {
    case Op::Broadcast: {
      const Shape& s = in[0]->shape;
      const Shape& t = a.shape;
      bool ok = s.size() <= t.size();
      for (size_t i = 0; ok && i < s.size(); ++i) {
        int64_t sd = s[s.size() - 1 - i], td = t[t.size() - 1 - i];
        ok = (sd == td || sd == 1);
      }
      if (!ok) fail("broadcast: cannot broadcast " + shape_str(s) + " to " + shape_str(t));
      return t;
    }
    case Op::Reshape: {
      for (int64_t d : a.shape)
        if (d < 0) fail("reshape: negative dimension in " + shape_str(a.shape));
      if (num_elements(a.shape) != num_elements(in[0]->shape))
        fail("reshape: cannot reshape " + shape_str(in[0]->shape) + " (" +
             std::to_string(num_elements(in[0]->shape)) + " elements) to " + shape_str(a.shape) +
             " (" + std::to_string(num_elements(a.shape)) + " elements)");
      return a.shape;
    }
    case Op::Transpose: {
      const Shape& s = in[0]->shape;
      std::vector<int64_t> perm = a.axes;
      if (perm.size() != s.size())
        fail("transpose: permutation " + axes_str(perm) + " does not match rank " +
             std::to_string(s.size()) + " of " + shape_str(s));
      std::vector<int64_t> sorted = normalise_axes(perm, s.size(), "transpose");
      (void)sorted;  // throws on a repeat or out-of-range axis
      for (auto& p : perm)
        if (p < 0) p += static_cast<int64_t>(s.size());
      a.axes = perm;
      Shape out;
      for (int64_t p : perm) out.push_back(s[p]);
      return out;
    }
    case Op::Einsum: return infer_einsum(a.spec, in);
    case Op::Conv2d: return infer_conv2d(in[0]->shape, in[1]->shape, a, "conv2d");
    case Op::Conv2dInputGrad: {
      // g = conv2d(x, k) must have g's shape for x of shape attrs.shape.
      Shape g = infer_conv2d(a.shape, in[1]->shape, a, name);
      if (g != in[0]->shape)
        fail(std::string(name) + ": gradient shape " + shape_str(in[0]->shape) +
             " does not match conv2d output " + shape_str(g));
      return a.shape;
    }
    case Op::Conv2dKernelGrad: {
      Shape g = infer_conv2d(in[0]->shape, a.shape, a, name);
      if (g != in[1]->shape)
        fail(std::string(name) + ": gradient shape " + shape_str(in[1]->shape) +
             " does not match conv2d output " + shape_str(g));
      return a.shape;
    }
    default: break;
  }
  fail(std::string("unknown op ") + name);
}

}  // namespace

NodePtr make(Op op, std::vector<NodePtr> inputs, Attrs attrs) {
  int arity = op_arity(op);
  if (arity >= 0 && static_cast<int>(inputs.size()) != arity)
    fail(std::string(op_name(op)) + ": expects " + std::to_string(arity) + " inputs, got " +
         std::to_string(inputs.size()));
  if (arity < 0 && inputs.empty()) fail(std::string(op_name(op)) + ": expects at least 1 input");
  for (const NodePtr& in : inputs)
    if (!in) fail(std::string(op_name(op)) + ": missing input");
  auto node = std::make_shared<Node>();
  node->op = op;
  node->dtype = inputs.empty() ? DType::F64 : inputs[0]->dtype;
  for (const NodePtr& in : inputs)
    if (in->dtype != node->dtype)
      fail(std::string(op_name(op)) + ": mixes " + dtype_name(node->dtype) + " and " +
           dtype_name(in->dtype));
  node->shape = infer_shape(op, inputs, attrs);
  node->inputs = std::move(inputs);
  node->attrs = std::move(attrs);
  node->hash = compute_hash(*node);
  return node;
}

namespace {
NodePtr make_leaf(Op op, Attrs attrs, DType dtype) {
  for (int64_t d : attrs.shape)
    if (d < 0) fail(std::string(op_name(op)) + ": negative dimension in " + shape_str(attrs.shape));
  auto node = std::make_shared<Node>();
  node->op = op;
  node->dtype = dtype;
  node->shape = attrs.shape;
  node->attrs = std::move(attrs);
  node->hash = compute_hash(*node);
  return node;
}
}  // namespace

NodePtr constant(double value, DType dtype, Shape shape) {
  Attrs a;
  a.value = value;
  a.shape = std::move(shape);
  return make_leaf(Op::Const, std::move(a), dtype);
}

NodePtr input(int index, const std::string& name, const Shape& shape, DType dtype) {
  Attrs a;
  a.index = index;
  a.name = name;
  a.shape = shape;
  return make_leaf(Op::Input, std::move(a), dtype);
}

NodePtr param(const std::string& name, const Shape& shape, DType dtype) {
  Attrs a;
  a.name = name;
  a.shape = shape;
  return make_leaf(Op::Param, std::move(a), dtype);
}

uint64_t hash_with_inputs(const Node& n, const std::vector<NodePtr>& inputs) {
  return compute_hash(n, inputs);
}

bool attrs_equal(const Attrs& a, const Attrs& b) { return same_attrs(a, b); }

Shape keepdims_shape(const Node& reduction) {
  Shape s = reduction.inputs.at(0)->shape;
  for (int64_t a : reduction.attrs.axes) s[static_cast<size_t>(a)] = 1;
  return s;
}

bool structurally_equal(const NodePtr& a, const NodePtr& b) {
  if (a == b) return true;
  if (!a || !b) return false;
  if (a->hash != b->hash || a->op != b->op || a->dtype != b->dtype || a->shape != b->shape ||
      a->inputs.size() != b->inputs.size() || !same_attrs(a->attrs, b->attrs))
    return false;
  for (size_t i = 0; i < a->inputs.size(); ++i)
    if (!structurally_equal(a->inputs[i], b->inputs[i])) return false;
  return true;
}

Numbering number_nodes(const std::vector<NodePtr>& roots) {
  Numbering num;
  // Iterative post-order DFS: graphs from deep random tests must not overflow the stack.
  // A node is in `position` from when it is first reached, with kAbsent until it is placed.
  std::vector<std::pair<const NodePtr*, size_t>> stack;
  for (const NodePtr& r : roots) {
    if (!r || !num.position.insert(r.get(), NodeMap::kAbsent)) continue;
    stack.push_back({&r, 0});
    while (!stack.empty()) {
      auto& [n, next] = stack.back();
      const std::vector<NodePtr>& inputs = (*n)->inputs;
      if (next < inputs.size()) {
        const NodePtr& child = inputs[next++];
        if (num.position.insert(child.get(), NodeMap::kAbsent)) stack.push_back({&child, 0});
      } else {
        num.position.set(n->get(), static_cast<uint32_t>(num.order.size()));
        num.order.push_back(n);
        stack.pop_back();
      }
    }
  }
  return num;
}

std::vector<const Node*> topological_order(const std::vector<NodePtr>& roots) {
  std::vector<const Node*> order;
  std::vector<std::pair<const Node*, size_t>> stack;
  NodeMap seen;  // values unused
  for (const NodePtr& r : roots) {
    if (!r || !seen.insert(r.get(), 0)) continue;
    stack.push_back({r.get(), 0});
    while (!stack.empty()) {
      auto& [n, next] = stack.back();
      if (next < n->inputs.size()) {
        const Node* child = n->inputs[next++].get();
        if (seen.insert(child, 0)) stack.push_back({child, 0});
      } else {
        order.push_back(n);
        stack.pop_back();
      }
    }
  }
  return order;
}

ConvGeometry conv_geometry(int64_t in_h, int64_t in_w, int64_t k_h, int64_t k_w, int64_t stride_h,
                           int64_t stride_w, const std::string& padding) {
  ConvGeometry g{};
  if (padding == "SAME") {
    g.out_h = (in_h + stride_h - 1) / stride_h;
    g.out_w = (in_w + stride_w - 1) / stride_w;
    int64_t pad_h = std::max<int64_t>((g.out_h - 1) * stride_h + k_h - in_h, 0);
    int64_t pad_w = std::max<int64_t>((g.out_w - 1) * stride_w + k_w - in_w, 0);
    g.pad_top = pad_h / 2;  // TensorFlow/XLA: the extra row of odd padding goes at the bottom
    g.pad_left = pad_w / 2;
  } else {
    g.out_h = in_h >= k_h ? (in_h - k_h) / stride_h + 1 : 0;
    g.out_w = in_w >= k_w ? (in_w - k_w) / stride_w + 1 : 0;
    g.pad_top = g.pad_left = 0;
  }
  return g;
}

EinsumSpec parse_einsum(const std::string& spec) {
  size_t arrow = spec.find("->");
  if (arrow == std::string::npos) fail("einsum: spec '" + spec + "' has no '->'");
  EinsumSpec s;
  std::string lhs = spec.substr(0, arrow);
  s.output = spec.substr(arrow + 2);
  size_t start = 0;
  while (true) {
    size_t comma = lhs.find(',', start);
    s.operands.push_back(lhs.substr(start, comma == std::string::npos ? std::string::npos
                                                                      : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  auto check_letters = [&](const std::string& term) {
    for (char c : term)
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
        fail("einsum: spec '" + spec + "' has invalid character '" + std::string(1, c) + "'");
  };
  for (const std::string& t : s.operands) check_letters(t);
  check_letters(s.output);
  return s;
}

}  // namespace hamux::ir
