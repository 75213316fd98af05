// tests/interp/conv_test.cpp - Conv2d against hand-computed examples and an independent
// naive loop (TensorFlow SAME/VALID padding worked out here, not taken from conv_geometry);
// Conv2dInputGrad and Conv2dKernelGrad through the adjoint identity
//   <conv(x, k), g> = <x, input_grad(g, k)> = <k, kernel_grad(x, g)>.
#include "interp/interp_testing.h"

namespace hamux::testing {
namespace {

using ir::Op;

template <class T>
class Conv : public ::testing::Test {};
TYPED_TEST_SUITE(Conv, FloatTypes);

ir::Attrs conv_attrs(std::vector<int64_t> strides, const std::string& padding, Shape shape = {}) {
  ir::Attrs a;
  a.strides = std::move(strides);
  a.padding = padding;
  a.shape = std::move(shape);
  return a;
}

std::vector<double> iota_values(int64_t n, double start = 1) {
  std::vector<double> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = start + i;
  return v;
}

TYPED_TEST(Conv, HandComputedValidAndSame) {
  using T = TypeParam;
  // x = [[1,2,3],[4,5,6],[7,8,9]] (one channel), a 2x2 kernel of ones.
  ir::NodePtr x = ir::input(0, "x", {3, 3, 1}, kDType<T>);
  ir::NodePtr k = ir::param("k", {2, 2, 1, 1}, kDType<T>);
  interp::ParamValues<T> params = {{"k", tensor<T>({2, 2, 1, 1}, {1, 1, 1, 1})}};
  // Sample 2 is sample 1 times -1, so batching is visible.
  std::vector<double> xs = iota_values(9);
  for (int i = 0; i < 9; ++i) xs.push_back(-(i + 1.0));
  Tensor<T> in = tensor<T>({2, 3, 3, 1}, xs);

  ir::NodePtr valid = ir::make(Op::Conv2d, {x, k}, conv_attrs({1, 1}, "VALID"));
  expect_values(eval1<T>(valid, {in}, 2, params), {2, 2, 2, 1}, {12, 16, 24, 28, -12, -16, -24, -28});

  // SAME, stride 1: one row/column of padding, all of it after the data (TensorFlow).
  ir::NodePtr same = ir::make(Op::Conv2d, {x, k}, conv_attrs({1, 1}, "SAME"));
  expect_values(eval1<T>(same, {in}, 2, params), {2, 3, 3, 1},
                {12, 16, 9, 24, 28, 15, 15, 17, 9, -12, -16, -9, -24, -28, -15, -15, -17, -9});

  // SAME, stride 2 on 4x4 (values 1..16), a 3x3 kernel of ones: total padding 1, at the
  // bottom/right, so the first window is rows 0-2, cols 0-2.
  ir::NodePtr x4 = ir::input(0, "x", {4, 4, 1}, kDType<T>);
  ir::NodePtr k3 = ir::param("k3", {3, 3, 1, 1}, kDType<T>);
  interp::ParamValues<T> p3 = {{"k3", Tensor<T>({3, 3, 1, 1}, T(1))}};
  ir::NodePtr s2 = ir::make(Op::Conv2d, {x4, k3}, conv_attrs({2, 2}, "SAME"));
  expect_values(eval1<T>(s2, {tensor<T>({1, 4, 4, 1}, iota_values(16))}, 1, p3), {1, 2, 2, 1},
                {54, 45, 72, 54});

  // VALID, stride 2 on 4x4 with the 3x3 kernel: one window per axis.
  ir::NodePtr v2 = ir::make(Op::Conv2d, {x4, k3}, conv_attrs({2, 2}, "VALID"));
  expect_values(eval1<T>(v2, {tensor<T>({1, 4, 4, 1}, iota_values(16))}, 1, p3), {1, 1, 1, 1}, {54});

  // Channels: C=2 in, O=2 out, 1x1 kernel mixes channels: out0 = x0 + 2 x1, out1 = -x1.
  ir::NodePtr xc = ir::input(0, "x", {1, 2, 2}, kDType<T>);
  ir::NodePtr kc = ir::param("kc", {1, 1, 2, 2}, kDType<T>);
  interp::ParamValues<T> pc = {{"kc", tensor<T>({1, 1, 2, 2}, {1, 0, 2, -1})}};
  ir::NodePtr mix = ir::make(Op::Conv2d, {xc, kc}, conv_attrs({1, 1}, "VALID"));
  expect_values(eval1<T>(mix, {tensor<T>({1, 1, 2, 2}, {1, 2, 3, 4})}, 1, pc), {1, 1, 2, 2},
                {5, -2, 11, -4});
}

// An independent convolution: TensorFlow padding computed from its definition.
std::vector<double> naive_conv(const std::vector<double>& x, int64_t H, int64_t W, int64_t C,
                               const std::vector<double>& k, int64_t KH, int64_t KW, int64_t O,
                               int64_t sh, int64_t sw, bool same, int64_t* OH, int64_t* OW) {
  int64_t pad_top = 0, pad_left = 0;
  if (same) {
    *OH = (H + sh - 1) / sh;
    *OW = (W + sw - 1) / sw;
    pad_top = std::max<int64_t>(0, (*OH - 1) * sh + KH - H) / 2;
    pad_left = std::max<int64_t>(0, (*OW - 1) * sw + KW - W) / 2;
  } else {
    *OH = (H - KH) / sh + 1;
    *OW = (W - KW) / sw + 1;
  }
  // Explicitly zero-padded input, big enough for every window.
  int64_t PH = (*OH - 1) * sh + KH, PW = (*OW - 1) * sw + KW;
  std::vector<double> padded(PH * PW * C, 0.0);
  for (int64_t i = 0; i < H; ++i)
    for (int64_t j = 0; j < W; ++j)
      for (int64_t c = 0; c < C; ++c)
        if (i + pad_top < PH && j + pad_left < PW)
          padded[((i + pad_top) * PW + j + pad_left) * C + c] = x[(i * W + j) * C + c];
  std::vector<double> out;
  for (int64_t oy = 0; oy < *OH; ++oy)
    for (int64_t ox = 0; ox < *OW; ++ox)
      for (int64_t o = 0; o < O; ++o) {
        double acc = 0;
        for (int64_t ky = 0; ky < KH; ++ky)
          for (int64_t kx = 0; kx < KW; ++kx)
            for (int64_t c = 0; c < C; ++c)
              acc += padded[((oy * sh + ky) * PW + ox * sw + kx) * C + c] *
                     k[((ky * KW + kx) * C + c) * O + o];
        out.push_back(acc);
      }
  return out;
}

struct Geometry {
  int64_t H, W, C, KH, KW, O, sh, sw;
  const char* padding;
};

std::vector<Geometry> geometries() {
  return {
      {5, 6, 2, 3, 2, 3, 1, 1, "SAME"},  {5, 6, 2, 3, 2, 3, 1, 1, "VALID"},
      {5, 6, 2, 3, 2, 3, 2, 2, "SAME"},  {5, 6, 2, 3, 2, 3, 2, 2, "VALID"},
      {6, 5, 3, 3, 3, 2, 2, 1, "SAME"},  {7, 7, 1, 4, 4, 2, 3, 2, "VALID"},
      {4, 4, 2, 4, 4, 1, 2, 2, "SAME"},  {8, 8, 3, 3, 3, 4, 2, 2, "SAME"},
  };
}

TYPED_TEST(Conv, MatchesNaiveLoop) {
  using T = TypeParam;
  const int64_t batch = 2;
  for (const Geometry& g : geometries()) {
    SCOPED_TRACE(std::string(g.padding) + " stride " + std::to_string(g.sh) + "x" +
                 std::to_string(g.sw) + " input " + std::to_string(g.H) + "x" + std::to_string(g.W));
    Shape xs = {g.H, g.W, g.C}, ks = {g.KH, g.KW, g.C, g.O};
    ir::NodePtr x = ir::input(0, "x", xs, kDType<T>);
    ir::NodePtr k = ir::param("k", ks, kDType<T>);
    ir::NodePtr y = ir::make(Op::Conv2d, {x, k}, conv_attrs({g.sh, g.sw}, g.padding));
    Tensor<T> xv = tensor<T>({batch, g.H, g.W, g.C}, random_values(batch * num_elements(xs), 1));
    Tensor<T> kv = tensor<T>(ks, random_values(num_elements(ks), 2));
    Tensor<T> got = eval1<T>(y, {xv}, batch, {{"k", kv}});

    std::vector<double> kd(kv.data.begin(), kv.data.end()), want;
    int64_t OH = 0, OW = 0;
    for (int64_t b = 0; b < batch; ++b) {
      int64_t n = num_elements(xs);
      std::vector<double> xb(xv.data.begin() + b * n, xv.data.begin() + (b + 1) * n);
      std::vector<double> ob = naive_conv(xb, g.H, g.W, g.C, kd, g.KH, g.KW, g.O, g.sh, g.sw,
                                          std::string(g.padding) == "SAME", &OH, &OW);
      want.insert(want.end(), ob.begin(), ob.end());
    }
    expect_values(got, {batch, OH, OW, g.O}, want, 32);
  }
}

TYPED_TEST(Conv, GradientsAreTheAdjoints) {
  using T = TypeParam;
  // Evaluated in T, checked in double from the T results: the identity holds to the
  // rounding of each result to T.
  const int64_t batch = 2;
  for (const Geometry& g : geometries()) {
    SCOPED_TRACE(std::string(g.padding) + " stride " + std::to_string(g.sh) + "x" +
                 std::to_string(g.sw) + " input " + std::to_string(g.H) + "x" + std::to_string(g.W));
    Shape xs = {g.H, g.W, g.C}, ks = {g.KH, g.KW, g.C, g.O};
    ir::NodePtr x = ir::input(0, "x", xs, kDType<T>);
    ir::NodePtr k = ir::input(1, "k", ks, kDType<T>);
    ir::NodePtr y = ir::make(Op::Conv2d, {x, k}, conv_attrs({g.sh, g.sw}, g.padding));
    ir::NodePtr gin = ir::input(2, "g", y->shape, kDType<T>);
    ir::NodePtr dx = ir::make(Op::Conv2dInputGrad, {gin, k}, conv_attrs({g.sh, g.sw}, g.padding, xs));
    ir::NodePtr dk = ir::make(Op::Conv2dKernelGrad, {x, gin}, conv_attrs({g.sh, g.sw}, g.padding, ks));
    ASSERT_EQ(dx->shape, xs);
    ASSERT_EQ(dk->shape, ks);

    auto batched = [&](const Shape& s) {
      Shape b = s;
      b.insert(b.begin(), batch);
      return b;
    };
    Tensor<T> xv = tensor<T>(batched(xs), random_values(batch * num_elements(xs), 11));
    Tensor<T> kv = tensor<T>(batched(ks), random_values(batch * num_elements(ks), 12));
    Tensor<T> gv = tensor<T>(batched(y->shape), random_values(batch * num_elements(y->shape), 13));
    std::vector<Tensor<T>> r = interp::evaluate<T>({y, dx, dk}, {xv, kv, gv}, {}, batch);

    auto inner = [](const Tensor<T>& a, const Tensor<T>& b, int64_t s) {
      int64_t n = a.size() / batch;
      double acc = 0, mag = 0;
      for (int64_t i = s * n; i < (s + 1) * n; ++i) {
        acc += double(a.data[i]) * double(b.data[i]);
        mag += std::abs(double(a.data[i]) * double(b.data[i]));
      }
      return std::pair{acc, mag};
    };
    for (int64_t s = 0; s < batch; ++s) {
      auto [conv_g, mag] = inner(r[0], gv, s);
      auto [x_dx, mag2] = inner(xv, r[1], s);
      auto [k_dk, mag3] = inner(kv, r[2], s);
      double tol = 8 * std::numeric_limits<T>::epsilon() * std::max({mag, mag2, mag3, 1.0});
      EXPECT_NEAR(conv_g, x_dx, tol) << "sample " << s;
      EXPECT_NEAR(conv_g, k_dk, tol) << "sample " << s;
      EXPECT_GT(std::abs(conv_g), 1e-3);  // a non-trivial identity
    }
  }
}

TEST(ConvGrad, InputGradOfAOneHotIsTheFlippedKernelFootprint) {
  // For stride 1 VALID, dx[iy,ix] = sum_{ky,kx} g[iy-ky, ix-kx] k[ky,kx]: a single 1 in g
  // at (0,0) copies the kernel into dx's top-left corner.
  ir::NodePtr g = ir::input(0, "g", {2, 2, 1}, ir::DType::F64);
  ir::NodePtr k = ir::param("k", {2, 2, 1, 1}, ir::DType::F64);
  ir::NodePtr dx = ir::make(Op::Conv2dInputGrad, {g, k}, conv_attrs({1, 1}, "VALID", {3, 3, 1}));
  Tensor<double> got = eval1<double>(dx, {Tensor<double>({1, 2, 2, 1}, {1, 0, 0, 0})}, 1,
                                     {{"k", Tensor<double>({2, 2, 1, 1}, {1, 2, 3, 4})}});
  expect_values(got, {1, 3, 3, 1}, {1, 2, 0, 3, 4, 0, 0, 0, 0}, 0);
  // The kernel gradient of x = 1..9 against that g is the top-left 2x2 window of x.
  ir::NodePtr x = ir::input(1, "x", {3, 3, 1}, ir::DType::F64);
  ir::NodePtr dk = ir::make(Op::Conv2dKernelGrad, {x, g}, conv_attrs({1, 1}, "VALID", {2, 2, 1, 1}));
  Tensor<double> got_k = interp::evaluate<double>(
      {dk}, {Tensor<double>({1, 2, 2, 1}, {1, 0, 0, 0}), Tensor<double>({1, 3, 3, 1}, iota_values(9))},
      {}, 1)[0];
  expect_values(got_k, {1, 2, 2, 1, 1}, {1, 2, 4, 5}, 0);
}

}  // namespace
}  // namespace hamux::testing
