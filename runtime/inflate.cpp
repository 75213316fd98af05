// runtime/inflate.cpp - see inflate.h.
#include "inflate.h"

#include <dlfcn.h>

#include "hamux/error.h"

#if __has_include(<zlib.h>)
#include <zlib.h>
#define HAMUX_HAVE_ZLIB_H 1
#endif

namespace hamux {

#ifdef HAMUX_HAVE_ZLIB_H
namespace {

struct Zlib {
  int (*init)(z_streamp, int, const char*, int) = nullptr;
  int (*step)(z_streamp, int) = nullptr;
  int (*end)(z_streamp) = nullptr;
};

const Zlib& zlib(const std::string& label) {
  static const Zlib z = [] {
    Zlib z;
    void* lib = dlopen("libz.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) return z;
    z.init = reinterpret_cast<decltype(z.init)>(dlsym(lib, "inflateInit2_"));
    z.step = reinterpret_cast<decltype(z.step)>(dlsym(lib, "inflate"));
    z.end = reinterpret_cast<decltype(z.end)>(dlsym(lib, "inflateEnd"));
    return z;
  }();
  if (!z.init || !z.step || !z.end) {
    throw Error(label, "compressed data needs zlib (libz.so.1), which could not be loaded");
  }
  return z;
}

// window_bits: -15 raw deflate, 31 gzip. Inflates all of `in`.
std::string inflate_all(const std::string& in, int window_bits, size_t size_hint, const std::string& label) {
  const Zlib& z = zlib(label);
  z_stream s{};
  if (z.init(&s, window_bits, ZLIB_VERSION, static_cast<int>(sizeof(z_stream))) != Z_OK) {
    throw Error(label, "zlib could not be initialised");
  }
  std::string out(size_hint > 0 ? size_hint : in.size() * 4 + 1024, '\0');
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  s.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  for (;;) {
    if (s.total_out == out.size()) out.resize(out.size() * 2 + 1);
    s.next_out = reinterpret_cast<Bytef*>(out.data() + s.total_out);
    s.avail_out = static_cast<uInt>(out.size() - s.total_out);
    rc = z.step(&s, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) break;
    if (rc != Z_OK && rc != Z_BUF_ERROR) break;
    if (rc == Z_BUF_ERROR && s.avail_in == 0) break;  // input ended before the stream did
  }
  out.resize(s.total_out);
  z.end(&s);
  if (rc != Z_STREAM_END) throw Error(label, "corrupt or truncated compressed data");
  return out;
}

}  // namespace

std::string inflate_raw(const std::string& compressed, size_t size, const std::string& label) {
  std::string out = inflate_all(compressed, -15, size + 1, label);
  if (out.size() != size) {
    throw Error(label, "inflated to " + std::to_string(out.size()) + " bytes, expected " + std::to_string(size));
  }
  return out;
}

std::string gunzip(const std::string& compressed, const std::string& label) {
  return inflate_all(compressed, 31, 0, label);
}

#else

std::string inflate_raw(const std::string&, size_t, const std::string& label) {
  throw Error(label, "compressed members are not supported (hamux was built without zlib.h; save with numpy.savez)");
}

std::string gunzip(const std::string&, const std::string& label) {
  throw Error(label, "gzip files are not supported (hamux was built without zlib.h)");
}

#endif

}  // namespace hamux
