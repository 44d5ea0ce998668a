#pragma once
// A table read from a data file: named numeric columns (doubles) and, beside them, named text
// columns for values that are not numbers (the Higgs `Label` s/b). Columns are stored one vector
// per column, so picking a feature by name is a lookup and a copy of contiguous memory.
#include <cstddef>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agnostic/core/error.hpp"
#include "agnostic/core/matrix.hpp"

namespace agnostic::io {

class Table {
 public:
  Table() = default;
  // `source` names where the table came from (a file name); every error message quotes it.
  explicit Table(std::string source) : source_(std::move(source)) {}

  const std::string& source() const { return source_; }
  void set_source(std::string source) { source_ = std::move(source); }

  // Number of rows: every column has this many entries. A table without columns has 0 rows.
  Index n_rows() const { return n_rows_; }
  Index n_columns() const { return static_cast<Index>(names_.size() + text_names_.size()); }

  // Numeric columns in the order they were added (file order), and text columns likewise.
  const std::vector<std::string>& column_names() const { return names_; }
  const std::vector<std::string>& text_column_names() const { return text_names_; }

  bool has_column(std::string_view name) const { return find(names_, name) >= 0; }
  bool has_text_column(std::string_view name) const { return find(text_names_, name) >= 0; }

  void add_column(std::string name, std::vector<double> values) {
    check_new(name, static_cast<Index>(values.size()));
    names_.push_back(std::move(name));
    columns_.push_back(std::move(values));
  }

  void add_text_column(std::string name, std::vector<std::string> values) {
    check_new(name, static_cast<Index>(values.size()));
    text_names_.push_back(std::move(name));
    text_columns_.push_back(std::move(values));
  }

  // The numeric column `name`; throws an Error naming the table's source and listing the columns
  // that exist (and saying so when `name` is a text column).
  std::span<const double> column(std::string_view name) const {
    return columns_[static_cast<std::size_t>(require_index(names_, name, "numeric"))];
  }
  std::span<double> column(std::string_view name) {
    return columns_[static_cast<std::size_t>(require_index(names_, name, "numeric"))];
  }

  const std::vector<std::string>& text_column(std::string_view name) const {
    return text_columns_[static_cast<std::size_t>(require_index(text_names_, name, "text"))];
  }

  // Where each row sits in its file (1-based line numbers), when the reader knows it (CSV).
  void set_row_lines(std::vector<long> lines) {
    require(static_cast<Index>(lines.size()) == n_rows_, "set_row_lines: ", lines.size(),
            " line numbers for ", n_rows_, " rows");
    row_lines_ = std::move(lines);
  }

  // The 1-based line of `row` in its file, or 0 when the reader did not record lines (.npy).
  long row_line(Index row) const {
    return static_cast<std::size_t>(row) < row_lines_.size() ? row_lines_[static_cast<std::size_t>(row)] : 0;
  }

  // A table stacked from several files (read_tables in data_file.hpp) remembers where each file's
  // rows start, so that locate() names the file a row came from, not the whole stack.
  void set_parts(std::vector<std::string> sources, std::vector<Index> first_rows) {
    require(sources.size() == first_rows.size(), "set_parts: ", sources.size(), " sources for ",
            first_rows.size(), " first rows");
    part_sources_ = std::move(sources);
    part_first_rows_ = std::move(first_rows);
  }

  // "file 'x.csv', row 17 (line 19), column 'pt'": rows count from 1 (the first data row of each
  // file is row 1).
  std::string locate(Index row, std::string_view column) const {
    std::ostringstream out;
    std::string source = source_;
    Index row_in_source = row;
    for (std::size_t p = part_first_rows_.size(); p-- > 0;)
      if (row >= part_first_rows_[p]) {
        source = part_sources_[p];
        row_in_source = row - part_first_rows_[p];
        break;
      }
    out << (source.empty() ? std::string("table") : "file '" + source + "'") << ", row " << row_in_source + 1;
    if (row_line(row) > 0) out << " (line " << row_line(row) << ")";
    out << ", column '" << column << "'";
    return out.str();
  }

  // "'a', 'b', 'c'": every column, numeric then text, for messages.
  std::string describe_columns() const {
    std::ostringstream out;
    const char* sep = "";
    for (const auto& n : names_) out << std::exchange(sep, ", ") << '\'' << n << '\'';
    for (const auto& n : text_names_) out << std::exchange(sep, ", ") << '\'' << n << "' (text)";
    if (*sep == '\0') out << "none";
    return out.str();
  }

 private:
  static Index find(const std::vector<std::string>& names, std::string_view name) {
    for (std::size_t i = 0; i < names.size(); ++i)
      if (names[i] == name) return static_cast<Index>(i);
    return -1;
  }

  std::string where() const { return source_.empty() ? std::string("the table") : "'" + source_ + "'"; }

  Index require_index(const std::vector<std::string>& names, std::string_view name, const char* kind) const {
    const Index i = find(names, name);
    if (i >= 0) return i;
    const bool other_kind = (&names == &names_) ? has_text_column(name) : has_column(name);
    if (other_kind)
      fail(
          "column '", name, "' of ", where(), " holds ",
          (&names == &names_) ? "text, expected numbers" : "numbers, expected text",
          (&names == &names_) ? " (a text column such as a label needs an explicit mapping to numbers)" : "");
    fail("no ", (&names == &names_) ? "" : kind, (&names == &names_) ? "" : " ", "column named '", name,
         "' in ", where(), "; the columns are: ", describe_columns());
  }

  void check_new(const std::string& name, Index rows) {
    require(!name.empty(), "cannot add a column with an empty name to ", where());
    require(!has_column(name) && !has_text_column(name), "column '", name, "' appears twice in ", where());
    if (n_columns() == 0) {
      n_rows_ = rows;
      return;
    }
    require(rows == n_rows_, "column '", name, "' has ", rows, " rows but the other columns of ", where(),
            " have ", n_rows_);
  }

  std::string source_;
  Index n_rows_ = 0;
  std::vector<std::string> names_;
  std::vector<std::vector<double>> columns_;
  std::vector<std::string> text_names_;
  std::vector<std::vector<std::string>> text_columns_;
  std::vector<long> row_lines_;
  std::vector<std::string> part_sources_;
  std::vector<Index> part_first_rows_;
};

}  // namespace agnostic::io
