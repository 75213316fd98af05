// runtime/zip.cpp - see zip.h. Layout: APPNOTE.TXT (PKWARE), sections 4.3.7, 4.3.12, 4.3.16.
#include "zip.h"

#include <algorithm>
#include <array>
#include <set>
#include <string_view>

#include <zlib.h>

#include "support/printable.h"
#include "hamux/error.h"
#include "inflate.h"

namespace hamux::zip {

namespace {

constexpr uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEndSig = 0x06054b50;
constexpr uint16_t kDosDate1980 = (0 << 9) | (1 << 5) | 1;  // 1980-01-01: reproducible archives

void put16(std::string& s, uint16_t v) {
  s += static_cast<char>(v & 0xff);
  s += static_cast<char>(v >> 8);
}
void put32(std::string& s, uint32_t v) {
  put16(s, static_cast<uint16_t>(v & 0xffff));
  put16(s, static_cast<uint16_t>(v >> 16));
}

// Bounds-checked little-endian reads.
struct Reader {
  const std::string& bytes;
  const std::string& label;
  // `at` may come from the file (a zip64 offset up to 2^64-1): compared without wrapping.
  uint64_t get(uint64_t at, int width) const {
    if (at > bytes.size() || static_cast<uint64_t>(width) > bytes.size() - at)
      throw Error(label, "not a valid zip archive (truncated)");
    uint64_t v = 0;
    for (int k = width - 1; k >= 0; --k) v = (v << 8) | static_cast<unsigned char>(bytes[at + k]);
    return v;
  }
  uint16_t u16(uint64_t at) const { return static_cast<uint16_t>(get(at, 2)); }
  uint32_t u32(uint64_t at) const { return static_cast<uint32_t>(get(at, 4)); }
  uint64_t u64(uint64_t at) const { return get(at, 8); }
  // Checks that bytes [at, at + n) exist.
  void span(uint64_t at, uint64_t n, const std::string& what) const {
    if (at > bytes.size() || n > bytes.size() - at) throw Error(label, what);
  }
};

}  // namespace

// zlib's: several times faster than a byte-at-a-time table, which cost a tenth of loading a
// training set and of writing each checkpoint.
uint32_t crc32(std::string_view bytes) {
  uLong c = ::crc32(0L, Z_NULL, 0);
  const auto* p = reinterpret_cast<const Bytef*>(bytes.data());
  for (size_t left = bytes.size(); left > 0;) {
    const uInt n = static_cast<uInt>(std::min<size_t>(left, 1u << 30));
    c = ::crc32(c, p, n);
    p += n, left -= n;
  }
  return static_cast<uint32_t>(c);
}

std::string write_stored(const std::vector<std::pair<std::string, std::string>>& members) {
  std::string out, central;
  for (const auto& [name, data] : members) {
    if (data.size() >= 0xffffffffu || out.size() >= 0xffffffffu) {
      throw Error(name, "too large for a zip archive without zip64 (4 GiB)");
    }
    const uint32_t crc = crc32(data), size = static_cast<uint32_t>(data.size());
    const uint32_t offset = static_cast<uint32_t>(out.size());
    // Local header.
    put32(out, kLocalSig);
    put16(out, 20);  // version needed: 2.0
    put16(out, 0);   // flags
    put16(out, 0);   // method: stored
    put16(out, 0);   // time
    put16(out, kDosDate1980);
    put32(out, crc);
    put32(out, size);
    put32(out, size);
    put16(out, static_cast<uint16_t>(name.size()));
    put16(out, 0);  // extra length
    out += name;
    out += data;
    // Central directory entry.
    put32(central, kCentralSig);
    put16(central, 20);  // made by
    put16(central, 20);  // needed
    put16(central, 0);
    put16(central, 0);
    put16(central, 0);
    put16(central, kDosDate1980);
    put32(central, crc);
    put32(central, size);
    put32(central, size);
    put16(central, static_cast<uint16_t>(name.size()));
    put16(central, 0);  // extra
    put16(central, 0);  // comment
    put16(central, 0);  // disk
    put16(central, 0);  // internal attributes
    put32(central, 0);  // external attributes
    put32(central, offset);
    central += name;
  }
  const uint32_t cd_offset = static_cast<uint32_t>(out.size());
  out += central;
  put32(out, kEndSig);
  put16(out, 0);
  put16(out, 0);
  put16(out, static_cast<uint16_t>(members.size()));
  put16(out, static_cast<uint16_t>(members.size()));
  put32(out, static_cast<uint32_t>(central.size()));
  put32(out, cd_offset);
  put16(out, 0);  // comment length
  return out;
}

std::vector<std::pair<std::string, std::string>> read(const std::string& bytes, const std::string& label,
                                                      const MemberLimit& limit, uint64_t max_total) {
  const Reader r{bytes, label};
  // The end record sits in the last 22 + 65535 (comment) bytes.
  if (bytes.size() < 22) throw Error(label, "not a zip archive (too short)");
  size_t end = std::string::npos;
  const size_t lowest = bytes.size() > 22 + 65535 ? bytes.size() - 22 - 65535 : 0;
  for (size_t at = bytes.size() - 22 + 1; at-- > lowest;) {
    if (r.u32(at) == kEndSig) {
      end = at;
      break;
    }
  }
  if (end == std::string::npos) throw Error(label, "not a zip archive (no end of central directory)");
  const uint16_t count = r.u16(end + 10);
  const uint32_t cd_offset = r.u32(end + 16);
  if (count == 0xffff || cd_offset == 0xffffffffu) throw Error(label, "zip64 archives are not supported");

  std::vector<std::pair<std::string, std::string>> members;
  std::set<std::string> names;
  uint64_t total = 0;
  uint64_t at = cd_offset;
  for (uint16_t m = 0; m < count; ++m) {
    if (r.u32(at) != kCentralSig) throw Error(label, "corrupt zip central directory");
    const uint16_t flags = r.u16(at + 8), method = r.u16(at + 10);
    const uint32_t crc = r.u32(at + 16);
    uint64_t csize = r.u32(at + 20), usize = r.u32(at + 24);
    const uint16_t name_len = r.u16(at + 28), extra_len = r.u16(at + 30), comment_len = r.u16(at + 32);
    uint64_t offset = r.u32(at + 42);
    r.span(at + 46, uint64_t{name_len} + extra_len, "not a valid zip archive (truncated)");
    const std::string name = bytes.substr(at + 46, name_len);
    const std::string shown = "member '" + printable(name) + "'";
    // zip64 extended information: the 64-bit values of the fields that are 0xffffffff.
    const uint64_t extra_end = at + 46 + name_len + extra_len;
    for (uint64_t e = at + 46 + name_len; e + 4 <= extra_end;) {
      const uint16_t id = r.u16(e), len = r.u16(e + 2);
      if (id == 0x0001) {
        uint64_t f = e + 4;
        auto field = [&] {
          if (f + 8 > e + 4 + len) throw Error(label, shown + ": zip64 extra field is too short");
          const uint64_t v = r.u64(f);
          f += 8;
          return v;
        };
        if (usize == 0xffffffffu) usize = field();
        if (csize == 0xffffffffu) csize = field();
        if (offset == 0xffffffffu) offset = field();
      }
      e += 4 + len;
    }
    if (flags & 1) throw Error(label, shown + " is encrypted");
    if (!names.insert(name).second) throw Error(label, shown + " appears twice");
    // Sizes are checked before anything is allocated: a small archive may declare 4 GiB.
    const uint64_t most = limit ? limit(name) : max_total;
    if (usize > most) {
      throw Error(label, shown + " declares " + std::to_string(usize) + " bytes, more than the " +
                             std::to_string(most) + " bytes its array can take");
    }
    total += usize;
    if (total > max_total) {
      throw Error(label, "the members declare more than " + std::to_string(max_total) +
                             " bytes in all, more than hamux reads from one archive");
    }
    if (offset > bytes.size() || r.u32(offset) != kLocalSig) throw Error(label, "corrupt zip local header of " + shown);
    const uint64_t data_at = offset + 30 + r.u16(offset + 26) + r.u16(offset + 28);
    r.span(data_at, csize, shown + " is truncated");
    std::string data;
    if (method == 8) {
      data = inflate_raw(std::string_view(bytes).substr(data_at, csize), usize, label + ": " + printable(name));
    } else if (method == 0) {
      if (csize != usize) throw Error(label, shown + " has the wrong size");
      data = bytes.substr(data_at, csize);
    } else {
      throw Error(label, shown + " uses compression method " + std::to_string(method) +
                             " (only stored and deflate are supported)");
    }
    if (data.size() != usize) throw Error(label, shown + " has the wrong size");
    if (crc32(data) != crc) throw Error(label, shown + " fails its CRC-32 check");
    members.emplace_back(name, std::move(data));
    at += 46 + uint64_t{name_len} + extra_len + comment_len;
  }
  return members;
}

}  // namespace hamux::zip
