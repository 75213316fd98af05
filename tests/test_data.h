// tests/test_data.h - the data files the tests of every stage share, named explicitly.
//
// Nothing here touches the disk before a test runs: the contract models are a fixed list
// (not a directory scan at test discovery), so a clone whose examples/models/ is missing or
// incomplete gets failing tests that name the missing file, never a crash at discovery.
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace hamux::test_data {

// The six contract models of examples/models/ (brief section 4), by file name.
inline const std::vector<std::string>& contract_model_names() {
  static const std::vector<std::string> names = {"classical_hopfield.json", "conv.json",    "custom_energies.json",
                                                 "dense_am.json",           "energy_transformer.json", "readme.json"};
  return names;
}

inline std::string contract_model_path(const std::string& name) { return std::string(HAMUX_MODELS_DIR) + "/" + name; }

inline std::vector<std::string> contract_model_paths() {
  std::vector<std::string> paths;
  for (const std::string& n : contract_model_names()) paths.push_back(contract_model_path(n));
  return paths;
}

// The whole file; throws (the test then fails with this message) when it cannot be read
// or is empty, instead of handing an empty text to the test.
inline std::string read_test_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error(path + ": cannot open the test's data file");
  std::ostringstream ss;
  ss << f.rdbuf();
  if (ss.str().empty()) throw std::runtime_error(path + ": the test's data file is empty");
  return ss.str();
}

}  // namespace hamux::test_data
