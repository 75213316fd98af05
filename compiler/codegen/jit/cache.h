// compiler/codegen/jit/cache.h - the on-disk kernel cache: checksummed, digest-bound object files.
//
// An entry is one file <dir>/<key as 16 hex digits>.hko:
//   magic "HAMUXOBJ" | u32 format version | u32 0 | u64 key | 32-byte digest |
//   u64 payload size | u64 FNV-1a checksum of everything before it and the payload |
//   payload (the relocatable object file)
// The digest is the SHA-256 of the full text the kernel was compiled from (the program
// text, the target, the code generator's version: jit.cpp, kernel_digest); the key is only
// a short name for the file. A file that is short, long, has the wrong magic, version or
// key, or whose checksum does not match (a flipped bit anywhere, key and digest included)
// is deleted and reported as Rejected, so a corrupted or truncated entry is rebuilt and
// never executed. compile() also rejects (and deletes) an intact entry whose digest is not
// the one of the program asked for - another program whose key collides - and one whose
// object does not load. Entries are written to a temporary file and renamed into place, so
// readers never see half-written entries.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace hamux::codegen {

// 64-bit FNV-1a; `h` chains several pieces.
uint64_t fnv1a(std::string_view data, uint64_t h = 0xcbf29ce484222325ULL);

using Digest = std::array<uint8_t, 32>;
// SHA-256 of `text` (llvm/Support/SHA256.h).
Digest sha256(std::string_view text);

// HAMUX_CACHE_DIR if set, else $HOME/.cache/hamux (empty when neither is known).
std::string default_cache_dir();

enum class CacheLookup { Hit, Miss, Rejected };

struct CacheEntry {
  CacheLookup result = CacheLookup::Miss;
  Digest digest{};      // Hit: the digest the entry was stored with
  std::string payload;  // Hit: the object file
};

std::string cache_file(const std::string& dir, uint64_t key);
CacheEntry cache_load(const std::string& dir, uint64_t key);
// Deletes the entry of `key` (after it turned out unusable).
void cache_remove(const std::string& dir, uint64_t key);
// Best effort: a cache that cannot be written (read-only disk) only costs a recompile.
void cache_store(const std::string& dir, uint64_t key, const Digest& digest, std::string_view payload);

}  // namespace hamux::codegen
