// compiler/frontend/npy.cpp - the .npy format: a magic string, a version, a header that
// is a Python dict literal ({'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), })
// padded with spaces, then the raw little-endian data.
#include "frontend/npy.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "support/files.h"
#include "support/finite.h"
#include "frontend/json_util.h"

namespace hamux {

static_assert(std::endian::native == std::endian::little, "the .npy reader assumes a little-endian host");

namespace {

const char kMagic[] = "\x93NUMPY";

// A minimal reader for the header dict: string keys; values that are strings, True/False
// or tuples of integers - all the .npy header uses.
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& label) : s_(text), label_(label) {}

  void parse(std::string& descr, bool& fortran, Shape& shape) {
    bool have_descr = false, have_fortran = false, have_shape = false;
    expect('{');
    while (true) {
      skip_ws();
      if (peek() == '}') break;
      std::string key = string_literal();
      expect(':');
      skip_ws();
      if (key == "descr") {
        descr = string_literal();
        have_descr = true;
      } else if (key == "fortran_order") {
        fortran = boolean();
        have_fortran = true;
      } else if (key == "shape") {
        shape = tuple();
        have_shape = true;
      } else {
        fail("unexpected header key '" + key + "'");
      }
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == '}') break;
      fail("malformed header");
    }
    if (!have_descr || !have_fortran || !have_shape)
      fail("header lacks one of 'descr', 'fortran_order', 'shape'");
  }

 private:
  [[noreturn]] void fail(const std::string& why) { throw Error(label_, why); }
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n')) ++pos_;
  }
  void expect(char c) {
    skip_ws();
    if (peek() != c) fail("malformed header");
    ++pos_;
  }
  std::string string_literal() {
    skip_ws();
    char q = peek();
    if (q != '\'' && q != '"') fail("malformed header");
    size_t end = s_.find(q, pos_ + 1);
    if (end == std::string::npos) fail("malformed header");
    std::string out = s_.substr(pos_ + 1, end - pos_ - 1);
    pos_ = end + 1;
    return out;
  }
  bool boolean() {
    if (s_.compare(pos_, 4, "True") == 0) {
      pos_ += 4;
      return true;
    }
    if (s_.compare(pos_, 5, "False") == 0) {
      pos_ += 5;
      return false;
    }
    fail("malformed header");
  }
  Shape tuple() {
    expect('(');
    Shape shape;
    while (true) {
      skip_ws();
      if (peek() == ')') break;
      int64_t v = 0;
      bool any = false;
      while (peek() >= '0' && peek() <= '9') {
        if (v > frontend::kMaxElements) fail("shape is too large");
        v = v * 10 + (peek() - '0');
        ++pos_;
        any = true;
      }
      if (!any) fail("malformed shape in header");
      if (shape.size() >= static_cast<size_t>(frontend::kMaxRank)) fail("rank is too large");
      shape.push_back(v);
      skip_ws();
      if (peek() == ',') ++pos_;
      else if (peek() != ')') fail("malformed shape in header");
    }
    ++pos_;
    return shape;
  }

  const std::string& s_;
  const std::string& label_;
  size_t pos_ = 0;
};

uint32_t read_le(const std::string& bytes, size_t at, int n) {
  uint32_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
  return v;
}

// Magic (6) + version (2) + length (2) + the header dict, padded with spaces to a multiple
// of 64 and ended by a newline, then the raw little-endian data.
template <class T, class Source>
std::string npy_bytes_as(const Shape& shape, const std::vector<Source>& data) {
  std::string dict = std::string("{'descr': '") + (sizeof(T) == 8 ? "<f8" : "<f4") +
                     "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < shape.size(); ++i)
    dict += std::to_string(shape[i]) + (shape.size() == 1 ? "," : i + 1 < shape.size() ? ", " : "");
  dict += "), }";
  const size_t total = 10 + dict.size() + 1;
  dict += std::string((total + 63) / 64 * 64 - total, ' ') + "\n";
  std::string out(kMagic, 6);
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(dict.size() & 0xff);
  out += static_cast<char>((dict.size() >> 8) & 0xff);
  out += dict;
  const size_t at = out.size();
  out.resize(at + data.size() * sizeof(T));
  for (size_t e = 0; e < data.size(); ++e) {
    const T v = static_cast<T>(data[e]);
    std::memcpy(out.data() + at + e * sizeof(T), &v, sizeof(T));  // little-endian host
  }
  return out;
}

}  // namespace

uint64_t npy_max_file_bytes(int64_t max_elements) {
  max_elements = std::min(max_elements, frontend::kMaxElements);
  return 12 + kMaxNpyHeaderBytes + static_cast<uint64_t>(std::max<int64_t>(max_elements, 0)) * 8;
}

