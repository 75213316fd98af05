// compiler/graph/internal_error.h - a fault of the compiler itself, not of its input.
//
// hamux::Error (include/hamux/error.h) is for bad input: it names the file, the place and
// the cause, and users are expected to see it. An InternalError means that hamux broke
// one of its own invariants (an emitter met an op the lowering should have rewritten, a
// plan that contradicts its stage ...): it carries the source file and line where the
// fault was detected, so that a report of it points at the code. Throw it with
// HAMUX_INTERNAL(message).
#pragma once

#include <stdexcept>
#include <string>

namespace hamux {

class InternalError : public std::logic_error {
 public:
  InternalError(const std::string& message, const char* file, int line)
      : std::logic_error("internal error at " + std::string(in_repository(file)) + ":" + std::to_string(line) + ": " +
                         message),
        file_(in_repository(file)), line_(line), message_(message) {}

  const char* file() const { return file_; }
  int line() const { return line_; }
  const std::string& message() const { return message_; }

 private:
  // The path from the repository's compiler/ folder on (__FILE__ may be absolute).
  static const char* in_repository(const char* file) {
    const std::string f(file);
    const size_t at = f.rfind("compiler/");
    return at == std::string::npos ? file : file + at;
  }
  const char* file_;
  int line_;
  std::string message_;
};

}  // namespace hamux

#define HAMUX_INTERNAL(message) throw ::hamux::InternalError((message), __FILE__, __LINE__)
