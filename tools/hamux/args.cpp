// tools/hamux/args.cpp - see args.h.
#include "args.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "command.h"

namespace hamux::cli {

ParsedArgs parse_args(const std::vector<std::string>& args,
                      const std::vector<std::string>& value_options, const std::string& usage) {
  ParsedArgs parsed;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h" || arg == "--help") {
      parsed.help = true;
      continue;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      parsed.positional.push_back(arg);
      continue;
    }
    const size_t eq = arg.find('=');
    const std::string name = arg.substr(0, eq);
    if (std::find(value_options.begin(), value_options.end(), name) == value_options.end()) {
      throw UsageError("unknown option '" + name + "'", usage);
    }
    if (eq != std::string::npos) {
      parsed.options[name] = arg.substr(eq + 1);
    } else if (i + 1 < args.size()) {
      parsed.options[name] = args[++i];
    } else {
      throw UsageError("option '" + name + "' needs a value", usage);
    }
  }
  return parsed;
}

uint64_t parse_uint(const std::string& option, const std::string& text, const std::string& usage) {
  // strtoull accepts signs and leading spaces; a seed must be plain digits.
  const bool digits = !text.empty() && text.size() <= 20 &&
                      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  errno = 0;
  const unsigned long long value = digits ? std::strtoull(text.c_str(), nullptr, 10) : 0;
  if (!digits || errno == ERANGE) {
    throw UsageError("option '" + option + "' expects a non-negative integer, got '" + text + "'",
                     usage);
  }
  return value;
}

}  // namespace hamux::cli
