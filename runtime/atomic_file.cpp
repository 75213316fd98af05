// runtime/atomic_file.cpp - write_file_atomic (hamux/io.h): temp file + rename.
//
// rename() within one directory replaces the target in one step, so a reader (or a
// user after a failure) sees either the old file or the complete new one.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "hamux/io.h"

namespace hamux {

void write_file_atomic(const std::string& path, const std::string& bytes) {
  std::string tmpl = path + ".tmp.XXXXXX";
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  const int fd = mkstemp(name.data());
  if (fd < 0) throw Error(path, std::string("cannot create file: ") + std::strerror(errno));
  // mkstemp makes the file private (0600); give it the mode a plain open would (0666 & ~umask).
  const mode_t mask = umask(0);
  umask(mask);
  fchmod(fd, 0666 & ~mask);
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      std::remove(name.data());
      throw Error(path, "write failed: " + why);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    std::remove(name.data());
    throw Error(path, "write failed");
  }
  if (std::rename(name.data(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(name.data());
    throw Error(path, "cannot replace file: " + why);
  }
}

}  // namespace hamux
