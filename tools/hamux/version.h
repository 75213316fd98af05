// tools/hamux/version.h - the version `hamux --version` reports.
#pragma once

namespace hamux::cli {
inline constexpr const char* kVersion = "0.1.0";
}  // namespace hamux::cli
