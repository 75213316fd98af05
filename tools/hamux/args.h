// tools/hamux/args.h - a small command-line parser shared by the subcommands.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace hamux::cli {

struct ParsedArgs {
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;  // "--seed" -> "3"
  bool help = false;                           // -h or --help was given
};

// Splits `args` into positionals and options. `value_options` lists the options that
// take a value ("--seed N" or "--seed=N"). Throws UsageError (with `usage`) on an
// unknown option or a missing value. A lone "-" counts as a positional.
ParsedArgs parse_args(const std::vector<std::string>& args,
                      const std::vector<std::string>& value_options, const std::string& usage);

// Parses a non-negative decimal integer given to `option`; throws UsageError otherwise.
uint64_t parse_uint(const std::string& option, const std::string& text, const std::string& usage);

}  // namespace hamux::cli
