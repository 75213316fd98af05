// tests/interp/bindings_test.cpp - how inputs and params are bound (batching, sharing,
// several outputs), the binding errors with their exact messages, and param_values.
#include "frontend/model.h"
#include "hamux/error.h"
#include "interp/interp_testing.h"

namespace hamux::testing {
namespace {

using ir::Op;

// Runs evaluate and returns the message of the hamux::Error it throws.
template <class T>
std::string error_of(const std::vector<ir::NodePtr>& outs, const std::vector<Tensor<T>>& inputs,
                     const interp::ParamValues<T>& params, int64_t batch) {
  try {
    interp::evaluate<T>(outs, inputs, params, batch);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Bindings, ParamsAreSharedAndInputsAreBatched) {
  // y = W @ x + b for 3 samples, plus a second output reading the same x.
  ir::NodePtr x = ir::input(0, "x", {2}, ir::DType::F64);
  ir::NodePtr W = ir::param("W", {2, 2}, ir::DType::F64);
  ir::NodePtr b = ir::param("b", {2}, ir::DType::F64);
  ir::NodePtr y = ir::add(ir::einsum("ij,j->i", {W, x}), b);
  ir::NodePtr s = ir::sum_all(x);
  interp::ParamValues<double> params = {{"W", Tensor<double>({2, 2}, {1, 2, 3, 4})},
                                        {"b", Tensor<double>({2}, {10, 20})}};
  auto r = interp::evaluate<double>({y, s}, {Tensor<double>({3, 2}, {1, 0, 0, 1, 1, 1})}, params, 3);
  ASSERT_EQ(r.size(), 2u);
  expect_values(r[0], {3, 2}, {11, 23, 12, 24, 13, 27}, 0);
  expect_values(r[1], {3}, {1, 1, 2}, 0);
}

TEST(Bindings, AnOutputMayBeALeafAndInputsMayBeUnused) {
  ir::NodePtr x = ir::input(1, "h", {2}, ir::DType::F32);
  ir::NodePtr p = ir::param("p", {}, ir::DType::F32);
  auto r = interp::evaluate<float>({x, p}, {Tensor<float>({5}, 0.0f), Tensor<float>({2, 2}, {1, 2, 3, 4})},
                                   {{"p", Tensor<float>({}, {7.0f})}, {"unused", Tensor<float>({9})}}, 2);
  expect_values(r[0], {2, 2}, {1, 2, 3, 4}, 0);
  expect_values(r[1], {2}, {7, 7}, 0);
}

TEST(Bindings, BatchZeroGivesEmptyResults) {
  ir::NodePtr x = ir::input(0, "x", {3}, ir::DType::F64);
  auto r = interp::evaluate<double>({ir::unary(Op::Exp, x)}, {Tensor<double>({0, 3})}, {}, 0);
  EXPECT_EQ(r[0].shape, (Shape{0, 3}));
  EXPECT_TRUE(r[0].data.empty());
}

TEST(BindingErrors, MissingInput) {
  ir::NodePtr x = ir::input(0, "x", {2}, ir::DType::F64);
  ir::NodePtr h = ir::input(1, "h", {2}, ir::DType::F64);
  EXPECT_EQ(error_of<double>({ir::add(x, h)}, {Tensor<double>({1, 2})}, {}, 1),
            "evaluate: input 1 ('h') is missing: 1 input tensors were given");
  EXPECT_EQ(error_of<double>({x}, {}, {}, 1),
            "evaluate: input 0 ('x') is missing: 0 input tensors were given");
}

TEST(BindingErrors, InputShapeMismatchNamesBothShapes) {
  ir::NodePtr x = ir::input(0, "x", {2, 3}, ir::DType::F32);
  EXPECT_EQ(error_of<float>({x}, {Tensor<float>({4, 3, 2})}, {}, 4),
            "evaluate: input 0 ('x') has shape [4,3,2] but [4,2,3] was expected");
  EXPECT_EQ(error_of<float>({x}, {Tensor<float>({4, 6})}, {}, 4),
            "evaluate: input 0 ('x') has shape [4,6] but [4,2,3] was expected");
  // A scalar input still needs its batch axis.
  ir::NodePtr t = ir::input(0, "t", {}, ir::DType::F32);
  EXPECT_EQ(error_of<float>({t}, {Tensor<float>(Shape{})}, {}, 2),
            "evaluate: input 0 ('t') has shape [] but [2] was expected");
}

TEST(BindingErrors, BatchMismatch) {
  ir::NodePtr x = ir::input(0, "x", {2, 3}, ir::DType::F64);
  EXPECT_EQ(error_of<double>({x}, {Tensor<double>({3, 2, 3})}, {}, 4),
            "evaluate: input 0 ('x') has batch size 3 but the batch is 4");
  EXPECT_EQ(error_of<double>({x}, {Tensor<double>({4, 2, 3})}, {}, -1),
            "evaluate: batch must be non-negative, got -1");
}

TEST(BindingErrors, MissingOrMisshapenParam) {
  ir::NodePtr W = ir::param("W", {3, 4}, ir::DType::F64);
  EXPECT_EQ(error_of<double>({W}, {}, {}, 1), "evaluate: param 'W' is missing");
  EXPECT_EQ(error_of<double>({W}, {}, {{"W", Tensor<double>({4, 3})}}, 1),
            "evaluate: param 'W' has shape [4,3] but [3,4] was expected");
}

TEST(BindingErrors, DataThatDoesNotFillItsShape) {
  ir::NodePtr x = ir::input(0, "x", {3}, ir::DType::F64);
  ir::NodePtr W = ir::param("W", {2}, ir::DType::F64);
  EXPECT_EQ(error_of<double>({x}, {Tensor<double>({2, 3}, std::vector<double>(5))}, {}, 2),
            "evaluate: input 0 ('x') holds 5 values but its shape [2,3] needs 6");
  EXPECT_EQ(error_of<double>({W}, {}, {{"W", Tensor<double>({2}, std::vector<double>(3))}}, 1),
            "evaluate: param 'W' holds 3 values but its shape [2] needs 2");
  EXPECT_EQ(error_of<double>({nullptr}, {}, {}, 1), "evaluate: output 0 is null");
}

TEST(ParamValues, ConvertsEveryParamOfTheModel) {
  Model m;
  ParamDef w;
  w.name = "W";
  w.shape = {2};
  w.value = Tensor<double>({2}, {0.1, -3});
  ParamDef b;
  b.name = "b";
  b.shape = {};
  b.value = Tensor<double>({}, {2.5});
  m.params = {w, b};
  interp::ParamValues<float> pf = interp::param_values<float>(m);
  interp::ParamValues<double> pd = interp::param_values<double>(m);
  ASSERT_EQ(pf.size(), 2u);
  EXPECT_EQ(pf.at("W").shape, (Shape{2}));
  EXPECT_EQ(pf.at("W").data, (std::vector<float>{0.1f, -3.0f}));
  EXPECT_EQ(pd.at("W").data, (std::vector<double>{0.1, -3.0}));
  EXPECT_EQ(pd.at("b").shape, Shape{});
  EXPECT_EQ(pd.at("b").data, (std::vector<double>{2.5}));
}

}  // namespace
}  // namespace hamux::testing
