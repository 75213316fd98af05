// compiler/codegen/kernels/scratch.h - what the runtime routines (einsum.cpp,
// conv.cpp) share: thread-local scratch memory and Eigen's row-major matrix.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <vector>

namespace hamux::codegen {

template <class T>
using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Thread-local scratch, allocated once per thread and grown as needed; slot k (0..3) is one
// independent array. Routines called from several threads on slices of a batch share nothing.
template <class T>
inline T* scratch(int slot, int64_t n) {
  thread_local std::vector<T> s[4];
  if (static_cast<int64_t>(s[slot].size()) < n) s[slot].resize(n);
  return s[slot].data();
}

}  // namespace hamux::codegen
