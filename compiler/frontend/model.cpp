// compiler/frontend/model.cpp - reads a model file: top level, neurons, synapses, connections.
//
// Order of work: the top-level keys, the params (values are generated or read here), the
// neurons (each Lagrangian becomes a scalar graph of the state, shifted by the bias), the
// synapses (forms and arguments checked), then one energy graph per connection, since a
// synapse's graph depends on the shapes of the neurons it connects.
#include "frontend/model.h"

#include <filesystem>
#include <fstream>
#include <new>
#include <sstream>
#include <unordered_map>

#include "frontend/expr.h"
#include "support/files.h"
#include "frontend/json_util.h"
#include "frontend/params.h"
#include "frontend/stdlib.h"
#include "graph/builder.h"

namespace hamux {

int Model::neuron_index(const std::string& n) const {
  for (size_t i = 0; i < neurons.size(); ++i)
    if (neurons[i].name == n) return static_cast<int>(i);
  return -1;
}

int Model::param_index(const std::string& n) const {
  for (size_t i = 0; i < params.size(); ++i)
    if (params[i].name == n) return static_cast<int>(i);
  return -1;
}

int64_t Model::param_count() const {
  int64_t n = 0;
  for (const ParamDef& p : params) n += num_elements(p.shape);
  return n;
}

namespace frontend {
namespace {

const char* kNameRule = "\" (names are letters, digits and _, not starting with a digit)";

// A synapse as declared: a custom expression or a builtin with checked arguments.
struct SynapseSpec {
  std::string ptr;        // /synapses/<name>/expr or /synapses/<name>/<builtin>
  const Json* expr = nullptr;
  BoundBuiltin builtin;   // builtin.def is null for a custom expression
  InputList inputs;
};

// Name -> position in a list of definitions (params, neurons, synapses). Every neuron and
// connection looks names up here: a scan of the list each time made loading quadratic in
// the number of layers (issue 19).
using NameIndex = std::unordered_map<std::string, int>;
template <class Def>
NameIndex index_by_name(const std::vector<Def>& defs) {
  NameIndex index;
  for (size_t i = 0; i < defs.size(); ++i) index.emplace(defs[i].name, static_cast<int>(i));
  return index;
}
int find(const NameIndex& index, const std::string& name) {
  auto it = index.find(name);
  return it == index.end() ? -1 : it->second;
}

void read_header(const Ctx& ctx, const Json& root, Model& m) {
  check_keys(ctx, root, "",
             {"hamux", "name", "description", "dtype", "seed", "params", "neurons", "synapses", "connections"});
  const Json& version = require(ctx, root, "", "hamux");
  if (!version.is_string() || version.get<std::string>() != "1")
    ctx.fail("/hamux", "unsupported format version " + version.dump() + " (expected \"1\")");
  if (root.contains("name")) m.name = get_string(ctx, root["name"], "/name");
  if (root.contains("description")) get_string(ctx, root["description"], "/description");
  if (root.contains("dtype")) {
    std::string d = get_string(ctx, root["dtype"], "/dtype");
    if (d == "float32") m.dtype = ir::DType::F32;
    else if (d == "float64") m.dtype = ir::DType::F64;
    else ctx.fail("/dtype", "unknown dtype \"" + d + "\" (expected \"float32\" or \"float64\")");
  }
  if (root.contains("seed")) {
    const Json& s = root["seed"];
    if (!s.is_number_integer() || (!s.is_number_unsigned() && s.get<int64_t>() < 0))
      ctx.fail("/seed", "seed must be a non-negative integer, got " + s.dump());
    m.seed = s.get<uint64_t>();
  }
}

void read_neurons(const Ctx& ctx, const Json& root, Model& m, Compiler& comp) {
  const NameIndex param_at = index_by_name(m.params);
  const Json& neurons = expect_object(ctx, require(ctx, root, "", "neurons"), "/neurons");
  if (neurons.empty()) ctx.fail("/neurons", "a model needs at least one neuron layer");
  for (auto it = neurons.begin(); it != neurons.end(); ++it) {
    const std::string ptr = ptr_key("/neurons", it.key());
    if (!is_identifier(it.key())) ctx.fail(ptr, "invalid name \"" + it.key() + kNameRule);
    const Json& def = expect_object(ctx, it.value(), ptr);
    check_keys(ctx, def, ptr, {"shape", "lagrangian", "tau", "bias"});
    NeuronDef n;
    n.name = it.key();
    n.shape = get_shape(ctx, require(ctx, def, ptr, "shape"), ptr_key(ptr, "shape"));
    const Json& lag = require(ctx, def, ptr, "lagrangian");
    if (def.contains("tau")) {
      n.tau = get_number(ctx, def["tau"], ptr_key(ptr, "tau"));
      if (!(n.tau > 0)) ctx.fail(ptr_key(ptr, "tau"), "tau must be > 0, got " + fmt_number(n.tau));
    }
    ir::NodePtr x = ir::input(0, "x", n.shape, m.dtype);
    ir::NodePtr arg = x;
    if (def.contains("bias")) {
      const std::string bptr = ptr_key(ptr, "bias");
      n.bias = get_string(ctx, def["bias"], bptr);
      int pi = find(param_at, n.bias);
      if (pi < 0) ctx.fail(bptr, "unknown param \"" + n.bias + "\"");
      const Shape& bs = m.params[pi].shape;
      bool fits = false;
      try {
        fits = ir::broadcast_shapes(bs, n.shape) == n.shape;
      } catch (const ir::ShapeError&) {
      }
      if (!fits)
        ctx.fail(bptr, "bias \"" + n.bias + "\" has shape " + shape_str(bs) +
                           ", which does not broadcast to the neuron shape " + shape_str(n.shape));
      arg = ir::sub(x, ir::param(n.bias, bs, m.dtype));
    }
    const std::string lptr = ptr_key(ptr, "lagrangian");
    n.lagrangian_desc = comp.check_lagrangian(lag, lptr);
    n.lagrangian = comp.lagrangian(lag, lptr, arg, 0);
    m.neurons.push_back(std::move(n));
  }
}

std::vector<SynapseSpec> read_synapses(const Ctx& ctx, const Json& root, Model& m, Compiler& comp) {
  std::vector<SynapseSpec> specs;
  if (!root.contains("synapses")) return specs;
  const Json& synapses = expect_object(ctx, root["synapses"], "/synapses");
  for (auto it = synapses.begin(); it != synapses.end(); ++it) {
    const std::string ptr = ptr_key("/synapses", it.key());
    if (!is_identifier(it.key())) ctx.fail(ptr, "invalid name \"" + it.key() + kNameRule);
    const Json& def = it.value();
    if (!def.is_object() || def.size() != 1)
      ctx.fail(ptr, "expected an object with one key, a builtin synapse name or \"expr\", got " +
                        (def.is_object() ? std::to_string(def.size()) + " keys" : json_type(def)));
    const std::string key = def.begin().key();
    SynapseSpec s;
    s.ptr = ptr_key(ptr, key);
    SynapseDef sd;
    sd.name = it.key();
    if (key == "expr") {
      s.expr = &def.begin().value();
      s.inputs = comp.expr_inputs(*s.expr, s.ptr, true);
      sd.desc = "custom expr";
    } else {
      const Definition* d = find_synapse(key);
      if (!d) ctx.fail(ptr, "unknown synapse \"" + key + "\" (expected one of " + synapse_names() + ", or {\"expr\": ...})");
      s.builtin = comp.bind(*d, &def.begin().value(), s.ptr);
      s.inputs = comp.expr_inputs(d->expr, s.ptr, false);
      sd.desc = s.builtin.desc;
    }
    specs.push_back(std::move(s));
    m.synapses.push_back(std::move(sd));
  }
  return specs;
}

void read_connections(const Ctx& ctx, const Json& root, Model& m, Compiler& comp,
                      const std::vector<SynapseSpec>& specs) {
  if (!root.contains("connections")) return;
  const Json& conns = expect_array(ctx, root["connections"], "/connections");
  const NameIndex neuron_at = index_by_name(m.neurons), synapse_at = index_by_name(m.synapses);
  for (size_t i = 0; i < conns.size(); ++i) {
    const std::string ptr = ptr_index("/connections", i);
    const Json& c = expect_object(ctx, conns[i], ptr);
    check_keys(ctx, c, ptr, {"neurons", "synapse"});
    const std::string nptr = ptr_key(ptr, "neurons");
    const Json& names = expect_array(ctx, require(ctx, c, ptr, "neurons"), nptr);
    const std::string sptr = ptr_key(ptr, "synapse");
    const std::string syn = get_string(ctx, require(ctx, c, ptr, "synapse"), sptr);
    if (names.empty()) ctx.fail(nptr, "a connection needs at least one neuron");
    ConnectionDef cd;
    std::vector<ir::NodePtr> inputs;
    for (size_t k = 0; k < names.size(); ++k) {
      const std::string p = ptr_index(nptr, k);
      const std::string n = get_string(ctx, names[k], p);
      int idx = find(neuron_at, n);
      if (idx < 0) ctx.fail(p, "unknown neuron \"" + n + "\"");
      cd.neurons.push_back(idx);
    }
    cd.synapse = find(synapse_at, syn);
    if (cd.synapse < 0) ctx.fail(sptr, "unknown synapse \"" + syn + "\"");
    const SynapseSpec& spec = specs[cd.synapse];
    std::vector<std::string> in_names = spec.inputs.bind(names.size());
    if (in_names.empty())
      ctx.fail(nptr, "synapse \"" + syn + "\" takes " + spec.inputs.arity_str() + " neuron" +
                         (spec.inputs.arity_str() == "1" ? "" : "s") + ", got " + std::to_string(names.size()));
    for (size_t k = 0; k < in_names.size(); ++k)
      inputs.push_back(ir::input(static_cast<int>(k), in_names[k], m.neurons[cd.neurons[k]].shape, m.dtype));
    // A synapse meets its neurons' shapes here: an error inside it (reported where the
    // synapse is written) also names the connection that gave it those shapes.
    std::string neuron_names;
    for (size_t k = 0; k < names.size(); ++k) neuron_names += (k ? ", " : "") + m.neurons[cd.neurons[k]].name;
    const std::string at = " (in " + ptr + ": neurons " + neuron_names + ")";
    try {
      cd.energy = spec.expr ? comp.expr(*spec.expr, spec.ptr, inputs, nullptr, 0, "an energy")
                            : comp.instantiate(spec.builtin, inputs, 0);
    } catch (const Error& e) {
      throw Error(e.where(), e.cause() + at);
    } catch (const ir::ShapeError& e) {
      throw Error(ctx.where(spec.ptr), e.what() + at);
    }
    m.connections.push_back(std::move(cd));
  }
}

Model parse(const std::string& text, const std::string& label, const std::string& base_dir) {
  Ctx ctx{label};
  Json root = parse_json(text, ctx);
  expect_object(ctx, root, "");
  Model m;
  m.file = label;
  m.name = std::filesystem::path(label).stem().string();
  read_header(ctx, root, m);
  if (root.contains("params")) m.params = parse_params(ctx, root["params"], base_dir, m.seed);
  Compiler comp(ctx, m.dtype, m.params);
  read_neurons(ctx, root, m, comp);
  std::vector<SynapseSpec> specs = read_synapses(ctx, root, m, comp);
  read_connections(ctx, root, m, comp, specs);
  return m;
}

}  // namespace
}  // namespace frontend

Model parse_model(const std::string& json_text, const std::string& file_label, const std::string& base_dir) {
  // Everything below reports hamux::Error with a pointer; these catch-alls only make sure
  // that nothing else ever escapes to the caller on bad input.
  try {
    return frontend::parse(json_text, file_label, base_dir);
  } catch (const Error&) {
    throw;
  } catch (const ir::ShapeError& e) {
    throw Error(file_label, e.what());
  } catch (const nlohmann::json::exception& e) {
    throw Error(file_label, e.what());
  } catch (const std::bad_alloc&) {
    throw Error(file_label, "out of memory");
  } catch (const std::length_error& e) {
    throw Error(file_label, std::string("too large: ") + e.what());
  }
}

Model load_model(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw Error(path, "is a directory, not a model file");
  const std::string text = read_regular_file(path, kMaxModelFileBytes, "a model file may take");
  std::string base = std::filesystem::path(path).parent_path().string();
  return parse_model(text, path, base);
}

}  // namespace hamux
