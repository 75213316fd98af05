// hamux/io.h - the files the runtime reads and writes: .npz archives, energy traces, SVG plots.
//
// Every writer is atomic: it writes a temporary file beside the target and renames it into
// place, so a failure (or a crash) never leaves a half-written output. Special files are
// written through instead (see write_file_atomic).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "hamux/error.h"
#include "hamux/hamux.h"
#include "hamux/tensor.h"

namespace hamux {

// What read_npz accepts. Every member's declared size is checked against its limit before
// anything is allocated for it, and inflating stops at the declared size, so a zip bomb is
// refused with a message instead of exhausting memory.
inline constexpr uint64_t kMaxNpzFileBytes = uint64_t{1} << 32;
struct NpzLimits {
  uint64_t max_file_bytes = 0;  // the archive itself; 0: kMaxNpzFileBytes
  // The most elements the array `key` may hold (2^26 when empty); may throw Error to refuse
  // a key before its member is inflated.
  std::function<int64_t(const std::string& key)> max_elements;
  bool integers = false;  // also integer and bool members (data sets), read as their values
};

// Arrays of an .npz archive (a zip of <key>.npy files), widened to double. Members may
// be stored or deflate-compressed (numpy.savez / savez_compressed). Only a regular file is
// read. Throws Error(path, reason).
std::map<std::string, Tensor<double>> read_npz(const std::string& path, const NpzLimits& limits = {});

// The arrays of a params file (.npz, or a directory of <param>.npy files) checked against
// the params of `model`: every array names a param, has its shape and finite values.
// Ham::load_params applies them; `hamux compile --load-params` puts them in an object.
std::map<std::string, Tensor<double>> read_params(const Model& model, const std::string& path);

// Writes an uncompressed .npz; `float64` picks '<f8' over '<f4'. Atomic.
void write_npz(const std::string& path, const std::map<std::string, Tensor<double>>& arrays,
               bool float64);
void write_npy_atomic(const std::string& path, const Tensor<double>& array, bool float64);
// The (path, bytes) of that .npz, for write_files_atomic.
std::pair<std::string, std::string> npz_file(const std::string& path,
                                             const std::map<std::string, Tensor<double>>& arrays, bool float64);

// Writes `bytes` to `path`: a regular file (or none) is replaced through a temporary file
// and a rename; a symlink is followed and its target replaced; what is not a regular file
// (/dev/null, /dev/stdout, a FIFO, a terminal) is written through, never replaced. A
// directory is refused. Throws Error(path, cause), leaving an existing file as it was.
void write_file_atomic(const std::string& path, const std::string& bytes);

// Writes several files as a set: all are written (to temporary files) before any is renamed
// into place, so a failure while writing (a full disk) leaves every one of them as it was.
void write_files_atomic(const std::vector<std::pair<std::string, std::string>>& files);

// The energy trace as CSV: a header "step,sample_0,...,sample_{B-1}", then one row per
// recorded step: the step number and each sample's total energy (%.9g).
std::string trace_csv(const std::vector<TraceRow>& trace);

// A self-contained SVG line plot of the energy trace: one line per sample (at most 16
// drawn), energy against step, with axes, ticks and a title.
std::string trace_svg(const std::vector<TraceRow>& trace, const std::string& title);

}  // namespace hamux
