// compiler/codegen/cache.h - the on-disk kernel cache: checksummed object files.
//
// An entry is one file <dir>/<key as 16 hex digits>.hko:
//   magic "HAMUXOBJ" | u32 format version | u32 0 | u64 key | u64 payload size |
//   u64 FNV-1a checksum of the payload | payload (the relocatable object file)
// A file that is short, long, has the wrong magic, version or key, or whose payload does
// not match its checksum is deleted and reported as a miss, so a corrupted or truncated
// entry is rebuilt and never executed. Entries are written to a temporary file and
// renamed into place, so readers never see half-written entries.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hamux::codegen {

// 64-bit FNV-1a; `h` chains several pieces.
uint64_t fnv1a(std::string_view data, uint64_t h = 0xcbf29ce484222325ULL);

// HAMUX_CACHE_DIR if set, else $HOME/.cache/hamux (empty when neither is known).
std::string default_cache_dir();

enum class CacheLookup { Hit, Miss, Rejected };

struct CacheEntry {
  CacheLookup result = CacheLookup::Miss;
  std::string payload;
};

std::string cache_file(const std::string& dir, uint64_t key);
CacheEntry cache_load(const std::string& dir, uint64_t key);
// Best effort: a cache that cannot be written (read-only disk) only costs a recompile.
void cache_store(const std::string& dir, uint64_t key, std::string_view payload);

}  // namespace hamux::codegen
