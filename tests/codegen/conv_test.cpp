// tests/codegen/conv_test.cpp - conv2d and its transpose (Conv2dInputGrad) in JIT kernels,
// for strides, paddings and channel counts that the random graphs do not reach. Both ways
// a JIT kernel convolves are covered: few channels (<= 32 in and out) run as emitted direct
// loops (aot_contract.h; for the transpose, all input channels at once while they fit in the
// register budget, else one at a time), many channels as im2col + GEMM and a gather over
// the taps (runtime_conv.cpp).
#include <gtest/gtest.h>

#include <random>

#include "compare.h"
#include "graph/builder.h"

namespace hamux::codegen {
namespace {

using namespace ir;

struct Geometry {
  Shape image;  // [H, W, C]
  int64_t kh, kw, o, stride;
  const char* padding;
};

const std::vector<Geometry> kGeometries = {
    {{6, 5, 20}, 3, 3, 4, 1, "SAME"},   // 20 channels: a 16-wide block and a 4-wide rest
    {{7, 7, 3}, 3, 2, 5, 2, "SAME"},    // stride 2, non-square kernel
    {{8, 9, 2}, 3, 3, 3, 3, "VALID"},   // stride 3: most pixels get one tap or none
    {{5, 5, 17}, 5, 5, 2, 2, "VALID"},  // kernel as large as the image
    {{6, 7, 40}, 3, 3, 36, 1, "SAME"},  // 40 in, 36 out: im2col + GEMM in the runtime
    {{5, 6, 3}, 3, 3, 48, 2, "SAME"},   // 48 out: GEMM for conv2d, stride 2
    {{9, 6, 3}, 3, 3, 16, 1, "SAME"},   // W5's channels: direct loops, pixel tiles + a rest of 2
};

Attrs conv_attrs(const Geometry& g, const Shape& shape) {
  Attrs a;
  a.strides = {g.stride, g.stride};
  a.padding = g.padding;
  a.shape = shape;
  return a;
}

Shape output_shape(const Geometry& g) {
  ConvGeometry cg = conv_geometry(g.image[0], g.image[1], g.kh, g.kw, g.stride, g.stride, g.padding);
  return {cg.out_h, cg.out_w, g.o};
}

TEST(TransposedConv, MatchesInterpreter) {
  for (const Geometry& g : kGeometries)
    for (DType dt : {DType::F64, DType::F32}) {
      const Shape ks{g.kh, g.kw, g.image[2], g.o};
      // Batched gradient with a shared kernel (one GEMM for the slice) and the reverse.
      NodePtr a = make(Op::Conv2dInputGrad, {input(0, "g", output_shape(g), dt), param("K", ks, dt)},
                       conv_attrs(g, g.image));
      NodePtr b = make(Op::Conv2dInputGrad, {param("G", output_shape(g), dt), input(1, "k", ks, dt)},
                       conv_attrs(g, g.image));
      const std::string what = "image " + shape_str(g.image) + " stride " + std::to_string(g.stride) + " " +
                               g.padding + " " + dtype_name(dt);
      for (int64_t batch : {1, 3}) {
        if (dt == DType::F64) testing::check_against_interpreter<double>({a, b}, batch, 11, what);
        else testing::check_against_interpreter<float>({a, b}, batch, 12, what);
      }
    }
}

TEST(Conv, MatchesInterpreter) {
  for (const Geometry& g : kGeometries)
    for (DType dt : {DType::F64, DType::F32}) {
      const Shape ks{g.kh, g.kw, g.image[2], g.o};
      // Batched image with a shared kernel, and a shared image with a batched kernel.
      NodePtr a = make(Op::Conv2d, {input(0, "x", g.image, dt), param("K", ks, dt)}, conv_attrs(g, {}));
      NodePtr b = make(Op::Conv2d, {param("X", g.image, dt), input(1, "k", ks, dt)}, conv_attrs(g, {}));
      const std::string what = "image " + shape_str(g.image) + " stride " + std::to_string(g.stride) + " " +
                               g.padding + " " + dtype_name(dt);
      for (int64_t batch : {1, 3}) {
        if (dt == DType::F64) testing::check_against_interpreter<double>({a, b}, batch, 13, what);
        else testing::check_against_interpreter<float>({a, b}, batch, 14, what);
      }
    }
}

TEST(TransposedConv, IsTheAdjointOfConv) {
  // <conv(x, K), g> = <x, input_grad(g, K)> for every x, g: an independent closed form.
  for (const Geometry& g : kGeometries) {
    const Shape ks{g.kh, g.kw, g.image[2], g.o};
    NodePtr k = param("K", ks, DType::F64);
    NodePtr x = input(0, "x", g.image, DType::F64), gy = input(1, "g", output_shape(g), DType::F64);
    NodePtr fwd = make(Op::Conv2d, {x, k}, conv_attrs(g, {}));
    NodePtr adj = make(Op::Conv2dInputGrad, {gy, k}, conv_attrs(g, g.image));
    std::mt19937 rng(5);
    std::vector<Tensor<double>> inputs;
    std::map<std::string, Tensor<double>> params;
    testing::random_bindings<double>({fwd, adj}, 2, rng, inputs, params);
    auto out = codegen::evaluate<double>({fwd, adj}, inputs, params, 2);
    for (int64_t s = 0; s < 2; ++s) {
      double lhs = 0, rhs = 0, scale = 0;
      const int64_t ny = out[0].size() / 2, nx = out[1].size() / 2;
      for (int64_t i = 0; i < ny; ++i) {
        lhs += out[0][s * ny + i] * inputs[1][s * ny + i];
        scale += std::abs(out[0][s * ny + i] * inputs[1][s * ny + i]);
      }
      for (int64_t i = 0; i < nx; ++i) rhs += inputs[0][s * nx + i] * out[1][s * nx + i];
      EXPECT_NEAR(lhs, rhs, 1e-12 * std::max(1.0, scale)) << "image " << shape_str(g.image) << " sample " << s;
    }
  }
}

}  // namespace
}  // namespace hamux::codegen
