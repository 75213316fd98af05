// tests/codegen/conv_test.cpp - the runtime's transposed convolution (Conv2dInputGrad, a
// GEMM followed by a gather over the taps) for strides, paddings and channel counts that
// the random graphs do not reach (channels beyond one 16-wide accumulator block, stride 3).
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
