// runtime/inflate.h - decompressing deflate streams with zlib (linked: ZLIB::ZLIB).
//
// Output is bounded: a raw member inflates into exactly the size its archive declares (which
// the caller has checked against what it expects) and stops there, so a zip bomb costs no
// more memory than an honest member of that size.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace hamux {

// Inflates a raw deflate stream (as in ZIP members) that must produce exactly `size` bytes.
// Throws Error(label, "inflates to more than the 380 bytes it declares") when the stream
// holds more, and Error(label, "inflated to 12 bytes, expected 380") when it holds fewer.
std::string inflate_raw(std::string_view compressed, size_t size, const std::string& label);

// Inflates a whole .gz file's bytes (gzip format) of at most `max_bytes` output bytes.
inline constexpr uint64_t kMaxGunzipBytes = uint64_t{1} << 30;
std::string gunzip(std::string_view compressed, const std::string& label, uint64_t max_bytes = kMaxGunzipBytes);

}  // namespace hamux
