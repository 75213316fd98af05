// hamux/error.h - the one exception type hamux throws for bad input.
//
// Every rejection names the place (a file and a JSON pointer such as
// /synapses/s1/expr/let/h) and the cause, so that a user can find and fix it:
//   dense_am.json: /synapses/s1/expr/let/h: matmul: shapes [3,4] and [5] do not match
#pragma once

#include <stdexcept>
#include <string>

namespace hamux {

class Error : public std::runtime_error {
 public:
  // `where` is "file: /json/pointer" or just "file" or "/json/pointer"; may be empty.
  Error(std::string where, std::string cause)
      : std::runtime_error(where.empty() ? cause : where + ": " + cause),
        where_(std::move(where)),
        cause_(std::move(cause)) {}

  const std::string& where() const { return where_; }
  const std::string& cause() const { return cause_; }

 private:
  std::string where_;
  std::string cause_;
};

}  // namespace hamux
