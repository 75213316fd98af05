// compiler/interp/interpreter.cpp - evaluate<T>: bindings, the per-sample walk, rounding.
//
// Semantics: every node is computed in double from its (already T-rounded) inputs, then
// rounded to T (ops.h explains why). For T = double the rounding is the identity. The
// graph's own dtype is not consulted: a float32 graph may be evaluated in double, which is
// how a float64 reference for a float32 model is obtained.
#include <unordered_map>

#include "graph/internal_error.h"
#include "hamux/error.h"
#include "interp/interpreter.h"
#include "graph/scalar_ops.h"
#include "interp/ops.h"

namespace hamux::interp {

namespace {

using detail::Values;

[[noreturn]] void fail(const std::string& cause) { throw Error("evaluate", cause); }

std::string quoted(const std::string& name) { return "'" + name + "'"; }

// A tensor whose data does not fill its shape must not be read.
template <class T>
void check_size(const Tensor<T>& t, const std::string& what) {
  if (t.size() != num_elements(t.shape))
    fail(what + " holds " + std::to_string(t.size()) + " values but its shape " +
         shape_str(t.shape) + " needs " + std::to_string(num_elements(t.shape)));
}

// Checks every Input and Param the graph reads before anything is evaluated.
template <class T>
void check_bindings(const std::vector<const ir::Node*>& order, const std::vector<Tensor<T>>& inputs,
                    const ParamValues<T>& params, int64_t batch) {
  for (const ir::Node* n : order) {
    if (n->op == ir::Op::Input) {
      std::string what = "input " + std::to_string(n->attrs.index) + " (" + quoted(n->attrs.name) + ")";
      if (n->attrs.index < 0 || n->attrs.index >= static_cast<int>(inputs.size()))
        fail(what + " is missing: " + std::to_string(inputs.size()) + " input tensors were given");
      const Tensor<T>& t = inputs[n->attrs.index];
      Shape expected = n->shape;
      expected.insert(expected.begin(), batch);
      if (t.shape != expected) {
        bool only_batch = t.rank() == static_cast<int>(expected.size()) && t.rank() > 0 &&
                          Shape(t.shape.begin() + 1, t.shape.end()) == n->shape;
        if (only_batch)
          fail(what + " has batch size " + std::to_string(t.shape[0]) + " but the batch is " +
               std::to_string(batch));
        fail(what + " has shape " + shape_str(t.shape) + " but " + shape_str(expected) +
             " was expected");
      }
      check_size(t, what);
    } else if (n->op == ir::Op::Param) {
      std::string what = "param " + quoted(n->attrs.name);
      auto it = params.find(n->attrs.name);
      if (it == params.end()) fail(what + " is missing");
      if (it->second.shape != n->shape)
        fail(what + " has shape " + shape_str(it->second.shape) + " but " + shape_str(n->shape) +
             " was expected");
      check_size(it->second, what);
    }
  }
}

// One non-leaf node from the values of its inputs.
Values eval_op(const ir::Node& n, const std::vector<const Values*>& in) {
  using ir::Op;
  const ir::Attrs& a = n.attrs;
  if (ir::is_unary(n.op)) {
    Values out = *in[0];
    for (double& v : out.data) v = ir::eval_unary(n.op, v);
    return out;
  }
  if (ir::is_binary(n.op)) {
    Values out(n.shape);
    for (int64_t i = 0; i < out.size(); ++i)
      out.data[i] = ir::eval_binary(n.op, in[0]->data[i], in[1]->data[i]);
    return out;
  }
  if (ir::is_reduction(n.op)) return detail::reduce(n.op, *in[0], a.axes, n.shape);
  switch (n.op) {
    case Op::Broadcast: return detail::broadcast(*in[0], n.shape);
    case Op::Reshape: return Values(n.shape, in[0]->data);
    case Op::Transpose: return detail::transpose(*in[0], a.axes);
    case Op::Einsum: return detail::einsum(a.spec, in, n.shape);
    case Op::Conv2d: return detail::conv2d(*in[0], *in[1], a.strides, a.padding);
    case Op::Conv2dInputGrad:
      return detail::conv2d_input_grad(*in[0], *in[1], a.shape, a.strides, a.padding);
    case Op::Conv2dKernelGrad:
      return detail::conv2d_kernel_grad(*in[0], *in[1], a.shape, a.strides, a.padding);
    default: break;
  }
  HAMUX_INTERNAL(std::string("interp: unhandled op ") + ir::op_name(n.op));
}

template <class T>
void round_to(Values& v) {
  for (double& x : v.data) x = static_cast<double>(static_cast<T>(x));
}

}  // namespace

template <class T>
std::vector<Tensor<T>> evaluate(const std::vector<ir::NodePtr>& outputs,
                                const std::vector<Tensor<T>>& inputs,
                                const ParamValues<T>& params, int64_t batch) {
  if (batch < 0) fail("batch must be non-negative, got " + std::to_string(batch));
  for (size_t j = 0; j < outputs.size(); ++j)
    if (!outputs[j]) fail("output " + std::to_string(j) + " is null");
  std::vector<const ir::Node*> order = ir::topological_order(outputs);
  check_bindings(order, inputs, params, batch);

  // Params are shared by all samples: convert them once (T -> double is exact).
  std::unordered_map<const ir::Node*, Values> shared;
  for (const ir::Node* n : order)
    if (n->op == ir::Op::Param) shared[n] = params.at(n->attrs.name).template cast<double>();

  std::vector<Tensor<T>> results;
  for (const ir::NodePtr& out : outputs) {
    Shape s = out->shape;
    s.insert(s.begin(), batch);
    results.emplace_back(s);
  }

  for (int64_t b = 0; b < batch; ++b) {
    std::unordered_map<const ir::Node*, Values> value;
    auto value_of = [&](const ir::Node* n) -> const Values& {
      auto it = shared.find(n);
      return it != shared.end() ? it->second : value.at(n);
    };
    for (const ir::Node* n : order) {
      switch (n->op) {
        case ir::Op::Param: continue;
        case ir::Op::Const:
          value[n] = Values(n->shape, static_cast<double>(static_cast<T>(n->attrs.value)));
          continue;
        case ir::Op::Input: {
          // Sample b of input i: a contiguous block of the [batch, ...] tensor.
          const Tensor<T>& t = inputs[n->attrs.index];
          int64_t len = num_elements(n->shape);
          value[n] = Values(n->shape, std::vector<double>(t.data.begin() + b * len,
                                                          t.data.begin() + (b + 1) * len));
          continue;
        }
        default: break;
      }
      std::vector<const Values*> in;
      for (const ir::NodePtr& i : n->inputs) in.push_back(&value_of(i.get()));
      Values v = eval_op(*n, in);
      round_to<T>(v);
      value[n] = std::move(v);
    }
    for (size_t j = 0; j < outputs.size(); ++j) {
      const Values& v = value_of(outputs[j].get());
      std::copy(v.data.begin(), v.data.end(), results[j].data.begin() + b * v.size());
    }
  }
  return results;
}

template std::vector<Tensor<float>> evaluate<float>(const std::vector<ir::NodePtr>&,
                                                    const std::vector<Tensor<float>>&,
                                                    const ParamValues<float>&, int64_t);
template std::vector<Tensor<double>> evaluate<double>(const std::vector<ir::NodePtr>&,
                                                      const std::vector<Tensor<double>>&,
                                                      const ParamValues<double>&, int64_t);

}  // namespace hamux::interp
