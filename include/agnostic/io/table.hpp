#pragma once
// A table read from a data file: named numeric columns and, beside them, named text columns for
// values that are not numbers (the Higgs `Label` s/b). Columns are stored one block per column, so
// picking a feature by name is a lookup.
//
// A numeric column is read through a ColumnView: doubles (what the file readers store), or floats
// or doubles lent in place from memory the table does not own (the Python module's NumPy arrays,
// contiguous or strided), kept alive by a shared owner. Columns are immutable once added and shared
// between copies of a table, so copying a table copies no values.
#include <compare>
#include <cstddef>
#include <cstring>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agnostic/core/error.hpp"
#include "agnostic/core/matrix.hpp"

namespace agnostic::io {

// The values of one numeric column as stored: `size` numbers of type double or float, `stride`
// bytes apart (negative: backwards). view[i] is the i-th value as a double (a float converts
// exactly). Values are read with memcpy, so a view of a packed structured array need not be aligned.
class ColumnView {
 public:
  enum class Type { float64, float32 };

  ColumnView() = default;
  ColumnView(const double* first, std::size_t size, std::ptrdiff_t stride = sizeof(double))
      : first_(reinterpret_cast<const std::byte*>(first)),
        size_(size),
        stride_(stride),
        type_(Type::float64) {}
  ColumnView(const float* first, std::size_t size, std::ptrdiff_t stride = sizeof(float))
      : first_(reinterpret_cast<const std::byte*>(first)),
        size_(size),
        stride_(stride),
        type_(Type::float32) {}

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  Type type() const { return type_; }
  // "float64" or "float32" (NumPy's names), for messages and the data fingerprint.
  const char* type_name() const { return type_ == Type::float64 ? "float64" : "float32"; }
  std::size_t element_size() const { return type_ == Type::float64 ? sizeof(double) : sizeof(float); }
  std::ptrdiff_t stride() const { return stride_; }
  // Where value 0 is stored (the Python tests compare it with the NumPy array's address).
  const void* data() const { return first_; }
  // The bytes of value i as stored (element_size() of them).
  const std::byte* bytes(std::size_t i) const { return first_ + static_cast<std::ptrdiff_t>(i) * stride_; }

  double operator[](std::size_t i) const {
    if (type_ == Type::float64) {
      double x;
      std::memcpy(&x, bytes(i), sizeof x);
      return x;
    }
    float x;
    std::memcpy(&x, bytes(i), sizeof x);
    return static_cast<double>(x);
  }

  class iterator;
  iterator begin() const;
  iterator end() const;

 private:
  const std::byte* first_ = nullptr;
  std::size_t size_ = 0;
  std::ptrdiff_t stride_ = sizeof(double);
  Type type_ = Type::float64;
};

// Yields a column's values as doubles (by value: there is no double to refer to in a float column).
class ColumnView::iterator {
 public:
  using iterator_category = std::random_access_iterator_tag;
  using value_type = double;
  using difference_type = std::ptrdiff_t;
  using pointer = void;
  using reference = double;

  iterator() = default;
  iterator(ColumnView column, std::size_t i) : column_(column), i_(static_cast<std::ptrdiff_t>(i)) {}
  double operator*() const { return column_[static_cast<std::size_t>(i_)]; }
  double operator[](difference_type n) const { return column_[static_cast<std::size_t>(i_ + n)]; }
  iterator& operator++() { return ++i_, *this; }
  iterator operator++(int) { return {column_, static_cast<std::size_t>(i_++)}; }
  iterator& operator--() { return --i_, *this; }
  iterator operator--(int) { return {column_, static_cast<std::size_t>(i_--)}; }
  iterator& operator+=(difference_type n) { return i_ += n, *this; }
  iterator& operator-=(difference_type n) { return i_ -= n, *this; }
  friend iterator operator+(iterator it, difference_type n) { return it += n; }
  friend iterator operator+(difference_type n, iterator it) { return it += n; }
  friend iterator operator-(iterator it, difference_type n) { return it -= n; }
  friend difference_type operator-(const iterator& a, const iterator& b) { return a.i_ - b.i_; }
  friend bool operator==(const iterator& a, const iterator& b) { return a.i_ == b.i_; }
  friend auto operator<=>(const iterator& a, const iterator& b) { return a.i_ <=> b.i_; }

 private:
  ColumnView column_;
  difference_type i_ = 0;
};

inline ColumnView::iterator ColumnView::begin() const {
  return {*this, 0};
}
inline ColumnView::iterator ColumnView::end() const {
  return {*this, size_};
}

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
    auto owned = std::make_shared<const std::vector<double>>(std::move(values));
    const ColumnView view(owned->data(), owned->size());
    add_column(std::move(name), view, std::move(owned));
  }

  // A column read in place: `values` points into memory that `owner` keeps alive (a NumPy array
  // lent by the Python module); the table and its copies hold `owner` as long as they live.
  void add_column(std::string name, ColumnView values, std::shared_ptr<const void> owner) {
    require(owner != nullptr || values.empty(), "column '", name, "' of ", where(),
            " is lent without an owner that keeps its values alive");
    check_new(name, static_cast<Index>(values.size()));
    names_.push_back(std::move(name));
    columns_.push_back({values, std::move(owner)});
  }

  void add_text_column(std::string name, std::vector<std::string> values) {
    check_new(name, static_cast<Index>(values.size()));
    text_names_.push_back(std::move(name));
    text_columns_.push_back(std::make_shared<const std::vector<std::string>>(std::move(values)));
  }

  // The numeric column `name`; throws an Error naming the table's source and listing the columns
  // that exist (and saying so when `name` is a text column).
  ColumnView column(std::string_view name) const {
    return columns_[static_cast<std::size_t>(require_index(names_, name, "numeric"))].values;
  }

  const std::vector<std::string>& text_column(std::string_view name) const {
    return *text_columns_[static_cast<std::size_t>(require_index(text_names_, name, "text"))];
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
  struct NumericColumn {
    ColumnView values;
    std::shared_ptr<const void> owner;  // keeps `values` alive
  };
  std::vector<NumericColumn> columns_;
  std::vector<std::string> text_names_;
  std::vector<std::shared_ptr<const std::vector<std::string>>> text_columns_;
  std::vector<long> row_lines_;
  std::vector<std::string> part_sources_;
  std::vector<Index> part_first_rows_;
};

}  // namespace agnostic::io
