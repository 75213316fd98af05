// tests/autodiff/op_gradients_test.cpp - every op's VJP against float64 central differences.
//
// Each case builds y = sum(w * op(inputs)) with a random weight input w, so the check sees
// the whole VJP (not only its sum), and compares grad(y) w.r.t. every input - raw and
// simplified - with finite differences at a random point (kinks have measure zero).
#include <functional>

#include "autodiff/fd_check.h"

namespace hamux {
namespace {

using ir::NodePtr;
using ir::Op;
using Build = std::function<NodePtr(const std::vector<NodePtr>&)>;

// Input shapes and their sampling range.
void check(const std::vector<Shape>& shapes, const Build& build, double lo = -2, double hi = 2,
           uint64_t seed = 1) {
  std::mt19937_64 rng(seed);
  std::vector<NodePtr> xs;
  fdcheck::Point at;
  for (size_t k = 0; k < shapes.size(); ++k) {
    xs.push_back(ir::input(static_cast<int>(k), std::string("x").append(std::to_string(k)), shapes[k], ir::DType::F64));
    at.push_back(fdcheck::random_tensor(shapes[k], rng, lo, hi));
  }
  NodePtr out = build(xs);
  NodePtr w = ir::input(static_cast<int>(shapes.size()), "w", out->shape, ir::DType::F64);
  at.push_back(fdcheck::random_tensor(out->shape, rng, -1, 1));
  xs.push_back(w);
  fdcheck::expect_gradients_match_fd(ir::sum_all(ir::mul(w, out)), xs, at);
}

Build unary_op(Op op) {
  return [op](const std::vector<NodePtr>& x) { return ir::unary(op, x[0]); };
}
Build binary_op(Op op) {
  return [op](const std::vector<NodePtr>& x) { return ir::binary(op, x[0], x[1]); };
}

const Shape kMat{3, 4};

TEST(OpGradients, UnaryOpsOnTheRealLine) {
  for (Op op : {Op::Neg, Op::Exp, Op::Abs, Op::Sign, Op::Step, Op::Relu, Op::Sigmoid, Op::Tanh,
                Op::Softplus, Op::LogCosh}) {
    SCOPED_TRACE(ir::op_name(op));
    check({kMat}, unary_op(op));
  }
}

TEST(OpGradients, UnaryOpsOnTheirDomain) {
  for (Op op : {Op::Log, Op::Sqrt}) {
    SCOPED_TRACE(ir::op_name(op));
    check({kMat}, unary_op(op), 0.2, 3);
  }
  SCOPED_TRACE("log1p");
  check({kMat}, unary_op(Op::Log1p), -0.8, 3);
}

TEST(OpGradients, BinaryOps) {
  for (Op op : {Op::Add, Op::Sub, Op::Mul, Op::Max, Op::Min, Op::Greater, Op::Equal}) {
    SCOPED_TRACE(ir::op_name(op));
    check({kMat, kMat}, binary_op(op));
  }
  SCOPED_TRACE("div");
  check({kMat, kMat}, binary_op(Op::Div), 0.3, 2);
}

TEST(OpGradients, EqualOfAnInputWithItselfHasZeroGradient) {
  check({kMat}, [](const std::vector<NodePtr>& x) { return ir::binary(Op::Equal, x[0], x[0]); });
}

TEST(OpGradients, PowWithRespectToBothOperands) {
  check({kMat, kMat}, binary_op(Op::Pow), 0.3, 2.5);
}

TEST(OpGradients, PowWithConstantExponentOnNegativeBase) {
  // x^3 on [-2, 2]: the log term of d/dy must not be built (log of a negative is NaN).
  Build cube = [](const std::vector<NodePtr>& x) {
    return ir::binary(Op::Pow, x[0], ir::constant(3.0, ir::DType::F64));
  };
  check({kMat}, cube);
  NodePtr x = ir::input(0, "x", kMat, ir::DType::F64);
  NodePtr g = autodiff::grad(ir::sum_all(cube({x})), {x})[0];
  for (const ir::Node* n : ir::topological_order({g})) EXPECT_NE(n->op, Op::Log);
}

TEST(OpGradients, BinaryOpsWithNumpyBroadcasting) {
  check({{3, 1}, {4}}, binary_op(Op::Mul));
  check({{2, 3, 4}, {3, 1}}, binary_op(Op::Sub));
  check({{4}, {3, 4}}, binary_op(Op::Div), 0.3, 2);
}

TEST(OpGradients, ReductionsWithAxesAndKeepdims) {
  const Shape s{2, 3, 4};
  for (Op op : {Op::Sum, Op::ReduceMax, Op::LogSumExp})
    for (bool keep : {false, true})
      for (std::vector<int64_t> axes : std::vector<std::vector<int64_t>>{{1}, {0, 2}, {-1}, {}}) {
        SCOPED_TRACE(std::string(ir::op_name(op)) + " axes " + shape_str(axes) +
                     (keep ? " keepdims" : ""));
        check({s}, [&](const std::vector<NodePtr>& x) { return ir::reduce(op, x[0], axes, keep); });
      }
}

TEST(OpGradients, ReduceMaxSplitsTheGradientAmongTies) {
  // max of [x, x] (broadcast copies): each copy gets half; the FD of the primal agrees.
  check({{3}}, [](const std::vector<NodePtr>& x) {
    return ir::reduce(Op::ReduceMax, ir::broadcast_to(x[0], {2, 3}), {0}, false);
  });
}

TEST(OpGradients, LayoutOps) {
  check({{3, 1}}, [](const std::vector<NodePtr>& x) { return ir::broadcast_to(x[0], {2, 3, 4}); });
  check({{4}}, [](const std::vector<NodePtr>& x) { return ir::broadcast_to(x[0], {1, 3, 4}); });
  check({kMat}, [](const std::vector<NodePtr>& x) { return ir::reshape(x[0], {2, 6}); });
  check({{2, 3, 4}}, [](const std::vector<NodePtr>& x) { return ir::transpose(x[0], {2, 0, 1}); });
}

TEST(OpGradients, Einsum) {
  struct Case {
    std::string spec;
    std::vector<Shape> shapes;
  };
  std::vector<Case> cases = {
      {"ij,jk->ik", {{2, 3}, {3, 4}}},       // matmul: contracted index
      {"i,i->", {{5}, {5}}},                 // dot
      {"i,j->ij", {{3}, {4}}},               // outer
      {"ij,ij->ij", {{2, 3}, {2, 3}}},       // hadamard
      {"ij->i", {{3, 4}}},                   // letter only in one operand: broadcast back
      {"ij->ji", {{3, 4}}},                  // transpose
      {"ii->", {{4, 4}}},                    // trace: repeated letter, nowhere else
      {"ii->i", {{4, 4}}},                   // diagonal
      {"i->ii", {{4}}},                      // repeated output letter
      {"iij,j->i", {{3, 3, 2}, {2}}},        // repeated letter plus contraction
      {"ijk,i,j,k->", {{4, 3, 2}, {4}, {3}, {2}}},  // three-body energy
      {"bhd,bkd->hk", {{2, 3, 4}, {2, 5, 4}}},      // attention-like, several summed letters
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.spec);
    check(c.shapes, [&](const std::vector<NodePtr>& x) { return ir::einsum(c.spec, x); });
  }
}

TEST(OpGradients, EinsumWithTheSameOperandTwice) {
  check({{3, 3}}, [](const std::vector<NodePtr>& x) { return ir::einsum("ij,jk->ik", {x[0], x[0]}); });
}

ir::Attrs conv(int64_t stride, const std::string& padding) {
  ir::Attrs a;
  a.strides = {stride, stride};
  a.padding = padding;
  return a;
}

TEST(OpGradients, Conv2dSameAndValidStrides1And2) {
  for (const std::string padding : {"SAME", "VALID"})
    for (int64_t stride : {1, 2})
      for (Shape kernel : std::vector<Shape>{{3, 3, 2, 3}, {2, 2, 2, 1}}) {
        SCOPED_TRACE(padding + " stride " + std::to_string(stride) + " kernel " + shape_str(kernel));
        check({{5, 6, 2}, kernel}, [&](const std::vector<NodePtr>& x) {
          return ir::make(Op::Conv2d, {x[0], x[1]}, conv(stride, padding));
        });
      }
}

TEST(OpGradients, ConvolutionGradientOpsThemselves) {
  for (const std::string padding : {"SAME", "VALID"})
    for (int64_t stride : {1, 2}) {
      SCOPED_TRACE(padding + " stride " + std::to_string(stride));
      const Shape x_shape{5, 6, 2}, k_shape{3, 3, 2, 3};
      ir::ConvGeometry geo = ir::conv_geometry(5, 6, 3, 3, stride, stride, padding);
      const Shape g_shape{geo.out_h, geo.out_w, 3};
      check({g_shape, k_shape}, [&](const std::vector<NodePtr>& x) {
        ir::Attrs a = conv(stride, padding);
        a.shape = x_shape;
        return ir::make(Op::Conv2dInputGrad, {x[0], x[1]}, a);
      });
      check({x_shape, g_shape}, [&](const std::vector<NodePtr>& x) {
        ir::Attrs a = conv(stride, padding);
        a.shape = k_shape;
        return ir::make(Op::Conv2dKernelGrad, {x[0], x[1]}, a);
      });
    }
}

TEST(OpGradients, CompositeSoftmaxAndNorm) {
  check({{2, 5}}, [](const std::vector<NodePtr>& x) { return ir::softmax(x[0], -1); });
  // Layer-norm-like: (x - mean) / sqrt(var + eps), a DAG where x is used many times.
  check({{6}}, [](const std::vector<NodePtr>& x) {
    NodePtr mean = ir::scale(1.0 / 6, ir::reduce(Op::Sum, x[0], {0}, true));
    NodePtr c = ir::sub(x[0], mean);
    NodePtr var = ir::scale(1.0 / 6, ir::reduce(Op::Sum, ir::mul(c, c), {0}, true));
    return ir::div(c, ir::unary(Op::Sqrt, ir::add(var, ir::scalar_like(1e-5, var))));
  });
}

TEST(OpGradients, ParamLeavesAreMatchedByName) {
  // y = sum(W * x^2): dy/dW = x^2, dy/dx = 2 W x, closed forms.
  NodePtr x = ir::input(0, "x", {3}, ir::DType::F64);
  NodePtr W = ir::param("W", {3}, ir::DType::F64);
  NodePtr y = ir::sum_all(ir::mul(W, ir::mul(x, x)));
  std::vector<NodePtr> g = passes::simplify(autodiff::grad(y, {ir::param("W", {3}, ir::DType::F64), x}));
  fdcheck::Params params{{"W", Tensor<double>({3}, {0.5, -2.0, 3.0})}};
  auto v = fdcheck::eval_points(g, {{Tensor<double>({3}, {1.0, 2.0, -3.0})}}, params)[0];
  EXPECT_EQ(v[0].data, (std::vector<double>{1.0, 4.0, 9.0}));
  EXPECT_EQ(v[1].data, (std::vector<double>{1.0, -8.0, -18.0}));
}

TEST(OpGradients, LeafNotReachedGetsZeroOfItsShape) {
  NodePtr x = ir::input(0, "x", {3}, ir::DType::F64);
  NodePtr z = ir::input(1, "z", {2, 2}, ir::DType::F64);
  NodePtr g = autodiff::grad(ir::sum_all(x), {z})[0];
  EXPECT_EQ(g->op, Op::Const);
  EXPECT_EQ(g->attrs.value, 0.0);
  EXPECT_EQ(g->shape, (Shape{2, 2}));
}

}  // namespace
}  // namespace hamux
