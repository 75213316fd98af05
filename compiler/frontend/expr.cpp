// compiler/frontend/expr.cpp - expressions, names, lets, builtin arguments and expansion.
#include "frontend/expr.h"

#include <algorithm>
#include <cmath>

#include "graph/builder.h"

namespace hamux::frontend {

bool is_format_op(const std::string& name);  // ops.cpp

// ---- input lists ----

std::vector<std::string> InputList::bind(size_t n) const {
  if (variadic.empty()) return n == names.size() ? names : std::vector<std::string>{};
  if (n <= names.size()) return {};
  std::vector<std::string> out = names;
  for (size_t i = 1; out.size() < n; ++i) out.push_back(variadic + std::to_string(i));
  return out;
}

std::string InputList::arity_str() const {
  if (variadic.empty()) return std::to_string(names.size());
  return "at least " + std::to_string(names.size() + 1);
}

// ---- the compiler ----

Compiler::Compiler(const Ctx& ctx, ir::DType dtype, const std::vector<ParamDef>& params)
    : ctx_(ctx), dtype_(dtype), params_(params) {
  for (const ParamDef& p : params_) param_by_name_.emplace(p.name, &p);
}

void Compiler::fail(const Env& env, const std::string& ptr, const std::string& cause) const {
  if (env.builtin) ctx_.fail(env.builtin->ptr, env.builtin->def->name + ": " + cause);
  ctx_.fail(ptr, cause);
}

const ParamDef* Compiler::param(const std::string& name) const {
  auto it = param_by_name_.find(name);
  return it == param_by_name_.end() ? nullptr : it->second;
}

int Compiler::graph_depth(const ir::NodePtr& n) const {
  auto it = depth_.find(n.get());
  return it == depth_.end() ? 1 : it->second.second;
}

namespace {

std::string value_str(const ArgSpec& spec, const Json& v) {
  switch (spec.type) {
    case ArgType::Number: return fmt_number(v.get<double>());
    case ArgType::Int: return std::to_string(v.get<int64_t>());
    case ArgType::Bool: return v.get<bool>() ? "true" : "false";
    case ArgType::Ints: {
      std::string s = "[";
      for (size_t i = 0; i < v.size(); ++i) {
        if (i) s += ",";
        s += std::to_string(v[i].get<int64_t>());
      }
      return s + "]";
    }
    default: return v.get<std::string>();
  }
}

std::string describe_bound(const std::string& name, const std::vector<std::string>& parts) {
  if (parts.empty()) return name;
  std::string s = name + "(";
  for (size_t i = 0; i < parts.size(); ++i) s += (i ? ", " : "") + parts[i];
  return s + ")";
}

}  // namespace

BoundBuiltin Compiler::bind(const Definition& def, const Json* args, const std::string& ptr) const {
  BoundBuiltin b;
  b.def = &def;
  b.ptr = ptr;
  const std::string& n = def.name;
  if (args) {
    expect_object(ctx_, *args, ptr);
    for (auto it = args->begin(); it != args->end(); ++it) {
      const std::string aptr = ptr_key(ptr, it.key());
      const ArgSpec* spec = def.arg(it.key());
      if (!spec) {
        std::string list;
        for (const ArgSpec& a : def.args) list += (list.empty() ? "" : ", ") + a.name;
        ctx_.fail(aptr, n + ": unknown argument \"" + it.key() + "\"" +
                            (list.empty() ? " (it takes no arguments)" : " (expected " + list + ")"));
      }
      const Json& v = it.value();
      const std::string what = n + ": " + spec->name;
      auto check_bounds = [&](double x) {
        if (spec->gt && !(x > *spec->gt))
          ctx_.fail(aptr, what + " must be > " + fmt_number(*spec->gt) + ", got " + fmt_number(x));
        if (spec->ge && !(x >= *spec->ge))
          ctx_.fail(aptr, what + " must be >= " + fmt_number(*spec->ge) + ", got " + fmt_number(x));
      };
      switch (spec->type) {
        case ArgType::Number:
          if (!v.is_number()) ctx_.fail(aptr, what + " must be a number, got " + json_type(v));
          if (!std::isfinite(v.get<double>())) ctx_.fail(aptr, what + " must be a finite number");
          check_bounds(v.get<double>());
          break;
        case ArgType::Int:
          if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<uint64_t>() > INT64_MAX))
            ctx_.fail(aptr, what + " must be an integer, got " + json_type(v));
          check_bounds(static_cast<double>(v.get<int64_t>()));
          break;
        case ArgType::Bool:
          if (!v.is_boolean()) ctx_.fail(aptr, what + " must be true or false, got " + json_type(v));
          break;
        case ArgType::Ints: {
          bool ok = v.is_array() && (spec->length < 0 || v.size() == static_cast<size_t>(spec->length));
          for (size_t i = 0; ok && i < v.size(); ++i)
            ok = v[i].is_number_integer() && !(v[i].is_number_unsigned() && v[i].get<uint64_t>() > INT64_MAX) &&
                 (!spec->ge || v[i].get<int64_t>() >= *spec->ge);
          if (!ok)
            ctx_.fail(aptr, what + " must be a list of " +
                                (spec->length >= 0 ? std::to_string(spec->length) + " " : "") +
                                (spec->ge && *spec->ge == 1 ? "positive " : "") + "integers");
          break;
        }
        case ArgType::String: {
          if (!v.is_string()) ctx_.fail(aptr, what + " must be a string, got " + json_type(v));
          if (!spec->choices.empty() &&
              std::find(spec->choices.begin(), spec->choices.end(), v.get<std::string>()) ==
                  spec->choices.end()) {
            std::string list;
            for (const std::string& c : spec->choices) list += (list.empty() ? "\"" : " or \"") + c + "\"";
            ctx_.fail(aptr, what + " must be " + list + ", got \"" + v.get<std::string>() + "\"");
          }
          break;
        }
        case ArgType::Param: {
          if (!v.is_string()) ctx_.fail(aptr, what + " must be a param name, got " + json_type(v));
          const ParamDef* p = param(v.get<std::string>());
          if (!p) ctx_.fail(aptr, n + ": unknown param \"" + v.get<std::string>() + "\"");
          if (spec->rank >= 0 && p->shape.size() != static_cast<size_t>(spec->rank))
            ctx_.fail(aptr, what + " must have rank " + std::to_string(spec->rank) + ", but param \"" +
                                p->name + "\" has shape " + shape_str(p->shape));
          break;
        }
        case ArgType::Lagrangian: check_lagrangian(v, aptr); break;
      }
      b.given[spec->name] = ArgValue{v, aptr};
    }
  }
  std::vector<std::string> parts;
  for (const ArgSpec& a : def.args) {
    auto it = b.given.find(a.name);
    if (it == b.given.end() && a.required)
      ctx_.fail(ptr, n + ": missing argument \"" + a.name + "\"");
    if (it != b.given.end()) {
      parts.push_back(a.name + "=" + (a.type == ArgType::Lagrangian ? check_lagrangian(it->second.value, it->second.ptr)
                                                                     : value_str(a, it->second.value)));
    } else if (a.default_value && !(a.type == ArgType::Number && !a.default_value->is_number())) {
      parts.push_back(a.name + "=" + (a.type == ArgType::Lagrangian ? check_lagrangian(*a.default_value, ptr)
                                                                     : value_str(a, *a.default_value)));
    }
  }
  b.desc = describe_bound(n, parts);
  return b;
}

