// tools/hamux/help.cpp - `hamux help [command]`.
#include <iostream>

#include "args.h"
#include "commands.h"

namespace hamux::cli {
namespace {

const char* const kUsage =
    "usage: hamux help [command]\n"
    "\n"
    "Shows the list of commands, or the help of one command.\n";

int run_help(const std::vector<std::string>& args) {
  const ParsedArgs parsed = parse_args(args, {}, kUsage);
  if (parsed.help) {
    std::cout << kUsage;
    return 0;
  }
  if (parsed.positional.size() > 1) throw UsageError("too many arguments", kUsage);
  if (parsed.positional.empty()) {
    std::cout << main_usage();
    return 0;
  }
  const Command* command = find_command(parsed.positional[0]);
  if (!command) throw UsageError("unknown command '" + parsed.positional[0] + "'", main_usage());
  std::cout << command->usage;
  return 0;
}

}  // namespace

const Command kHelpCommand = {"help", "show help for hamux or for one command", kUsage, run_help};

}  // namespace hamux::cli
