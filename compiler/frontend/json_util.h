// compiler/frontend/json_util.h - strict reading of JSON with located errors.
//
// Every value the frontend reads travels with its JSON pointer (RFC 6901), so any
// rejection can name the exact place: "model.json: /neurons/h/tau: must be > 0, got -1".
// The readers are strict: wrong types and unknown keys are errors, because a typo in a
// model should be reported, not silently ignored.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hamux/error.h"
#include "hamux/tensor.h"

namespace hamux::frontend {

using Json = nlohmann::ordered_json;

// Limits that keep absurd or hostile input from exhausting memory or the stack.
inline constexpr int kMaxJsonDepth = 200;                // nesting of arrays/objects
inline constexpr int64_t kMaxElements = int64_t{1} << 26;  // elements of one tensor, and of all params
inline constexpr int kMaxRank = 16;

// The file label and the reporting of errors at a JSON pointer.
struct Ctx {
  std::string file;  // label that prefixes every message

  // "file: /ptr" (or just "file" for the document root, whose pointer is "").
  std::string where(const std::string& ptr) const;
  [[noreturn]] void fail(const std::string& ptr, const std::string& cause) const;
};

// RFC 6901 pointer of a member / an element below `ptr` ("~" -> "~0", "/" -> "~1").
std::string ptr_key(const std::string& ptr, const std::string& key);
std::string ptr_index(const std::string& ptr, size_t index);

// "string", "number", "integer", "boolean", "null", "array", "object".
std::string json_type(const Json& j);

// Parses model text. Syntax errors read "<file>: line L, column C: <what>"; duplicate
// object keys and nesting deeper than kMaxJsonDepth are rejected too.
Json parse_json(const std::string& text, const Ctx& ctx);

// Typed readers; each fails with "expected <type>, got <type>" at `ptr`.
const Json& expect_object(const Ctx& ctx, const Json& j, const std::string& ptr);
const Json& expect_array(const Ctx& ctx, const Json& j, const std::string& ptr);
std::string get_string(const Ctx& ctx, const Json& j, const std::string& ptr);
double get_number(const Ctx& ctx, const Json& j, const std::string& ptr);  // finite
int64_t get_int(const Ctx& ctx, const Json& j, const std::string& ptr);
bool get_bool(const Ctx& ctx, const Json& j, const std::string& ptr);

// Rejects a member of `obj` not in `allowed` (pointer of the member, list of the allowed).
void check_keys(const Ctx& ctx, const Json& obj, const std::string& ptr,
                std::initializer_list<const char*> allowed);
void check_keys(const Ctx& ctx, const Json& obj, const std::string& ptr,
                const std::vector<std::string>& allowed);

// The member `key` of object `obj`, or a "missing required key" error at `ptr`.
const Json& require(const Ctx& ctx, const Json& obj, const std::string& ptr, const char* key);

// A tensor shape: a list of positive integers whose product is at most kMaxElements.
Shape get_shape(const Ctx& ctx, const Json& j, const std::string& ptr);

// Names usable in expressions: [A-Za-z_][A-Za-z0-9_]*.
bool is_identifier(const std::string& s);

// Number formatting for messages and descriptions: shortest form that reads back ("0.02", "1e-05").
std::string fmt_number(double v);

// Element count of `shape`, or -1 when it exceeds kMaxElements (no overflow).
int64_t checked_elements(const Shape& shape);

}  // namespace hamux::frontend
