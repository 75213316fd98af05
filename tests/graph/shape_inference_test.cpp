// tests/graph/shape_inference_test.cpp - the shape `make` infers for every op, attribute
// normalisation, and every ShapeError message (exact text).
#include <gtest/gtest.h>

#include "graph/builder.h"
#include "graph/ir.h"

namespace hamux::ir {
namespace {

constexpr DType F32 = DType::F32;

NodePtr in(const Shape& s, DType t = F32) { return input(0, "x", s, t); }

Attrs axes_attrs(std::vector<int64_t> axes, bool keepdims = false) {
  Attrs a;
  a.axes = std::move(axes);
  a.keepdims = keepdims;
  return a;
}

Attrs conv_attrs(std::vector<int64_t> strides, const std::string& padding, Shape shape = {}) {
  Attrs a;
  a.strides = std::move(strides);
  a.padding = padding;
  a.shape = std::move(shape);
  return a;
}

// The message of the ShapeError that `f` throws.
template <class F>
std::string shape_error(F f) {
  try {
    f();
  } catch (const ShapeError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ShapeInference, Leaves) {
  EXPECT_EQ(constant(1.5, F32, {2, 3})->shape, (Shape{2, 3}));
  EXPECT_EQ(constant(1.5, F32)->shape, Shape{});
  NodePtr x = input(2, "h", {4}, DType::F64);
  EXPECT_EQ(x->shape, Shape{4});
  EXPECT_EQ(x->dtype, DType::F64);
  EXPECT_EQ(x->attrs.index, 2);
  EXPECT_EQ(x->attrs.name, "h");
  EXPECT_EQ(param("W", {3, 4}, F32)->shape, (Shape{3, 4}));
  EXPECT_EQ(shape_error([] { param("W", {-2}, F32); }), "param: negative dimension in [-2]");
  EXPECT_EQ(shape_error([] { input(0, "x", {3, -1}, F32); }), "input: negative dimension in [3,-1]");
}

TEST(ShapeInference, ElementwiseKeepTheShape) {
  NodePtr x = in({2, 3});
  for (Op op : {Op::Neg, Op::Exp, Op::Log, Op::Log1p, Op::Sqrt, Op::Abs, Op::Sign, Op::Step,
                Op::Relu, Op::Sigmoid, Op::Tanh, Op::Softplus, Op::LogCosh}) {
    EXPECT_TRUE(is_unary(op));
    EXPECT_EQ(make(op, {x})->shape, (Shape{2, 3})) << op_name(op);
  }
  for (Op op : {Op::Add, Op::Sub, Op::Mul, Op::Div, Op::Pow, Op::Max, Op::Min, Op::Greater,
                Op::Equal}) {
    EXPECT_TRUE(is_binary(op));
    EXPECT_EQ(make(op, {x, x})->shape, (Shape{2, 3})) << op_name(op);
  }
  EXPECT_EQ(make(Op::Exp, {x})->dtype, F32);
}

TEST(ShapeInference, BinaryNeedsEqualShapesButTheBuilderBroadcasts) {
  NodePtr a = in({3, 1}), b = in({4});
  EXPECT_EQ(shape_error([&] { make(Op::Add, {a, b}); }),
            "add: shapes [3,1] and [4] differ (broadcast explicitly)");
  NodePtr s = add(a, b);
  EXPECT_EQ(s->shape, (Shape{3, 4}));
  EXPECT_EQ(s->inputs[0]->op, Op::Broadcast);
  EXPECT_EQ(s->inputs[1]->op, Op::Broadcast);
  // Constants are re-made at the target shape instead of broadcast.
  NodePtr c = mul(constant(2.0, F32), a);
  EXPECT_EQ(c->inputs[0]->op, Op::Const);
  EXPECT_EQ(c->inputs[0]->shape, (Shape{3, 1}));
  EXPECT_EQ(broadcast_shapes({2, 1, 3}, {4, 1}), (Shape{2, 4, 3}));
  EXPECT_EQ(broadcast_shapes({}, {5}), (Shape{5}));
  EXPECT_EQ(shape_error([] { broadcast_shapes({3, 4}, {5}); }), "shapes [3,4] and [5] do not broadcast");
  EXPECT_EQ(shape_error([] { add(in({3, 4}), in({5})); }), "add: shapes [3,4] and [5] do not broadcast");
  EXPECT_EQ(shape_error([] { div(in({2}), in({3})); }), "div: shapes [2] and [3] do not broadcast");
}

TEST(ShapeInference, Reductions) {
  NodePtr x = in({2, 3, 4});
  for (Op op : {Op::Sum, Op::ReduceMax, Op::LogSumExp}) {
    EXPECT_TRUE(is_reduction(op));
    EXPECT_EQ(make(op, {x}, axes_attrs({1}))->shape, (Shape{2, 4}));
    EXPECT_EQ(make(op, {x}, axes_attrs({1}, true))->shape, (Shape{2, 1, 4}));
    NodePtr r = make(op, {x}, axes_attrs({-1, 0}));
    EXPECT_EQ(r->shape, (Shape{3}));
    EXPECT_EQ(r->attrs.axes, (std::vector<int64_t>{0, 2}));  // normalised: sorted, non-negative
    EXPECT_EQ(make(op, {x}, axes_attrs({0, 1, 2}))->shape, Shape{});
    EXPECT_EQ(make(op, {x}, axes_attrs({0, 1, 2}, true))->shape, (Shape{1, 1, 1}));
  }
  EXPECT_EQ(reduce(Op::Sum, x, {}, false)->attrs.axes, (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(sum_all(x)->shape, Shape{});
  NodePtr scalar = in({});
  EXPECT_EQ(sum_all(scalar), scalar);  // nothing to reduce

  EXPECT_EQ(shape_error([&] { make(Op::Sum, {x}, axes_attrs({})); }), "sum: no axes given");
  EXPECT_EQ(shape_error([&] { make(Op::Sum, {x}, axes_attrs({3})); }),
            "sum: axis 3 is out of range for rank 3");
  EXPECT_EQ(shape_error([&] { reduce(Op::LogSumExp, x, {-4}, false); }),
            "logsumexp: axis -4 is out of range for rank 3");
  EXPECT_EQ(shape_error([&] { reduce(Op::ReduceMax, x, {2, -1}, true); }),
            "reduce_max: axis -1 is repeated");
}

TEST(ShapeInference, Layout) {
  NodePtr x = in({3, 1});
  Attrs b;
  b.shape = {2, 3, 4};
  EXPECT_EQ(make(Op::Broadcast, {x}, b)->shape, (Shape{2, 3, 4}));
  b.shape = {3, 2};
  EXPECT_EQ(make(Op::Broadcast, {x}, b)->shape, (Shape{3, 2}));
  b.shape = {2, 2};
  EXPECT_EQ(shape_error([&] { make(Op::Broadcast, {x}, b); }), "broadcast: cannot broadcast [3,1] to [2,2]");
  b.shape = {3};
  EXPECT_EQ(shape_error([&] { make(Op::Broadcast, {x}, b); }), "broadcast: cannot broadcast [3,1] to [3]");
  EXPECT_EQ(broadcast_to(x, {3, 1}), x);  // no node when nothing changes

  NodePtr y = in({2, 3});
  EXPECT_EQ(reshape(y, {3, 2})->shape, (Shape{3, 2}));
  EXPECT_EQ(reshape(y, {6})->shape, (Shape{6}));
  EXPECT_EQ(reshape(y, {2, 3}), y);
  EXPECT_EQ(shape_error([&] { reshape(y, {4}); }),
            "reshape: cannot reshape [2,3] (6 elements) to [4] (4 elements)");
  EXPECT_EQ(shape_error([&] { reshape(y, {-1, 6}); }), "reshape: negative dimension in [-1,6]");

  NodePtr z = in({2, 3, 4});
  NodePtr t = transpose(z, {2, 0, 1});
  EXPECT_EQ(t->shape, (Shape{4, 2, 3}));
  NodePtr tn = transpose(z, {-1, 0, 1});
  EXPECT_EQ(tn->attrs.axes, (std::vector<int64_t>{2, 0, 1}));  // normalised, order kept
  EXPECT_EQ(tn->hash, t->hash);
  EXPECT_EQ(shape_error([&] { transpose(z, {1, 0}); }),
            "transpose: permutation [1,0] does not match rank 3 of [2,3,4]");
  EXPECT_EQ(shape_error([&] { transpose(z, {0, 0, 1}); }), "transpose: axis 0 is repeated");
  EXPECT_EQ(shape_error([&] { transpose(z, {0, 1, 3}); }), "transpose: axis 3 is out of range for rank 3");
}

TEST(ShapeInference, Einsum) {
  NodePtr a = in({2, 3}), b = in({3, 4}), v = in({3}), m = in({3, 3});
  EXPECT_EQ(einsum("ij,jk->ik", {a, b})->shape, (Shape{2, 4}));
  EXPECT_EQ(einsum("ij,jk->ki", {a, b})->shape, (Shape{4, 2}));
  EXPECT_EQ(einsum("j,j->", {v, v})->shape, Shape{});
  EXPECT_EQ(einsum("ii->i", {m})->shape, (Shape{3}));
  EXPECT_EQ(einsum("i->ii", {v})->shape, (Shape{3, 3}));
  EXPECT_EQ(einsum("ij,jk,k->i", {a, b, in({4})})->shape, (Shape{2}));
  EXPECT_EQ(op_arity(Op::Einsum), -1);

  EXPECT_EQ(shape_error([&] { einsum("ij,jk->ik", {a}); }),
            "einsum: spec 'ij,jk->ik' has 2 operands but 1 were given");
  EXPECT_EQ(shape_error([&] { einsum("ij->i", {v}); }),
            "einsum: operand 0 has shape [3] but 'ij' names 2 axes");
  EXPECT_EQ(shape_error([&] { einsum("ij,jk->ik", {a, in({4, 4})}); }),
            "einsum: index 'j' has size 3 and 4 in 'ij,jk->ik'");
  EXPECT_EQ(shape_error([&] { einsum("ii->i", {a}); }), "einsum: index 'i' has size 2 and 3 in 'ii->i'");
  EXPECT_EQ(shape_error([&] { einsum("ij->k", {a}); }),
            "einsum: output index 'k' does not appear in any operand of 'ij->k'");
  EXPECT_EQ(shape_error([&] { einsum("ij", {a}); }), "einsum: spec 'ij' has no '->'");
  EXPECT_EQ(shape_error([&] { einsum("i1->i", {a}); }), "einsum: spec 'i1->i' has invalid character '1'");
  EXPECT_EQ(shape_error([&] { make(Op::Einsum, {}, {}); }), "einsum: expects at least 1 input");
}

TEST(ShapeInference, Conv2dAndItsGradients) {
  NodePtr x = in({8, 6, 3});
  NodePtr k = in({3, 3, 3, 5});
  EXPECT_EQ(make(Op::Conv2d, {x, k}, conv_attrs({1, 1}, "SAME"))->shape, (Shape{8, 6, 5}));
  EXPECT_EQ(make(Op::Conv2d, {x, k}, conv_attrs({1, 1}, "VALID"))->shape, (Shape{6, 4, 5}));
  EXPECT_EQ(make(Op::Conv2d, {x, k}, conv_attrs({2, 2}, "SAME"))->shape, (Shape{4, 3, 5}));
  EXPECT_EQ(make(Op::Conv2d, {x, k}, conv_attrs({2, 3}, "VALID"))->shape, (Shape{3, 2, 5}));

  NodePtr g = in({4, 3, 5});
  EXPECT_EQ(make(Op::Conv2dInputGrad, {g, k}, conv_attrs({2, 2}, "SAME", {8, 6, 3}))->shape,
            (Shape{8, 6, 3}));
  EXPECT_EQ(make(Op::Conv2dKernelGrad, {x, g}, conv_attrs({2, 2}, "SAME", {3, 3, 3, 5}))->shape,
            (Shape{3, 3, 3, 5}));

  EXPECT_EQ(shape_error([&] { make(Op::Conv2d, {x, k}, conv_attrs({1}, "SAME")); }),
            "conv2d: strides must be two positive integers, got [1]");
  EXPECT_EQ(shape_error([&] { make(Op::Conv2d, {x, k}, conv_attrs({1, 0}, "SAME")); }),
            "conv2d: strides must be two positive integers, got [1,0]");
  EXPECT_EQ(shape_error([&] { make(Op::Conv2d, {x, k}, conv_attrs({1, 1}, "same")); }),
            "conv2d: padding must be \"SAME\" or \"VALID\", got \"same\"");
  EXPECT_EQ(shape_error([&] { make(Op::Conv2d, {in({8, 6}), k}, conv_attrs({1, 1}, "SAME")); }),
            "conv2d: input must have shape [H,W,C], got [8,6]");
  EXPECT_EQ(shape_error([&] { make(Op::Conv2d, {x, in({3, 3, 3})}, conv_attrs({1, 1}, "SAME")); }),
            "conv2d: kernel must have shape [KH,KW,C,O], got [3,3,3]");
  EXPECT_EQ(shape_error([&] { make(Op::Conv2d, {in({8, 6, 2}), k}, conv_attrs({1, 1}, "SAME")); }),
            "conv2d: input has 2 channels but kernel [3,3,3,5] expects 3");
  EXPECT_EQ(shape_error([&] { make(Op::Conv2d, {in({2, 6, 3}), k}, conv_attrs({1, 1}, "VALID")); }),
            "conv2d: kernel [3,3,3,5] is larger than input [2,6,3] with VALID padding");
  EXPECT_EQ(shape_error([&] {
              make(Op::Conv2dInputGrad, {in({8, 6, 5}), k}, conv_attrs({2, 2}, "SAME", {8, 6, 3}));
            }),
            "conv2d_input_grad: gradient shape [8,6,5] does not match conv2d output [4,3,5]");
  EXPECT_EQ(shape_error([&] {
              make(Op::Conv2dKernelGrad, {x, in({8, 6, 5})}, conv_attrs({2, 2}, "SAME", {3, 3, 3, 5}));
            }),
            "conv2d_kernel_grad: gradient shape [8,6,5] does not match conv2d output [4,3,5]");
  EXPECT_EQ(shape_error([&] { make(Op::Conv2dInputGrad, {g, k}, conv_attrs({2, 2}, "SAME", {8, 6})); }),
            "conv2d_input_grad: input must have shape [H,W,C], got [8,6]");
}

TEST(ShapeInference, ArityDTypeAndMissingInputs) {
  NodePtr x = in({2});
  EXPECT_EQ(shape_error([&] { make(Op::Exp, {x, x}); }), "exp: expects 1 inputs, got 2");
  EXPECT_EQ(shape_error([&] { make(Op::Add, {x}); }), "add: expects 2 inputs, got 1");
  EXPECT_EQ(shape_error([&] { make(Op::Conv2d, {x}); }), "conv2d: expects 2 inputs, got 1");
  EXPECT_EQ(shape_error([&] { make(Op::Add, {x, nullptr}); }), "add: missing input");
  EXPECT_EQ(shape_error([&] { make(Op::Mul, {x, in({2}, DType::F64)}); }), "mul: mixes float32 and float64");
  EXPECT_EQ(op_arity(Op::Const), 0);
  EXPECT_EQ(op_arity(Op::Transpose), 1);
  EXPECT_EQ(op_arity(Op::Conv2dKernelGrad), 2);
  EXPECT_STREQ(dtype_name(DType::F32), "float32");
  EXPECT_STREQ(dtype_name(DType::F64), "float64");
}

TEST(ShapeInference, OpNames) {
  EXPECT_STREQ(op_name(Op::LogSumExp), "logsumexp");
  EXPECT_STREQ(op_name(Op::ReduceMax), "reduce_max");
  EXPECT_STREQ(op_name(Op::Conv2dInputGrad), "conv2d_input_grad");
  EXPECT_STREQ(op_name(Op::Conv2dKernelGrad), "conv2d_kernel_grad");
  EXPECT_STREQ(op_name(Op::LogCosh), "logcosh");
}

}  // namespace
}  // namespace hamux::ir
