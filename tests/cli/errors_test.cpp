// tests/cli/errors_test.cpp - every way `hamux` is misused gets its exact message and status.
//
// Status 2 for a mistake on the command line (the message is followed by the usage),
// status 1 for an input the loader rejects (just "error: <message>").
#include <gtest/gtest.h>

#include <string>

#include "cli/run_hamux.h"

namespace hamux::test {
namespace {

const std::string kReadme = std::string(HAMUX_MODELS_DIR) + "/readme.json";

// A usage error: the exact first line, then a blank line and the usage text.
void expect_usage_error(const std::string& args, const std::string& message, const std::string& usage) {
  const RunResult r = run_hamux(args);
  EXPECT_EQ(r.status, 2) << args;
  EXPECT_EQ(r.out, "") << args;
  EXPECT_EQ(r.err.rfind("error: " + message + "\n\n" + usage, 0), 0u) << args << "\n" << r.err;
}

TEST(Errors, UnknownCommand) {
  expect_usage_error("frobnicate", "unknown command 'frobnicate'", "usage: hamux <command>");
  expect_usage_error("help frobnicate", "unknown command 'frobnicate'", "usage: hamux <command>");
}

TEST(Errors, NoCommand) { expect_usage_error("", "missing command", "usage: hamux <command>"); }

TEST(Errors, UnknownOption) {
  expect_usage_error("--frobnicate", "unknown option '--frobnicate'", "usage: hamux <command>");
  expect_usage_error("check --fast '" + kReadme + "'", "unknown option '--fast'",
                     "usage: hamux check <model.json>");
  expect_usage_error("grad --seed 3 '" + kReadme + "'", "unknown option '--seed'",
                     "usage: hamux grad <model.json>");
}

TEST(Errors, MissingOrExtraArguments) {
  expect_usage_error("check", "missing model file", "usage: hamux check <model.json>");
  expect_usage_error("grad", "missing model file", "usage: hamux grad <model.json>");
  expect_usage_error("check a.json b.json", "too many arguments", "usage: hamux check <model.json>");
  expect_usage_error("help check grad", "too many arguments", "usage: hamux help");
}

TEST(Errors, BadSeed) {
  expect_usage_error("check '" + kReadme + "' --seed", "option '--seed' needs a value",
                     "usage: hamux check");
  for (const char* seed : {"-1", "abc", "1.5", "99999999999999999999999"}) {
    expect_usage_error("check '" + kReadme + "' --seed=" + seed,
                       std::string("option '--seed' expects a non-negative integer, got '") + seed + "'",
                       "usage: hamux check");
  }
}


// A rejected input: status 1, nothing on stdout, exactly "error: <message>\n" on stderr.
void expect_load_error(const std::string& args, const std::string& message) {
  const RunResult r = run_hamux(args);
  EXPECT_EQ(r.status, 1) << args;
  EXPECT_EQ(r.out, "") << args;
  EXPECT_EQ(r.err, "error: " + message + "\n") << args;
}

// Writes `text` to `name` in `dir` and returns its path.
std::string model_file(const ScratchDir& dir, const std::string& name, const std::string& text) {
  const std::string path = dir.path + "/" + name;
  write_text(path, text);
  return path;
}

TEST(Errors, MissingFile) {
  const ScratchDir dir;
  const std::string path = dir.path + "/nope.json";
  expect_load_error("check '" + path + "'", path + ": cannot open file");
  expect_load_error("grad '" + path + "'", path + ": cannot open file");
}

TEST(Errors, DirectoryInsteadOfFile) {
  const ScratchDir dir;
  expect_load_error("check '" + dir.path + "'", dir.path + ": is a directory, not a model file");
}

TEST(Errors, MalformedJson) {
  const ScratchDir dir;
  const std::string path = model_file(dir, "truncated.json", R"({"hamux": "1", "neurons": )");
  expect_load_error("check '" + path + "'",
                    path + ": line 1, column 27: syntax error while parsing value - unexpected end of "
                           "input; expected '[', '{', or a literal");
}

const char* const kBadShapes = R"({"hamux": "1", "params": {"W": {"shape": [4, 4], "init": {"zeros": {}}}},
  "neurons": {"h": {"shape": [3], "lagrangian": "relu"}},
  "synapses": {"s": {"expr": {"inputs": ["a"], "let": {"m": ["matmul", "W", "a"]}, "value": ["sum", "m"]}}},
  "connections": [{"neurons": ["h"], "synapse": "s"}]})";

TEST(Errors, InvalidModels) {
  const ScratchDir dir;
  std::string path = model_file(dir, "shapes.json", kBadShapes);
  expect_load_error("check '" + path + "'",
                    path + ": /synapses/s/expr/let/m: matmul: shapes [4,4] and [3] do not match (in /connections/0: neurons h)");
  expect_load_error("grad '" + path + "'",
                    path + ": /synapses/s/expr/let/m: matmul: shapes [4,4] and [3] do not match (in /connections/0: neurons h)");

  path = model_file(dir, "lagrangian.json", R"({"hamux": "1", "params": {}, "synapses": {}, "connections": [],
    "neurons": {"h": {"shape": [3], "lagrangian": "frob"}}})");
  expect_load_error("check '" + path + "'",
                    path + ": /neurons/h/lagrangian: unknown lagrangian \"frob\" (expected one of identity, "
                           "repu, relu, exp, rexp, sigmoid, tanh, softmax, layernorm, spherical_norm, "
                           "ghostmax, or {\"expr\": ...})");

  path = model_file(dir, "vector_energy.json", R"({"hamux": "1", "params": {},
    "neurons": {"h": {"shape": [3], "lagrangian": "relu"}},
    "synapses": {"s": {"expr": {"inputs": ["a"], "value": ["exp", "a"]}}},
    "connections": [{"neurons": ["h"], "synapse": "s"}]})");
  expect_load_error("check '" + path + "'",
                    path + ": /synapses/s/expr/value: an energy must be a scalar, got shape [3] (in /connections/0: neurons h)");
}

}  // namespace
}  // namespace hamux::test
