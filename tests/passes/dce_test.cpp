// tests/passes/dce_test.cpp - dead-code elimination over an output list.
#include "passes/pass_check.h"

namespace hamux {
namespace {

using namespace passcheck;

TEST(Dce, DropsUnwantedOutputsAndReportsWhatIsStillRead) {
  NodePtr x = in(0, {3}), y = in(1, {3}), z = in(2, {3});
  NodePtr W = ir::param("W", {3}, ir::DType::F64), V = ir::param("V", {3}, ir::DType::F64);
  std::vector<NodePtr> outs{ir::mul(x, W), ir::add(y, V), ir::unary(Op::Exp, x),
                            ir::mul(z, z)};
  passes::Pruned p = passes::dce(outs, {true, false, true, false});
  EXPECT_EQ(p.kept, (std::vector<size_t>{0, 2}));
  ASSERT_EQ(p.outputs.size(), 2u);
  EXPECT_EQ(p.outputs[1], outs[2]);
  EXPECT_EQ(p.live_inputs, (std::vector<int>{0}));
  EXPECT_EQ(p.live_params, (std::vector<std::string>{"W"}));
  EXPECT_EQ(p.node_count, 4u);  // x, W, mul, exp
}

TEST(Dce, SimplifiedAwayInputsAreDead) {
  // 0 * z: after simplification z is no longer read, so it needs no buffer.
  NodePtr x = in(0, {3}), z = in(1, {3});
  NodePtr out = passes::simplify(ir::add(x, ir::mul(c(0.0, {3}), ir::unary(Op::Exp, z))));
  passes::Pruned p = passes::dce({out});
  EXPECT_EQ(p.live_inputs, (std::vector<int>{0}));
  EXPECT_EQ(p.kept, (std::vector<size_t>{0}));
}

TEST(Dce, KeepMaskOfTheWrongLength) {
  try {
    passes::dce({in(0, {})}, {true, false});
    FAIL() << "no error";
  } catch (const ir::ShapeError& e) {
    EXPECT_STREQ(e.what(), "dce: keep has 2 entries for 1 outputs");
  }
}

}  // namespace
}  // namespace hamux
