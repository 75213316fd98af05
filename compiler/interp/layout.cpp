// compiler/interp/layout.cpp - index arithmetic, Broadcast and Transpose.
#include "interp/ops.h"

namespace hamux::interp::detail {

std::vector<int64_t> row_major_strides(const Shape& shape) {
  std::vector<int64_t> stride(shape.size());
  int64_t s = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    stride[i] = s;
    s *= shape[i];
  }
  return stride;
}

std::vector<int64_t> offsets(const Shape& shape, const std::vector<int64_t>& stride) {
  std::vector<int64_t> out(num_elements(shape));
  std::vector<int64_t> index(shape.size(), 0);
  int64_t offset = 0;
  for (int64_t& o : out) {
    o = offset;
    // Advance the multi-index like an odometer, keeping `offset` in step with it.
    for (size_t a = shape.size(); a-- > 0;) {
      offset += stride[a];
      if (++index[a] < shape[a]) break;
      offset -= stride[a] * shape[a];
      index[a] = 0;
    }
  }
  return out;
}

Values broadcast(const Values& x, const Shape& to) {
  // NumPy alignment: trailing axes line up; an input axis of size 1, or a missing leading
  // axis, repeats its single element (stride 0).
  std::vector<int64_t> in_stride = row_major_strides(x.shape);
  std::vector<int64_t> stride(to.size(), 0);
  size_t lead = to.size() - x.shape.size();
  for (size_t i = 0; i < x.shape.size(); ++i)
    stride[lead + i] = x.shape[i] == 1 ? 0 : in_stride[i];
  Values out(to);
  std::vector<int64_t> src = offsets(to, stride);
  for (size_t n = 0; n < src.size(); ++n) out.data[n] = x.data[src[n]];
  return out;
}

Values transpose(const Values& x, const std::vector<int64_t>& perm) {
  // out[i_0, ..., i_r-1] = x[j] with j[perm[a]] = i_a.
  std::vector<int64_t> in_stride = row_major_strides(x.shape);
  Shape shape(perm.size());
  std::vector<int64_t> stride(perm.size());
  for (size_t a = 0; a < perm.size(); ++a) {
    shape[a] = x.shape[perm[a]];
    stride[a] = in_stride[perm[a]];
  }
  Values out(shape);
  std::vector<int64_t> src = offsets(shape, stride);
  for (size_t n = 0; n < src.size(); ++n) out.data[n] = x.data[src[n]];
  return out;
}

}  // namespace hamux::interp::detail
