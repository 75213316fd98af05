// hamux/tensor.h - a dense, row-major (C order) tensor of float or double.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hamux {

using Shape = std::vector<int64_t>;

// Number of elements of a shape (1 for a scalar, shape []).
inline int64_t num_elements(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

// "[3,4]" - the form every error message uses.
inline std::string shape_str(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ",";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

template <class T>
struct Tensor {
  Shape shape;
  std::vector<T> data;  // row-major, size == num_elements(shape)

  Tensor() = default;
  explicit Tensor(Shape s, T fill = T(0)) : shape(std::move(s)), data(num_elements(shape), fill) {}
  Tensor(Shape s, std::vector<T> d) : shape(std::move(s)), data(std::move(d)) {}

  int64_t size() const { return static_cast<int64_t>(data.size()); }
  int rank() const { return static_cast<int>(shape.size()); }
  T& operator[](int64_t i) { return data[i]; }
  const T& operator[](int64_t i) const { return data[i]; }

  template <class U>
  Tensor<U> cast() const {
    return Tensor<U>(shape, std::vector<U>(data.begin(), data.end()));
  }
};

}  // namespace hamux
