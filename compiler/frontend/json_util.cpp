// compiler/frontend/json_util.cpp - strict JSON reading with JSON-pointer errors.
#include "frontend/json_util.h"

#include <algorithm>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>

namespace hamux::frontend {

std::string Ctx::where(const std::string& ptr) const {
  if (ptr.empty()) return file;
  return file + ": " + ptr;
}

void Ctx::fail(const std::string& ptr, const std::string& cause) const {
  throw Error(where(ptr), cause);
}

static std::string escape_token(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

std::string ptr_key(const std::string& ptr, const std::string& key) {
  return ptr + "/" + escape_token(key);
}

std::string ptr_index(const std::string& ptr, size_t index) {
  return ptr + "/" + std::to_string(index);
}

std::string json_type(const Json& j) {
  if (j.is_string()) return "string";
  if (j.is_boolean()) return "boolean";
  if (j.is_number_integer()) return "integer";
  if (j.is_number()) return "number";
  if (j.is_null()) return "null";
  if (j.is_array()) return "array";
  if (j.is_object()) return "object";
  return "binary";
}

namespace {

// Tracks where the parser is, so that a duplicate key can be reported by its pointer.
struct Frame {
  bool is_array = false;
  size_t index = 0;
  std::string key;
  std::set<std::string> keys;
};

// The pointer of the innermost open container (the last frame).
std::string frames_pointer(const std::vector<Frame>& frames) {
  std::string ptr;
  for (size_t i = 0; i + 1 < frames.size(); ++i)
    ptr = frames[i].is_array ? ptr_index(ptr, frames[i].index) : ptr_key(ptr, frames[i].key);
  return ptr;
}

// "[json.exception.parse_error.101] parse error at line 1, column 9: syntax error ..." ->
// "syntax error ...": the position is recomputed from the byte offset by the caller.
std::string strip_nlohmann_prefix(const std::string& what) {
  std::string s = what;
  size_t bracket = s.find("] ");
  if (s.rfind("[json.exception.", 0) == 0 && bracket != std::string::npos) s = s.substr(bracket + 2);
  size_t col = s.find("column ");
  if (s.rfind("parse error", 0) == 0 && col != std::string::npos) {
    size_t colon = s.find(": ", col);
    if (colon != std::string::npos) return s.substr(colon + 2);
  }
  return s;
}

}  // namespace

Json parse_json(const std::string& text, const Ctx& ctx) {
  std::vector<Frame> frames;
  auto callback = [&](int depth, Json::parse_event_t event, Json& parsed) -> bool {
    using E = Json::parse_event_t;
    switch (event) {
      case E::object_start:
      case E::array_start:
        frames.push_back(Frame{event == E::array_start, 0, {}, {}});
        if (depth >= kMaxJsonDepth)  // depth counts the enclosing containers
          ctx.fail(frames_pointer(frames), "nesting is deeper than " +
                                               std::to_string(kMaxJsonDepth) + " levels");
        break;
      case E::key: {
        Frame& f = frames.back();
        f.key = parsed.get<std::string>();
        if (!f.keys.insert(f.key).second) ctx.fail(frames_pointer(frames), "duplicate key \"" + f.key + "\"");
        break;
      }
      case E::object_end:
      case E::array_end:
        frames.pop_back();
        if (!frames.empty() && frames.back().is_array) ++frames.back().index;
        break;
      case E::value:
        if (!frames.empty() && frames.back().is_array) ++frames.back().index;
        break;
    }
    return true;
  };
  // nlohmann's parser treats a NUL byte as the end of the input, which would silently accept
  // "valid model\0garbage"; a model file never legitimately contains one.
  if (size_t nul = text.find('\0'); nul != std::string::npos) {
    size_t line = 1 + std::count(text.begin(), text.begin() + nul, '\n');
    size_t line_start = text.rfind('\n', nul == 0 ? 0 : nul - 1);
    size_t column = (line_start == std::string::npos || line == 1) ? nul + 1 : nul - line_start;
    throw Error(ctx.file, "line " + std::to_string(line) + ", column " + std::to_string(column) +
                              ": NUL byte in the model text");
  }
  try {
    return Json::parse(text, callback);
  } catch (const Json::parse_error& e) {
    size_t offset = e.byte > 0 ? e.byte - 1 : 0;
    if (offset > text.size()) offset = text.size();
    size_t line = 1, line_start = 0;
    for (size_t i = 0; i < offset; ++i)
      if (text[i] == '\n') {
        ++line;
        line_start = i + 1;
      }
    size_t column = offset - line_start + 1;
    throw Error(ctx.file, "line " + std::to_string(line) + ", column " + std::to_string(column) +
                              ": " + strip_nlohmann_prefix(e.what()));
  } catch (const Json::exception& e) {
    // Number overflow ("1e999") and the like carry no position.
    throw Error(ctx.file, strip_nlohmann_prefix(e.what()));
  }
}

const Json& expect_object(const Ctx& ctx, const Json& j, const std::string& ptr) {
  if (!j.is_object()) ctx.fail(ptr, "expected an object, got " + json_type(j));
  return j;
}

const Json& expect_array(const Ctx& ctx, const Json& j, const std::string& ptr) {
  if (!j.is_array()) ctx.fail(ptr, "expected an array, got " + json_type(j));
  return j;
}

std::string get_string(const Ctx& ctx, const Json& j, const std::string& ptr) {
  if (!j.is_string()) ctx.fail(ptr, "expected a string, got " + json_type(j));
  return j.get<std::string>();
}

double get_number(const Ctx& ctx, const Json& j, const std::string& ptr) {
  if (!j.is_number()) ctx.fail(ptr, "expected a number, got " + json_type(j));
  double v = j.get<double>();
  if (!std::isfinite(v)) ctx.fail(ptr, "expected a finite number");
  return v;
}

int64_t get_int(const Ctx& ctx, const Json& j, const std::string& ptr) {
  if (!j.is_number_integer()) ctx.fail(ptr, "expected an integer, got " + json_type(j));
  if (j.is_number_unsigned() && j.get<uint64_t>() > uint64_t{INT64_MAX})
    ctx.fail(ptr, "integer is too large");
  return j.get<int64_t>();
}

bool get_bool(const Ctx& ctx, const Json& j, const std::string& ptr) {
  if (!j.is_boolean()) ctx.fail(ptr, "expected a boolean, got " + json_type(j));
  return j.get<bool>();
}

void check_keys(const Ctx& ctx, const Json& obj, const std::string& ptr,
                const std::vector<std::string>& allowed) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool ok = false;
    for (const std::string& a : allowed) ok = ok || it.key() == a;
    if (ok) continue;
    std::string list;
    for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + a;
    ctx.fail(ptr_key(ptr, it.key()),
             "unknown key \"" + it.key() + "\"" +
                 (allowed.empty() ? std::string(" (no keys allowed)") : " (expected " + list + ")"));
  }
}

