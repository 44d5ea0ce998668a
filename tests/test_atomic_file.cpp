// Tests for core/atomic_file.hpp, the one writer of every file the library writes: the target holds
// either its old or its new complete contents, never a mixture, even when the write fails half way;
// no temporary file is left behind; errors name the path and the system's reason; and the io
// writers that go through it (CSV, CSV columns, .npy) write the same bytes as before.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <agnostic/core/atomic_file.hpp>
#include <agnostic/io/csv.hpp>
#include <agnostic/io/csv_writer.hpp>
#include <agnostic/io/npy.hpp>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace agnostic;
namespace fs = std::filesystem;

namespace {

fs::path scratch_dir(const std::string& name) {
  const fs::path dir = fs::path(AGNOSTIC_BINARY_DIR) / "test_atomic_file" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// The names of the files in `dir`, sorted.
std::vector<std::string> files_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("write_file_atomically: replaces the whole file and leaves no temporary file") {
  const fs::path dir = scratch_dir("replace");
  const fs::path target = dir / "a.json";
  write_file_atomically(target, "a first, longer content");
  write_file_atomically(target, "second");
  CHECK(read_file(target) == "second");
  write_file_atomically(target, "");
  CHECK(read_file(target).empty());
  // Bytes of every value, including NUL and bytes above 127, go through unchanged; 200 kB crosses
  // the writer's 64 KiB buffer several times.
  std::string bytes;
  for (int i = 0; i < 200000; ++i) bytes.push_back(static_cast<char>((i * 7919) % 256));
  write_file_atomically(target, bytes);
  CHECK(read_file(target) == bytes);
  CHECK(files_in(dir) == std::vector<std::string>{"a.json"});
}

TEST_CASE("write_file_atomically_with: a writer that throws leaves the old file as it was") {
  const fs::path dir = scratch_dir("throwing_writer");
  const fs::path target = dir / "history.json";
  write_file_atomically(target, "old complete file\n");
  CHECK_THROWS_WITH_AS(write_file_atomically_with(target,
                                                  [](std::ostream& out) {
                                                    out << std::string(100000, 'x');  // half written
                                                    throw std::runtime_error("ran out of events");
                                                  }),
                       "ran out of events", std::runtime_error);
  CHECK(read_file(target) == "old complete file\n");
  CHECK(files_in(dir) == std::vector<std::string>{"history.json"});
}

TEST_CASE("write_file_atomically: a write the system refuses half way leaves the old file intact") {
  // A file-size limit makes write() fail with EFBIG part way through, as a full disk would, even
  // for root. SIGXFSZ would end the process: it is ignored while the limit is in force.
  const fs::path dir = scratch_dir("refused_write");
  const fs::path target = dir / "model.json";
  write_file_atomically(target, "old\n");
  rlimit before{};
  REQUIRE(getrlimit(RLIMIT_FSIZE, &before) == 0);
  rlimit small = before;
  small.rlim_cur = 100000;
  REQUIRE(setrlimit(RLIMIT_FSIZE, &small) == 0);
  const auto old_handler = signal(SIGXFSZ, SIG_IGN);
  const std::string message = error_of([&] { write_file_atomically(target, std::string(300000, 'y')); });
  signal(SIGXFSZ, old_handler);
  REQUIRE(setrlimit(RLIMIT_FSIZE, &before) == 0);
  CHECK(message.rfind("cannot write " + target.string() + ": writing " + target.string() + ".tmp.", 0) == 0);
  CHECK(message.find(std::strerror(EFBIG)) != std::string::npos);
  CHECK(read_file(target) == "old\n");
  CHECK(files_in(dir) == std::vector<std::string>{"model.json"});
}

TEST_CASE("write_file_atomically: a place that cannot be written gives an error naming the path") {
  const fs::path dir = scratch_dir("unwritable");
  const fs::path missing = dir / "no" / "such" / "dir" / "b.json";
  std::string message = error_of([&] { write_file_atomically(missing, "x"); });
  CHECK(message.rfind("cannot write " + missing.string() + ": cannot create " + missing.string() + ".tmp.",
                      0) == 0);
  CHECK(message.find(std::strerror(ENOENT)) != std::string::npos);

  write_file_atomically(dir / "plain_file", "not a directory");
  const fs::path under_file = dir / "plain_file" / "c.json";
  message = error_of([&] { write_file_atomically(under_file, "x"); });
  CHECK(message.rfind("cannot write " + under_file.string() + ":", 0) == 0);
  CHECK(message.find(std::strerror(ENOTDIR)) != std::string::npos);

  // A directory without write permission: root writes there anyway, so only other users can check it.
  const fs::path locked = dir / "locked";
  fs::create_directory(locked);
  write_file_atomically(locked / "d.json", "kept");
  fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec);
  if (::geteuid() != 0) {
    message = error_of([&] { write_file_atomically(locked / "d.json", "new"); });
    CHECK(message.rfind("cannot write " + (locked / "d.json").string() + ":", 0) == 0);
    CHECK(message.find(std::strerror(EACCES)) != std::string::npos);
    CHECK(read_file(locked / "d.json") == "kept");
  } else {
    MESSAGE("running as root: the permission case is not checked (root may write anywhere)");
  }
  fs::permissions(locked, fs::perms::owner_all);
}

TEST_CASE("write_file_atomically: threads writing one target each leave one complete version") {
  const fs::path dir = scratch_dir("threads");
  const fs::path target = dir / "summary.json";
  std::vector<std::string> versions;
  for (int t = 0; t < 8; ++t) versions.push_back(std::string(5000 + 1000 * t, static_cast<char>('a' + t)));
  std::vector<std::thread> writers;
  for (int t = 0; t < 8; ++t)
    writers.emplace_back([&, t] {
      for (int k = 0; k < 20; ++k) write_file_atomically(target, versions[static_cast<std::size_t>(t)]);
    });
  for (auto& w : writers) w.join();
  const std::string final_text = read_file(target);
  CHECK(std::find(versions.begin(), versions.end(), final_text) != versions.end());
  CHECK(files_in(dir) == std::vector<std::string>{"summary.json"});
}

TEST_CASE("read_file: a missing file is named") {
  const fs::path missing = scratch_dir("read") / "absent.json";
  CHECK(error_of([&] { (void)read_file(missing); }) ==
        "cannot open " + missing.string() + ": " + std::strerror(ENOENT));
}

// ---- the io writers that go through it write the bytes their stream forms give ----

TEST_CASE("io writers: write_csv to a file gives exactly the stream's bytes, atomically") {
  const fs::path dir = scratch_dir("csv");
  io::Table table("t");
  table.add_column("x", std::vector<double>{1.5, -0.0, 1e-300, 3.0});
  table.add_text_column("label", {"s", "b, with comma", "say \"b\"", ""});
  std::ostringstream expected;
  io::write_csv(expected, table, ';');
  io::write_csv((dir / "t.csv").string(), table, ';');
  CHECK(read_file(dir / "t.csv") == expected.str());
  CHECK(files_in(dir) == std::vector<std::string>{"t.csv"});
}

TEST_CASE("io writers: CsvColumns writes the header, quoted fields and one line per row") {
  const fs::path dir = scratch_dir("csv_columns");
  io::CsvColumns columns;
  columns.add_numbers("score", std::vector<float>{0.25f, 1.0f});
  columns.add("note", {"a,b", "plain"});
  columns.write((dir / "p.csv").string());
  CHECK(read_file(dir / "p.csv") == "score,note\n0.25,\"a,b\"\n1,plain\n");
  io::CsvColumns empty;
  empty.add("only", {});
  empty.write((dir / "p.csv").string());
  CHECK(read_file(dir / "p.csv") == "only\n");
  CHECK(files_in(dir) == std::vector<std::string>{"p.csv"});
}

TEST_CASE("io writers: write_npy writes NumPy's format 1.0 byte for byte") {
  const fs::path dir = scratch_dir("npy");
  MatrixD m(2, 3);
  m << 1.0, -2.5, 3.25, 4.0, 1e-300, -0.0;
  io::write_npy((dir / "m.npy").string(), m);
  const std::string bytes = read_file(dir / "m.npy");
  const std::string dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }";
  // 10 bytes of magic, version and length, the dictionary, spaces to a multiple of 64, then '\n'.
  const std::size_t header_end = 64 * ((10 + dict.size() + 1 + 63) / 64);
  REQUIRE(bytes.size() == header_end + 6 * sizeof(double));
  CHECK(bytes.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
  CHECK(static_cast<unsigned char>(bytes[8]) + 256 * static_cast<unsigned char>(bytes[9]) == header_end - 10);
  CHECK(bytes.substr(10, dict.size()) == dict);
  const std::size_t padding = header_end - 1 - (10 + dict.size());
  CHECK(bytes.substr(10 + dict.size(), padding) == std::string(padding, ' '));
  CHECK(bytes[header_end - 1] == '\n');
  for (Index i = 0; i < 2; ++i)
    for (Index j = 0; j < 3; ++j) {
      double x = 0;
      std::memcpy(&x, bytes.data() + header_end + 8 * static_cast<std::size_t>(i * 3 + j), 8);
      CHECK(std::memcmp(&x, &m(i, j), 8) == 0);
    }
  CHECK(files_in(dir) == std::vector<std::string>{"m.npy"});
}
