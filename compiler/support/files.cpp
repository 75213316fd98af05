// compiler/support/files.cpp - see files.h.
//
// Writes: rename() within one directory replaces the target in one step, so a reader (or a
// user after a failure) sees either the old file or the complete new one. That is only right
// for a regular file: renaming over /dev/full, a FIFO or a symlink would replace the device,
// the pipe or the link, so those are written through (devices, FIFOs) or followed (links).
// The temporary file is created with open(O_CREAT | O_EXCL, 0666), so the kernel applies
// the umask; the process-wide umask is never read or changed (umask() races with threads).
#include "support/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <random>

namespace hamux {

namespace {

std::string errno_text(int err) { return std::strerror(err); }

// "is a FIFO (named pipe)" - what a non-regular file is, for messages.
std::string kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "is a directory";
  if (S_ISFIFO(mode)) return "is a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "is a character device";
  if (S_ISBLK(mode)) return "is a block device";
  if (S_ISSOCK(mode)) return "is a socket";
  return "is not a regular file";
}

// The descriptor that /dev/stdout, /dev/stderr, /dev/fd/N or /proc/self/fd/N name, or -1.
// These are written to directly: following the link to the file the shell redirected to and
// renaming over it would detach the shell's descriptor from the new file.
int stream_fd(const std::string& path) {
  if (path == "/dev/stdout") return 1;
  if (path == "/dev/stderr") return 2;
  for (const char* prefix : {"/dev/fd/", "/proc/self/fd/"}) {
    const size_t n = std::strlen(prefix);
    if (path.compare(0, n, prefix) != 0 || path.size() == n || path.size() > n + 9) continue;
    int fd = 0;
    for (size_t i = n; i < path.size(); ++i) {
      if (path[i] < '0' || path[i] > '9') return -1;
      fd = fd * 10 + (path[i] - '0');
    }
    return fd;
  }
  return -1;
}

std::string dir_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Follows the symlinks that `path` itself is (its directories may be links too; renaming
// inside them is fine), to the file that is to be written.
std::string follow_links(const std::string& path) {
  std::string p = path;
  for (int hops = 0; hops < 40; ++hops) {
    if (stream_fd(p) >= 0) return p;
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return p;
    char buf[PATH_MAX];
    const ssize_t n = ::readlink(p.c_str(), buf, sizeof buf);
    if (n <= 0 || static_cast<size_t>(n) >= sizeof buf) return p;
    std::string target(buf, static_cast<size_t>(n));
    p = target[0] == '/' ? target : dir_of(p) + "/" + target;
  }
  throw Error(path, "too many levels of symbolic links");
}

// Writes all of `bytes` to `fd`; 0 or the errno of the failure.
int write_all(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return EIO;
    done += static_cast<size_t>(n);
  }
  return 0;
}

// One output of a set: where its bytes go and how.
struct Target {
  std::string path;     // as given, for messages
  std::string real;     // after following symlinks
  const std::string* bytes = nullptr;
  int fd = -1;          // >= 0: an open descriptor (a standard stream) to write to
  bool through = false; // not a regular file: open and write, never replace
  bool exists = false;  // a regular file is there: keep its mode
  mode_t mode = 0;
  std::string tmp;      // the temporary file of a regular target, once created
};

Target classify(const std::string& path, const std::string& bytes) {
  Target t;
  t.path = path;
  t.bytes = &bytes;
  if (path.empty()) throw Error(path, "empty file name");
  t.real = follow_links(path);
  t.fd = stream_fd(t.real);
  if (t.fd >= 0) return t;
  struct stat st;
  if (::stat(t.real.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) throw Error(path, "is a directory, not a file");
    if (S_ISREG(st.st_mode)) {
      t.exists = true;
      t.mode = st.st_mode & 07777;
    } else {
      t.through = true;
    }
  }
  return t;
}

// Creates and fills t.tmp beside t.real; throws Error(t.path, ...) and leaves nothing behind.
void write_temporary(Target& t, bool sync) {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t salt = std::random_device{}();
  int fd = -1;
  std::string name;
  for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    name = t.real + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++) + "." +
           std::to_string(salt % 100000);
    fd = ::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) throw Error(t.path, "cannot create file: " + errno_text(errno));
  t.tmp = name;
  if (t.exists) (void)::fchmod(fd, t.mode);  // a replaced file keeps its permissions
  int err = write_all(fd, *t.bytes);
  if (err == 0 && sync && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err != 0) {
    ::unlink(t.tmp.c_str());
    t.tmp.clear();
    throw Error(t.path, "write failed: " + errno_text(err));
  }
}