std::string Compiler::check_lagrangian(const Json& spec, const std::string& ptr) const {
  if (spec.is_string()) {
    const Definition* def = find_lagrangian(spec.get<std::string>());
    if (!def)
      ctx_.fail(ptr, "unknown lagrangian \"" + spec.get<std::string>() + "\" (expected one of " +
                         lagrangian_names() + ", or {\"expr\": ...})");
    return bind(*def, nullptr, ptr).desc;
  }
  if (!spec.is_object())
    ctx_.fail(ptr, "expected a lagrangian: a builtin name, {\"name\": {arguments}} or {\"expr\": ...}, got " +
                       json_type(spec));
  if (spec.size() != 1)
    ctx_.fail(ptr, "expected exactly one key, a builtin lagrangian name or \"expr\", got " +
                       std::to_string(spec.size()));
  const std::string key = spec.begin().key();
  const std::string kptr = ptr_key(ptr, key);
  if (key == "expr") {
    InputList in = expr_inputs(spec.begin().value(), kptr, true);
    if (in.names.size() != 1 || !in.variadic.empty())
      ctx_.fail(ptr_key(kptr, "inputs"), "a lagrangian expression takes exactly one input (the state), got " +
                                             std::string(in.variadic.empty() ? std::to_string(in.names.size())
                                                                             : "a variadic list"));
    return "custom expr";
  }
  const Definition* def = find_lagrangian(key);
  if (!def)
    ctx_.fail(ptr, "unknown lagrangian \"" + key + "\" (expected one of " + lagrangian_names() +
                       ", or {\"expr\": ...})");
  return bind(*def, &spec.begin().value(), kptr).desc;
}

