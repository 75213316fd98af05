// hamux/io.h - the files the runtime reads and writes: .npz archives, energy traces, SVG plots.
//
// Every writer is atomic: it writes a temporary file beside the target and renames it into
// place, so a failure (or a crash) never leaves a half-written output.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "hamux/error.h"
#include "hamux/hamux.h"
#include "hamux/tensor.h"

namespace hamux {

// Arrays of an .npz archive (a zip of <key>.npy files), widened to double. Members may
// be stored or deflate-compressed (numpy.savez / savez_compressed); deflate needs zlib
// (libz.so.1), found at run time. Throws Error(path, reason).
std::map<std::string, Tensor<double>> read_npz(const std::string& path);

// Writes an uncompressed .npz; `float64` picks '<f8' over '<f4'. Atomic.
void write_npz(const std::string& path, const std::map<std::string, Tensor<double>>& arrays,
               bool float64);
void write_npy_atomic(const std::string& path, const Tensor<double>& array, bool float64);

// Writes `bytes` to `path` through a temporary file and a rename. Throws Error(path, ...).
void write_file_atomic(const std::string& path, const std::string& bytes);

// The energy trace as CSV: a header "step,sample_0,...,sample_{B-1}", then one row per
// recorded step: the step number and each sample's total energy (%.9g).
std::string trace_csv(const std::vector<TraceRow>& trace);

// A self-contained SVG line plot of the energy trace: one line per sample (at most 16
// drawn), energy against step, with axes, ticks and a title.
std::string trace_svg(const std::vector<TraceRow>& trace, const std::string& title);

}  // namespace hamux
