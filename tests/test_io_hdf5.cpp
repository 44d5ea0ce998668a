// Tests for io/hdf5.hpp (only in a build with AGNOSTIC_HDF5) against files h5py wrote
// (tests/data/hdf5/make_files.py states their content): both layouts read through io::read_table,
// numbers of every type converted exactly, fixed- and variable-length strings, the same bytes read
// from memory, and every refused layout or damaged size by its message (file, dataset, what to do).
#ifdef AGNOSTIC_HDF5
#include <doctest/doctest.h>

#include <agnostic/io/column_selection.hpp>
#include <agnostic/io/data_file.hpp>
#include <agnostic/io/hdf5.hpp>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <string>
#include <vector>

#include "message_checks.hpp"

namespace hdf5_test {

const std::string kHdf5Dir = std::string(AGNOSTIC_SOURCE_DIR) + "/tests/data/hdf5/";

std::string hdf5_error_of(const std::string& file) {
  try {
    agnostic::io::read_table(kHdf5Dir + file);
  } catch (const agnostic::Error& e) {
    return e.what();
  }
  return "";
}

std::vector<double> values(const agnostic::io::Table& t, const char* name) {
  const auto c = t.column(name);
  return {c.begin(), c.end()};
}

}  // namespace hdf5_test

TEST_CASE("hdf5: one 1-D dataset per column, numbers of any type and strings") {
  using namespace hdf5_test;
  const agnostic::io::Table t = agnostic::io::read_table(kHdf5Dir + "columns.h5");
  CHECK(t.source() == kHdf5Dir + "columns.h5");
  CHECK(t.n_rows() == 5);
  CHECK(t.column_names() == std::vector<std::string>{"eta", "n", "pt"});  // name order
  CHECK(t.text_column_names() == std::vector<std::string>{"label", "process"});
  CHECK(values(t, "pt") == std::vector<double>{0.0, 0.5, 1.0, 1.5, 2.0});
  CHECK(values(t, "eta") == std::vector<double>{-2, -1, 0, 1, 2});
  CHECK(values(t, "n") == std::vector<double>{0, 1, 2, 3, 4});
  CHECK(t.text_column("label") == std::vector<std::string>{"s", "b", "s", "b", "s"});
  CHECK(t.text_column("process") == std::vector<std::string>{"ttbar", "wjets", "ttbar", "zz", "h"});
  // the text label works as data.label does for CSV files
  agnostic::io::ColumnSelection selection;
  selection.features = {"pt", "eta"};
  selection.label = "label";
  selection.label_classes = {{"b", 0}, {"s", 1}};
  const auto selected = agnostic::io::select_columns<float>(t, selection);
  CHECK(selected.labels == std::vector<agnostic::Index>{1, 0, 1, 0, 1});
  CHECK(selected.features(4, 1) == 2.0f);
}

TEST_CASE("hdf5: one compound dataset, its fields the columns in field order; the same from memory") {
  using namespace hdf5_test;
  const agnostic::io::Table t = agnostic::io::read_table(kHdf5Dir + "compound.hdf5");
  CHECK(t.column_names() == std::vector<std::string>{"x", "y"});
  CHECK(values(t, "x") == std::vector<double>{1.0, 2.0, 3.0, 4.5});
  CHECK(values(t, "y") == std::vector<double>{7, 8, 9, 10});
  CHECK(t.text_column("tag") == std::vector<std::string>{"abc", "d", "", "ef"});  // full width kept

  std::ifstream in(kHdf5Dir + "compound.hdf5", std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const agnostic::io::Table m = agnostic::io::read_hdf5_bytes(bytes, "memory.h5");
  CHECK(values(m, "x") == values(t, "x"));
  CHECK(m.text_column("tag") == t.text_column("tag"));
}

TEST_CASE("hdf5: other layouts are refused by name") {
  using namespace hdf5_test;
  using agnostic_test::check_contains;
  check_contains(hdf5_error_of("bad_group.h5"), {"bad_group.h5", "'jets' is a group", "only 1-D datasets"});
  check_contains(hdf5_error_of("bad_2d.h5"),
                 {"bad_2d.h5", "dataset 'm' has 2 dimensions (shape 3 x 2)", "1-D"});
  check_contains(hdf5_error_of("bad_lengths.h5"),
                 {"dataset 'b' has 4 rows but dataset 'a' has 3", "every column must have the same length"});
  check_contains(hdf5_error_of("bad_bool.h5"), {"dataset 'a' is an enum", "bool", "0/1 integers"});
  check_contains(hdf5_error_of("bad_mixed.h5"),
                 {"dataset 'events' is a compound dataset beside 1 other object"});
  check_contains(hdf5_error_of("bad_empty.h5"), {"bad_empty.h5", "holds no datasets"});
  check_contains(hdf5_error_of("missing.h5"), {"cannot open file", "missing.h5"});
  check_contains(hdf5_error_of("make_files.py.h5"), {"cannot open file"});
  std::string not_hdf5;
  try {
    agnostic::io::read_hdf5(kHdf5Dir + "make_files.py");
  } catch (const agnostic::Error& e) {
    not_hdf5 = e.what();
  }
  check_contains(not_hdf5, {"make_files.py", "is not an HDF5 file"});
  std::string garbage;
  try {
    agnostic::io::read_hdf5_bytes("\x89HDF\r\n\x1a\n garbage", "garbage.h5");
  } catch (const agnostic::Error& e) {
    garbage = e.what();
  }
  check_contains(garbage, {"garbage.h5", "is not a readable HDF5 file"});
  // compound.hdf5 with its row count damaged (the fuzzer's first find): refused before allocating
  check_contains(hdf5_error_of("../../../fuzz/corpus/hdf5/declared-rows-beyond-file.h5"),
                 {"dataset 'events' declares 72057594021150724 rows", "but the file stores 60 bytes of it",
                  "truncated or damaged"});
}
#endif  // AGNOSTIC_HDF5
