// tests/frontend/docs_test.cpp - the published schema and spec stay in step with the stdlib.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "frontend/stdlib.h"

namespace hamux::frontend {

bool is_format_op(const std::string& name);  // ops.cpp

namespace {

std::string read(const std::string& rel) {
  std::ifstream f(std::string(HAMUX_SOURCE_DIR) + "/" + rel);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::set<std::string> split(const std::string& list) {
  std::set<std::string> out;
  std::stringstream ss(list);
  std::string item;
  while (std::getline(ss, item, ',')) out.insert(item.substr(item.find_first_not_of(' ')));
  return out;
}

TEST(Docs, SchemaListsEveryBuiltin) {
  nlohmann::json schema = nlohmann::json::parse(read("docs/hamux-model.schema.json"));
  const auto& lag = schema["$defs"]["lagrangian"]["oneOf"];
  std::set<std::string> by_name(lag[0]["enum"].begin(), lag[0]["enum"].end());
  EXPECT_EQ(by_name, split(lagrangian_names()));
  std::set<std::string> with_args, synapses;
  for (size_t i = 1; i < lag.size(); ++i) with_args.insert(lag[i]["required"][0]);
  with_args.erase("expr");
  EXPECT_EQ(with_args, split(lagrangian_names()));
  for (const auto& s : schema["$defs"]["synapse"]["oneOf"]) synapses.insert(s["required"][0]);
  synapses.erase("expr");
  EXPECT_EQ(synapses, split(synapse_names()));
}

TEST(Docs, SpecDocumentsEveryBuiltin) {
  std::string md = read("docs/model-format.md");
  for (const std::string& n : split(lagrangian_names())) EXPECT_NE(md.find("| `" + n + "` |"), std::string::npos) << n;
  for (const std::string& n : split(synapse_names())) EXPECT_NE(md.find("| `" + n + "` |"), std::string::npos) << n;
}

TEST(Docs, SchemaAndSpecListTheOps) {
  nlohmann::json schema = nlohmann::json::parse(read("docs/hamux-model.schema.json"));
  const auto& ops = schema["$defs"]["node"]["oneOf"][2]["prefixItems"][0]["enum"];
  ASSERT_GT(ops.size(), 30u);
  std::string md = read("docs/model-format.md");
  for (const auto& op : ops) {
    EXPECT_TRUE(is_format_op(op.get<std::string>())) << op;
    EXPECT_NE(md.find(op.get<std::string>()), std::string::npos) << op;
  }
  for (const char* op : {"avg_pool2d", "max_pool2d", "eye"}) {
    EXPECT_NE(std::find(ops.begin(), ops.end(), op), ops.end()) << op;
    EXPECT_NE(md.find(std::string("`") + op + "`"), std::string::npos) << op;
  }
  EXPECT_FALSE(is_format_op("maxpool"));
}

TEST(Docs, EveryStdlibDefinitionDeclaresItsArguments) {
  for (const std::string& n : split(lagrangian_names())) {
    const Definition* d = find_lagrangian(n);
    ASSERT_TRUE(d) << n;
    EXPECT_EQ(d->kind, "lagrangian");
    EXPECT_EQ(d->expr["inputs"].size(), 1u) << n;
  }
  for (const std::string& n : split(synapse_names())) ASSERT_TRUE(find_synapse(n)) << n;
  EXPECT_EQ(find_lagrangian("nope"), nullptr);
  EXPECT_NE(stdlib_text().find("\"lagrangians\""), std::string::npos);
}

}  // namespace
}  // namespace hamux::frontend
