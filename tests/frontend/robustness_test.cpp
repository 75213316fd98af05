// tests/frontend/robustness_test.cpp - no input crashes the frontend.
//
// Mutates the contract models (text edits and structural JSON edits) and checks that each
// mutant either loads, with scalar graphs, or is rejected with hamux::Error - never another
// exception, never a crash. A cheap, deterministic stand-in for the libFuzzer target.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "frontend/model.h"
#include "frontend_test_util.h"
#include "test_data.h"

namespace hamux {
namespace {

using Json = nlohmann::ordered_json;

// Throws (failing the test with the file's name) when the model cannot be read: an empty
// text would make the mutation positions below divide by zero.
std::string read_text(const std::string& path) { return test_data::read_test_file(path); }

// Parses `text`; fails the test on anything but success or hamux::Error.
void check_no_crash(const std::string& text) {
  try {
    Model m = parse_model(text, "mutant.json", "");
    for (const NeuronDef& n : m.neurons) ASSERT_TRUE(n.lagrangian && n.lagrangian->shape.empty()) << text;
    for (const ConnectionDef& c : m.connections) ASSERT_TRUE(c.energy && c.energy->shape.empty()) << text;
  } catch (const Error&) {
  } catch (const std::exception& e) {
    FAIL() << "non-hamux exception " << e.what() << " for\n" << text;
  }
}

const char* kModels[] = {"readme.json", "custom_energies.json", "conv.json", "energy_transformer.json",
                         "dense_am.json", "classical_hopfield.json"};

// Replacement values that hit type checks, bounds and name lookups.
Json random_value(std::mt19937& gen) {
  switch (gen() % 14) {
    case 0: return Json(-1);
    case 1: return Json(0);
    case 2: return Json(2.5);
    case 3: return Json(1e300);
    case 4: return Json("x");
    case 5: return Json("relu");
    case 6: return Json::array();
    case 7: return Json::object();
    case 8: return Json(nullptr);
    case 9: return Json(true);
    case 10: return Json::array({"sum", "x"});
    case 11: return Json::array({3, 3});
    case 12: return Json::array({"matmul", "W", "a"});
    default: return Json(1000000000);
  }
}

// Replaces or deletes a random element somewhere in `j`.
void mutate_json(Json& j, std::mt19937& gen) {
  Json* cur = &j;
  for (int depth = 0; depth < 12; ++depth) {
    if (!(cur->is_object() || cur->is_array()) || cur->empty()) break;
    size_t k = gen() % cur->size();
    auto it = cur->begin();
    std::advance(it, k);
    Json* child = &*it;
    if ((child->is_object() || child->is_array()) && !child->empty() && gen() % 3 != 0) {
      cur = child;
      continue;
    }
    if (gen() % 4 == 0) {
      if (cur->is_object()) cur->erase(it.key());
      else cur->erase(k);
    } else {
      *child = random_value(gen);
    }
    return;
  }
}

TEST(Robustness, StructuralMutantsOfContractModels) {
  std::mt19937 gen(1234);
  for (const char* file : kModels) {
    Json base = Json::parse(read_text(test::model_path(file)));
    for (int i = 0; i < 150; ++i) {
      Json j = base;
      for (int n = 1 + gen() % 3; n > 0; --n) mutate_json(j, gen);
      check_no_crash(j.dump());
    }
  }
}

TEST(Robustness, TextMutantsOfContractModels) {
  std::mt19937 gen(99);
  const std::vector<std::string> tokens = {"{", "}", "[", "]", ",", ":", "\"", "-1", "0", "1e999", "null", "\\u0000",
                                           "\xff", " ", "\"$beta\"", "\"x...\""};
  for (const char* file : kModels) {
    std::string base = read_text(test::model_path(file));
    for (int i = 0; i < 150; ++i) {
      std::string t = base;
      size_t pos = gen() % t.size();
      switch (gen() % 3) {
        case 0: t.erase(pos, 1 + gen() % 8); break;
        case 1: t.insert(pos, tokens[gen() % tokens.size()]); break;
        default: t.resize(pos); break;
      }
      check_no_crash(t);
    }
  }
}

TEST(Robustness, HostileShapesAndDepths) {
  // Huge dimensions, deep let chains, huge einsum outputs: errors, not allocations or stack overflow.
  check_no_crash(R"({"hamux": "1", "neurons": {"a": {"shape": [9223372036854775807], "lagrangian": "relu"}}})");
  check_no_crash(R"({"hamux": "1", "neurons": {"a": {"shape": [18446744073709551615], "lagrangian": "relu"}}})");
  check_no_crash(R"({"hamux": "1", "neurons": {"a": {"shape": [65536, 65536, 65536], "lagrangian": "relu"}}})");
  check_no_crash(R"({"hamux": "1", "neurons": {"a": {"shape": [8192], "lagrangian": {"expr": {"inputs": ["x"],
      "value": ["sum", ["einsum", "x", "x", "x", {"spec": "i,j,k->ijk"}]]}}}}})");
  check_no_crash(R"({"hamux": "1", "neurons": {"a": {"shape": [4], "lagrangian": {"expr": {"inputs": ["x"],
      "value": ["sum", ["reshape", "x", {"shape": [9223372036854775807, -1]}]]}}}}})");
  std::string lets = "{\"l0\": [\"exp\", \"x\"]";
  for (int i = 1; i < 6000; ++i) lets += ", \"l" + std::to_string(i) + "\": [\"exp\", \"l" + std::to_string(i - 1) + "\"]";
  lets += "}";
  EXPECT_THROW(parse_model(R"({"hamux": "1", "neurons": {"a": {"shape": [2], "lagrangian": {"expr": {"inputs": ["x"], "let": )" +
                               lets + R"(, "value": ["sum", "l5999"]}}}}})",
                           "m.json", ""),
               Error);
  std::string deep(100000, '[');
  EXPECT_THROW(parse_model(deep, "m.json", ""), Error);
}

}  // namespace
}  // namespace hamux
