#pragma once
// Writing a file so that a reader (or a resumed run after a crash) sees either the old complete
// file or the new complete file, never a mixture: write a temporary file in the same directory,
// flush and fsync it, rename it over the target (atomic on POSIX), then fsync the directory so the
// rename itself survives a power cut.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include "agnostic/core/error.hpp"

namespace agnostic::train {

namespace detail {
inline std::string errno_text() {
  return std::strerror(errno);
}

inline void write_all(int fd, std::string_view data, const std::string& path) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = errno_text();
      ::close(fd);
      ::unlink(path.c_str());
      fail("cannot write ", path, ": ", why);
    }
    done += static_cast<std::size_t>(n);
  }
}
}  // namespace detail

inline void write_file_atomically(const std::filesystem::path& path, std::string_view contents) {
  namespace fs = std::filesystem;
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  // The process id keeps two writers of the same target from sharing a temporary file.
  const std::string temporary =
      (dir / (path.filename().string() + ".tmp." + std::to_string(::getpid()))).string();
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    fail("cannot create ", temporary, " (temporary file for ", path.string(), "): ", detail::errno_text());
  detail::write_all(fd, contents, temporary);
  if (::fsync(fd) != 0) {
    const std::string why = detail::errno_text();
    ::close(fd);
    ::unlink(temporary.c_str());
    fail("cannot flush ", temporary, " to disk: ", why);
  }
  if (::close(fd) != 0) {
    const std::string why = detail::errno_text();
    ::unlink(temporary.c_str());
    fail("cannot close ", temporary, ": ", why);
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string why = detail::errno_text();
    ::unlink(temporary.c_str());
    fail("cannot rename ", temporary, " to ", path.string(), ": ", why);
  }
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);  // best effort: some file systems refuse fsync on directories
    ::close(dir_fd);
  }
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  require(in.good(), "cannot open ", path.string(), ": ", detail::errno_text());
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  require(!in.bad(), "cannot read ", path.string());
  return text;
}

}  // namespace agnostic::train
