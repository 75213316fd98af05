// tools/hamux/main.cpp - the `hamux` command: dispatch to a subcommand, report errors.
//
// Exit status: 0 success, 1 the input was rejected (or any other failure), 2 a mistake
// on the command line. Whatever happens, hamux reports it and exits; it never crashes.
#include <exception>
#include <iostream>
#include <new>
#include <string>
#include <vector>

#include "commands.h"
#include "support/printable.h"
#include "hamux/error.h"
#include "version.h"

namespace hamux::cli {
namespace {

int dispatch(const std::vector<std::string>& args) {
  if (args.empty()) throw UsageError("missing command", main_usage());
  const std::string& first = args[0];
  if (first == "-h" || first == "--help") {
    std::cout << main_usage();
    return 0;
  }
  if (first == "--version") {
    std::cout << "hamux " << kVersion << "\n";
    return 0;
  }
  if (first.size() > 1 && first[0] == '-') {
    throw UsageError("unknown option '" + first + "'", main_usage());
  }
  const Command* command = find_command(first);
  if (!command) throw UsageError("unknown command '" + first + "'", main_usage());
  return command->run(std::vector<std::string>(args.begin() + 1, args.end()));
}

}  // namespace
}  // namespace hamux::cli

int main(int argc, char** argv) {
  using namespace hamux::cli;
  try {
    return dispatch(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const UsageError& e) {
    std::cerr << "error: " << hamux::printable(e.what(), true) << "\n\n" << e.usage();
    return 2;
  } catch (const std::bad_alloc&) {
    std::cerr << "error: out of memory (the model, the batch or an input is too large for this machine)\n";
    return 1;
  } catch (const std::exception& e) {
    // hamux::Error (bad model), ir::ShapeError, and anything unexpected alike: report
    // the message rather than abort, so a bad input is always a readable error. Names in
    // it come from input files: control characters are escaped (printable.h).
    std::cerr << "error: " << hamux::printable(e.what(), true) << "\n";
    return 1;
  }
}
