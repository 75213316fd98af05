// compiler/interp/param_values.cpp - a Model's parameter values as interpreter bindings.
//
// Only the Model struct (frontend/model.h) is used, so hamux_interp does not depend on
// the frontend library.
#include "frontend/model.h"
#include "interp/interpreter.h"

namespace hamux::interp {

template <class T>
ParamValues<T> param_values(const Model& model) {
  ParamValues<T> out;
  for (const ParamDef& p : model.params) out[p.name] = p.value.cast<T>();  // rounds for float
  return out;
}

template ParamValues<float> param_values<float>(const Model&);
template ParamValues<double> param_values<double>(const Model&);

}  // namespace hamux::interp
