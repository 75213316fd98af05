// tests/cli/help_test.cpp - help and version output of `hamux`.
#include <gtest/gtest.h>

#include <string>

#include "cli/run_hamux.h"

namespace hamux::test {
namespace {

const char* const kCommands[] = {"check", "grad", "run", "energy", "compile", "help"};

TEST(Help, TopLevelHelpListsEveryCommand) {
  for (const char* args : {"--help", "-h", "help"}) {
    const RunResult r = run_hamux(args);
    EXPECT_EQ(r.status, 0) << args;
    EXPECT_EQ(r.err, "") << args;
    EXPECT_EQ(r.out.rfind("usage: hamux <command> [options]\n", 0), 0u) << args << "\n" << r.out;
    for (const char* command : kCommands) {
      EXPECT_NE(r.out.find(std::string("\n  ") + command + " "), std::string::npos)
          << args << " does not list " << command;
    }
  }
}

TEST(Help, EveryCommandHasItsOwnHelp) {
  for (const char* command : kCommands) {
    const std::string usage = std::string("usage: hamux ") + command;
    for (const std::string& args :
         {std::string(command) + " --help", std::string(command) + " -h",
          std::string("help ") + command}) {
      const RunResult r = run_hamux(args);
      EXPECT_EQ(r.status, 0) << args;
      EXPECT_EQ(r.err, "") << args;
      EXPECT_EQ(r.out.rfind(usage, 0), 0u) << args << "\n" << r.out;
    }
  }
}

TEST(Help, CheckHelpNamesTheSeedOption) {
  const RunResult r = run_hamux("check --help");
  EXPECT_NE(r.out.find("--seed N"), std::string::npos) << r.out;
}

TEST(Help, Version) {
  const RunResult r = run_hamux("--version");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "hamux 0.1.0\n");
  EXPECT_EQ(r.err, "");
}

}  // namespace
}  // namespace hamux::test
