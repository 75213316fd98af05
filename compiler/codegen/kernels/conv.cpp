// compiler/codegen/kernels/conv.cpp - conv2d, its input gradient and its kernel gradient as
// im2col + Eigen GEMM, for JIT kernels (kernels.h: hamux_conv_plan). Convolutions with few
// channels do not come here: the JIT emits direct loops for them (llvm/contraction_loops.h,
// the same loops as ahead-of-time kernels); docs/performance.md has the measurement.
#include <Eigen/Core>
#include <algorithm>
#include <cstring>
#include <vector>

#include "codegen/kernels/kernels.h"
#include "codegen/kernels/scratch.h"

namespace hamux::codegen {
namespace {

// ---- convolutions (im2col + GEMM) ----

using Conv = hamux_conv_plan;

// The channel loops of im2col/col2im run C (often 1-16) iterations per tap; with C known at
// compile time they become straight-line copies and adds. NC = 0: C read at run time.
template <int NC>
int64_t channels(const Conv& c) {
  return NC > 0 ? NC : c.C;
}

// Calls f.template operator()<NC>() with NC = C for the common small channel counts, else 0.
template <class F>
void with_channels(const Conv& c, F&& f) {
  switch (c.C) {
    case 1: f.template operator()<1>(); break;
    case 2: f.template operator()<2>(); break;
    case 3: f.template operator()<3>(); break;
    case 4: f.template operator()<4>(); break;
    case 8: f.template operator()<8>(); break;
    case 16: f.template operator()<16>(); break;
    default: f.template operator()<0>(); break;
  }
}

// cols[p][(ky,kx,c)] = x[oy*sh - pt + ky][ox*sw - pl + kx][c], zero outside the image.
template <class T, int NC>
void im2col(const Conv& c, const T* x, T* cols) {
  const int64_t C = channels<NC>(c);
  const int64_t kkc = c.KH * c.KW * C;
  for (int64_t oy = 0; oy < c.OH; ++oy)
    for (int64_t ox = 0; ox < c.OW; ++ox) {
      T* row = cols + (oy * c.OW + ox) * kkc;
      for (int64_t ky = 0; ky < c.KH; ++ky) {
        int64_t iy = oy * c.sh - c.pt + ky;
        for (int64_t kx = 0; kx < c.KW; ++kx) {
          int64_t ix = ox * c.sw - c.pl + kx;
          T* dst = row + (ky * c.KW + kx) * C;
          // A plain loop, not memcpy/fill: C is often 1-16, where a libc call per tap
          // costs more than the copy.
          if (iy < 0 || iy >= c.H || ix < 0 || ix >= c.W) {
            for (int64_t ch = 0; ch < C; ++ch) dst[ch] = T(0);
            continue;
          }
          const T* src = x + (iy * c.W + ix) * C;
          for (int64_t ch = 0; ch < C; ++ch) dst[ch] = src[ch];
        }
      }
    }
}

// The adjoint of im2col, as a gather: x[iy][ix][c] = sum of cols[p][(ky,kx,c)] over the taps
// (ky, kx) whose output pixel p = (oy, ox) reads (iy, ix), i.e. oy*sh = iy + pt - ky. Each
// input pixel is written once, from a register accumulator: no clearing pass over the image
// and no read-modify-write of x per tap (the scatter form did both). The taps of every
// image row and column (as offsets into cols) are listed once per call, so the pixel loop
// has no divisions or bounds tests.
struct Taps {
  std::vector<int64_t> start, offset;  // offsets of position i: offset[start[i] .. start[i+1])
  // Positions 0..n-1 along one axis: tap k reads output position o = (i + pad - k) / stride
  // when that divides evenly and 0 <= o < out; its offset is o * o_step + k * k_step.
  Taps(int64_t n, int64_t k_n, int64_t stride, int64_t pad, int64_t out, int64_t o_step, int64_t k_step) {
    for (int64_t i = 0; i < n; ++i) {
      start.push_back(static_cast<int64_t>(offset.size()));
      for (int64_t k = 0; k < k_n; ++k) {
        const int64_t t = i + pad - k;
        if (t >= 0 && t % stride == 0 && t / stride < out) offset.push_back(t / stride * o_step + k * k_step);
      }
    }
    start.push_back(static_cast<int64_t>(offset.size()));
  }
};

template <class T, int NC>
void col2im(const Conv& c, const Taps& ty, const Taps& tx, const T* cols, T* x) {
  const int64_t C = channels<NC>(c);
  constexpr int64_t kChunk = 16;  // channels accumulated in registers at a time
  for (int64_t iy = 0; iy < c.H; ++iy)
    for (int64_t ix = 0; ix < c.W; ++ix) {
      T* dst = x + (iy * c.W + ix) * C;
      for (int64_t c0 = 0; c0 < C; c0 += kChunk) {
        const int64_t cn = std::min(kChunk, C - c0);
        T acc[kChunk] = {};
        for (int64_t a = ty.start[iy]; a < ty.start[iy + 1]; ++a)
          for (int64_t b = tx.start[ix]; b < tx.start[ix + 1]; ++b) {
            const T* src = cols + ty.offset[a] + tx.offset[b] + c0;
            for (int64_t ch = 0; ch < cn; ++ch) acc[ch] += src[ch];
          }
        for (int64_t ch = 0; ch < cn; ++ch) dst[c0 + ch] = acc[ch];
      }
    }
}

template <class T>
void conv(const Conv& c, int64_t nb, const T* a, const T* b, T* out) {
  const int64_t n = c.o_b ? nb : 1, P = c.OH * c.OW, kkc = c.KH * c.KW * c.C;
  const int64_t x_size = c.H * c.W * c.C, g_size = P * c.O, k_size = kkc * c.O;
  using Map = Eigen::Map<const RowMat<T>>;
  using MutMap = Eigen::Map<RowMat<T>>;
  if (c.kind == 0 || c.kind == 1) {
    // conv2d(x, k) / input_grad(g, k). With a shared kernel all samples share one GEMM.
    const int64_t a_size = c.kind == 0 ? x_size : g_size, o_size = c.kind == 0 ? g_size : x_size;
    const int64_t group = c.b_b ? 1 : n;  // samples per GEMM
    for (int64_t s0 = 0; s0 < n; s0 += group) {
      Map K(b + (c.b_b ? s0 * k_size : 0), kkc, c.O);
      if (c.kind == 0) {
        T* cols = scratch<T>(0, group * P * kkc);
        for (int64_t s = 0; s < group; ++s)
          with_channels(c, [&]<int NC>() { im2col<T, NC>(c, a + (c.a_b ? (s0 + s) * a_size : 0), cols + s * P * kkc); });
        MutMap(out + s0 * o_size, group * P, c.O).noalias() = Map(cols, group * P, kkc) * K;
      } else {
        T* cols = scratch<T>(0, group * P * kkc);
        if (c.a_b) {
          MutMap(cols, group * P, kkc).noalias() = Map(a + s0 * a_size, group * P, c.O) * K.transpose();
        } else {
          for (int64_t s = 0; s < group; ++s)
            MutMap(cols + s * P * kkc, P, kkc).noalias() = Map(a, P, c.O) * K.transpose();
        }
        const Taps ty(c.H, c.KH, c.sh, c.pt, c.OH, c.OW * kkc, c.KW * c.C), tx(c.W, c.KW, c.sw, c.pl, c.OW, kkc, c.C);
        with_channels(c, [&]<int NC>() {
          for (int64_t s = 0; s < group; ++s) col2im<T, NC>(c, ty, tx, cols + s * P * kkc, out + (s0 + s) * o_size);
        });
      }
    }
    return;
  }
  // kernel_grad(x, g) = im2col(x)^T g, one per sample.
  T* cols = scratch<T>(0, P * kkc);
  for (int64_t s = 0; s < n; ++s) {
    with_channels(c, [&]<int NC>() { im2col<T, NC>(c, a + (c.a_b ? s * x_size : 0), cols); });
    MutMap(out + s * k_size, kkc, c.O).noalias() =
        Map(cols, P, kkc).transpose() * Map(b + (c.b_b ? s * g_size : 0), P, c.O);
  }
}

}  // namespace
}  // namespace hamux::codegen

extern "C" {
void hamux_conv_f32(const hamux_conv_plan* plan, int64_t nb, const float* a, const float* b, float* out) {
  hamux::codegen::conv<float>(*plan, nb, a, b, out);
}
void hamux_conv_f64(const hamux_conv_plan* plan, int64_t nb, const double* a, const double* b, double* out) {
  hamux::codegen::conv<double>(*plan, nb, a, b, out);
}
}
