// tests/autodiff/second_derivatives_test.cpp - every op's VJP is itself differentiable.
//
// For y = sum(w * op(x)) the first derivative g = grad_x y is a graph built by the VJP
// rules; z = sum(v * g) with a random v is then differentiated again (the VJP of the VJP,
// what the backward step of the dynamics needs: second derivatives of Lagrangians and
// energies) and compared, w.r.t. every input (x, w, v), with float64 central differences
// of z (fdcheck, relative error <= 1e-6).
#include <functional>

#include "autodiff/fd_check.h"

namespace hamux {
namespace {

using ir::NodePtr;
using ir::Op;
using Build = std::function<NodePtr(const std::vector<NodePtr>&)>;

void check2(const std::vector<Shape>& shapes, const Build& build, double lo = -2, double hi = 2, uint64_t seed = 3) {
  std::mt19937_64 rng(seed);
  std::vector<NodePtr> xs;
  fdcheck::Point at;
  for (size_t k = 0; k < shapes.size(); ++k) {
    xs.push_back(ir::input(static_cast<int>(k), "x" + std::to_string(k), shapes[k], ir::DType::F64));
    at.push_back(fdcheck::random_tensor(shapes[k], rng, lo, hi));
  }
  NodePtr out = build(xs);
  NodePtr w = ir::input(static_cast<int>(xs.size()), "w", out->shape, ir::DType::F64);
  at.push_back(fdcheck::random_tensor(out->shape, rng, -1, 1));
  std::vector<NodePtr> firsts = autodiff::grad(ir::sum_all(ir::mul(w, out)), xs);
  std::vector<NodePtr> all = xs;
  all.push_back(w);
  NodePtr z;
  for (size_t k = 0; k < xs.size(); ++k) {
    NodePtr v = ir::input(static_cast<int>(all.size()), "v" + std::to_string(k), shapes[k], ir::DType::F64);
    at.push_back(fdcheck::random_tensor(shapes[k], rng, -1, 1));
    all.push_back(v);
    NodePtr term = ir::sum_all(ir::mul(v, firsts[k]));
    z = z ? ir::add(z, term) : term;
  }
  fdcheck::expect_gradients_match_fd(z, all, at);
}

Build unary_op(Op op) {
  return [op](const std::vector<NodePtr>& x) { return ir::unary(op, x[0]); };
}
Build binary_op(Op op) {
  return [op](const std::vector<NodePtr>& x) { return ir::binary(op, x[0], x[1]); };
}

const Shape kMat{3, 4};

ir::Attrs conv(int64_t stride, const std::string& padding, const Shape& shape = {}) {
  ir::Attrs a;
  a.strides = {stride, stride};
  a.padding = padding;
  a.shape = shape;
  return a;
}

TEST(SecondDerivatives, UnaryOps) {
  for (Op op : {Op::Neg, Op::Exp, Op::Abs, Op::Sign, Op::Step, Op::Relu, Op::Sigmoid, Op::Tanh, Op::Softplus,
                Op::LogCosh}) {
    SCOPED_TRACE(ir::op_name(op));
    check2({kMat}, unary_op(op));
  }
  for (Op op : {Op::Log, Op::Sqrt}) {
    SCOPED_TRACE(ir::op_name(op));
    check2({kMat}, unary_op(op), 0.3, 3);
  }
  SCOPED_TRACE("log1p");
  check2({kMat}, unary_op(Op::Log1p), -0.7, 3);
}

TEST(SecondDerivatives, BinaryOpsIncludingMaxMinAndPow) {
  for (Op op : {Op::Add, Op::Sub, Op::Mul, Op::Max, Op::Min, Op::Greater, Op::Equal}) {
    SCOPED_TRACE(ir::op_name(op));
    check2({kMat, kMat}, binary_op(op));
  }
  SCOPED_TRACE("div");
  check2({kMat, kMat}, binary_op(Op::Div), 0.3, 2);
  SCOPED_TRACE("pow, both operands");
  check2({kMat, kMat}, binary_op(Op::Pow), 0.3, 2.5);
  SCOPED_TRACE("pow, constant exponent, negative base");
  check2({kMat}, [](const std::vector<NodePtr>& x) { return ir::binary(Op::Pow, x[0], ir::constant(3.0, ir::DType::F64)); });
}

TEST(SecondDerivatives, ReductionsSoftmaxLogsumexp) {
  const Shape s{2, 3, 4};
  for (Op op : {Op::Sum, Op::ReduceMax, Op::LogSumExp})
    for (std::vector<int64_t> axes : std::vector<std::vector<int64_t>>{{1}, {0, 2}, {}}) {
      SCOPED_TRACE(std::string(ir::op_name(op)) + " axes " + shape_str(axes));
      check2({s}, [&](const std::vector<NodePtr>& x) { return ir::reduce(op, x[0], axes, false); });
    }
  SCOPED_TRACE("softmax");
  check2({{2, 5}}, [](const std::vector<NodePtr>& x) { return ir::softmax(x[0], -1); });
}

TEST(SecondDerivatives, LayoutOps) {
  check2({{3, 1}}, [](const std::vector<NodePtr>& x) { return ir::broadcast_to(x[0], {2, 3, 4}); });
  check2({kMat}, [](const std::vector<NodePtr>& x) { return ir::reshape(x[0], {2, 6}); });
  check2({{2, 3, 4}}, [](const std::vector<NodePtr>& x) { return ir::transpose(x[0], {2, 0, 1}); });
}

TEST(SecondDerivatives, EinsumIncludingRepeatedOutputIndices) {
  struct Case {
    std::string spec;
    std::vector<Shape> shapes;
  };
  for (const Case& c : std::vector<Case>{{"ij,jk->ik", {{2, 3}, {3, 4}}},
                                         {"i,j->ij", {{3}, {4}}},
                                         {"ij->i", {{3, 4}}},
                                         {"ii->", {{4, 4}}},
                                         {"ii->i", {{4, 4}}},
                                         {"i->ii", {{4}}},
                                         {"i,j->iij", {{3}, {2}}},
                                         {"ijk,i,j,k->", {{4, 3, 2}, {4}, {3}, {2}}}}) {
    SCOPED_TRACE(c.spec);
    check2(c.shapes, [&](const std::vector<NodePtr>& x) { return ir::einsum(c.spec, x); });
  }
  SCOPED_TRACE("the same operand twice");
  check2({{3, 3}}, [](const std::vector<NodePtr>& x) { return ir::einsum("ij,jk->ik", {x[0], x[0]}); });
}

TEST(SecondDerivatives, Conv2dAndItsTwoGradients) {
  for (const std::string padding : {"SAME", "VALID"})
    for (int64_t stride : {1, 2}) {
      SCOPED_TRACE(padding + " stride " + std::to_string(stride));
      const Shape x_shape{5, 6, 2}, k_shape{3, 3, 2, 3};
      check2({x_shape, k_shape}, [&](const std::vector<NodePtr>& x) {
        return ir::make(Op::Conv2d, {x[0], x[1]}, conv(stride, padding));
      });
      const ir::ConvGeometry geo = ir::conv_geometry(5, 6, 3, 3, stride, stride, padding);
      const Shape g_shape{geo.out_h, geo.out_w, 3};
      check2({g_shape, k_shape}, [&](const std::vector<NodePtr>& x) {
        return ir::make(Op::Conv2dInputGrad, {x[0], x[1]}, conv(stride, padding, x_shape));
      });
      check2({x_shape, g_shape}, [&](const std::vector<NodePtr>& x) {
        return ir::make(Op::Conv2dKernelGrad, {x[0], x[1]}, conv(stride, padding, k_shape));
      });
    }
}

TEST(SecondDerivatives, CompositeNormAndNonlinearConv) {
  // Layer norm: the DAG reuses x many times; and tanh(conv(x, K)) makes the second
  // derivative of conv non-trivial in both operands.
  check2({{6}}, [](const std::vector<NodePtr>& x) {
    NodePtr mean = ir::scale(1.0 / 6, ir::reduce(Op::Sum, x[0], {0}, true));
    NodePtr c = ir::sub(x[0], mean);
    NodePtr var = ir::scale(1.0 / 6, ir::reduce(Op::Sum, ir::mul(c, c), {0}, true));
    return ir::div(c, ir::unary(Op::Sqrt, ir::add(var, ir::scalar_like(1e-5, var))));
  });
  check2({{4, 4, 2}, {2, 2, 2, 2}}, [](const std::vector<NodePtr>& x) {
    return ir::unary(Op::Tanh, ir::make(Op::Conv2d, {x[0], x[1]}, conv(1, "SAME")));
  }, -1, 1);
}

}  // namespace
}  // namespace hamux
