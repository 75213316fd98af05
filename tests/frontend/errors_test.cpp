// tests/frontend/errors_test.cpp - malformed models: each is rejected with the exact message.
//
// Table-driven: a model text and the full message of the hamux::Error it must raise
// ("<file>: <json pointer>: <cause>"). The cases cover every kind of mistake the format
// can contain, from JSON syntax to shape mismatches deep inside a builtin.
#include <gtest/gtest.h>

#include <fstream>

#include "frontend/model.h"
#include "frontend/npy.h"
#include "frontend_test_util.h"

namespace hamux {
namespace {

// A model from its parts; each part is the inside of its JSON object / list.
std::string model(const std::string& params, const std::string& neurons, const std::string& synapses = "",
                  const std::string& connections = "") {
  return R"({"hamux": "1", "params": {)" + params + R"(}, "neurons": {)" + neurons + R"(}, "synapses": {)" + synapses +
         R"(}, "connections": [)" + connections + "]}";
}

// Common pieces.
const std::string kA3 = R"("a": {"shape": [3], "lagrangian": "identity"})";
const std::string kA3B4 = kA3 + R"(, "b": {"shape": [4], "lagrangian": "identity"})";
std::string zeros(const std::string& name, const std::string& shape) {
  return "\"" + name + "\": {\"shape\": " + shape + ", \"init\": {\"zeros\": {}}}";
}
// A custom synapse "s" over inputs `inputs` with `body` (the rest of the expr object),
// connected to `neurons`.
std::string custom(const std::string& params, const std::string& neurons, const std::string& inputs,
                   const std::string& body, const std::string& conn_neurons) {
  return model(params, neurons, R"("s": {"expr": {"inputs": )" + inputs + ", " + body + "}}",
               R"({"neurons": )" + conn_neurons + R"(, "synapse": "s"})");
}
// A neuron "a" of shape [3] with lagrangian `lag`.
std::string neuron_lag(const std::string& lag) {
  return model("", R"("a": {"shape": [3], "lagrangian": )" + lag + "}");
}

struct Case {
  const char* name;
  std::string text;
  std::string message;
};

std::string deep_model() {
  std::string v = "0";
  for (int i = 0; i < 250; ++i) v = "[\"neg\", " + v + "]";
  return custom("", kA3, R"(["x"])", "\"value\": " + v, R"(["a"])");
}
std::string deep_pointer() {
  // The parser refuses the 201st nested container: the root, synapses, s, expr and value
  // are the first 5, then 196 nested ["neg", ...] lists.
  std::string p = "/synapses/s/expr/value";
  for (int i = 0; i < 196; ++i) p += "/1";
  return p;
}

// `n` params W0..W{n-1}, then `extra` (objects of more than 16 members find duplicates by a
// hash set, smaller ones by a scan: both are tested).
std::string many_params(int n, const std::string& extra) {
  std::string s;
  for (int i = 0; i < n; ++i) s += (i ? ", " : "") + zeros("W" + std::to_string(i), "[3]");
  return s + extra;
}

std::vector<Case> cases() {
  const std::string names_rule = " (names are letters, digits and _, not starting with a digit)";
  return {
      // ---- JSON syntax and the top level ----
      {"syntax_trailing_comma", R"({"hamux": "1",})",
       "m.json: line 1, column 15: syntax error while parsing object key - unexpected '}'; expected string literal"},
      {"syntax_multiline", "{\n  \"hamux\": \"1\"\n  \"neurons\": {}\n}",
       "m.json: line 3, column 11: syntax error while parsing object - unexpected string literal; expected '}'"},
      {"syntax_empty", "", "m.json: line 1, column 1: syntax error while parsing value - unexpected end of input; expected '[', '{', or a literal"},
      {"number_overflow", R"({"hamux": "1", "seed": 1e999})", "m.json: number overflow parsing '1e999'"},
      {"not_an_object", "[1, 2]", "m.json: expected an object, got array"},
      {"missing_hamux", R"({"neurons": {)" + kA3 + "}}", "m.json: missing required key \"hamux\""},
      {"wrong_hamux", R"({"hamux": "2", "neurons": {}})", "m.json: /hamux: unsupported format version \"2\" (expected \"1\")"},
      {"hamux_number", R"({"hamux": 1, "neurons": {}})", "m.json: /hamux: unsupported format version 1 (expected \"1\")"},
      {"bad_dtype", R"({"hamux": "1", "dtype": "float16", "neurons": {}})",
       "m.json: /dtype: unknown dtype \"float16\" (expected \"float32\" or \"float64\")"},
      {"unknown_top_key", R"({"hamux": "1", "neuron": {}})",
       "m.json: /neuron: unknown key \"neuron\" (expected hamux, name, description, dtype, seed, params, neurons, "
       "synapses, connections)"},
      {"negative_seed", R"({"hamux": "1", "seed": -1, "neurons": {}})",
       "m.json: /seed: seed must be a non-negative integer, got -1"},
      {"name_not_string", R"({"hamux": "1", "name": 3, "neurons": {}})", "m.json: /name: expected a string, got integer"},
      {"duplicate_key", R"({"hamux": "1", "neurons": {"a": {"shape": [1], "lagrangian": "relu"}, "a": {}}})",
       "m.json: /neurons: duplicate key \"a\""},
      {"duplicate_key_in_a_large_object", model(many_params(40, ", " + zeros("W7", "[3]")), kA3),
       "m.json: /params: duplicate key \"W7\""},
      {"duplicate_key_inside_a_large_object", model(many_params(40, R"(, "V": {"shape": [3], "shape": [3]})"), kA3),
       "m.json: /params/V: duplicate key \"shape\""},
      {"duplicate_key_at_the_seventeenth_member", model(many_params(16, ", " + zeros("W0", "[3]")), kA3),
       "m.json: /params: duplicate key \"W0\""},
      {"missing_neurons", R"({"hamux": "1"})", "m.json: missing required key \"neurons\""},
      {"no_neurons", R"({"hamux": "1", "neurons": {}})", "m.json: /neurons: a model needs at least one neuron layer"},
      {"too_deep", deep_model(), "m.json: " + deep_pointer() + ": nesting is deeper than 200 levels"},

      // ---- params ----
      {"shape_negative", model(zeros("W", "[3, -3]"), kA3), "m.json: /params/W/shape/1: dimension must be a positive integer, got -3"},
      {"shape_not_int", model(zeros("W", "[2.5]"), kA3), "m.json: /params/W/shape/0: dimension must be a positive integer, got number"},
      {"shape_not_list", model(zeros("W", "3"), kA3), "m.json: /params/W/shape: expected an array, got integer"},
      {"shape_absurd", model(zeros("W", "[1000000, 1000000]"), kA3), "m.json: /params/W/shape: shape has more than 67108864 elements"},
      {"param_bad_name", model(zeros("2W", "[3]"), kA3), "m.json: /params/2W: invalid name \"2W\"" + names_rule},
      {"param_missing_init", model(R"("W": {"shape": [3]})", kA3), "m.json: /params/W: missing required key \"init\""},
      {"unknown_init", model(R"("W": {"shape": [3], "init": {"gaussian": {}}})", kA3),
       "m.json: /params/W/init/gaussian: unknown initialiser \"gaussian\" (expected zeros, ones, constant, normal, uniform or file)"},
      {"two_inits", model(R"("W": {"shape": [3], "init": {"zeros": {}, "ones": {}}})", kA3),
       "m.json: /params/W/init: expected exactly one initialiser (zeros, ones, constant, normal, uniform, file), got 2"},
      {"init_unknown_arg", model(R"("W": {"shape": [3], "init": {"normal": {"sigma": 1}}})", kA3),
       "m.json: /params/W/init/normal/sigma: unknown key \"sigma\" (expected std, mean)"},
      {"init_negative_std", model(R"("W": {"shape": [3], "init": {"normal": {"std": -1}}})", kA3),
       "m.json: /params/W/init/normal/std: std must be >= 0, got -1"},
      {"init_low_above_high", model(R"("W": {"shape": [3], "init": {"uniform": {"low": 2, "high": 1}}})", kA3),
       "m.json: /params/W/init/uniform: low (2) must not exceed high (1)"},
      {"init_constant_without_value", model(R"("W": {"shape": [3], "init": {"constant": {}}})", kA3),
       "m.json: /params/W/init/constant: missing required key \"value\""},
      {"init_zeros_with_arg", model(R"("W": {"shape": [3], "init": {"zeros": {"value": 0}}})", kA3),
       "m.json: /params/W/init/zeros/value: unknown key \"value\" (no keys allowed)"},
      {"npy_missing", model(R"("W": {"shape": [4, 3], "init": {"file": {"path": "nothere.npy"}}})", kA3),
       "m.json: /params/W/init/file: nothere.npy: cannot open file"},
      {"npy_shape_mismatch", model(R"("W": {"shape": [4, 3], "init": {"file": {"path": "w.npy"}}})", kA3),
       "m.json: /params/W/init/file: w.npy: shape [3,4] does not match the param shape [4,3]"},
      {"npy_int_dtype", model(R"("W": {"shape": [4, 3], "init": {"file": {"path": "int.npy"}}})", kA3),
       "m.json: /params/W/init/file: int.npy: dtype '<i8' is not supported (expected float32 '<f4' or float64 '<f8')"},
      {"npy_big_endian", model(R"("W": {"shape": [4, 3], "init": {"file": {"path": "be.npy"}}})", kA3),
       "m.json: /params/W/init/file: be.npy: big-endian dtype '>f8' is not supported"},
      {"npy_fortran", model(R"("W": {"shape": [4, 3], "init": {"file": {"path": "fortran.npy"}}})", kA3),
       "m.json: /params/W/init/file: fortran.npy: fortran_order True is not supported (save in C order)"},
      {"npy_truncated", model(R"("W": {"shape": [4, 3], "init": {"file": {"path": "short.npy"}}})", kA3),
       "m.json: /params/W/init/file: short.npy: truncated data: 8 bytes for shape [4,3], expected 96"},
      {"npy_bad_magic", model(R"("W": {"shape": [4, 3], "init": {"file": {"path": "bad.npy"}}})", kA3),
       "m.json: /params/W/init/file: bad.npy: not a .npy file (bad magic string)"},

      // ---- neurons ----
      {"neuron_unknown_key", model("", R"("a": {"shape": [3], "lagrangian": "relu", "taus": 1})"),
       "m.json: /neurons/a/taus: unknown key \"taus\" (expected shape, lagrangian, tau, bias)"},
      {"neuron_bad_name_escaped", model("", R"("a/b": {"shape": [3], "lagrangian": "relu"})"),
       "m.json: /neurons/a~1b: invalid name \"a/b\"" + names_rule},
      {"neuron_missing_lagrangian", model("", R"("a": {"shape": [3]})"), "m.json: /neurons/a: missing required key \"lagrangian\""},
      {"unknown_lagrangian", neuron_lag(R"("softmaxx")"),
       "m.json: /neurons/a/lagrangian: unknown lagrangian \"softmaxx\" (expected one of identity, repu, relu, exp, rexp, "
       "sigmoid, tanh, softmax, layernorm, spherical_norm, ghostmax, or {\"expr\": ...})"},
      {"lagrangian_not_spec", neuron_lag("3"),
       "m.json: /neurons/a/lagrangian: expected a lagrangian: a builtin name, {\"name\": {arguments}} or {\"expr\": ...}, got integer"},
      {"lagrangian_two_keys", neuron_lag(R"({"relu": {}, "tanh": {}})"),
       "m.json: /neurons/a/lagrangian: expected exactly one key, a builtin lagrangian name or \"expr\", got 2"},
      {"lagrangian_beta_nonpositive", neuron_lag(R"({"softmax": {"beta": -1}})"),
       "m.json: /neurons/a/lagrangian/softmax/beta: softmax: beta must be > 0, got -1"},
      {"lagrangian_unknown_arg", neuron_lag(R"({"tanh": {"betta": 2}})"),
       "m.json: /neurons/a/lagrangian/tanh/betta: tanh: unknown argument \"betta\" (expected beta)"},
      {"lagrangian_arg_for_argless", neuron_lag(R"({"relu": {"n": 2}})"),
       "m.json: /neurons/a/lagrangian/relu/n: relu: unknown argument \"n\" (it takes no arguments)"},
      {"lagrangian_arg_type", neuron_lag(R"({"softmax": {"axis": "last"}})"),
       "m.json: /neurons/a/lagrangian/softmax/axis: softmax: axis must be an integer, got string"},
      {"lagrangian_repu_n", neuron_lag(R"({"repu": {"n": 0.5}})"),
       "m.json: /neurons/a/lagrangian/repu/n: repu: n must be >= 1, got 0.5"},
      {"lagrangian_axis_out_of_range", neuron_lag(R"({"softmax": {"axis": 1}})"),
       "m.json: /neurons/a/lagrangian/softmax: softmax: logsumexp: axis 1 is out of range for shape [3]"},
      {"tau_zero", model("", R"("a": {"shape": [3], "lagrangian": "relu", "tau": 0})"), "m.json: /neurons/a/tau: tau must be > 0, got 0"},
      {"tau_string", model("", R"("a": {"shape": [3], "lagrangian": "relu", "tau": "1"})"),
       "m.json: /neurons/a/tau: expected a number, got string"},
      {"bias_unknown_param", model("", R"("a": {"shape": [3], "lagrangian": "relu", "bias": "b"})"),
       "m.json: /neurons/a/bias: unknown param \"b\""},
      {"bias_shape_mismatch", model(zeros("b", "[4]"), R"("a": {"shape": [3], "lagrangian": "relu", "bias": "b"})"),
       "m.json: /neurons/a/bias: bias \"b\" has shape [4], which does not broadcast to the neuron shape [3]"},
      {"custom_lagrangian_two_inputs", neuron_lag(R"({"expr": {"inputs": ["x", "y"], "value": ["sum", "x"]}})"),
       "m.json: /neurons/a/lagrangian/expr/inputs: a lagrangian expression takes exactly one input (the state), got 2"},
      {"custom_lagrangian_not_scalar", neuron_lag(R"({"expr": {"inputs": ["x"], "value": ["exp", "x"]}})"),
       "m.json: /neurons/a/lagrangian/expr/value: a lagrangian must be a scalar, got shape [3]"},
      {"custom_lagrangian_unknown_key", neuron_lag(R"({"expr": {"inputs": ["x"], "value": 0, "lets": {}}})"),
       "m.json: /neurons/a/lagrangian/expr/lets: unknown key \"lets\" (expected inputs, let, value)"},

      // ---- synapses and connections ----
      {"unknown_synapse", model("", kA3, R"("s": {"lineaer": {"W": "W"}})"),
       "m.json: /synapses/s: unknown synapse \"lineaer\" (expected one of linear, bias, linear_bias, dense, hopfield, "
       "conv2d, conv2d_avgpool, conv2d_maxpool, attention, or {\"expr\": ...})"},
      {"synapse_as_string", model("", kA3, R"("s": "linear")"),
       "m.json: /synapses/s: expected an object with one key, a builtin synapse name or \"expr\", got string"},
      {"synapse_unknown_param", model("", kA3, R"("s": {"linear": {"W": "W9"}})"),
       "m.json: /synapses/s/linear/W: linear: unknown param \"W9\""},
      {"synapse_missing_arg", model("", kA3, R"("s": {"linear": {}})"), "m.json: /synapses/s/linear: linear: missing argument \"W\""},
      {"synapse_param_rank", model(zeros("v", "[3]"), kA3, R"("s": {"linear": {"W": "v"}})"),
       "m.json: /synapses/s/linear/W: linear: W must have rank 2, but param \"v\" has shape [3]"},
      {"synapse_arg_not_param_name", model("", kA3, R"("s": {"bias": {"b": 1.0}})"),
       "m.json: /synapses/s/bias/b: bias: b must be a param name, got number"},
      {"linear_shape_mismatch",
       model(zeros("W", "[3, 5]"), kA3B4, R"("s": {"linear": {"W": "W"}})", R"({"neurons": ["a", "b"], "synapse": "s"})"),
       "m.json: /synapses/s/linear: linear: contract: operand 2 has shape [4] (4 elements) but axis 1 of the weight [3,5] has size 5 (in /connections/0: neurons a, b)"},
      {"dense_rank_mismatch",
       model(zeros("W", "[3, 4]"), kA3B4, R"("s": {"dense": {"W": "W"}})", R"({"neurons": ["a", "b", "a"], "synapse": "s"})"),
       "m.json: /synapses/s/dense: dense: contract: weight of shape [3,4] has rank 2 but 3 tensors were given (in /connections/0: neurons a, b, a)"},
      {"hopfield_nested_lagrangian_arg", model(zeros("Xi", "[3, 5]"), kA3, R"("s": {"hopfield": {"Xi": "Xi", "lagrangian": {"softmax": {"beta": 0}}}})"),
       "m.json: /synapses/s/hopfield/lagrangian/softmax/beta: softmax: beta must be > 0, got 0"},
      {"hopfield_nested_custom_error",
       model(zeros("Xi", "[3, 5]"), kA3, R"("s": {"hopfield": {"Xi": "Xi", "lagrangian": {"expr": {"inputs": ["h"], "value": ["sum", ["exp", "hh"]]}}}})",
             R"({"neurons": ["a"], "synapse": "s"})"),
       "m.json: /synapses/s/hopfield/lagrangian/expr/value/1/1: unknown name \"hh\" (in /connections/0: neurons a)"},
      {"hopfield_shape_mismatch",
       model(zeros("Xi", "[4, 5]"), kA3, R"("s": {"hopfield": {"Xi": "Xi"}})", R"({"neurons": ["a"], "synapse": "s"})"),
       "m.json: /synapses/s/hopfield: hopfield: matmul: shapes [3] and [4,5] do not match (in /connections/0: neurons a)"},
      {"conv2d_padding_arg", model(zeros("K", "[3, 3, 1, 2]"), kA3, R"("s": {"conv2d": {"W": "K", "padding": "same"}})"),
       "m.json: /synapses/s/conv2d/padding: conv2d: padding must be \"SAME\" or \"VALID\", got \"same\""},
      {"conv2d_strides_arg", model(zeros("K", "[3, 3, 1, 2]"), kA3, R"("s": {"conv2d": {"W": "K", "strides": [1]}})"),
       "m.json: /synapses/s/conv2d/strides: conv2d: strides must be a list of 2 positive integers"},
      {"attention_beta", model(zeros("Wq", "[2, 3, 4]"), kA3, R"("s": {"attention": {"Wq": "Wq", "Wk": "Wq", "beta": -1}})"),
       "m.json: /synapses/s/attention/beta: attention: beta must be > 0, got -1"},
      {"attention_exclude_self_not_bool",
       model(zeros("Wq", "[2, 3, 4]"), kA3, R"("s": {"attention": {"Wq": "Wq", "Wk": "Wq", "exclude_self": 1}})"),
       "m.json: /synapses/s/attention/exclude_self: attention: exclude_self must be true or false, got integer"},
      {"conv2d_pool_arg", model(zeros("K", "[3, 3, 1, 2]"), kA3, R"("s": {"conv2d_maxpool": {"W": "K", "pool": [2, 0]}})"),
       "m.json: /synapses/s/conv2d_maxpool/pool: conv2d_maxpool: pool must be a list of 2 positive integers"},
      {"conv2d_pool_not_a_multiple",
       model(zeros("K", "[3, 3, 1, 2]"),
             R"("a": {"shape": [7, 7, 1], "lagrangian": "tanh"}, "b": {"shape": [2, 2, 2], "lagrangian": "relu"})",
             R"("s": {"conv2d_avgpool": {"W": "K", "pool": [2, 2]}})", R"({"neurons": ["a", "b"], "synapse": "s"})"),
       "m.json: /synapses/s/conv2d_avgpool: conv2d_avgpool: avg_pool2d: the spatial shape [5,5] is not a multiple of "
       "the pool size [2,2] (in /connections/0: neurons a, b)"},
      {"conv2d_pool_output_shape",
       model(zeros("K", "[3, 3, 1, 2]"),
             R"("a": {"shape": [6, 6, 1], "lagrangian": "tanh"}, "b": {"shape": [4, 4, 2], "lagrangian": "relu"})",
             R"("s": {"conv2d_maxpool": {"W": "K"}})", R"({"neurons": ["a", "b"], "synapse": "s"})"),
       "m.json: /synapses/s/conv2d_maxpool: conv2d_maxpool: dot: shapes [4,4,2] and [2,2,2] do not match (in /connections/0: neurons a, b)"},
      {"pool_op_rank", custom("", kA3, R"(["x"])", R"("value": ["sum", ["max_pool2d", "x", {"size": [1, 1]}]])", R"(["a"])"),
       "m.json: /synapses/s/expr/value/1: max_pool2d: expected an [H,W,C] tensor, got shape [3] (in /connections/0: neurons a)"},
      {"pool_op_missing_size",
       model("", R"("a": {"shape": [2, 2, 1], "lagrangian": "tanh"})",
             R"("s": {"expr": {"inputs": ["x"], "value": ["sum", ["avg_pool2d", "x"]]}})", R"({"neurons": ["a"], "synapse": "s"})"),
       "m.json: /synapses/s/expr/value/1: avg_pool2d: missing attribute \"size\" (in /connections/0: neurons a)"},
      {"pool_op_bad_size",
       model("", R"("a": {"shape": [2, 2, 1], "lagrangian": "tanh"})",
             R"("s": {"expr": {"inputs": ["x"], "value": ["sum", ["avg_pool2d", "x", {"size": [2]}]]}})",
             R"({"neurons": ["a"], "synapse": "s"})"),
       "m.json: /synapses/s/expr/value/1/2/size: avg_pool2d: attribute \"size\" must be a list of 2 positive integers, got [2] (in /connections/0: neurons a)"},
      {"eye_axis_out_of_range", custom("", kA3, R"(["x"])", R"("value": ["sum", ["eye", "x", {"axis": 1}]])", R"(["a"])"),
       "m.json: /synapses/s/expr/value/1: eye: axis 1 is out of range for shape [3] (in /connections/0: neurons a)"},
      {"unknown_neuron_in_connection", model("", kA3B4, R"("s": {"expr": {"inputs": ["x", "y"], "value": 0}})",
                                             R"({"neurons": ["a", "hid"], "synapse": "s"})"),
       "m.json: /connections/0/neurons/1: unknown neuron \"hid\""},
      {"unknown_synapse_in_connection", model("", kA3, "", R"({"neurons": ["a"], "synapse": "t"})"),
       "m.json: /connections/0/synapse: unknown synapse \"t\""},
      {"arity_mismatch", model("", kA3B4, R"("s": {"expr": {"inputs": ["x", "y"], "value": 0}})", R"({"neurons": ["a"], "synapse": "s"})"),
       "m.json: /connections/0/neurons: synapse \"s\" takes 2 neurons, got 1"},
      {"empty_connection", model("", kA3, R"("s": {"expr": {"inputs": ["x"], "value": 0}})", R"({"neurons": [], "synapse": "s"})"),
       "m.json: /connections/0/neurons: a connection needs at least one neuron"},
      {"connection_unknown_key", model("", kA3, "", R"({"neurons": ["a"], "synapse": "s", "weight": 1})"),
       "m.json: /connections/0/weight: unknown key \"weight\" (expected neurons, synapse)"},
      {"connections_not_list", R"({"hamux": "1", "neurons": {)" + kA3 + R"(}, "connections": {}})",
       "m.json: /connections: expected an array, got object"},

      // ---- expressions ----
      {"unknown_op", custom("", kA3, R"(["x"])", R"("value": ["sum", ["matmull", "x", "x"]])", R"(["a"])"),
       "m.json: /synapses/s/expr/value/1/0: unknown op \"matmull\" (in /connections/0: neurons a)"},
      {"op_arity", custom("", kA3, R"(["x"])", R"("value": ["sum", ["exp", "x", "x"]])", R"(["a"])"),
       "m.json: /synapses/s/expr/value/1: exp: expects 1 operand, got 2 (in /connections/0: neurons a)"},
      {"max_arity", custom("", kA3, R"(["x"])", R"("value": ["max", "x", "x", "x"])", R"(["a"])"),
       "m.json: /synapses/s/expr/value: max: expects 1 or 2 operands, got 3 (in /connections/0: neurons a)"},
      {"unknown_attribute", custom("", kA3, R"(["x"])", R"("value": ["sum", "x", {"axes": 0}])", R"(["a"])"),
       "m.json: /synapses/s/expr/value/2/axes: sum: unknown attribute \"axes\" (expected axis, keepdims) (in /connections/0: neurons a)"},
      {"attribute_on_attributeless_op", custom("", kA3, R"(["x"])", R"("value": ["sum", ["exp", "x", {"axis": 0}]])", R"(["a"])"),
       "m.json: /synapses/s/expr/value/1/2/axis: exp: unknown attribute \"axis\" (it takes none) (in /connections/0: neurons a)"},
      {"attribute_type", custom("", kA3, R"(["x"])", R"("value": ["sum", "x", {"keepdims": 1}])", R"(["a"])"),
       "m.json: /synapses/s/expr/value/2/keepdims: sum: attribute \"keepdims\" must be a boolean, got integer (in /connections/0: neurons a)"},
      {"axis_out_of_range", custom("", kA3, R"(["x"])", R"("value": ["sum", "x", {"axis": 2}])", R"(["a"])"),
       "m.json: /synapses/s/expr/value: sum: axis 2 is out of range for shape [3] (in /connections/0: neurons a)"},
      {"axis_repeated", custom("", kA3, R"(["x"])", R"("value": ["sum", "x", {"axis": [0, -1]}])", R"(["a"])"),
       "m.json: /synapses/s/expr/value: sum: axis -1 is repeated (in /connections/0: neurons a)"},
      {"matmul_mismatch", custom(zeros("W", "[3, 4]"), R"("a": {"shape": [5], "lagrangian": "relu"})", R"(["x"])",
                                 R"("let": {"h": ["matmul", "W", "x"]}, "value": ["sum", "h"])", R"(["a"])"),
       "m.json: /synapses/s/expr/let/h: matmul: shapes [3,4] and [5] do not match (in /connections/0: neurons a)"},
      {"matmul_batch_mismatch", custom(zeros("W", "[2, 3, 4]") + "," + zeros("V", "[5, 4, 3]"), kA3, R"(["x"])",
                                       R"("value": ["sum", ["matmul", "W", "V"]])", R"(["a"])"),
       "m.json: /synapses/s/expr/value/1: matmul: batch dimensions of shapes [2,3,4] and [5,4,3] do not broadcast (in /connections/0: neurons a)"},
      {"broadcast_mismatch", custom("", kA3B4, R"(["x", "y"])", R"("value": ["sum", ["add", "x", "y"]])", R"(["a", "b"])"),
       "m.json: /synapses/s/expr/value/1: add: shapes [3] and [4] do not broadcast (in /connections/0: neurons a, b)"},
      {"dot_mismatch", custom("", kA3B4, R"(["x", "y"])", R"("value": ["dot", "x", "y"])", R"(["a", "b"])"),
       "m.json: /synapses/s/expr/value: dot: shapes [3] and [4] do not match (in /connections/0: neurons a, b)"},
      {"einsum_bad_spec", custom("", kA3, R"(["x"])", R"("value": ["einsum", "x", {"spec": "i->k"}])", R"(["a"])"),
       "m.json: /synapses/s/expr/value: einsum: output index 'k' does not appear in any operand of 'i->k' (in /connections/0: neurons a)"},
      {"einsum_bad_character", custom("", kA3, R"(["x"])", R"("value": ["einsum", "x", {"spec": "i1->"}])", R"(["a"])"),
       "m.json: /synapses/s/expr/value: einsum: spec 'i1->' has invalid character '1' (in /connections/0: neurons a)"},
      {"einsum_size_mismatch", custom("", kA3B4, R"(["x", "y"])", R"("value": ["einsum", "x", "y", {"spec": "i,i->"}])", R"(["a", "b"])"),
       "m.json: /synapses/s/expr/value: einsum: index 'i' has size 3 and 4 in 'i,i->' (in /connections/0: neurons a, b)"},
      {"einsum_operand_count", custom("", kA3, R"(["x"])", R"("value": ["einsum", "x", {"spec": "i,i->"}])", R"(["a"])"),
       "m.json: /synapses/s/expr/value: einsum: spec 'i,i->' has 2 operands but 1 were given (in /connections/0: neurons a)"},
      {"einsum_ellipsis", custom("", kA3, R"(["x"])", R"("value": ["einsum", "x", {"spec": "...->"}])", R"(["a"])"),
       "m.json: /synapses/s/expr/value: einsum: ellipsis ('...') is not supported in spec '...->'; name every axis (in /connections/0: neurons a)"},
      {"einsum_missing_spec", custom("", kA3, R"(["x"])", R"("value": ["einsum", "x"])", R"(["a"])"),
       "m.json: /synapses/s/expr/value: einsum: missing attribute \"spec\" (in /connections/0: neurons a)"},
      {"conv2d_channels", custom(zeros("K", "[3, 3, 4, 8]"), R"("a": {"shape": [8, 8, 3], "lagrangian": "relu"})", R"(["x"])",
                                 R"("value": ["sum", ["conv2d", "x", "K"]])", R"(["a"])"),
       "m.json: /synapses/s/expr/value/1: conv2d: input has 3 channels but kernel [3,3,4,8] expects 4 (in /connections/0: neurons a)"},
      {"conv2d_bad_padding", custom(zeros("K", "[3, 3, 3, 8]"), R"("a": {"shape": [8, 8, 3], "lagrangian": "relu"})", R"(["x"])",
                                    R"("value": ["sum", ["conv2d", "x", "K", {"padding": "FULL"}]])", R"(["a"])"),
       "m.json: /synapses/s/expr/value/1/3/padding: conv2d: attribute \"padding\" must be \"SAME\" or \"VALID\", got \"FULL\" (in /connections/0: neurons a)"},
      {"conv2d_bad_strides", custom(zeros("K", "[3, 3, 3, 8]"), R"("a": {"shape": [8, 8, 3], "lagrangian": "relu"})", R"(["x"])",
                                    R"("value": ["sum", ["conv2d", "x", "K", {"strides": [0, 1]}]])", R"(["a"])"),
       "m.json: /synapses/s/expr/value/1/3/strides: conv2d: attribute \"strides\" must be a list of 2 positive integers, got [0,1] (in /connections/0: neurons a)"},
      {"reshape_size_mismatch", custom(zeros("W", "[3, 4]"), kA3, R"(["x"])", R"("value": ["sum", ["reshape", "W", {"shape": [5, -1]}]])", R"(["a"])"),
       "m.json: /synapses/s/expr/value/1: reshape: cannot reshape [3,4] (12 elements) to [5,-1] (in /connections/0: neurons a)"},
      {"reshape_two_free", custom(zeros("W", "[3, 4]"), kA3, R"(["x"])", R"("value": ["sum", ["reshape", "W", {"shape": [-1, -1]}]])", R"(["a"])"),
       "m.json: /synapses/s/expr/value/1/2/shape: reshape: attribute \"shape\" must be a list of positive integers with at most one -1, got [-1,-1] (in /connections/0: neurons a)"},
      {"transpose_bad_perm", custom(zeros("W", "[3, 4]"), kA3, R"(["x"])", R"("value": ["sum", ["transpose", "W", {"perm": [0, 0]}]])", R"(["a"])"),
       "m.json: /synapses/s/expr/value/1: transpose: perm [0,0] is not a permutation of the axes of shape [3,4] (in /connections/0: neurons a)"},
      {"apply_without_lagrangian", custom("", kA3, R"(["x"])", R"("value": ["apply", "x"])", R"(["a"])"),
       "m.json: /synapses/s/expr/value: apply: missing attribute \"lagrangian\" (in /connections/0: neurons a)"},
      {"let_use_before_definition", custom("", kA3, R"(["x"])", R"("let": {"a": ["exp", "b"], "b": ["exp", "x"]}, "value": ["sum", "a"])", R"(["a"])"),
       "m.json: /synapses/s/expr/let/a/1: \"b\" is used before its definition in let (in /connections/0: neurons a)"},
      {"let_self_reference", custom("", kA3, R"(["x"])", R"("let": {"a": ["exp", "a"]}, "value": ["sum", "a"])", R"(["a"])"),
       "m.json: /synapses/s/expr/let/a/1: let \"a\" refers to itself (in /connections/0: neurons a)"},
      {"let_shadows_input", custom("", kA3, R"(["x"])", R"("let": {"x": ["exp", "x"]}, "value": ["sum", "x"])", R"(["a"])"),
       "m.json: /synapses/s/expr/let/x: let \"x\" shadows an input (in /connections/0: neurons a)"},
      {"let_shadows_param", custom(zeros("W", "[3]"), kA3, R"(["x"])", R"("let": {"W": ["exp", "x"]}, "value": ["sum", "W"])", R"(["a"])"),
       "m.json: /synapses/s/expr/let/W: let \"W\" shadows a param (in /connections/0: neurons a)"},
      {"input_shadows_param", custom(zeros("W", "[3]"), kA3, R"(["W"])", R"("value": ["sum", "W"])", R"(["a"])"),
       "m.json: /synapses/s/expr/inputs/0: input \"W\" has the same name as a param"},
      {"duplicate_input", custom("", kA3, R"(["x", "x"])", R"("value": 0)", R"(["a", "a"])"),
       "m.json: /synapses/s/expr/inputs/1: duplicate input name \"x\""},
      {"unknown_name", custom("", kA3, R"(["x"])", R"("value": ["sum", "q"])", R"(["a"])"),
       "m.json: /synapses/s/expr/value/1: unknown name \"q\" (in /connections/0: neurons a)"},
      {"node_wrong_type", custom("", kA3, R"(["x"])", R"("value": ["sum", true])", R"(["a"])"),
       "m.json: /synapses/s/expr/value/1: expected a number, a name or a list [\"op\", operands..., {attributes}], got boolean (in /connections/0: neurons a)"},
      {"node_empty_list", custom("", kA3, R"(["x"])", R"("value": ["sum", []])", R"(["a"])"),
       "m.json: /synapses/s/expr/value/1: empty list: expected [\"op\", operands..., {attributes}] (in /connections/0: neurons a)"},
      {"expr_missing_value", custom("", kA3, R"(["x"])", R"("let": {})", R"(["a"])"),
       "m.json: /synapses/s/expr: missing required key \"value\""},
      {"energy_not_scalar", custom("", kA3, R"(["x"])", R"("value": ["exp", "x"])", R"(["a"])"),
       "m.json: /synapses/s/expr/value: an energy must be a scalar, got shape [3] (in /connections/0: neurons a)"},
  };
}

class Errors : public ::testing::TestWithParam<Case> {
 public:
  static void SetUpTestSuite() {
    dir_ = test::temp_dir("errors");
    save_npy(dir_ + "/w.npy", Tensor<double>({3, 4}));
    // Hand-made headers for the files NumPy could write but hamux refuses.
    write_raw("int.npy", "{'descr': '<i8', 'fortran_order': False, 'shape': (4, 3), }", 96);
    write_raw("be.npy", "{'descr': '>f8', 'fortran_order': False, 'shape': (4, 3), }", 96);
    write_raw("fortran.npy", "{'descr': '<f8', 'fortran_order': True, 'shape': (4, 3), }", 96);
    write_raw("short.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (4, 3), }", 8);
    std::ofstream(dir_ + "/bad.npy") << "NUMPY? not really";
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }

