// compiler/interp/ops.h - the interpreter's per-op kernels (internal to compiler/interp).
//
// Every kernel works on double-precision tensors of ONE sample. evaluate<T> (interpreter.cpp)
// converts inputs and params to double, runs these kernels and rounds each node's result
// to T, so that a float32 evaluation equals "every op computed in double, then rounded
// once to float": the closest a float32 implementation can get, which makes it a good
// oracle for the JIT. Accumulations (sums, einsum, convolutions) therefore run in double
// for both T.
#pragma once

#include <string>
#include <vector>

#include "graph/ir.h"
#include "hamux/tensor.h"

namespace hamux::interp::detail {

using Values = Tensor<double>;

// Row-major strides of `shape`.
std::vector<int64_t> row_major_strides(const Shape& shape);

// For every element of `shape`, in row-major order, the offset sum_a index[a] * stride[a].
// This one walk expresses broadcast (stride 0 on broadcast axes), transpose (permuted
// strides) and the reduction map (stride 0 on reduced axes) (layout.cpp).
std::vector<int64_t> offsets(const Shape& shape, const std::vector<int64_t>& stride);

// Sum / ReduceMax / LogSumExp over sorted `axes` (reduce.cpp). `out_shape` is the node's
// shape (with or without keepdims: the element order is the same).
Values reduce(ir::Op op, const Values& x, const std::vector<int64_t>& axes, const Shape& out_shape);

// Layout (layout.cpp).
Values broadcast(const Values& x, const Shape& to);
Values transpose(const Values& x, const std::vector<int64_t>& perm);

// Explicit einsum with the semantics of ir.h (einsum.cpp): the loop over all letter
// assignments, or for plain pairwise contractions the same sum as GEMMs.
Values einsum(const std::string& spec, const std::vector<const Values*>& operands,
              const Shape& out_shape);
// Always the loop over all letter assignments.
Values einsum_by_definition(const std::string& spec, const std::vector<const Values*>& operands,
                            const Shape& out_shape);

// Convolutions, TensorFlow SAME/VALID geometry (conv.cpp).
Values conv2d(const Values& x, const Values& k, const std::vector<int64_t>& strides,
              const std::string& padding);
Values conv2d_input_grad(const Values& g, const Values& k, const Shape& x_shape,
                         const std::vector<int64_t>& strides, const std::string& padding);
Values conv2d_kernel_grad(const Values& x, const Values& g, const Shape& k_shape,
                          const std::vector<int64_t>& strides, const std::string& padding);

}  // namespace hamux::interp::detail
