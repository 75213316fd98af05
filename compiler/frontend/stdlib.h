// compiler/frontend/stdlib.h - the builtin Lagrangians and synapses.
//
// Builtins are not C++ code: they are definitions in the model's own graph language,
// kept in compiler/frontend/stdlib.json and embedded into the library at build time.
// A definition is an EXPR (inputs, let, value) plus a table of typed arguments:
//
//   "softmax": {"args": {"beta": {"type": "number", "default": 1, "gt": 0},
//                        "axis": {"type": "int", "default": -1}},
//               "expr": {"inputs": ["x"], "value": ["div", ["sum", ["logsumexp",
//                          ["mul", "$beta", "x"], {"axis": "$axis", "keepdims": true}]], "$beta"]}}
//
// Inside a body, "$name" refers to an argument: as an operand it is a scalar constant
// (number/int; a bool is 1 or 0), a Param node (param) or the default expression; as an
// attribute value it is replaced by the argument's JSON value (this is how an axis or a
// Lagrangian spec is passed through). The expander (expr.cpp) validates the arguments against this table.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "frontend/json_util.h"

namespace hamux::frontend {

enum class ArgType { Number, Int, Bool, Ints, String, Param, Lagrangian };

struct ArgSpec {
  std::string name;
  ArgType type = ArgType::Number;
  bool required = false;
  // The default: a JSON value of the argument's type, or (Number only) a NODE computed
  // inside the body, e.g. 1/sqrt(size of axis 1 of $Wq) for attention's beta.
  std::optional<Json> default_value;
  std::optional<double> gt, ge;        // Number/Int: value > gt, value >= ge
  int length = -1;                     // Ints: exact length
  std::vector<std::string> choices;    // String: allowed values
  int rank = -1;                       // Param: required rank
};

struct Definition {
  std::string kind;  // "lagrangian", "synapse" or "loss"
  std::string name;
  std::vector<ArgSpec> args;  // in declaration order (descriptions list them so)
  Json expr;                  // {"inputs": [...], "let": {...}, "value": NODE}
  // Lagrangians whose convexity the curvature rules (analysis/curvature.h) cannot derive
  // carry a proof, "convexity" in stdlib.json, shown in `hamux check` certificates.
  std::string convexity_proof;

  const ArgSpec* arg(const std::string& n) const;
};

// nullptr when there is no such builtin.
const Definition* find_lagrangian(const std::string& name);
const Definition* find_synapse(const std::string& name);

// The builtin losses of gradient computations (frontend/loss.h), section "losses".
const Definition* find_loss(const std::string& name);

// "identity, repu, relu, ..." in stdlib order, for error messages.
std::string lagrangian_names();
std::string synapse_names();
std::string loss_names();

// The embedded stdlib.json text (for documentation tools and tests).
const std::string& stdlib_text();

}  // namespace hamux::frontend