void write_through(const Target& t) {
  int fd = t.fd;
  if (fd < 0) {
    fd = ::open(t.real.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) throw Error(t.path, "cannot open for writing: " + errno_text(errno));
  }
  const int err = write_all(fd, *t.bytes);
  if (t.fd < 0) ::close(fd);
  if (err != 0) throw Error(t.path, "write failed: " + errno_text(err));
}

}  // namespace

std::string not_regular_file_reason(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || S_ISREG(st.st_mode)) return "";
  return kind_of(st.st_mode) + ", not a regular file";
}

std::string read_regular_file(const std::string& path, uint64_t max_bytes, const std::string& limit_reason) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) throw Error(path, "cannot open file");
  if (!S_ISREG(st.st_mode)) throw Error(path, kind_of(st.st_mode) + ", not a regular file");
  // O_NONBLOCK: should the path have become a FIFO since the stat, open does not wait.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) throw Error(path, "cannot open file");
  auto fail = [&](const std::string& cause) {
    ::close(fd);
    throw Error(path, cause);
  };
  if (::fstat(fd, &st) != 0) fail("cannot open file");
  if (!S_ISREG(st.st_mode)) fail(kind_of(st.st_mode) + ", not a regular file");
  auto too_large = [&](uint64_t size) {
    return "is " + std::to_string(size) + " bytes, more than the " + std::to_string(max_bytes) + " bytes " +
           limit_reason;
  };
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size > max_bytes) fail(too_large(size));
  std::string bytes;
  bytes.resize(static_cast<size_t>(size));
  size_t have = 0;
  for (;;) {
    // The file may grow while it is read: read at most one byte past the limit.
    if (have == bytes.size()) {
      if (have > max_bytes) fail(too_large(have));
      bytes.resize(std::min<uint64_t>(max_bytes + 1, have + (have / 2) + 4096));
    }
    const ssize_t n = ::read(fd, bytes.data() + have, bytes.size() - have);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("read failed: " + errno_text(errno));
    if (n == 0) break;
    have += static_cast<size_t>(n);
  }
  ::close(fd);
  if (have > max_bytes) throw Error(path, too_large(have));
  bytes.resize(have);
  return bytes;
}

namespace {

void write_files(const std::vector<std::pair<std::string, std::string>>& files, bool sync) {
  std::vector<Target> targets;
  targets.reserve(files.size());
  for (const auto& [path, bytes] : files) targets.push_back(classify(path, bytes));
  auto discard = [&] {
    for (Target& t : targets)
      if (!t.tmp.empty()) ::unlink(t.tmp.c_str()), t.tmp.clear();
  };
  try {
    for (Target& t : targets)
      if (t.fd < 0 && !t.through) write_temporary(t, sync);
    for (const Target& t : targets)
      if (t.fd >= 0 || t.through) write_through(t);
  } catch (...) {
    discard();
    throw;
  }
  for (Target& t : targets) {
    if (t.tmp.empty()) continue;
    if (std::rename(t.tmp.c_str(), t.real.c_str()) != 0) {
      const int err = errno;
      discard();
      throw Error(t.path, "cannot replace file: " + errno_text(err));
    }
    t.tmp.clear();
  }
}

}  // namespace

void write_file_atomic(const std::string& path, const std::string& bytes) { write_files({{path, bytes}}, true); }
void write_file_atomic_unsynced(const std::string& path, const std::string& bytes) {
  write_files({{path, bytes}}, false);
}
void write_files_atomic(const std::vector<std::pair<std::string, std::string>>& files) { write_files(files, true); }

}  // namespace hamux
