// tests/autodiff/grad_api_test.cpp - the public API: vjp, substitution, error messages.
#include "autodiff/fd_check.h"

namespace hamux {
namespace {

using ir::NodePtr;
using ir::Op;

NodePtr in(int i, const std::string& name, const Shape& s) { return ir::input(i, name, s, ir::DType::F64); }

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ir::ShapeError& e) {
    return e.what();
  }
  return "no error";
}

TEST(GradApi, VjpOfAMatrixProductIsTheTransposedProduct) {
  // out = A x, cotangent c: d<c, A x>/dx = A^T c (closed form).
  NodePtr A = in(0, "A", {2, 3}), x = in(1, "x", {3}), c = in(2, "c", {2});
  NodePtr out = ir::einsum("ij,j->i", {A, x});
  NodePtr gx = passes::simplify(autodiff::vjp(out, c, {x})[0]);
  Tensor<double> a({2, 3}, {1, 2, 3, 4, 5, 6});
  auto v = fdcheck::eval_at({gx}, {a, Tensor<double>({3}, {0, 0, 0}), Tensor<double>({2}, {1, -1})});
  EXPECT_EQ(v[0].data, (std::vector<double>{-3, -3, -3}));
}

TEST(GradApi, SharedSubgraphsAreDifferentiatedOnce) {
  // y = sum(t * t) with t = tanh(x): the tanh node gets ONE summed cotangent, so the
  // gradient graph holds exactly one tanh VJP (one "1 - t^2" product).
  NodePtr x = in(0, "x", {4});
  NodePtr t = ir::unary(Op::Tanh, x);
  NodePtr g = autodiff::grad(ir::sum_all(ir::mul(t, t)), {x})[0];
  int tanh_nodes = 0, subs = 0;
  for (const ir::Node* n : ir::topological_order({g})) {
    tanh_nodes += n->op == Op::Tanh;
    subs += n->op == Op::Sub;
  }
  EXPECT_EQ(tanh_nodes, 1);
  EXPECT_EQ(subs, 1);
}

TEST(GradApi, SubstituteReplacesInputsByIndex) {
  NodePtr x = in(0, "x", {3});
  NodePtr y = ir::sum_all(ir::mul(x, in(1, "w", {3})));
  NodePtr z = in(5, "z", {3});
  NodePtr s = autodiff::substitute_inputs({y}, {z, nullptr})[0];
  std::vector<int> indices;
  for (const ir::Node* n : ir::topological_order({s}))
    if (n->op == Op::Input) indices.push_back(n->attrs.index);
  std::sort(indices.begin(), indices.end());
  EXPECT_EQ(indices, (std::vector<int>{1, 5}));
}

TEST(GradApi, Errors) {
  NodePtr x = in(0, "x", {3});
  EXPECT_EQ(error_of([&] { autodiff::grad(x, {x}); }), "grad: output must be a scalar, got shape [3]");
  EXPECT_EQ(error_of([&] { autodiff::grad(ir::sum_all(x), {ir::unary(Op::Exp, x)}); }),
            "grad: can only differentiate with respect to an input or param, got exp");
  EXPECT_EQ(error_of([&] { autodiff::grad(ir::sum_all(x), {in(0, "x", {2})}); }),
            "grad: input 0 'x' has shape [2] but the graph uses it with shape [3]");
  EXPECT_EQ(error_of([&] { autodiff::vjp(x, in(1, "c", {2}), {x}); }),
            "vjp: cotangent of shape [2] does not match output of shape [3]");
  EXPECT_EQ(error_of([&] { autodiff::substitute_inputs({x}, {in(1, "z", {4})}); }),
            "substitute: input 0 'x' has shape [3] (float64) but its replacement has shape [4] (float64)");
}

}  // namespace
}  // namespace hamux
