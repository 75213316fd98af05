// runtime/inflate.cpp - see inflate.h.
#include "inflate.h"

#include <zlib.h>

#include <algorithm>
#include <limits>

#include "hamux/error.h"

namespace hamux {

namespace {

// Inflates `in` (window_bits -15: raw deflate; 31: gzip) into at most `max_out` bytes.
// Sets `more` when the stream would produce output beyond that.
std::string inflate_bounded(std::string_view in, int window_bits, uint64_t max_out, size_t initial,
                            bool& more, const std::string& label) {
  z_stream s{};
  if (inflateInit2(&s, window_bits) != Z_OK) throw Error(label, "zlib could not be initialised");
  std::string out(std::min<uint64_t>(initial, max_out), '\0');
  size_t in_done = 0, out_done = 0;
  int rc = Z_OK;
  more = false;
  constexpr size_t kChunk = std::numeric_limits<uInt>::max();  // avail_* are 32-bit
  for (;;) {
    if (out_done == out.size()) {
      if (out.size() >= max_out) {
        // Full: one more byte of output means the stream is longer than allowed.
        char probe;
        s.next_out = reinterpret_cast<Bytef*>(&probe);
        s.avail_out = 1;
        s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + in_done));
        s.avail_in = static_cast<uInt>(std::min(in.size() - in_done, kChunk));
        rc = inflate(&s, Z_NO_FLUSH);
        more = s.avail_out == 0;
        break;
      }
      out.resize(std::min<uint64_t>(max_out, out.size() * 2 + 4096));
    }
    s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + in_done));
    s.avail_in = static_cast<uInt>(std::min(in.size() - in_done, kChunk));
    s.next_out = reinterpret_cast<Bytef*>(out.data() + out_done);
    s.avail_out = static_cast<uInt>(std::min(out.size() - out_done, kChunk));
    const uInt in_before = s.avail_in, out_before = s.avail_out;
    rc = inflate(&s, Z_NO_FLUSH);
    in_done += in_before - s.avail_in;
    out_done += out_before - s.avail_out;
    if (rc == Z_STREAM_END) break;
    if (rc != Z_OK && rc != Z_BUF_ERROR) break;
    if (in_before == s.avail_in && out_before == s.avail_out) break;  // no progress: input ended
  }
  inflateEnd(&s);
  out.resize(out_done);
  if (more) return out;
  if (rc != Z_STREAM_END) throw Error(label, "corrupt or truncated compressed data");
  return out;
}

}  // namespace

std::string inflate_raw(std::string_view compressed, size_t size, const std::string& label) {
  bool more = false;
  std::string out = inflate_bounded(compressed, -15, size, size, more, label);
  if (more) throw Error(label, "inflates to more than the " + std::to_string(size) + " bytes it declares");
  if (out.size() != size) {
    throw Error(label, "inflated to " + std::to_string(out.size()) + " bytes, expected " + std::to_string(size));
  }
  return out;
}

std::string gunzip(std::string_view compressed, const std::string& label, uint64_t max_bytes) {
  bool more = false;
  std::string out = inflate_bounded(compressed, 31, max_bytes, compressed.size() * 4 + 1024, more, label);
  if (more) throw Error(label, "inflates to more than " + std::to_string(max_bytes) + " bytes");
  return out;
}

}  // namespace hamux
