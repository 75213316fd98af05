// tools/hamux/commands.cpp - the table of subcommands and the top-level usage text.
#include "commands.h"

#include <algorithm>

namespace hamux::cli {

const std::vector<const Command*>& all_commands() {
  static const std::vector<const Command*> commands = {&kCheckCommand, &kGradCommand, &kRunCommand,
                                                               &kEnergyCommand, &kCompileCommand, &kTrainCommand,
                                                               &kEvalCommand, &kHelpCommand};
  return commands;
}

const Command* find_command(const std::string& name) {
  for (const Command* c : all_commands()) {
    if (name == c->name) return c;
  }
  return nullptr;
}

std::string main_usage() {
  std::string text =
      "usage: hamux <command> [options]\n"
      "\n"
      "hamux compiles Hopfield-style associative memories (HAMs) described in JSON.\n"
      "\n"
      "commands:\n";
  size_t width = 0;  // the longest command name sets the column
  for (const Command* c : all_commands()) width = std::max(width, std::string(c->name).size());
  for (const Command* c : all_commands()) {
    std::string name = c->name;
    name.resize(width + 2, ' ');
    text += "  " + name + c->summary + "\n";
  }
  text +=
      "\n"
      "options:\n"
      "  -h, --help  show this help\n"
      "  --version   print the version\n"
      "\n"
      "Run 'hamux <command> --help' for the options of a command.\n";
  return text;
}

}  // namespace hamux::cli
