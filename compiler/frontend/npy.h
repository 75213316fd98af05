// compiler/frontend/npy.h - reading and writing NumPy .npy files (float32 / float64).
//
// Supports format versions 1.0, 2.0 and 3.0, little-endian '<f4' / '<f8' (also written
// '|' or '=' on a little-endian host), C order, any rank including 0-d; with `integers`
// (data sets: labels, 8-bit images) also the integer and bool dtypes '|b1', '|u1', '|i1',
// '<u2', '<i2', '<u4', '<i4', '<u8', '<i8' (64-bit values above 2^53 lose their low bits).
// Everything else (Fortran order, big-endian, complex/object/string dtypes, truncated data,
// a bad magic string) is refused with the reason.
#pragma once

#include <cstdint>
#include <string>

#include "frontend/json_util.h"
#include "hamux/error.h"
#include "hamux/tensor.h"

namespace hamux {

// The largest .npy header hamux reads (numpy itself refuses headers above 10000 bytes).
inline constexpr uint64_t kMaxNpyHeaderBytes = 65536;

// The most bytes a .npy file of at most `max_elements` float64 values can take.
uint64_t npy_max_file_bytes(int64_t max_elements);

// Reads a .npy file; values are widened to double. Refuses a file that is not a regular
// file (a FIFO, a directory, /dev/zero) and one whose shape has more than `max_elements`
// elements, before reading its data. Throws hamux::Error(path, reason), e.g.
// Error("w.npy", "cannot open file") or Error("w.npy", "fortran_order True is not supported").
Tensor<double> read_npy(const std::string& path, int64_t max_elements = frontend::kMaxElements,
                        bool integers = false);

// Same from the bytes of a file; `label` is the `where` of any error.
Tensor<double> parse_npy(const std::string& bytes, const std::string& label,
                         int64_t max_elements = frontend::kMaxElements, bool integers = false);

// "element [1,2] is nan" (or "is inf", "is -inf") for the first value of `t` that is not
// finite, "" when all are. Params are checked with it when they are loaded.
std::string non_finite_element(const Tensor<double>& t);

// The bytes of a version 1.0 .npy file ('<f8' when float64, else '<f4'; C order): the one
// .npy writer, used by save_npy, write_npy_atomic and the .npz writer.
std::string npy_bytes(const Tensor<double>& t, bool float64);
std::string npy_bytes(const Tensor<float>& t);

// Writes a .npy file with write_file_atomic (files.h). Throws hamux::Error on I/O failure.
void save_npy(const std::string& path, const Tensor<float>& t);
void save_npy(const std::string& path, const Tensor<double>& t);

}  // namespace hamux
