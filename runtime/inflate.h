// runtime/inflate.h - decompressing deflate streams with the system's zlib.
//
// zlib (libz.so.1) is opened at run time, so hamux links without it and only the reading
// of compressed .npz members (and the demo's .gz datasets) needs it. Without it, the
// error says what is missing.
#pragma once

#include <string>

namespace hamux {

// Inflates a raw deflate stream (as in ZIP members) of known output size.
std::string inflate_raw(const std::string& compressed, size_t size, const std::string& label);

// Inflates a whole .gz file's bytes (gzip format, any output size).
std::string gunzip(const std::string& compressed, const std::string& label);

}  // namespace hamux
