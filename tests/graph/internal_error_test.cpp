// tests/graph/internal_error_test.cpp - InternalError: a fault of hamux itself, with the place
// where it was detected (file and line), kept apart from hamux::Error (bad input).
#include <gtest/gtest.h>

#include <string>

#include "graph/internal_error.h"
#include "hamux/error.h"

namespace hamux {
namespace {

TEST(InternalError, CarriesFileLineAndMessage) {
  int line = 0;
  try {
    line = __LINE__ + 1;
    HAMUX_INTERNAL("a plan that contradicts its stage");
  } catch (const InternalError& e) {
    const std::string file = e.file();
    EXPECT_EQ(file.substr(file.size() - std::string("internal_error_test.cpp").size()), "internal_error_test.cpp");
    EXPECT_EQ(e.line(), line);
    EXPECT_EQ(e.message(), "a plan that contradicts its stage");
    EXPECT_EQ(std::string(e.what()),
              "internal error at " + file + ":" + std::to_string(line) + ": a plan that contradicts its stage");
    return;
  }
  FAIL() << "no InternalError";
}

TEST(InternalError, IsNotABadInputError) {
  bool caught_as_input_error = false, caught_as_logic_error = false;
  try {
    HAMUX_INTERNAL("x");
  } catch (const Error&) {
    caught_as_input_error = true;
  } catch (const std::logic_error&) {
    caught_as_logic_error = true;
  }
  EXPECT_FALSE(caught_as_input_error);
  EXPECT_TRUE(caught_as_logic_error);
}

TEST(InternalError, PathsInTheCompilerStartAtItsFolder) {
  const InternalError e("m", "/some/checkout/compiler/codegen/llvm/emit.cpp", 12);
  EXPECT_EQ(std::string(e.file()), "compiler/codegen/llvm/emit.cpp");
  EXPECT_EQ(std::string(e.what()), "internal error at compiler/codegen/llvm/emit.cpp:12: m");
}

}  // namespace
}  // namespace hamux
