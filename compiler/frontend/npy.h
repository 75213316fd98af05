// compiler/frontend/npy.h - reading and writing NumPy .npy files (float32 / float64).
//
// Supports format versions 1.0, 2.0 and 3.0, little-endian '<f4' / '<f8' (also written
// '|' or '=' on a little-endian host), C order, any rank including 0-d. Everything else
// (Fortran order, big-endian, integer/bool/complex/object dtypes, truncated data, a bad
// magic string) is refused with the reason.
#pragma once

#include <string>

#include "hamux/error.h"
#include "hamux/tensor.h"

namespace hamux {

// Reads a .npy file; values are widened to double. Throws hamux::Error(path, reason),
// e.g. Error("w.npy", "cannot open file") or Error("w.npy", "fortran_order True is not supported").
Tensor<double> read_npy(const std::string& path);

// Same from the bytes of a file; `label` is the `where` of any error.
Tensor<double> parse_npy(const std::string& bytes, const std::string& label);

// Writes a version 1.0 .npy file ('<f4' / '<f8', C order). Throws hamux::Error on I/O failure.
void save_npy(const std::string& path, const Tensor<float>& t);
void save_npy(const std::string& path, const Tensor<double>& t);

}  // namespace hamux
