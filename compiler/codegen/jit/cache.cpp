// compiler/codegen/jit/cache.cpp - reading and writing checksummed kernel cache entries.
#include "codegen/jit/cache.h"

#include <llvm/ADT/ArrayRef.h>
#include <llvm/Support/SHA256.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "support/files.h"

namespace hamux::codegen {

namespace {
constexpr char kMagic[8] = {'H', 'A', 'M', 'U', 'X', 'O', 'B', 'J'};
constexpr uint32_t kFormatVersion = 2;
constexpr size_t kDigestAt = 24, kSizeAt = 56, kChecksumAt = 64;
constexpr size_t kHeaderSize = 8 + 4 + 4 + 8 + 32 + 8 + 8;
// Far above any kernel's object code (the largest examples compile to well under 1 MB).
constexpr uint64_t kMaxEntryBytes = uint64_t(1) << 30;

// The checksum: the header up to the checksum field, then the payload.
uint64_t checksum(std::string_view header, std::string_view payload) {
  return fnv1a(payload, fnv1a(header.substr(0, kChecksumAt)));
}

void put64(std::string& s, uint64_t v) { s.append(reinterpret_cast<const char*>(&v), 8); }
uint64_t get64(const std::string& s, size_t at) {
  uint64_t v;
  std::memcpy(&v, s.data() + at, 8);
  return v;
}
}  // namespace

uint64_t fnv1a(std::string_view data, uint64_t h) {
  for (unsigned char c : data) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

Digest sha256(std::string_view text) {
  const std::array<uint8_t, 32> h =
      llvm::SHA256::hash(llvm::ArrayRef<uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  Digest d;
  std::copy(h.begin(), h.end(), d.begin());
  return d;
}

std::string default_cache_dir() {
  if (const char* d = std::getenv("HAMUX_CACHE_DIR"); d && *d) return d;
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.cache/hamux";
  return "";
}

std::string cache_file(const std::string& dir, uint64_t key) {
  char name[32];
  std::snprintf(name, sizeof name, "%016llx.hko", static_cast<unsigned long long>(key));
  return dir + "/" + name;
}

CacheEntry cache_load(const std::string& dir, uint64_t key) {
  CacheEntry e;
  std::string path = cache_file(dir, key);
  // Read as every file is (support/files.h): a FIFO or device in the cache would block or
  // never end the read (issue 19); such an entry, or one too large, is rejected and removed.
  std::string data;
  std::error_code ec;
  try {
    data = read_regular_file(path, kMaxEntryBytes, "a kernel cache entry may take");
  } catch (const Error&) {
    if (!std::filesystem::exists(std::filesystem::symlink_status(path, ec))) return e;  // Miss
    std::filesystem::remove(path, ec);
    e.result = CacheLookup::Rejected;
    return e;
  }
  uint32_t version = 0;
  if (data.size() >= kHeaderSize) std::memcpy(&version, data.data() + 8, 4);
  bool ok = data.size() >= kHeaderSize && std::memcmp(data.data(), kMagic, 8) == 0 &&
            version == kFormatVersion && get64(data, 16) == key &&
            get64(data, kSizeAt) == data.size() - kHeaderSize &&
            checksum(data, std::string_view(data).substr(kHeaderSize)) == get64(data, kChecksumAt);
  if (!ok) {
    std::filesystem::remove(path, ec);
    e.result = CacheLookup::Rejected;
    return e;
  }
  e.result = CacheLookup::Hit;
  std::memcpy(e.digest.data(), data.data() + kDigestAt, e.digest.size());
  e.payload = data.substr(kHeaderSize);
  return e;
}

void cache_remove(const std::string& dir, uint64_t key) {
  std::error_code ec;
  std::filesystem::remove(cache_file(dir, key), ec);
}

void cache_store(const std::string& dir, uint64_t key, const Digest& digest, std::string_view payload) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  std::string entry(kMagic, 8);
  uint32_t v[2] = {kFormatVersion, 0};
  entry.append(reinterpret_cast<const char*>(v), 8);
  put64(entry, key);
  entry.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  put64(entry, payload.size());
  put64(entry, checksum(entry, payload));
  entry.append(payload);
  // Best effort: a cache that cannot be written (read-only, full) only costs a later
  // recompile. Not fsync()ed: a torn entry fails its checksum and is rebuilt.
  try {
    write_file_atomic_unsynced(cache_file(dir, key), entry);
  } catch (const Error&) {
  }
}

}  // namespace hamux::codegen
