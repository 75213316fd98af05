// tools/hamux/command.h - what every `hamux` subcommand provides, and the usage error.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace hamux::cli {

struct Command {
  const char* name;
  const char* summary;  // one line for `hamux --help`
  const char* usage;    // full help text for `hamux <name> --help`
  // Runs the command on the arguments after its name; returns the exit status.
  int (*run)(const std::vector<std::string>& args);
};

// A mistake on the command line (unknown option, missing argument ...). main prints
// "error: <message>" and the usage text, and exits with status 2.
class UsageError : public std::runtime_error {
 public:
  UsageError(const std::string& message, std::string usage)
      : std::runtime_error(message), usage_(std::move(usage)) {}
  const std::string& usage() const { return usage_; }

 private:
  std::string usage_;
};

// The subcommands, one per file.
extern const Command kCheckCommand;  // check.cpp
extern const Command kGradCommand;   // grad.cpp
extern const Command kRunCommand;    // run.cpp
extern const Command kEnergyCommand; // energy.cpp
extern const Command kCompileCommand; // compile.cpp
extern const Command kTrainCommand;   // train.cpp
extern const Command kEvalCommand;    // eval.cpp

}  // namespace hamux::cli
