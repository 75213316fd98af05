// runtime/zip.h - the subset of the ZIP format an .npz needs.
//
// Writing: "stored" (uncompressed) members with CRC-32, no zip64 (members and archive
// below 4 GiB). Reading: stored and deflate members (deflate through inflate.h), sizes
// from the central directory (so data descriptors and the zip64 extra fields numpy
// writes into local headers are handled), CRC-32 checked.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hamux::zip {

uint32_t crc32(std::string_view bytes);

// The archive bytes holding `members` (name, contents), in order.
std::string write_stored(const std::vector<std::pair<std::string, std::string>>& members);

// The most uncompressed bytes the member `name` may have; called before anything is
// allocated for it; may throw hamux::Error to refuse the member.
using MemberLimit = std::function<uint64_t(const std::string& name)>;

// The members of an archive. Throws hamux::Error(label, reason) when it is not a valid
// archive, uses an unsupported method, a CRC does not match, a name appears twice, a
// member declares more than `limit` allows, the declared sizes add up to more than
// `max_total` bytes, or a member inflates to more than it declares. Names in messages are
// escaped (printable.h).
// The default total: 2^26 float64 values (the frontend's kMaxElements) plus 16 MiB of headers.
inline constexpr uint64_t kMaxTotalBytes = (uint64_t{8} << 26) + (uint64_t{16} << 20);
std::vector<std::pair<std::string, std::string>> read(const std::string& bytes, const std::string& label,
                                                      const MemberLimit& limit = {},
                                                      uint64_t max_total = kMaxTotalBytes);

}  // namespace hamux::zip