ir::NodePtr Compiler::lagrangian(const Json& spec, const std::string& ptr, const ir::NodePtr& x, int depth) {
  check_lagrangian(spec, ptr);
  if (depth > kMaxNodeDepth) ctx_.fail(ptr, "lagrangians are nested too deeply");
  if (spec.is_string()) return instantiate(bind(*find_lagrangian(spec.get<std::string>()), nullptr, ptr), {x}, depth);
  const std::string key = spec.begin().key();
  const std::string kptr = ptr_key(ptr, key);
  if (key == "expr") {
    return expr(spec.begin().value(), kptr, {x}, nullptr, depth + 1, "a lagrangian");
  }
  return instantiate(bind(*find_lagrangian(key), &spec.begin().value(), kptr), {x}, depth);
}

InputList Compiler::expr_inputs(const Json& e, const std::string& ptr, bool user) const {
  expect_object(ctx_, e, ptr);
  if (user) check_keys(ctx_, e, ptr, {"inputs", "let", "value"});
  const std::string iptr = ptr_key(ptr, "inputs");
  const Json& list = expect_array(ctx_, require(ctx_, e, ptr, "inputs"), iptr);
  require(ctx_, e, ptr, "value");
  InputList out;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string p = ptr_index(iptr, i);
    std::string name = get_string(ctx_, list[i], p);
    bool variadic = name.size() > 3 && name.compare(name.size() - 3, 3, "...") == 0;
    if (variadic) name.resize(name.size() - 3);
    if (!is_identifier(name))
      ctx_.fail(p, "invalid input name \"" + list[i].get<std::string>() +
                       "\" (names are letters, digits and _, not starting with a digit)");
    if (variadic && i + 1 != list.size()) ctx_.fail(p, "only the last input may be variadic (\"name...\")");
    bool dup = std::find(out.names.begin(), out.names.end(), name) != out.names.end();
    if (dup) ctx_.fail(p, "duplicate input name \"" + name + "\"");
    if (user && param(name)) ctx_.fail(p, "input \"" + name + "\" has the same name as a param");
    if (variadic) out.variadic = name;
    else out.names.push_back(name);
  }
  return out;
}

