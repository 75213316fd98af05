// compiler/support/files.h - reading and writing whole files, safely for hostile paths.
//
// The one place hamux opens a file it reads whole or writes (models, .npy, .npz, traces,
// plots, kernel-cache entries, AOT parameter files):
// - reads take regular files only (a FIFO would block forever, /dev/zero never ends) and
//   stop at a size limit that the caller derives from what it expects;
// - writes replace a regular file atomically (a temporary file beside it, then rename), write
//   through to what is not a regular file (/dev/null, /dev/stdout, a FIFO, a terminal), and
//   follow symlinks to their target, which is replaced while the link stays.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "hamux/error.h"

namespace hamux {

// The bytes of the regular file `path` (a symlink to one is fine). Throws Error(path, cause):
//   "cannot open file"                                     (missing, no permission)
//   "is a directory, not a regular file" / "is a FIFO (named pipe), not a regular file" /
//   "is a character device, ..." / "is a block device, ..." / "is a socket, ..."
//   "is 1000000 bytes, more than the 4096 bytes <limit_reason>"
// `limit_reason` says where max_bytes comes from, e.g. "a .npy of 12 float64 values takes".
std::string read_regular_file(const std::string& path, uint64_t max_bytes, const std::string& limit_reason);

// Why `path` cannot be read as a regular file ("is a FIFO (named pipe), not a regular
// file"), or "" when it is one or does not exist. Does not open it.
std::string not_regular_file_reason(const std::string& path);

// Writes `bytes` to `path` as described above. Throws Error(path, cause) and leaves an
// existing file unchanged on failure ("write failed: No space left on device", "is a
// directory, not a file", "cannot create file: Permission denied").
// The temporary file is fsync()ed before the rename, so that after a crash the path holds
// the old or the new bytes, never an empty file. (Declared in hamux/io.h as well.)
void write_file_atomic(const std::string& path, const std::string& bytes);

// Writes several files as a set: every regular target is first written to its temporary
// file, then (all writes having succeeded) every special target is written through, then
// all are renamed into place. A failure while writing (a full disk) changes none of them.
void write_files_atomic(const std::vector<std::pair<std::string, std::string>>& files);

// write_file_atomic without the fsync: for a writer whose readers detect a torn file
// themselves (the kernel cache checksums its entries), where the sync would cost a cold
// compile milliseconds.
void write_file_atomic_unsynced(const std::string& path, const std::string& bytes);

}  // namespace hamux
