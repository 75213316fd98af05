// compiler/frontend/loss.cpp - parsing and compiling loss specs (see loss.h).
#include "frontend/loss.h"

#include "frontend/expr.h"
#include "frontend/json_util.h"
#include "frontend/stdlib.h"

namespace hamux {

namespace {

using frontend::Ctx;
using frontend::Json;

std::string neuron_names(const Model& m) {
  std::string s;
  for (const NeuronDef& n : m.neurons) s += (s.empty() ? "" : ", ") + n.name;
  return s;
}

LossSpec parse(const Model& model, const std::string& text, const Ctx& ctx) {
  using namespace frontend;
  Json root = parse_json(text, ctx);
  expect_object(ctx, root, "");
  check_keys(ctx, root, "", {"neuron", "of", "loss", "reduction"});
  LossSpec spec;
  const std::string name = get_string(ctx, require(ctx, root, "", "neuron"), "/neuron");
  spec.neuron = model.neuron_index(name);
  if (spec.neuron < 0)
    ctx.fail("/neuron", "unknown neuron \"" + name + "\" (the model has: " + neuron_names(model) + ")");
  if (root.contains("of")) {
    const std::string of = get_string(ctx, root["of"], "/of");
    if (of != "activation" && of != "state")
      ctx.fail("/of", "expected \"activation\" or \"state\", got \"" + of + "\"");
    spec.of_activation = of == "activation";
  }
  if (root.contains("reduction")) {
    const std::string r = get_string(ctx, root["reduction"], "/reduction");
    if (r != "mean" && r != "sum") ctx.fail("/reduction", "expected \"mean\" or \"sum\", got \"" + r + "\"");
    spec.mean = r == "mean";
  }

  const NeuronDef& nd = model.neurons[spec.neuron];
  std::vector<ir::NodePtr> inputs;
  for (const char* in : {"y", "t", "m"})
    inputs.push_back(ir::input(static_cast<int>(inputs.size()), in, nd.shape, model.dtype));
  Compiler comp(ctx, model.dtype, model.params);
  const Json& loss = require(ctx, root, "", "loss");
  const std::string expected = "a builtin loss (" + loss_names() + "), {\"name\": {arguments}} or {\"expr\": ...}";
  std::string builtin;
  if (loss.is_string()) {
    builtin = loss.get<std::string>();
    const Definition* def = find_loss(builtin);
    if (!def) ctx.fail("/loss", "unknown loss \"" + builtin + "\" (expected " + expected + ")");
    spec.graph = comp.instantiate(comp.bind(*def, nullptr, "/loss"), inputs, 0);
  } else {
    if (!loss.is_object()) ctx.fail("/loss", "expected " + expected + ", got " + json_type(loss));
    if (loss.size() != 1)
      ctx.fail("/loss", "expected exactly one key, a builtin loss name or \"expr\", got " + std::to_string(loss.size()));
    const std::string key = loss.begin().key();
    const std::string kptr = ptr_key("/loss", key);
    if (key == "expr") {
      InputList in = comp.expr_inputs(loss.begin().value(), kptr, true);
      if (in.names.empty() || in.names.size() > 3 || !in.variadic.empty())
        ctx.fail(ptr_key(kptr, "inputs"), "a loss expression takes 1 to 3 inputs (y, t, m: the value, the target, the mask)");
      inputs.resize(in.names.size());
      spec.graph = comp.expr(loss.begin().value(), kptr, inputs, nullptr, 0, "a loss");
      builtin = "custom expr";
    } else {
      const Definition* def = find_loss(key);
      if (!def) ctx.fail("/loss", "unknown loss \"" + key + "\" (expected " + expected + ")");
      spec.graph = comp.instantiate(comp.bind(*def, &loss.begin().value(), kptr), inputs, 0);
      builtin = key;
    }
  }
  spec.class_targets = builtin == "cross_entropy" || builtin == "softmax_cross_entropy";
  spec.desc = builtin + " on " + (spec.of_activation ? "activation" : "state") + " of '" + nd.name + "' (" +
              (spec.mean ? "mean" : "sum") + ")";
  return spec;
}

}  // namespace

LossSpec parse_loss(const Model& model, const std::string& json_text, const std::string& label) {
  const Ctx ctx{label};
  try {
    return parse(model, json_text, ctx);
  } catch (const Error&) {
    throw;
  } catch (const ir::ShapeError& e) {
    throw Error(label, e.what());
  } catch (const nlohmann::json::exception& e) {
    throw Error(label, e.what());
  }
}

}  // namespace hamux
