// tools/hamux/table.h - aligned text columns for the summaries.
#pragma once

#include <string>
#include <vector>

namespace hamux::cli {

// Renders rows as left-aligned columns separated by two spaces, each line indented by
// `indent` and ending in '\n'. Trailing spaces are trimmed.
std::string render_table(const std::vector<std::vector<std::string>>& rows, int indent = 2);

// "%.6f" with "-0.000000" printed as "0.000000", so zero energies read as zero.
std::string fixed6(double v);

// "%g": 1, 0.5, 1e-08.
std::string general(double v);

}  // namespace hamux::cli
