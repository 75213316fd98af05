// compiler/codegen/evaluate.h - evaluating graphs with JIT kernels.
//
// The same contract as interp::evaluate (interp/interpreter.h), so the two can be
// compared directly: inputs[i] binds ir::Input index i ([batch, ...shape]), params bind
// by name (unbatched), one result per output, shaped [batch, ...]. The kernel is
// compiled (or fetched from the caches) on first use. `threads` > 1 splits the batch
// into contiguous slices run concurrently, each thread with its own workspace.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "codegen/jit/jit.h"
#include "graph/ir.h"
#include "hamux/tensor.h"

namespace hamux::codegen {

template <class T>
std::vector<Tensor<T>> evaluate(const std::vector<ir::NodePtr>& outputs,
                                const std::vector<Tensor<T>>& inputs,
                                const std::map<std::string, Tensor<T>>& params, int64_t batch,
                                int threads = 1, const CompileOptions& options = {});

}  // namespace hamux::codegen
