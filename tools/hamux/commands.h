// tools/hamux/commands.h - looking up subcommands by name.
#pragma once

#include <string>
#include <vector>

#include "command.h"

namespace hamux::cli {

extern const Command kHelpCommand;  // help.cpp

const std::vector<const Command*>& all_commands();
const Command* find_command(const std::string& name);  // nullptr when unknown
std::string main_usage();                               // `hamux --help`

}  // namespace hamux::cli