void check_keys(const Ctx& ctx, const Json& obj, const std::string& ptr,
                std::initializer_list<const char*> allowed) {
  check_keys(ctx, obj, ptr, std::vector<std::string>(allowed.begin(), allowed.end()));
}

const Json& require(const Ctx& ctx, const Json& obj, const std::string& ptr, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end()) ctx.fail(ptr, std::string("missing required key \"") + key + "\"");
  return *it;
}

int64_t checked_elements(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return -1;
    if (d != 0 && n > kMaxElements / d) return -1;
    n *= d;
  }
  return n > kMaxElements ? -1 : n;
}

Shape get_shape(const Ctx& ctx, const Json& j, const std::string& ptr) {
  expect_array(ctx, j, ptr);
  if (j.size() > static_cast<size_t>(kMaxRank))
    ctx.fail(ptr, "rank " + std::to_string(j.size()) + " is larger than the limit " +
                      std::to_string(kMaxRank));
  Shape shape;
  for (size_t i = 0; i < j.size(); ++i) {
    std::string p = ptr_index(ptr, i);
    if (!j[i].is_number_integer())
      ctx.fail(p, "dimension must be a positive integer, got " + json_type(j[i]));
    if (j[i].is_number_unsigned() ? j[i].get<uint64_t>() == 0 : j[i].get<int64_t>() < 1)
      ctx.fail(p, "dimension must be a positive integer, got " + j[i].dump());
    if (j[i].is_number_unsigned() && j[i].get<uint64_t>() > uint64_t{kMaxElements})
      ctx.fail(ptr, "shape has more than " + std::to_string(kMaxElements) + " elements");
    shape.push_back(j[i].get<int64_t>());
  }
  if (checked_elements(shape) < 0)
    ctx.fail(ptr, "shape has more than " + std::to_string(kMaxElements) + " elements");
  return shape;
}

bool is_identifier(const std::string& s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    bool digit = c >= '0' && c <= '9';
    if (!(alpha || (digit && i > 0))) return false;
  }
  return true;
}

std::string fmt_number(double v) {
  char buf[64];
  for (int prec = 6; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

}  // namespace hamux::frontend