  static void write_raw(const std::string& name, std::string dict, size_t data_bytes) {
    dict += std::string(64 - (10 + dict.size() + 1) % 64, ' ') + "\n";
    std::string bytes = std::string("\x93NUMPY\x01\x00", 8);
    bytes += static_cast<char>(dict.size() & 0xff);
    bytes += static_cast<char>(dict.size() >> 8);
    bytes += dict + std::string(data_bytes, '\0');
    std::ofstream(dir_ + "/" + name, std::ios::binary) << bytes;
  }

  static std::string dir_;
};
std::string Errors::dir_;

TEST_P(Errors, ExactMessage) {
  const Case& c = GetParam();
  try {
    parse_model(c.text, "m.json", dir_);
    FAIL() << "accepted: " << c.text;
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), c.message);
  }
}

INSTANTIATE_TEST_SUITE_P(Frontend, Errors, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

TEST(ErrorsMisc, MissingModelFile) {
  try {
    load_model("/nonexistent/dir/m.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "/nonexistent/dir/m.json: cannot open file");
    EXPECT_EQ(e.where(), "/nonexistent/dir/m.json");
    EXPECT_EQ(e.cause(), "cannot open file");
  }
}

TEST(ErrorsMisc, WhereAndCauseAreSeparate) {
  try {
    parse_model(neuron_lag(R"({"softmax": {"beta": -1}})"), "m.json", "");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.where(), "m.json: /neurons/a/lagrangian/softmax/beta");
    EXPECT_EQ(e.cause(), "softmax: beta must be > 0, got -1");
  }
}

TEST(ErrorsMisc, NpyReaderNamesThePath) {
  try {
    read_npy("/nonexistent/w.npy");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "/nonexistent/w.npy: cannot open file");
  }
}

TEST(ErrorsMisc, AtLeastFortyFiveCases) { EXPECT_GE(cases().size(), 45u); }

}  // namespace
}  // namespace hamux

TEST(ErrorsMisc, NulByteIsRejectedNotTruncated) {
  // nlohmann's parser would stop at the NUL and accept the valid prefix.
  std::string text = "{\"hamux\": \"1\"}\n";
  text += '\0';
  text += "garbage";
  try {
    hamux::parse_model(text, "m.json", ".");
    FAIL() << "a model with a NUL byte was accepted";
  } catch (const hamux::Error& e) {
    EXPECT_STREQ(e.what(), "m.json: line 2, column 1: NUL byte in the model text");
  }
}
