// compiler/interp/interpreter.h - the reference interpreter: the oracle for everything else.
//
// Evaluates any IR graph, in float or double, over a batch of samples. Written for
// clarity and exactness, not speed: each sample is evaluated node by node in
// topological order, every op straight from its definition.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "graph/ir.h"
#include "hamux/tensor.h"

namespace hamux {
struct Model;
}

namespace hamux::interp {

template <class T>
using ParamValues = std::map<std::string, Tensor<T>>;

// Evaluates `outputs` for `batch` samples.
//  - inputs[i] binds every ir::Input node with attrs.index == i; its shape is
//    [batch, ...node shape].
//  - params binds every ir::Param node by name (unbatched, shared by all samples).
// Returns one tensor per output, shaped [batch, ...output shape].
// Throws hamux::Error when a binding is missing or has the wrong shape.
template <class T>
std::vector<Tensor<T>> evaluate(const std::vector<ir::NodePtr>& outputs,
                                const std::vector<Tensor<T>>& inputs,
                                const ParamValues<T>& params, int64_t batch);

// The model's parameter values converted to T.
template <class T>
ParamValues<T> param_values(const Model& model);

}  // namespace hamux::interp