ir::NodePtr Compiler::expr(const Json& e, const std::string& ptr, const std::vector<ir::NodePtr>& inputs,
                           const BoundBuiltin* builtin, int depth, const char* what) {
  // The graph depths are needed only while an expression is compiled: its graph reaches its
  // own nodes and the leaves it was given, nothing of an expression compiled before. So
  // they are forgotten when the outermost expression is done, which keeps the map as small
  // as one expression (one map of every node of a model of 10^4 layers missed the cache at
  // nearly every lookup, issue 19).
  struct Open {
    Compiler& c;
    explicit Open(Compiler& c) : c(c) { ++c.open_exprs_; }
    ~Open() {
      if (--c.open_exprs_ == 0) c.depth_.clear();
    }
  } open(*this);
  const bool user = builtin == nullptr;
  InputList in = expr_inputs(e, ptr, user);
  Env env;
  env.builtin = builtin;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (i < in.names.size()) env.names[in.names[i]] = inputs[i];
    else env.splice.push_back(inputs[i]);
  }
  env.splice_name = in.variadic;

  auto let_it = e.find("let");
  if (let_it != e.end()) {
    const std::string lptr = ptr_key(ptr, "let");
    const Json& lets = expect_object(ctx_, *let_it, lptr);
    if (lets.size() > kMaxLets)
      ctx_.fail(lptr, "more than " + std::to_string(kMaxLets) + " let entries");
    env.lets = &lets;
    for (auto it = lets.begin(); it != lets.end(); ++it) {
      const std::string p = ptr_key(lptr, it.key());
      const std::string& name = it.key();
      if (!is_identifier(name))
        fail(env, p, "invalid let name \"" + name + "\" (names are letters, digits and _, not starting with a digit)");
      if (env.names.count(name) || name == env.splice_name) fail(env, p, "let \"" + name + "\" shadows an input");
      if (user && param(name)) fail(env, p, "let \"" + name + "\" shadows a param");
      env.defining = name;
      env.names[name] = node(it.value(), p, env, depth + 1);
    }
    env.defining.clear();
  }
  const std::string vptr = ptr_key(ptr, "value");
  ir::NodePtr v = node(e["value"], vptr, env, depth + 1);
  if (!v->shape.empty()) fail(env, vptr, std::string(what) + " must be a scalar, got shape " + shape_str(v->shape));
  return v;
}

ir::NodePtr Compiler::instantiate(const BoundBuiltin& b, const std::vector<ir::NodePtr>& inputs, int depth) {
  if (depth > kMaxNodeDepth) ctx_.fail(b.ptr, "builtins are nested too deeply");
  return expr(b.def->expr, b.ptr, inputs, &b, depth + 1);
}

// ---- nodes ----

ir::NodePtr Compiler::node(const Json& j, const std::string& ptr, const Env& env, int depth) {
  if (depth > kMaxNodeDepth) fail(env, ptr, "expression is nested too deeply");
  if (j.is_number()) {
    double v = j.get<double>();
    if (!std::isfinite(v)) fail(env, ptr, "expected a finite number");
    return ir::constant(v, dtype_);
  }
  if (j.is_string()) {
    const std::string s = j.get<std::string>();
    if (env.builtin && !s.empty() && s[0] == '$') return arg_ref(s.substr(1), ptr, env, depth);
    return name_ref(s, ptr, env, depth);
  }
  if (!j.is_array())
    fail(env, ptr, "expected a number, a name or a list [\"op\", operands..., {attributes}], got " + json_type(j));
  if (j.empty()) fail(env, ptr, "empty list: expected [\"op\", operands..., {attributes}]");
  if (!j[0].is_string())
    fail(env, ptr_index(ptr, 0), "expected an op name, got " + json_type(j[0]));
  const std::string op = j[0].get<std::string>();
  if (!is_format_op(op)) fail(env, ptr_index(ptr, 0), "unknown op \"" + op + "\"");

  size_t end = j.size();
  AttrMap attrs;
  if (end >= 2 && j[end - 1].is_object()) {
    --end;
    const std::string aptr = ptr_index(ptr, end);
    for (auto it = j[end].begin(); it != j[end].end(); ++it)
      attrs[it.key()] = substitute(it.value(), ptr_key(aptr, it.key()), env);
  }
  std::vector<ir::NodePtr> args;
  int gdepth = 0;
  for (size_t i = 1; i < end; ++i) {
    const Json& o = j[i];
    if (o.is_string() && !env.splice_name.empty() && o.get<std::string>() == env.splice_name + "...") {
      args.insert(args.end(), env.splice.begin(), env.splice.end());
      continue;
    }
    args.push_back(node(o, ptr_index(ptr, i), env, depth + 1));
    gdepth = std::max(gdepth, graph_depth(args.back()));
  }
  ir::NodePtr out;
  try {
    out = lower(op, args, attrs, ptr, env, depth);
  } catch (const ir::ShapeError& e) {
    fail(env, ptr, e.what());
  }
  if (checked_elements(out->shape) < 0)
    fail(env, ptr, op + ": the result shape " + shape_str(out->shape) + " has more than " +
                       std::to_string(kMaxElements) + " elements");
  // Bound the depth of the graph, so that later recursive passes cannot overflow the stack.
  if (gdepth + 1 > kMaxGraphDepth)
    fail(env, ptr, "expression is nested too deeply (more than " + std::to_string(kMaxGraphDepth) +
                       " operations in a chain)");
  depth_[out.get()] = {out, std::max(gdepth + 1, graph_depth(out))};
  return out;
}

