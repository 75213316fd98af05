// runtime/zip.h - the subset of the ZIP format an .npz needs.
//
// Writing: "stored" (uncompressed) members with CRC-32, no zip64 (members and archive
// below 4 GiB). Reading: stored and deflate members (deflate through inflate.h), sizes
// from the central directory (so data descriptors and the zip64 extra fields numpy
// writes into local headers are handled), CRC-32 checked.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace hamux::zip {

uint32_t crc32(const std::string& bytes);

// The archive bytes holding `members` (name, contents), in order.
std::string write_stored(const std::vector<std::pair<std::string, std::string>>& members);

// The members of an archive. Throws hamux::Error(label, reason) when it is not a valid
// archive, uses an unsupported method, or a CRC does not match.
std::vector<std::pair<std::string, std::string>> read(const std::string& bytes, const std::string& label);

}  // namespace hamux::zip
