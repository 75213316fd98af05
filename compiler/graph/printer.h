// compiler/graph/printer.h - renders an expression as readable math.
//
//   -logsumexp(2 * (xhat @ Xi))        x[image] - Xi @ softmax(xhat[image] @ Xi)
//
// Inputs print as their attrs.name, params as their name, constants in their shortest
// round-trip form (1, 0.5, 1e-05);
// einsum specs that are matrix products print with @, dot products with "dot".
#pragma once

#include <string>

#include "graph/ir.h"

namespace hamux::ir {

std::string to_string(const NodePtr& node);

}  // namespace hamux::ir