ir::NodePtr Compiler::name_ref(const std::string& name, const std::string& ptr, const Env& env, int) {
  auto it = env.names.find(name);
  if (it != env.names.end()) return it->second;
  if (!env.builtin) {
    if (const ParamDef* p = param(name)) return ir::param(p->name, p->shape, dtype_);
  }
  if (!env.splice_name.empty() && name == env.splice_name + "...")
    fail(env, ptr, "\"" + name + "\" may only appear as an operand of an op");
  if (!env.splice_name.empty() && name == env.splice_name)
    fail(env, ptr, "\"" + name + "\" is variadic: write \"" + name + "...\" as the operands of an op");
  if (name == env.defining) fail(env, ptr, "let \"" + name + "\" refers to itself");
  if (env.lets && env.lets->contains(name))
    fail(env, ptr, "\"" + name + "\" is used before its definition in let");
  fail(env, ptr, "unknown name \"" + name + "\"");
}

ir::NodePtr Compiler::arg_ref(const std::string& arg, const std::string& ptr, const Env& env, int depth) {
  const ArgSpec* spec = env.builtin->def->arg(arg);
  if (!spec) fail(env, ptr, "unknown argument \"$" + arg + "\"");
  auto it = env.builtin->given.find(arg);
  const Json& v = it != env.builtin->given.end() ? it->second.value : *spec->default_value;
  switch (spec->type) {
    case ArgType::Number:
      if (!v.is_number()) return node(v, ptr, env, depth + 1);  // a default computed in the body
      return ir::constant(v.get<double>(), dtype_);
    case ArgType::Int: return ir::constant(static_cast<double>(v.get<int64_t>()), dtype_);
    // A flag switches a term of the body on or off by multiplying it by 1 or 0; the
    // simplifier removes a term multiplied by the constant 0 (attention's exclude_self).
    case ArgType::Bool: return ir::constant(v.get<bool>() ? 1.0 : 0.0, dtype_);
    case ArgType::Param: {
      const ParamDef* p = param(v.get<std::string>());
      return ir::param(p->name, p->shape, dtype_);
    }
    default: fail(env, ptr, "argument \"$" + arg + "\" cannot be used as an operand");
  }
}

AttrVal Compiler::substitute(const Json& value, const std::string& ptr, const Env& env) const {
  if (env.builtin && value.is_string()) {
    const std::string s = value.get<std::string>();
    if (!s.empty() && s[0] == '$') {
      const ArgSpec* spec = env.builtin->def->arg(s.substr(1));
      if (!spec) fail(env, ptr, "unknown argument \"" + s + "\"");
      auto it = env.builtin->given.find(spec->name);
      if (it != env.builtin->given.end()) return AttrVal{it->second.value, it->second.ptr};
      return AttrVal{*spec->default_value, env.builtin->ptr};
    }
  }
  return AttrVal{value, ptr};
}

}  // namespace hamux::frontend
