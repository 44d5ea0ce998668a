#pragma once
// The one way the library writes a file: a reader (or a run resumed after a crash) sees either the
// old complete file or the new complete file, never a mixture. The bytes go to a temporary file in
// the same directory, which is flushed and fsynced, then renamed over the target (atomic on POSIX),
// and the directory is fsynced so that the rename itself survives a power cut. If anything fails
// the temporary file is removed, the old file is left as it was, and the error names the path and
// the system's reason.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <ostream>
#include <streambuf>
#include <string>
#include <string_view>

#include "agnostic/core/error.hpp"

namespace agnostic {

namespace atomic_file_detail {

inline std::string errno_text() {
  return std::strerror(errno);
}

// A stream buffer over a file descriptor that remembers the first failed write (errno text), so
// that the writer can name the reason ("No space left on device") instead of "write failed".
class FileDescriptorBuffer : public std::streambuf {
 public:
  explicit FileDescriptorBuffer(int fd) : fd_(fd) { setp(buffer_, buffer_ + sizeof buffer_); }
  const std::string& error() const { return error_; }

 protected:
  int_type overflow(int_type c) override {
    if (!drain()) return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  int sync() override { return drain() ? 0 : -1; }
  std::streamsize xsputn(const char* data, std::streamsize n) override {
    if (n <= epptr() - pptr()) {
      std::memcpy(pptr(), data, static_cast<std::size_t>(n));
      pbump(static_cast<int>(n));
      return n;
    }
    if (!drain() || !write_all(data, static_cast<std::size_t>(n))) return 0;
    return n;
  }

 private:
  bool drain() {
    const std::size_t n = static_cast<std::size_t>(pptr() - pbase());
    setp(buffer_, buffer_ + sizeof buffer_);
    return write_all(buffer_, n);
  }
  bool write_all(const char* data, std::size_t n) {
    if (!error_.empty()) return false;
    std::size_t done = 0;
    while (done < n) {
      const ssize_t written = ::write(fd_, data + done, n - done);
      if (written < 0 && errno == EINTR) continue;
      if (written <= 0) {
        error_ = written < 0 ? errno_text() : std::string("nothing written");
        return false;
      }
      done += static_cast<std::size_t>(written);
    }
    return true;
  }

  int fd_;
  std::string error_;
  char buffer_[1 << 16];
};

// A name for the temporary file beside `path` that no other writer uses at the same moment: the
// process id separates processes, the counter separates threads and calls within one process.
inline std::filesystem::path temporary_beside(const std::filesystem::path& path) {
  static std::atomic<unsigned long> calls{0};
  return path.parent_path() / (path.filename().string() + ".tmp." + std::to_string(::getpid()) + "." +
                               std::to_string(calls.fetch_add(1)));
}

}  // namespace atomic_file_detail

// Writes the file at `path` by calling write(std::ostream&) on a stream into the temporary file;
// for content too large to hold as one string (an .npy of many events). An exception thrown by
// `write` leaves the old file as it was and propagates.
template <class Writer>
void write_file_atomically_with(const std::filesystem::path& path, Writer&& write) {
  namespace fs = std::filesystem;
  using atomic_file_detail::errno_text;
  const fs::path temporary = atomic_file_detail::temporary_beside(path);
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    fail("cannot write ", path.string(), ": cannot create ", temporary.string(), ": ", errno_text());
  const auto give_up = [&](const std::string& what, const std::string& why) {
    ::close(fd);
    ::unlink(temporary.c_str());
    fail("cannot write ", path.string(), ": ", what, " ", temporary.string(), ": ", why);
  };
  {
    atomic_file_detail::FileDescriptorBuffer buffer(fd);
    std::ostream out(&buffer);
    try {
      write(out);
    } catch (...) {
      ::close(fd);
      ::unlink(temporary.c_str());
      throw;
    }
    out.flush();
    if (!buffer.error().empty() || !out)
      give_up("writing", buffer.error().empty() ? "stream error" : buffer.error());
  }
  if (::fsync(fd) != 0) give_up("flushing to disk", errno_text());
  if (::close(fd) != 0) {
    const std::string why = errno_text();
    ::unlink(temporary.c_str());
    fail("cannot write ", path.string(), ": closing ", temporary.string(), ": ", why);
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string why = errno_text();
    ::unlink(temporary.c_str());
    fail("cannot write ", path.string(), ": renaming ", temporary.string(), " over it: ", why);
  }
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);  // best effort: some file systems refuse fsync on a directory
    ::close(dir_fd);
  }
}

// Writes `contents` as the whole file at `path`.
inline void write_file_atomically(const std::filesystem::path& path, std::string_view contents) {
  write_file_atomically_with(path, [&](std::ostream& out) {
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  });
}

// The whole file at `path` as bytes.
inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  require(in.good(), "cannot open ", path.string(), ": ", atomic_file_detail::errno_text());
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  require(!in.bad(), "cannot read ", path.string());
  return text;
}

}  // namespace agnostic
