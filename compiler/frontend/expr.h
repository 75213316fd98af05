// compiler/frontend/expr.h - compiles EXPR / NODE JSON into IR graphs.
//
// One Compiler serves a whole model: it knows the file label (for errors), the dtype and
// the params. It compiles user expressions and expands builtins from the stdlib (which are
// expressions too, with "$arg" references). Errors inside a user expression name the
// node's JSON pointer; errors inside a builtin's body name the place where the user wrote
// the builtin ("/synapses/s/linear: linear: contract: ..."), since the body is not theirs.
#pragma once

#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "frontend/json_util.h"
#include "frontend/model.h"
#include "frontend/stdlib.h"
#include "graph/ir.h"

namespace hamux::frontend {

// An argument value as written in the model, with its pointer.
struct ArgValue {
  Json value;
  std::string ptr;
};

// A builtin whose arguments have been checked.
struct BoundBuiltin {
  const Definition* def = nullptr;
  std::map<std::string, ArgValue> given;
  std::string ptr;   // where the user wrote it; errors in its body are reported here
  std::string desc;  // "softmax(beta=1, axis=-1)"
};

// The input names an EXPR declares. A last name written "x..." makes it variadic: it
// takes one or more further inputs, named x1, x2, ... and spliced where "x..." appears.
struct InputList {
  std::vector<std::string> names;  // fixed names (without the variadic one)
  std::string variadic;            // "x" for "x...", or empty
  // Names of `n` actual inputs, or "" when n does not fit.
  std::vector<std::string> bind(size_t n) const;
  std::string arity_str() const;  // "2", "at least 1"
};

// What the names of one expression mean while it is compiled.
struct Env {
  std::map<std::string, ir::NodePtr> names;  // inputs and lets
  std::string splice_name;                   // variadic input name, "x" for "x..."
  std::vector<ir::NodePtr> splice;           // the variadic inputs
  const BoundBuiltin* builtin = nullptr;     // set inside a stdlib body
  const Json* lets = nullptr;                // the let object, to name use-before-definition
  std::string defining;                      // the let being compiled
};

// One attribute of an op node; `ptr` is where its value was written.
struct AttrVal {
  Json value;
  std::string ptr;
};
using AttrMap = std::map<std::string, AttrVal>;

class Compiler {
 public:
  Compiler(const Ctx& ctx, ir::DType dtype, const std::vector<ParamDef>& params);

  const Ctx& ctx() const { return ctx_; }
  ir::DType dtype() const { return dtype_; }

  // Checks a builtin's arguments; `args` is the object after its name (nullptr for the
  // bare-name form "relu"), `ptr` the pointer of that object or name.
  BoundBuiltin bind(const Definition& def, const Json* args, const std::string& ptr) const;

  // Checks the form of a LAG spec (builtin name, {"name": {args}} or {"expr": ...}) and
  // returns its description; shapes are checked only when it is applied.
  std::string check_lagrangian(const Json& spec, const std::string& ptr) const;

  // L(x) for a LAG spec: a scalar.
  ir::NodePtr lagrangian(const Json& spec, const std::string& ptr, const ir::NodePtr& x, int depth);

  // The input list of an EXPR object at `ptr`.
  InputList expr_inputs(const Json& e, const std::string& ptr, bool user) const;

  // An EXPR with its inputs bound, in order, to `inputs` (whose count must fit); the value
  // must be a scalar. `builtin` is set for a stdlib body.
  // `what` names the value in the scalar check ("an energy must be a scalar, ...").
  ir::NodePtr expr(const Json& e, const std::string& ptr, const std::vector<ir::NodePtr>& inputs,
                   const BoundBuiltin* builtin, int depth, const char* what = "the value");

  // A builtin's body on `inputs`.
  ir::NodePtr instantiate(const BoundBuiltin& b, const std::vector<ir::NodePtr>& inputs, int depth);

  // Reports at `ptr`, or at the builtin's place when compiling a stdlib body.
  [[noreturn]] void fail(const Env& env, const std::string& ptr, const std::string& cause) const;

 private:
  ir::NodePtr node(const Json& j, const std::string& ptr, const Env& env, int depth);
  ir::NodePtr name_ref(const std::string& name, const std::string& ptr, const Env& env, int depth);
  ir::NodePtr arg_ref(const std::string& arg, const std::string& ptr, const Env& env, int depth);
  AttrVal substitute(const Json& value, const std::string& ptr, const Env& env) const;
  const ParamDef* param(const std::string& name) const;

  // ops.cpp: lowers one format op to IR primitives.
  ir::NodePtr lower(const std::string& op, const std::vector<ir::NodePtr>& args, const AttrMap& attrs,
                    const std::string& ptr, const Env& env, int depth);

  int graph_depth(const ir::NodePtr& n) const;

  Ctx ctx_;
  ir::DType dtype_;
  const std::vector<ParamDef>& params_;
  // By name: every synapse and builtin argument looks its param up (a scan of params_ per
  // lookup made a model with N layers and N params load in O(N^2), issue 19).
  std::unordered_map<std::string, const ParamDef*> param_by_name_;
  // Graph depth of the compiled nodes of the expression being compiled (kept alive, so
  // addresses are not reused), and how many expr() calls are open.
  std::unordered_map<const ir::Node*, std::pair<ir::NodePtr, int>> depth_;
  int open_exprs_ = 0;
};

// Guards against stack exhaustion by deep nesting of nodes, lets and expansions.
inline constexpr int kMaxNodeDepth = 1000;
inline constexpr int kMaxGraphDepth = 5000;
inline constexpr size_t kMaxLets = 10000;

}  // namespace hamux::frontend
