// Tests for io/csv.hpp: accepted notations, text columns, and one test per malformed input, each
// checking that the message names the file, the line, the column and what was expected.
#include <doctest/doctest.h>

#include "message_checks.hpp"

#include <agnostic/io/csv.hpp>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>

using namespace agnostic;
using namespace agnostic::io;

namespace {

// The message of the Error that parsing `text` (as file `name`) throws; empty if none.
std::string error_of(const std::string& text, const std::string& name = "data.csv",
                     const CsvOptions& options = {}) {
  try {
    parse_csv(text, name, options);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

using agnostic_test::check_contains;

}  // namespace

TEST_CASE("csv: header, comments, blank lines, quotes, CRLF and a byte-order mark") {
  const std::string text =
      "\xEF\xBB\xBF# produced by a generator\r\n"
      "\r\n"
      "x, \"y, quoted\" ,\"say \"\"hi\"\"\"\r\n"
      "  # a comment between rows\r\n"
      "1, 2 ,3\r\n"
      "\"4\",5,  6  \r\n"
      "\n"
      "7,8,9";  // no newline at the end
  const Table t = parse_csv(text, "mem.csv");
  CHECK(t.source() == "mem.csv");
  CHECK(t.column_names() == std::vector<std::string>{"x", "y, quoted", "say \"hi\""});
  REQUIRE(t.n_rows() == 3);
  CHECK(t.column("x")[1] == 4.0);
  CHECK(t.column("y, quoted")[0] == 2.0);
  CHECK(t.column("say \"hi\"")[2] == 9.0);
}

TEST_CASE("csv: numbers in every usual notation, compared with strtod") {
  const char* notations[] = {"1",     "-2.5", "+3", "1e-3",   ".5", "1.E+2",  "-.25e1", "007",
                             "1e308", "0.1",  "-0", "2.5E-5", "5.", "1e-320", "1e-400"};
  std::string text = "v\n";
  for (const char* n : notations) text += std::string(n) + "\n";
  const Table t = parse_csv(text, "numbers.csv");
  REQUIRE(t.n_rows() == static_cast<Index>(std::size(notations)));
  for (std::size_t i = 0; i < std::size(notations); ++i) {
    INFO("notation: ", notations[i]);
    CHECK(t.column("v")[i] == std::strtod(notations[i], nullptr));
  }
  CHECK(std::signbit(t.column("v")[10]));  // "-0" keeps its sign
}

TEST_CASE("csv: inf and nan are recognised as numbers so that later checks can report them") {
  const Table t = parse_csv("a\ninf\n-Infinity\nnan\nNaN\n+inf\n", "special.csv");
  const auto a = t.column("a");
  CHECK(a[0] == std::numeric_limits<double>::infinity());
  CHECK(a[1] == -std::numeric_limits<double>::infinity());
  CHECK(std::isnan(a[2]));
  CHECK(std::isnan(a[3]));
  CHECK(a[4] == std::numeric_limits<double>::infinity());
}

TEST_CASE("csv: a column whose first value is not a number is text; options can force or forbid that") {
  const std::string text = "id,label,pt\n1,s,10.5\n2,b,3\n3,\"s\",4\n";
  const Table t = parse_csv(text, "labels.csv");
  CHECK(t.column_names() == std::vector<std::string>{"id", "pt"});
  CHECK(t.text_column("label") == std::vector<std::string>{"s", "b", "s"});
  CsvOptions forced;
  forced.text_columns = {"id"};
  const Table f = parse_csv(text, "labels.csv", forced);
  CHECK(f.text_column("id") == std::vector<std::string>{"1", "2", "3"});
  CsvOptions strict;
  strict.infer_text_columns = false;
  check_contains(error_of(text, "labels.csv", strict), {"'labels.csv'", "line 2", "column 2 ('label')",
                                                        "expected a number, found 's'", "text_columns"});
  CsvOptions unknown;
  unknown.text_columns = {"Label"};
  check_contains(
      error_of(text, "labels.csv", unknown),
      {"'labels.csv'", "text column 'Label'", "not in the header", "line 1", "'id', 'label', 'pt'"});
}

TEST_CASE("csv: other delimiters") {
  CsvOptions tab;
  tab.delimiter = '\t';
  const Table t = parse_csv("a\tb\n1\t-2\n", "t.tsv", tab);
  CHECK(t.column("b")[0] == -2.0);
  CsvOptions semi;
  semi.delimiter = ';';
  CHECK(parse_csv("a;b\n1;2.5\n", "s.csv", semi).column("b")[0] == 2.5);
}

TEST_CASE("csv error: empty file") {
  check_contains(error_of("", "empty.csv"),
                 {"'empty.csv'", "is empty", "expected a header row with column names"});
  check_contains(error_of("\n  \r\n", "blank.csv"), {"'blank.csv'", "is empty", "expected a header row"});
  check_contains(error_of("# only a comment\n", "comments.csv"),
                 {"'comments.csv'", "only comments", "expected a header row"});
}

TEST_CASE("csv error: ragged row with too few fields") {
  const std::string text = "# comment\na,b,c\n1,2,3\n4,5\n";
  check_contains(error_of(text, "ragged.csv"),
                 {"'ragged.csv'", "line 4", "expected 3 fields", "found 2", "column 3 ('c') is missing"});
}

TEST_CASE("csv error: ragged row with too many fields") {
  const std::string text = "a,b\r\n1,2\r\n3,4,5\r\n";
  check_contains(error_of(text, "ragged.csv"), {"'ragged.csv'", "line 3", "expected 2 fields", "found 3",
                                                "field 3 has no column in the header"});
}

TEST_CASE("csv error: a value that is not a number") {
  const std::string text = "a,b,c\n1,2,3\n\n# skipped\n4,5x,6\n";
  check_contains(error_of(text, "values.csv"),
                 {"'values.csv'", "line 5", "column 2 ('b')", "expected a number, found '5x'"});
  check_contains(error_of("a,b\n1,2\n3,1e\n"), {"line 3", "column 2 ('b')", "found '1e'"});
  check_contains(error_of("a,b\n1,2\n3,0x10\n"), {"line 3", "found '0x10'"});
  check_contains(error_of("a,b\n1,2\n3,1,5\n"), {"line 3", "found 3"});  // a decimal comma splits the field
}

TEST_CASE("csv error: an empty field in a numeric column") {
  check_contains(error_of("a,b\n1,2\n3,\n", "holes.csv"),
                 {"'holes.csv'", "line 3", "column 2 ('b')", "expected a number, found an empty field"});
}

TEST_CASE("csv error: a number too large for a double") {
  check_contains(error_of("a\n1\n1e400\n", "big.csv"),
                 {"'big.csv'", "line 3", "column 1 ('a')",
                  "expected a number within the range of a double, found '1e400'"});
}

TEST_CASE("csv error: duplicate column names in the header") {
  check_contains(error_of("x,y,x\n1,2,3\n", "dup.csv"), {"'dup.csv'", "line 1", "columns 1 and 3",
                                                         "both named 'x'", "expected unique column names"});
}

TEST_CASE("csv error: empty column name in the header") {
  check_contains(
      error_of("# c\n,y\n1,2\n", "noname.csv"),
      {"'noname.csv'", "line 2", "column 1", "empty column name", "expected a name for every column"});
}

TEST_CASE("csv error: quotes") {
  check_contains(error_of("a,b\n1,\"2\n", "open.csv"),
                 {"'open.csv'", "line 2", "field 2", "never closes", "expected a closing \""});
  check_contains(error_of("a,b\n1,\"2\"x\n", "after.csv"),
                 {"'after.csv'", "line 2", "field 2", "unexpected character 'x' after a closing quote"});
}

TEST_CASE("csv: line numbers stay right after a quoted field spanning lines") {
  const std::string text = "name,v\n\"two\nlines\",1\nx,oops\n";
  CsvOptions options;
  options.text_columns = {"name"};
  check_contains(error_of(text, "multi.csv", options), {"line 4", "column 2 ('v')", "found 'oops'"});
}

TEST_CASE("csv error: a missing file and a missing column") {
  CHECK_THROWS_WITH_AS(read_csv("/nonexistent/dir/x.csv"),
                       doctest::Contains("cannot open file '/nonexistent/dir/x.csv' for reading"), Error);
  const Table t = parse_csv("a,label\n1,s\n", "cols.csv");
  CHECK_THROWS_WITH_AS(t.column("b"),
                       "no column named 'b' in 'cols.csv'; the columns are: 'a', 'label' (text)", Error);
  CHECK_THROWS_WITH_AS(t.column("label"),
                       doctest::Contains("column 'label' of 'cols.csv' holds text, expected numbers"), Error);
  CHECK_THROWS_WITH_AS(t.text_column("a"),
                       doctest::Contains("column 'a' of 'cols.csv' holds numbers, expected text"), Error);
}

TEST_CASE("csv: write_csv then read_csv gives the same numbers and text, bit for bit") {
  Table t("orig");
  std::vector<double> x, y;
  for (int i = 0; i < 500; ++i) {
    x.push_back(std::sin(i * 1.234567) * std::pow(10.0, i % 40 - 20));
    y.push_back(i % 7 == 0 ? -0.0 : 1.0 / (i + 1));
  }
  x[3] = std::numeric_limits<double>::infinity();
  x[4] = -std::numeric_limits<double>::denorm_min();
  t.add_column("x value", x);
  t.add_column("y", y);
  std::vector<std::string> labels;
  for (int i = 0; i < 500; ++i)
    labels.push_back(i % 3 == 0 ? "s" : i % 3 == 1 ? "b, with comma" : "say \"b\"");
  t.add_text_column("label", labels);
  const std::string path = std::string(AGNOSTIC_BINARY_DIR) + "/roundtrip.csv";
  write_csv(path, t);
  const Table back = read_csv(path);
  CHECK(back.column_names() == t.column_names());
  for (std::size_t i = 0; i < x.size(); ++i) {
    CHECK(back.column("x value")[i] == x[i]);
    CHECK(back.column("y")[i] == y[i]);
    CHECK(std::signbit(back.column("y")[i]) == std::signbit(y[i]));
  }
  CHECK(back.text_column("label") == labels);
}

TEST_CASE("csv: the Higgs challenge sample reads with its text columns") {
  const Table t = read_csv(std::string(AGNOSTIC_SHARED_DIR) + "/data/higgs-challenge-sample/signal.csv");
  CHECK(t.n_rows() == 4999);
  CHECK(t.column_names().size() == 33);  // EventId, 30 features, Weight, KaggleWeight
  CHECK(t.text_column_names() == std::vector<std::string>{"Label", "KaggleSet"});
  // First row of the file: 100000,138.47,...; DER_mass_MMC = 138.47, Weight = 0.00081448039868.
  CHECK(t.column("EventId")[0] == 100000.0);
  CHECK(t.column("DER_mass_MMC")[0] == 138.47);
  CHECK(t.column("Weight")[0] == 0.00081448039868);
  for (const auto& label : t.text_column("Label")) CHECK(label == "s");
}
