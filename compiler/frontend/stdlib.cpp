// compiler/frontend/stdlib.cpp - loads the embedded stdlib.json into Definitions.
//
// The file is part of the build, so a malformed definition is a bug in hamux, not in a
// user's model: it throws an InternalError the first time a builtin is looked up (and the
// frontend tests load every definition).
#include "frontend/stdlib.h"

#include "graph/internal_error.h"

namespace hamux::frontend {

namespace {

const char kStdlibText[] =
#include "stdlib_json.inc"
    ;

[[noreturn]] void bad(const std::string& what) {
  HAMUX_INTERNAL("compiler/frontend/stdlib.json: " + what);
}

ArgType parse_type(const std::string& t, const std::string& where) {
  if (t == "number") return ArgType::Number;
  if (t == "int") return ArgType::Int;
  if (t == "bool") return ArgType::Bool;
  if (t == "ints") return ArgType::Ints;
  if (t == "string") return ArgType::String;
  if (t == "param") return ArgType::Param;
  if (t == "lagrangian") return ArgType::Lagrangian;
  bad(where + ": unknown argument type " + t);
}

Definition parse_definition(const std::string& kind, const std::string& name, const Json& j) {
  Definition d;
  d.kind = kind;
  d.name = name;
  if (!j.is_object() || !j.contains("expr") || !j.contains("args")) bad(name + ": needs args and expr");
  d.expr = j["expr"];
  d.convexity_proof = j.value("convexity", "");
  for (auto it = j["args"].begin(); it != j["args"].end(); ++it) {
    const Json& a = it.value();
    ArgSpec s;
    s.name = it.key();
    s.type = parse_type(a.value("type", ""), name + "/" + s.name);
    s.required = a.value("required", false);
    if (a.contains("default")) s.default_value = a["default"];
    if (a.contains("gt")) s.gt = a["gt"].get<double>();
    if (a.contains("ge")) s.ge = a["ge"].get<double>();
    s.length = a.value("length", -1);
    s.rank = a.value("rank", -1);
    if (a.contains("choices")) s.choices = a["choices"].get<std::vector<std::string>>();
    if (s.required == s.default_value.has_value())
      bad(name + "/" + s.name + ": an argument is either required or has a default");
    d.args.push_back(std::move(s));
  }
  return d;
}

struct Stdlib {
  std::vector<Definition> lagrangians, synapses, losses;
};

const Stdlib& stdlib() {
  static const Stdlib lib = [] {
    Stdlib s;
    Json j = Json::parse(kStdlibText);
    for (auto it = j["lagrangians"].begin(); it != j["lagrangians"].end(); ++it)
      s.lagrangians.push_back(parse_definition("lagrangian", it.key(), it.value()));
    for (auto it = j["synapses"].begin(); it != j["synapses"].end(); ++it)
      s.synapses.push_back(parse_definition("synapse", it.key(), it.value()));
    if (j.contains("losses"))
      for (auto it = j["losses"].begin(); it != j["losses"].end(); ++it)
        s.losses.push_back(parse_definition("loss", it.key(), it.value()));
    return s;
  }();
  return lib;
}

const Definition* find_in(const std::vector<Definition>& defs, const std::string& name) {
  for (const Definition& d : defs)
    if (d.name == name) return &d;
  return nullptr;
}

std::string names_of(const std::vector<Definition>& defs) {
  std::string s;
  for (const Definition& d : defs) s += (s.empty() ? "" : ", ") + d.name;
  return s;
}

}  // namespace

const ArgSpec* Definition::arg(const std::string& n) const {
  for (const ArgSpec& a : args)
    if (a.name == n) return &a;
  return nullptr;
}

const Definition* find_lagrangian(const std::string& name) { return find_in(stdlib().lagrangians, name); }
const Definition* find_synapse(const std::string& name) { return find_in(stdlib().synapses, name); }
std::string lagrangian_names() { return names_of(stdlib().lagrangians); }
std::string synapse_names() { return names_of(stdlib().synapses); }
const Definition* find_loss(const std::string& name) { return find_in(stdlib().losses, name); }
std::string loss_names() { return names_of(stdlib().losses); }

const std::string& stdlib_text() {
  static const std::string text(kStdlibText);
  return text;
}

}  // namespace hamux::frontend
