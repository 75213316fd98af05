// tests/runtime/subnormals_test.cpp - compiled kernels run with subnormals flushed to zero
// (support/flush_subnormals.h): a state that decays below the smallest normal float becomes
// exactly 0 instead of a subnormal, whose arithmetic is ~100x slower; values above it are
// untouched, and the caller's floating-point control word is left as it was.
#include <gtest/gtest.h>

#include <cfloat>

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define HAMUX_TEST_SSE 1
#endif

#include "hamux/hamux.h"

namespace hamux {
namespace {

// x' = x - dt * x (identity Lagrangian, a zero bias): each step halves x at dt = 0.5.
Ham decaying() {
  return Ham::from_json(R"({"hamux": "1", "name": "decay",
    "params": {"b": {"shape": [2], "init": {"zeros": {}}}},
    "neurons": {"x": {"shape": [2], "lagrangian": "identity"}},
    "synapses": {"bias": {"bias": {"b": "b"}}},
    "connections": [{"neurons": ["x"], "synapse": "bias"}]})");
}

TEST(Subnormals, NoStepProducesOrReadsASubnormal) {
#ifndef HAMUX_TEST_SSE
  GTEST_SKIP() << "subnormals are flushed on x86 only";
#else
  Ham ham = decaying();
  ASSERT_FALSE(ham.is_float64());
  States s = ham.zeros(1);
  Tensor<double> x(Shape{2});
  x.data = {2.0 * FLT_MIN, 1.0};  // FLT_MIN = 1.18e-38, the least normal float
  s.set("x", x);
  const unsigned before = _mm_getcsr();
  RunOptions o;
  o.steps = 1;
  o.dt = 0.5;
  run(ham, s, o);
  EXPECT_EQ(_mm_getcsr(), before);  // the caller's control word is restored
  EXPECT_EQ(s.get("x").data[0], FLT_MIN);  // 2 FLT_MIN - FLT_MIN: normal all the way
  EXPECT_EQ(s.get("x").data[1], 0.5);
  // The next step's dt * x = FLT_MIN / 2 is subnormal: flushed to 0, so x stays at FLT_MIN
  // (IEEE arithmetic would leave the subnormal FLT_MIN / 2).
  run(ham, s, o);
  EXPECT_EQ(s.get("x").data[0], FLT_MIN);
  EXPECT_EQ(s.get("x").data[1], 0.25);
  // A subnormal state is read as 0 (IEEE: x / 2, subnormal again).
  x.data = {FLT_MIN / 4, 1.0};
  s.set("x", x);
  run(ham, s, o);
  EXPECT_EQ(s.get("x").data[0], 0.0);
  EXPECT_EQ(s.get("x").data[1], 0.5);
#endif
}

}  // namespace
}  // namespace hamux
