// Tests for io/npy.hpp against files numpy wrote (tests/reference/make_npy_fixtures.py); the
// expected shapes and values in tests/data/npy/manifest.json are what numpy reads back.
#include <doctest/doctest.h>

#include <agnostic/io/data_file.hpp>
#include <agnostic/io/npy.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

using namespace agnostic;
using namespace agnostic::io;

namespace {

const std::string kDir = std::string(AGNOSTIC_SOURCE_DIR) + "/tests/data/npy/";

nlohmann::json manifest() {
  std::ifstream in(kDir + "manifest.json");
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

double expected_value(const nlohmann::json& v) {
  if (v.is_number()) return v.get<double>();
  const std::string s = v.get<std::string>();
  if (s == "inf") return std::numeric_limits<double>::infinity();
  if (s == "-inf") return -std::numeric_limits<double>::infinity();
  return std::numeric_limits<double>::quiet_NaN();
}

// The error for `file` must mention every piece of `expected`.
void check_error(const std::string& file, std::initializer_list<const char*> expected) {
  std::string message;
  try {
    read_npy_matrix(kDir + file);
  } catch (const Error& e) {
    message = e.what();
  }
  INFO("file: ", file, "\nmessage: ", message);
  REQUIRE(!message.empty());
  for (const char* piece : expected) {
    INFO("expected piece: ", std::string(piece));
    CHECK(message.find(piece) != std::string::npos);
  }
}

std::string slurp(const std::string& path) {
  return read_binary_file(path);
}

}  // namespace

TEST_CASE("npy: every dtype, byte order, memory order and version matches what numpy reads") {
  const auto m = manifest();
  REQUIRE(m["valid"].size() >= 26);
  for (const auto& entry : m["valid"]) {
    const std::string file = entry["file"];
    INFO("file: ", file);
    const NpyContents contents = load_npy(kDir + file);
    const auto shape = entry["shape"];
    const Index rows = shape[0].get<Index>(), cols = shape.size() == 2 ? shape[1].get<Index>() : 1;
    REQUIRE(contents.values.rows() == rows);
    REQUIRE(contents.values.cols() == cols);
    const auto& values = entry["values"];
    for (Index i = 0; i < rows; ++i)
      for (Index j = 0; j < cols; ++j)
        CHECK(contents.values(i, j) == expected_value(values[static_cast<std::size_t>(i * cols + j)]));
    if (entry.contains("names")) {
      CHECK(contents.header.structured);
      CHECK(contents.names == entry["names"].get<std::vector<std::string>>());
    }
  }
}

TEST_CASE("npy: header details are read as written") {
  const NpyContents f = load_npy(kDir + "f4_be_F_v3.npy");
  CHECK(f.header.major == 3);
  CHECK(f.header.fortran_order);
  CHECK(f.header.fields[0].big_endian);
  CHECK(f.header.data_offset % 64 == 0);
  const NpyContents v2 = load_npy(kDir + "f8_le_C_v2.npy");
  CHECK(v2.header.major == 2);
  CHECK_FALSE(v2.header.fortran_order);
}

TEST_CASE("npy: structured arrays give named columns; plain arrays numbered or renamed ones") {
  const Table t = read_npy(kDir + "structured_v1.npy");
  CHECK(t.column_names() == std::vector<std::string>{"pt", "njet", "eta", "is_signal", "id"});
  CHECK(t.n_rows() == 3);
  CHECK(t.column("pt")[2] == -999.0);
  CHECK(t.column("eta")[0] == -1.25);
  CHECK(t.column("is_signal")[1] == 0.0);
  CHECK(t.column("id")[2] == 1099511627776.0);  // 2^40 from a big-endian int64
  const Table aligned = read_npy(kDir + "structured_aligned_v1.npy");
  CHECK(aligned.column_names() == std::vector<std::string>{"a", "b"});  // the padding field is skipped
  CHECK(aligned.column("b")[1] == -0.25);
  const Table utf8 = read_npy(kDir + "structured_utf8_v3.npy");
  CHECK(utf8.column_names() == std::vector<std::string>{"\xcf\x84_pt"});

  const Table plain = read_npy(kDir + "f8_le_C_v1.npy");
  CHECK(plain.column_names() == std::vector<std::string>{"0", "1"});
  const Table named = read_npy(kDir + "f8_le_C_v1.npy", {"x", "y"});
  CHECK(named.column("y")[1] == 3.25);
  CHECK_THROWS_WITH_AS(read_npy(kDir + "f8_le_C_v1.npy", {"x"}),
                       doctest::Contains("has 2 columns but 1 column names were given"), Error);
}

TEST_CASE("npy error: bad magic") {
  check_error("bad_magic.npy", {"bad_magic.npy", "byte 0", "magic", "\\x93NUMPY"});
}

TEST_CASE("npy error: unsupported version") {
  check_error("bad_version.npy",
              {"bad_version.npy", "byte 6", "version 4.0", "supported versions: 1.0, 2.0, 3.0"});
}

TEST_CASE("npy error: truncated header") {
  check_error("bad_truncated_header.npy",
              {"bad_truncated_header.npy", "byte 10", "header truncated", "30 follow"});
}

TEST_CASE("npy error: truncated data") {
  // 3 x 2 float64 = 48 bytes promised, 43 present; the offset is the end of the file.
  const auto size = std::filesystem::file_size(kDir + "bad_truncated_data.npy");
  const std::string at = "byte " + std::to_string(size);
  check_error("bad_truncated_data.npy", {"bad_truncated_data.npy", at.c_str(), "data truncated", "(3, 2)",
                                         "48 data bytes", "ends after 43"});
}

TEST_CASE("npy error: header shape larger than the data") {
  check_error("bad_shape_too_big.npy", {"bad_shape_too_big.npy", "(4, 2)", "64 data bytes", "ends after 48"});
}

TEST_CASE("npy error: header shape smaller than the data") {
  // Data start at byte 128; (2, 2) float64 ends at byte 160 where 16 more bytes remain.
  check_error("bad_shape_too_small.npy", {"bad_shape_too_small.npy", "byte 160", "data size mismatch",
                                          "(2, 2)", "32 data bytes", "48 bytes follow"});
}

TEST_CASE("npy error: unsupported dtypes name the dtype and the supported ones") {
  check_error("bad_dtype_complex.npy", {"bad_dtype_complex.npy", "'<c16'", "supported dtypes", "float32",
                                        "float64", "int32", "int64", "bool"});
  check_error("bad_dtype_string.npy", {"bad_dtype_string.npy", "'<U1'", "supported dtypes"});
  check_error("bad_subarray.npy", {"bad_subarray.npy", "field 'v'", "sub-array"});
}

TEST_CASE("npy error: more than two dimensions") {
  check_error("bad_3d.npy", {"bad_3d.npy", "(2, 2, 2)", "expected a 1-D or 2-D array"});
}

TEST_CASE("npy error: header text problems name the byte offset") {
  std::string good = slurp(kDir + "f8_le_C_v1.npy");
  std::string extra = good;
  extra.replace(extra.find("'descr'"), 7, "'dtype'");
  CHECK_THROWS_WITH_AS(
      parse_npy(extra, "x.npy"),
      doctest::Contains("unexpected header key 'dtype'; expected only 'descr', 'fortran_order'"), Error);
  std::string broken = good;
  broken.replace(broken.find("False"), 5, "Maybe");
  CHECK_THROWS_WITH_AS(parse_npy(broken, "x.npy"), doctest::Contains("x.npy', byte "), Error);
  CHECK_THROWS_WITH_AS(parse_npy(broken, "x.npy"), doctest::Contains("unexpected character 'M'"), Error);
  CHECK_THROWS_WITH_AS(parse_npy("", "empty.npy"),
                       doctest::Contains("'empty.npy', byte 0: the file is empty"), Error);
  CHECK_THROWS_WITH_AS(read_npy_matrix(kDir + "no_such_file.npy"), doctest::Contains("cannot open file"),
                       Error);
}

TEST_CASE("npy writer: byte-identical to numpy's own files, and round trips") {
  // The values of the numpy fixtures, written by us, must give numpy's bytes.
  MatrixD m(3, 2);
  m << 0.5, -1.0, 2.0, 3.25, -4.5, 0.1;
  const std::string dir = std::string(AGNOSTIC_BINARY_DIR) + "/";
  write_npy(dir + "writer_f8.npy", m);
  CHECK(slurp(dir + "writer_f8.npy") == slurp(kDir + "f8_le_C_v1.npy"));
  MatrixF f(3, 2);
  f << 0.5f, -1.0f, 2.0f, 3.25f, -4.5f, 1000.0f;
  write_npy(dir + "writer_f4.npy", f);
  CHECK(slurp(dir + "writer_f4.npy") == slurp(kDir + "f4_le_C_v1.npy"));
  VectorD v(4);
  v << 1.0, -2.5, 1e-3, std::numeric_limits<double>::infinity();
  write_npy(dir + "writer_1d.npy", v);
  CHECK(slurp(dir + "writer_1d.npy") == slurp(kDir + "f8_1d_v1.npy"));

  // A larger matrix with awkward values reads back exactly, including a header past 64 bytes.
  MatrixD big(1000, 7);
  for (Index i = 0; i < big.rows(); ++i)
    for (Index j = 0; j < big.cols(); ++j)
      big(i, j) = std::sin(static_cast<double>(i * 7 + j)) * 1e-300 * (j + 1);
  write_npy(dir + "writer_big.npy", big);
  CHECK(read_npy_matrix(dir + "writer_big.npy") == big);
  MatrixD empty(0, 3);
  write_npy(dir + "writer_empty.npy", empty);
  CHECK(read_npy_matrix(dir + "writer_empty.npy").cols() == 3);
}

TEST_CASE("read_table picks the reader from the extension") {
  CHECK(read_table(kDir + "structured_v1.npy").column("pt")[0] == 45.5);
  const std::string dir = std::string(AGNOSTIC_BINARY_DIR) + "/";
  {
    std::ofstream out(dir + "table.TSV");
    out << "a\tb\n1\t2\n";
  }
  CHECK(read_table(dir + "table.TSV").column("b")[0] == 2.0);
  CHECK_THROWS_WITH_AS(
      read_table("events.root"),
      "file 'events.root': cannot tell its format from the extension 'root'; expected .csv, .txt, "
      ".tsv (tab separated) or .npy",
      Error);
}
