// python/src/arrays.cpp - NumPy arrays <-> hamux::Tensor.
#include <cstring>

#include "binding.h"

namespace hamuxpy {

hamux::Tensor<double> to_tensor(nb::handle value) {
  // numpy does the conversion (lists, scalars, any real dtype, any strides); asarray keeps a
  // 0-d array 0-d, which a scalar param needs.
  static nb::object asarray = nb::module_::import_("numpy").attr("asarray");
  nb::object a = asarray(value, nb::arg("dtype") = "float64", nb::arg("order") = "C");
  auto arr = nb::cast<nb::ndarray<const double, nb::c_contig, nb::device::cpu>>(a);
  hamux::Tensor<double> t;
  t.shape.resize(arr.ndim());
  for (size_t d = 0; d < arr.ndim(); ++d) t.shape[d] = static_cast<int64_t>(arr.shape(d));
  t.data.assign(arr.data(), arr.data() + arr.size());
  return t;
}

template <class T>
nb::object owned_array(std::vector<T>&& data, const hamux::Shape& shape) {
  auto* owned = new std::vector<T>(std::move(data));
  nb::capsule owner(owned, [](void* p) noexcept { delete static_cast<std::vector<T>*>(p); });
  std::vector<size_t> dims(shape.begin(), shape.end());
  return nb::ndarray<nb::numpy, T>(owned->data(), dims.size(), dims.data(), owner).cast();
}

template nb::object owned_array<float>(std::vector<float>&&, const hamux::Shape&);
template nb::object owned_array<double>(std::vector<double>&&, const hamux::Shape&);
template nb::object owned_array<int64_t>(std::vector<int64_t>&&, const hamux::Shape&);

nb::object to_array(const hamux::Tensor<double>& t, bool float64) {
  if (float64) return owned_array(std::vector<double>(t.data), t.shape);
  return owned_array(std::vector<float>(t.data.begin(), t.data.end()), t.shape);
}

nb::object to_array(const std::vector<double>& v, bool float64) {
  return to_array(hamux::Tensor<double>({static_cast<int64_t>(v.size())}, v), float64);
}

nb::tuple shape_tuple(const hamux::Shape& shape) {
  nb::list l;
  for (int64_t d : shape) l.append(d);
  return nb::tuple(l);
}

}  // namespace hamuxpy
