// compiler/interp/reduce.cpp - Sum, ReduceMax and LogSumExp over a set of axes.
#include <cmath>
#include <limits>

#include "graph/internal_error.h"
#include "interp/ops.h"

namespace hamux::interp::detail {

namespace {

double nan_max(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<double>::quiet_NaN();
  return a > b ? a : b;
}

}  // namespace

Values reduce(ir::Op op, const Values& x, const std::vector<int64_t>& axes,
              const Shape& out_shape) {
  // target[n]: the output element that input element n reduces into. Kept axes get the
  // strides of the output (with or without keepdims the kept axes are in the same order),
  // reduced axes stride 0.
  std::vector<int64_t> stride(x.shape.size(), 0);
  int64_t s = 1;
  for (size_t a = x.shape.size(); a-- > 0;) {
    bool reduced = false;
    for (int64_t r : axes) reduced = reduced || r == static_cast<int64_t>(a);
    if (!reduced) {
      stride[a] = s;
      s *= x.shape[a];
    }
  }
  std::vector<int64_t> target = offsets(x.shape, stride);
  const double inf = std::numeric_limits<double>::infinity();

  if (op == ir::Op::Sum) {
    Values out(out_shape, 0.0);
    for (size_t n = 0; n < target.size(); ++n) out.data[target[n]] += x.data[n];
    return out;
  }
  // Max of each slice (-inf for an empty slice): the result of ReduceMax and the shift
  // of LogSumExp.
  Values mx(out_shape, -inf);
  for (size_t n = 0; n < target.size(); ++n) mx.data[target[n]] = nan_max(mx.data[target[n]], x.data[n]);
  if (op == ir::Op::ReduceMax) return mx;
  if (op != ir::Op::LogSumExp)
    HAMUX_INTERNAL(std::string("interp: not a reduction: ") + ir::op_name(op));

  // log sum exp(x) = m + log sum exp(x - m), m the slice max, so no term exceeds 1.
  // When m is not finite the shift is meaningless; the answer is m itself: -inf for a
  // slice of -inf (or an empty one), +inf when some element is +inf, NaN for a NaN.
  Values sum(out_shape, 0.0);
  for (size_t n = 0; n < target.size(); ++n) {
    double m = mx.data[target[n]];
    if (std::isfinite(m)) sum.data[target[n]] += std::exp(x.data[n] - m);
  }
  Values out(out_shape);
  for (int64_t i = 0; i < out.size(); ++i) {
    double m = mx.data[i];
    out.data[i] = std::isfinite(m) ? m + std::log(sum.data[i]) : m;
  }
  return out;
}

}  // namespace hamux::interp::detail