Tensor<double> parse_npy(const std::string& bytes, const std::string& label, int64_t max_elements,
                         bool integers) {
  if (bytes.size() < 10 || bytes.compare(0, 6, kMagic, 6) != 0)
    throw Error(label, "not a .npy file (bad magic string)");
  int major = static_cast<unsigned char>(bytes[6]);
  size_t header_len, header_start;
  if (major == 1) {
    header_len = read_le(bytes, 8, 2);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw Error(label, "truncated header");
    header_len = read_le(bytes, 8, 4);
    header_start = 12;
  } else {
    throw Error(label, "unsupported .npy version " + std::to_string(major) + "." +
                           std::to_string(static_cast<unsigned char>(bytes[7])));
  }
  if (header_len > kMaxNpyHeaderBytes)
    throw Error(label, "header of " + std::to_string(header_len) + " bytes is longer than the " +
                           std::to_string(kMaxNpyHeaderBytes) + " bytes hamux reads");
  if (header_len > bytes.size() - header_start) throw Error(label, "truncated header");
  std::string header = bytes.substr(header_start, header_len);

  std::string descr;
  bool fortran = false;
  Shape shape;
  HeaderParser(header, label).parse(descr, fortran, shape);
  if (fortran) throw Error(label, "fortran_order True is not supported (save in C order)");

  // The element type: 'f' float, 'i' signed, 'u' unsigned, 'b' bool; and its size.
  char kind = 0;
  size_t itemsize = 0;
  if (descr.size() == 3 && (descr[0] == '<' || descr[0] == '|' || descr[0] == '=')) {
    const std::string t = descr.substr(1);
    if (t == "f4" || t == "f8") kind = 'f';
    if (integers && (t == "i1" || t == "i2" || t == "i4" || t == "i8")) kind = 'i';
    if (integers && (t == "u1" || t == "u2" || t == "u4" || t == "u8")) kind = 'u';
    if (integers && t == "b1") kind = 'b';
    if (kind) itemsize = static_cast<size_t>(t[1] - '0');
  }
  if (itemsize == 0) {
    if (!descr.empty() && descr[0] == '>')
      throw Error(label, "big-endian dtype '" + descr + "' is not supported");
    throw Error(label, "dtype '" + descr + "' is not supported (expected " +
                           (integers ? "a float, integer or bool dtype such as '<f4', '<i8' or '|u1'"
                                     : "float32 '<f4' or float64 '<f8'") + ")");
  }
  int64_t n = frontend::checked_elements(shape);
  if (n < 0) throw Error(label, "shape " + shape_str(shape) + " is too large");
  if (n > max_elements)
    throw Error(label, "shape " + shape_str(shape) + " has " + std::to_string(n) + " elements, more than the " +
                           std::to_string(max_elements) + " expected");

  size_t data_start = header_start + header_len;
  size_t have = bytes.size() - data_start;
  size_t want = static_cast<size_t>(n) * itemsize;
  if (have < want)
    throw Error(label, "truncated data: " + std::to_string(have) + " bytes for shape " +
                           shape_str(shape) + ", expected " + std::to_string(want));
  if (have > want)
    throw Error(label, std::to_string(have - want) + " unexpected bytes after the data");

  Tensor<double> t(shape);
  const char* p = bytes.data() + data_start;
  for (int64_t i = 0; i < n; ++i) {
    const char* at = p + i * itemsize;
    if (kind == 'f' && itemsize == 4) {
      float f;
      std::memcpy(&f, at, 4);
      t.data[i] = f;
    } else if (kind == 'f') {
      std::memcpy(&t.data[i], at, 8);
    } else {
      uint64_t u = 0;  // little-endian, then sign-extended for the signed kinds
      for (size_t b = 0; b < itemsize; ++b) u |= static_cast<uint64_t>(static_cast<unsigned char>(at[b])) << (8 * b);
      if (kind == 'i' && itemsize < 8 && (u >> (8 * itemsize - 1)) & 1) u |= ~uint64_t{0} << (8 * itemsize);
      t.data[i] = kind == 'i' ? static_cast<double>(static_cast<int64_t>(u)) : static_cast<double>(u);
    }
  }
  return t;
}

Tensor<double> read_npy(const std::string& path, int64_t max_elements, bool integers) {
  max_elements = std::min(max_elements, frontend::kMaxElements);
  const std::string bytes = read_regular_file(
      path, npy_max_file_bytes(max_elements),
      "a .npy file of at most " + std::to_string(max_elements) + " values can take");
  return parse_npy(bytes, path, max_elements, integers);
}

std::string non_finite_element(const Tensor<double>& t) {
  if (all_finite(t.data)) return "";  // the fast test (every training step sets the params)
  for (size_t e = 0; e < t.data.size(); ++e) {
    const double v = t.data[e];
    if (std::isfinite(v)) continue;
    Shape index(t.shape.size());
    size_t rest = e;
    for (size_t d = t.shape.size(); d-- > 0;) {
      index[d] = static_cast<int64_t>(rest % static_cast<size_t>(t.shape[d]));
      rest /= static_cast<size_t>(t.shape[d]);
    }
    return "element " + shape_str(index) + " is " + (std::isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
  }
  return "";
}

std::string npy_bytes(const Tensor<double>& t, bool float64) {
  return float64 ? npy_bytes_as<double>(t.shape, t.data) : npy_bytes_as<float>(t.shape, t.data);
}
std::string npy_bytes(const Tensor<float>& t) { return npy_bytes_as<float>(t.shape, t.data); }

void save_npy(const std::string& path, const Tensor<float>& t) { write_file_atomic(path, npy_bytes(t)); }
void save_npy(const std::string& path, const Tensor<double>& t) { write_file_atomic(path, npy_bytes(t, true)); }

}  // namespace hamux
