// compiler/interp/conv.cpp - Conv2d and its two adjoints.
//
// All three ops are sums over the same set of (output position, kernel tap) pairs: those
// whose input position, oy * sh + ky - pad_top (and likewise for columns), lies inside x.
// Positions in the zero padding contribute nothing. With x [H,W,C], k [KH,KW,C,O] and
// g [OH,OW,O]:
//   conv2d:       out[oy,ox,o]  += x[iy,ix,c] * k[ky,kx,c,o]
//   input grad:   dx[iy,ix,c]   += g[oy,ox,o] * k[ky,kx,c,o]   (the adjoint in x)
//   kernel grad:  dk[ky,kx,c,o] += x[iy,ix,c] * g[oy,ox,o]     (the adjoint in k)
#include "interp/ops.h"

namespace hamux::interp::detail {

namespace {

// Calls f(oy, ox, iy, ix, ky, kx) for every pair whose input position is inside x.
template <class F>
void for_each_tap(int64_t h, int64_t w, int64_t kh, int64_t kw,
                  const std::vector<int64_t>& strides, const std::string& padding, F f) {
  ir::ConvGeometry g = ir::conv_geometry(h, w, kh, kw, strides[0], strides[1], padding);
  for (int64_t oy = 0; oy < g.out_h; ++oy)
    for (int64_t ox = 0; ox < g.out_w; ++ox)
      for (int64_t ky = 0; ky < kh; ++ky)
        for (int64_t kx = 0; kx < kw; ++kx) {
          int64_t iy = oy * strides[0] + ky - g.pad_top;
          int64_t ix = ox * strides[1] + kx - g.pad_left;
          if (iy >= 0 && iy < h && ix >= 0 && ix < w) f(oy, ox, iy, ix, ky, kx);
        }
}

// Row-major offsets into [H,W,C], [KH,KW,C,O] and [OH,OW,O] tensors.
struct Dims {
  int64_t h, w, c, kh, kw, o, oh, ow;
  int64_t x(int64_t iy, int64_t ix, int64_t ci) const { return (iy * w + ix) * c + ci; }
  int64_t k(int64_t ky, int64_t kx, int64_t ci, int64_t oi) const {
    return ((ky * kw + kx) * c + ci) * o + oi;
  }
  int64_t g(int64_t oy, int64_t ox, int64_t oi) const { return (oy * ow + ox) * o + oi; }
};

Dims dims(const Shape& x, const Shape& k, const std::vector<int64_t>& strides,
          const std::string& padding) {
  ir::ConvGeometry geo = ir::conv_geometry(x[0], x[1], k[0], k[1], strides[0], strides[1], padding);
  return {x[0], x[1], x[2], k[0], k[1], k[3], geo.out_h, geo.out_w};
}

}  // namespace

Values conv2d(const Values& x, const Values& k, const std::vector<int64_t>& strides,
              const std::string& padding) {
  Dims d = dims(x.shape, k.shape, strides, padding);
  Values out({d.oh, d.ow, d.o}, 0.0);
  for_each_tap(d.h, d.w, d.kh, d.kw, strides, padding,
               [&](int64_t oy, int64_t ox, int64_t iy, int64_t ix, int64_t ky, int64_t kx) {
                 for (int64_t c = 0; c < d.c; ++c)
                   for (int64_t o = 0; o < d.o; ++o)
                     out.data[d.g(oy, ox, o)] += x.data[d.x(iy, ix, c)] * k.data[d.k(ky, kx, c, o)];
               });
  return out;
}

Values conv2d_input_grad(const Values& g, const Values& k, const Shape& x_shape,
                         const std::vector<int64_t>& strides, const std::string& padding) {
  Dims d = dims(x_shape, k.shape, strides, padding);
  Values dx(x_shape, 0.0);
  for_each_tap(d.h, d.w, d.kh, d.kw, strides, padding,
               [&](int64_t oy, int64_t ox, int64_t iy, int64_t ix, int64_t ky, int64_t kx) {
                 for (int64_t c = 0; c < d.c; ++c)
                   for (int64_t o = 0; o < d.o; ++o)
                     dx.data[d.x(iy, ix, c)] += g.data[d.g(oy, ox, o)] * k.data[d.k(ky, kx, c, o)];
               });
  return dx;
}

Values conv2d_kernel_grad(const Values& x, const Values& g, const Shape& k_shape,
                          const std::vector<int64_t>& strides, const std::string& padding) {
  Dims d = dims(x.shape, k_shape, strides, padding);
  Values dk(k_shape, 0.0);
  for_each_tap(d.h, d.w, d.kh, d.kw, strides, padding,
               [&](int64_t oy, int64_t ox, int64_t iy, int64_t ix, int64_t ky, int64_t kx) {
                 for (int64_t c = 0; c < d.c; ++c)
                   for (int64_t o = 0; o < d.o; ++o)
                     dk.data[d.k(ky, kx, c, o)] += x.data[d.x(iy, ix, c)] * g.data[d.g(oy, ox, o)];
               });
  return dk;
}

}  // namespace hamux::interp::detail
