// compiler/frontend/json_util.cpp - strict JSON reading with JSON-pointer errors.
#include "frontend/json_util.h"

#include <algorithm>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <unordered_set>

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
  // An object's members so far. They go into the Json object when it ends, into storage
  // reserved for all of them: the ordered map's vector holds pair<const string, Json>,
  // which it copies (the whole subtree) instead of moving when it grows.
  std::vector<std::pair<std::string, Json>> members;
  // The keys of an object of more than kScannedMembers members (smaller ones are scanned).
  std::unordered_set<std::string> keys;
};

// Objects up to this many members are checked for a duplicate key by a scan of their
// members: nearly all objects of a model are that small, and a hash set of their keys cost
// an allocation per key (a fifth of the parse time of a model of 64k layers).
constexpr size_t kScannedMembers = 16;

// Builds the document from nlohmann's SAX events. nlohmann's own DOM parsers insert each
// object member with ordered_map::operator[] (a linear search for the key) and, with a
// callback, scan the parent object after every member that ends: both quadratic in the
// number of members, which made a model with 16k neurons spend seconds here (issue 19).
// Duplicate keys are rejected by the builder, so the members can be appended to the ordered
// map's vector directly.
class DomBuilder {
 public:
  using number_integer_t = Json::number_integer_t;
  using number_unsigned_t = Json::number_unsigned_t;
  using number_float_t = Json::number_float_t;
  using string_t = Json::string_t;
  using binary_t = Json::binary_t;

  explicit DomBuilder(const Ctx& ctx) : ctx_(ctx) {}
  Json take() { return std::move(root_); }

  bool null() { return put(Json(nullptr)); }
  bool boolean(bool v) { return put(Json(v)); }
  bool number_integer(number_integer_t v) { return put(Json(v)); }
  bool number_unsigned(number_unsigned_t v) { return put(Json(v)); }
  bool number_float(number_float_t v, const string_t&) { return put(Json(v)); }
  bool string(string_t& v) { return put(Json(std::move(v))); }
  bool binary(binary_t& v) { return put(Json::binary(std::move(v))); }

  bool start_object(std::size_t) { return open(Json::object(), false); }
  bool start_array(std::size_t) { return open(Json::array(), true); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(string_t& k) {
    Frame& f = frames_.back();
    std::vector<std::pair<std::string, Json>>& members = f.members;
    bool duplicate = false;
    if (members.size() < kScannedMembers) {
      for (const auto& m : members) duplicate = duplicate || m.first == k;
    } else {
      if (f.keys.empty())
        for (const auto& m : members) f.keys.insert(m.first);
      duplicate = !f.keys.insert(k).second;
    }
    if (duplicate) ctx_.fail(pointer(), "duplicate key \"" + k + "\"");
    members.emplace_back(std::move(k), Json());
    slot_ = &members.back().second;
    return true;
  }

  // Rethrown as nlohmann's DOM parser does, so parse_json reports it the same way.
  template <class Exception>
  bool parse_error(std::size_t, const std::string&, const Exception& ex) {
    throw ex;
  }

 private:
  // Stores a value where the parser is: the root, the next array element or the member
  // whose key came last. Returns where it went.
  Json* place(Json&& v) {
    if (open_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    if (!frames_.back().is_array) {
      *slot_ = std::move(v);
      return slot_;
    }
    Json::array_t& elements = *open_.back()->get_ptr<Json::array_t*>();
    elements.push_back(std::move(v));
    return &elements.back();
  }
  // A finished element of an array moves its index on.
  void count_element() {
    if (!frames_.empty() && frames_.back().is_array) ++frames_.back().index;
  }
  bool put(Json&& v) {
    place(std::move(v));
    count_element();
    return true;
  }
  // The pointer of the innermost open container: each enclosing object's last key (the
  // member being parsed), each enclosing array's element index.
  std::string pointer() const {
    std::string ptr;
    for (size_t i = 0; i + 1 < frames_.size(); ++i)
      ptr = frames_[i].is_array ? ptr_index(ptr, frames_[i].index) : ptr_key(ptr, frames_[i].members.back().first);
    return ptr;
  }

  bool open(Json&& container, bool is_array) {
    open_.push_back(place(std::move(container)));
    frames_.push_back(Frame{is_array, 0, {}, {}});
    if (frames_.size() - 1 >= static_cast<size_t>(kMaxJsonDepth))  // the enclosing containers
      ctx_.fail(pointer(), "nesting is deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    return true;
  }
  bool close() {
    if (!frames_.back().is_array) {
      // The ordered map's vector, not its insert: the keys are known to be distinct.
      Json::object_t::Container& object = *open_.back()->get_ptr<Json::object_t*>();
      object.reserve(frames_.back().members.size());
      for (auto& [k, v] : frames_.back().members) object.emplace_back(std::move(k), std::move(v));
    }
    frames_.pop_back();
    open_.pop_back();
    count_element();
    return true;
  }

  const Ctx& ctx_;
  Json root_;
  std::vector<Frame> frames_;
  std::vector<Json*> open_;  // the open containers, innermost last
  Json* slot_ = nullptr;     // the value of the member whose key came last
};

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
    DomBuilder builder(ctx);
    Json::sax_parse(text, &builder);
    return builder.take();
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
